"""``/sparql``: the read-only SPARQL 1.1 Protocol endpoint over the published store.

Without ``default-graph-uri``/``named-graph-uri`` or FROM clauses, the default graph is the
union of all named graphs (``SPARQL_UNION_DEFAULT_GRAPH``). A graph IRI the dataset names but
the store lacks is read as empty, as SPARQL says, with a ``Warning`` header naming it; nothing is
ever fetched or read from disk for FROM. A GET without a query returns the service description.

Update mode, off by default: with ``SPARQL_UPDATE_TOKEN`` set (and a store of its own at
``KG_STORE_PATH``, never a published release), a POSTed update with ``Authorization: Bearer
<token>`` runs (204); ``using-graph-uri``/``using-named-graph-uri`` become USING clauses;
LOAD and SERVICE are refused (SERVICE even to an endpoint queries may federate with).

Federation, off by default: a query's ``SERVICE <iri>`` runs only when ``iri`` is in
``SPARQL_SERVICE_ALLOWLIST`` (``server.analysis`` says how strictly); the engine that runs the
query, ours or the external store's, then asks that endpoint.

Fronting an external store (``SPARQL_BACKEND_URL``, ``kg-serve --endpoint``): the same
parsing, checks and negotiation, then ``server.remote`` forwards the query; read-only.

Timeouts: pyoxigraph 0.5 cannot cancel a running query, so queries run in a pool of worker
processes (``server.executor``) that each open the store read-only; a query that runs past
``SPARQL_TIMEOUT_SECONDS`` has its worker killed and replaced, and the client gets a 503 — never
a truncated 200. In update mode the store is writable and shared with the updates, so queries
run in the web process and the limit is checked while the results are written.

Most queries come as GETs: :class:`QueryFastPath`, a WSGI middleware in front of the app,
answers those that succeed with the view's own code (:func:`answer_query`) but without Flask's
per-request machinery; any other request, and every error, goes through the view.
"""

from __future__ import annotations

import contextlib
import hmac
import io
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from flask import Blueprint, Flask, Request, Response, current_app, request
from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    NamedNode,
    QueryResultsFormat,
    QueryTriples,
    RdfFormat,
    Store,
    Triple,
    serialize,
)
from rdflib.namespace import RDF
from werkzeug.datastructures import MultiDict

from server import observability
from server.analysis import (
    QueryInfo,
    add_using_clauses,
    analyse_query,
    analyse_update,
    explain_syntax_error,
)
from server.errors import HttpError, error_response
from server.executor import (
    PublishedExecutor,
    QueryFailed,
    QueryResult,
    QuerySyntaxError,
    QueryTimeout,
)
from server.inprocess import ThreadExecutor
from server.observability import (
    QUERY_LOGGED,
    STARTED,
    count_request,
    log_query,
    note_query,
)
from server.protocol import (
    GRAPH_FORMATS,
    SOLUTION_FORMATS,
    ProtocolError,
    QueryForm,
    QueryRequest,
    ResultFormat,
    UpdateRequest,
    choose_format,
    parse_request,
)
from server.remote import backend, run_query
from server.store import PublishedStore

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

bp = Blueprint("sparql", __name__)

SD = "http://www.w3.org/ns/sparql-service-description#"
FUNCTIONS_SPEC = "https://www.w3.org/TR/sparql11-query/#SparqlOps"
UPDATE_DATASET_SPEC = "https://www.w3.org/TR/sparql11-protocol/#update-dataset"
UPDATE_SPEC = "https://www.w3.org/TR/sparql11-update/"


@bp.after_request
def _vary_accept(response: Response) -> Response:
    response.vary.add("Accept")
    return response


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    failed = request.environ.pop(FAST_PATH_FAILURE, None)
    if failed is not None:  # QueryFastPath gave up on this request: answer its error here
        if failed.query is not None:
            note_query(failed.query)
        raise failed.error
    published = cast(PublishedStore, current_app.extensions["osce_kg_store"])
    query_request = parse_request(
        request.method,
        request.content_type,
        request.args,
        request.form,
        request.get_data(),
        current_app.config["SPARQL_MAX_QUERY_BYTES"],
        allow_update=published.writable,
    )
    format_param = request.values.get("format")
    if query_request is None:
        fmt = choose_format(QueryForm.DESCRIBE, request.headers.get("Accept"), format_param)
        description = _service_description(request.base_url, published.writable)
        body = serialize(description, format=_rdf_format(fmt), prefixes={"sd": SD})
        return Response(body, content_type=fmt.content_type)
    if isinstance(query_request, UpdateRequest):
        return _update(published.get(), query_request)
    note_query(query_request.query)  # logged whatever the outcome, with its status
    external = backend()
    if external is not None:  # kg-serve --endpoint: the external store answers
        info = analyse_query(
            query_request.query, request.base_url, current_app.config["SPARQL_SERVICE_ALLOWLIST"]
        )
        fmt = choose_format(info.form, request.headers.get("Accept"), format_param)
        remote_answer = run_query(external, query_request, info, fmt)
        note_query(query_request.query, remote_answer.count)
        return Response(remote_answer.body, content_type=fmt.content_type)
    answer = answer_query(
        current_app,
        published,
        query_request,
        request.base_url,
        request.headers.get("Accept"),
        format_param,
    )
    note_query(query_request.query, answer.count)
    response = Response(answer.body, content_type=answer.content_type)
    for warning in answer.warnings:
        response.headers.add("Warning", warning)
    return response


@dataclass(frozen=True)
class QueryAnswer:
    """A query's answer, serialized in full before anything is sent."""

    body: bytes
    content_type: str
    warnings: tuple[str, ...] = ()  # values of Warning headers
    result: QueryResult | None = None  # the query worker's, when one ran the query

    def count(self) -> int | None:
        """Solutions or triples, when known. For SPARQL JSON this parses the body (once): ask
        after the answer is sent, as the query log does."""
        return None if self.result is None else self.result.count


def answer_query(
    app: Flask,
    published: PublishedStore,
    query_request: QueryRequest,
    base_url: str,
    accept: str | None,
    format_param: str | None,
) -> QueryAnswer:
    """A query answered from the published store: the safety scan, content negotiation, the
    run and the serialization, or the HttpError to answer instead. Shared by the Flask view
    and :class:`QueryFastPath`; ``base_url`` is the endpoint's URL (the query's base IRI)."""
    info = analyse_query(query_request.query, base_url, app.config["SPARQL_SERVICE_ALLOWLIST"])
    fmt = choose_format(info.form, accept, format_param)
    body, unknown, result = _run(app, published, query_request, info, fmt, base_url)
    return QueryAnswer(
        body, fmt.content_type, tuple(_unknown_graph_warning(iri) for iri in unknown), result
    )


def _run(
    app: Flask,
    published: PublishedStore,
    query_request: QueryRequest,
    info: QueryInfo,
    fmt: ResultFormat,
    base_url: str,
) -> tuple[bytes, list[str], QueryResult | None]:
    """Execute and serialize fully before answering, so an error never hides in a 200 body.

    Returns the body, the graph IRIs the dataset names that are not in the store (they are
    read as empty graphs, SPARQL 1.1 Protocol semantics, and the response says so in a
    ``Warning`` header, so a misspelt graph name is noticed without breaking conformance), and
    the query worker's result (None in update mode, where the query runs here).
    """
    default: list[NamedNode | BlankNode | DefaultGraph] | None = None
    named: list[NamedNode | BlankNode] | None = None
    if query_request.has_protocol_dataset:  # the protocol dataset overrides FROM clauses
        default = [_graph(g) for g in query_request.default_graph_uris]
        named = [_graph(g) for g in query_request.named_graph_uris]
        dataset = [*default, *named]
    else:
        dataset = [_graph(iri) for iri in (*info.from_graphs, *info.from_named_graphs)]
    unknown: list[str] = []
    if dataset:  # the store is opened in this process only to check the graphs named
        store = published.get()
        unknown = sorted(
            {
                g.value
                for g in dataset
                if isinstance(g, NamedNode) and not store.contains_named_graph(g)
            }
        )
    union = bool(app.config.get("SPARQL_UNION_DEFAULT_GRAPH", True))
    as_union = union and not (query_request.has_protocol_dataset or info.has_dataset)
    timeout = app.config["SPARQL_TIMEOUT_SECONDS"]
    if not published.writable:
        executor = cast(PublishedExecutor | ThreadExecutor, app.extensions["osce_kg_executor"])
        try:
            result = executor.run(
                query_request.query,
                fmt.serializer,
                base_iri=base_url,
                use_default_graph_as_union=as_union,
                default_graph=None if default is None else [_iri(g) for g in default],
                named_graphs=None if named is None else [_iri(g) for g in named],
                timeout=timeout,
            )
        except QuerySyntaxError as e:
            explained = explain_syntax_error(query_request.query)  # where, in rdflib's words
            if explained is None:
                raise
            raise explained from e
        except QueryFailed as e:
            if e.engine_error != "RuntimeError" or "is not supported" not in e.engine_message:
                raise
            raise _unsupported_function(e.engine_message) from e
        return result.body, unknown, result
    store = published.get()
    try:
        results = store.query(
            query_request.query,
            base_iri=base_url,
            use_default_graph_as_union=as_union,
            default_graph=default,
            named_graphs=named,
        )
    except SyntaxError as e:
        raise explain_syntax_error(query_request.query) or ProtocolError(
            400, str(e), "The query engine rejected the query.", title="Query syntax error"
        ) from e
    except RuntimeError as e:
        if "is not supported" not in str(e):  # anything else is ours to fix: a 500
            raise
        raise _unsupported_function(str(e)) from e
    out = _DeadlineBuffer(time.monotonic() + timeout, timeout)
    if isinstance(results, QueryTriples):
        results.serialize(out, _rdf_format(fmt))
    elif isinstance(fmt.serializer, QueryResultsFormat):
        results.serialize(out, fmt.serializer)
    else:  # rdflib and pyoxigraph disagree on the query form: our bug, a 500
        raise TypeError(f"{fmt.media_type} cannot carry query solutions")
    return out.getvalue(), unknown, None


FAST_PATH_FAILURE = "osce_kg.fast_path_failure"  # environ key: the error the view raises
# what werkzeug's Request.base_url is made of, for a request to /sparql
_BASE_URL_PARTS = ("wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "SCRIPT_NAME")
_NO_FORM: MultiDict[str, str] = MultiDict()
# The query strings whose reading QueryFastPath remembers: at most this many, each of at most
# this many characters (the strings and their decoded queries: about 8 MB a process at most).
REMEMBERED_READS = 512
REMEMBERED_QUERY_STRING = 8192


@dataclass(frozen=True)
class _FastPathFailure:
    error: Exception
    query: str | None  # for the query log, once the request was read that far


class QueryFastPath:
    """WSGI middleware in front of the Flask app (``app.wsgi_app``) that answers the
    endpoint's commonest request, ``GET /sparql?query=…``, with :func:`answer_query` as the
    view does, but without Flask's per-request machinery (request and app contexts, URL
    matching, before- and after-request hooks, a Response object): measured in process, that
    machinery took about 0.2 ms a request, twice the rest of the endpoint's own work for a
    lookup.

    It answers only what it reproduces exactly, the success of a GET without a body, and only
    in an app whose hooks are the ones it stands in for (the metrics and the query log of
    ``server.observability``, ``Vary: Accept``), serving its own store (no update mode, no
    external store), with no ``TRUSTED_HOSTS``. Every other request goes to Flask untouched,
    and so does a failure: the view raises the same error again (``FAST_PATH_FAILURE``), so
    that errors keep one shape, one handler and one place in the metrics. A test compares its
    answers with the view's, header by header.
    """

    def __init__(self, app: Flask):
        self.app = app
        self.flask = app.wsgi_app  # the app itself, for everything this does not answer
        self._applies: bool | None = None  # decided at the first request: the app is complete
        self._cors_headers: list[tuple[str, str]] = []  # the same on every answer, or none
        self._base_urls: dict[tuple[object, ...], str] = {}

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if (
            environ.get("PATH_INFO") != "/sparql"
            or environ.get("REQUEST_METHOD") != "GET"
            or environ.get("CONTENT_LENGTH", "0") not in ("", "0")
            or "HTTP_TRANSFER_ENCODING" in environ
            or not self.applies()
        ):
            return self.flask(environ, start_response)
        started = time.perf_counter()
        environ[STARTED] = started  # also for a late answer (server.inprocess)
        app = self.app
        query: str | None = None
        try:
            query_request, format_param = self._read(environ)
            if query_request is None:  # the service description
                return self.flask(environ, start_response)
            query = query_request.query
            answer = answer_query(
                app,
                app.extensions["osce_kg_store"],
                query_request,
                self._base_url(environ),
                environ.get("HTTP_ACCEPT"),
                format_param,
            )
        except Exception as error:  # answered by the view, as if it had run it
            environ[FAST_PATH_FAILURE] = _FastPathFailure(error, query)
            return self.flask(environ, start_response)
        body = answer.body
        headers = [("Content-Type", answer.content_type), ("Content-Length", str(len(body)))]
        headers += [("Warning", warning) for warning in answer.warnings]
        headers.append(("Vary", "Accept"))
        headers += self._cors_headers
        seconds = time.perf_counter() - started
        environ[QUERY_LOGGED] = True
        start_response("200 OK", headers)
        sent = partial(_counted_and_logged, query, seconds, answer.count, len(body))
        return _Body(body, _corked(environ), sent)

    def _read(self, environ: WSGIEnvironment) -> tuple[QueryRequest | None, str | None]:
        """The GET's query (None: a request for the view, such as the service description)
        and its ``format`` parameter, as the view reads them, or the ProtocolError the view
        raises; remembered for short query strings (:func:`_read_query`)."""
        query_string = environ.get("QUERY_STRING", "")
        read = _remembered_read if len(query_string) <= REMEMBERED_QUERY_STRING else _read_query
        return read(query_string, self.app.config["SPARQL_MAX_QUERY_BYTES"])

    def _base_url(self, environ: WSGIEnvironment) -> str:
        """``request.base_url``, remembered for the few hosts a server is reached by."""
        key = tuple(environ.get(name) for name in _BASE_URL_PARTS)
        base_url = self._base_urls.get(key)
        if base_url is None:
            base_url = self.app.request_class(environ).base_url
            if len(self._base_urls) >= 64:  # Host headers are the client's to choose
                self._base_urls.clear()
            self._base_urls[key] = base_url
        return base_url

    def applies(self) -> bool:
        """Whether the app is one whose answers this reproduces (see the class)."""
        if self._applies is None:
            app = self.app
            cors = app.extensions.get("osce_kg_cors", CorsHooks((), ()))
            self._cors_headers = list(cors.headers)
            self._applies = (
                not app.config["SPARQL_UPDATE_TOKEN"]
                and not app.config["SPARQL_BACKEND_URL"]
                and app.config.get("TRUSTED_HOSTS") is None
                and not app.url_map.host_matching
                and app.request_class is Request  # whose arguments _read_query reads
                and app.view_functions.get("sparql.endpoint") is endpoint
                and _hooks(app.before_request_funcs) == {None: [observability._start]}
                and _hooks(app.after_request_funcs)
                == {
                    None: [observability._finish, *cors.hooks],
                    "sparql": [_vary_accept],
                }
                and not any(_hooks(app.url_value_preprocessors).values())
                and not any(_hooks(app.teardown_request_funcs).values())
            )
        return self._applies


def _read_query(query_string: str, max_query_bytes: int) -> tuple[QueryRequest | None, str | None]:
    """A GET's query string read as the view reads it (``request.args``, which depends on
    nothing else, then ``parse_request``): its query (None for anything but a query) and its
    ``format`` parameter; the ProtocolError the view raises."""
    args = Request({"QUERY_STRING": query_string}, populate_request=False).args
    query_request = parse_request("GET", None, args, _NO_FORM, b"", max_query_bytes)
    return (query_request if isinstance(query_request, QueryRequest) else None), args.get("format")


# Applications and dashboards send the same query strings again, and reading one (the
# percent-escapes, then the protocol's checks) was most of what the endpoint itself did for a
# lookup: 60-107 µs a request in kg-serve, 15-17 µs remembered (docs/BENCHMARKS.md). Refusals
# raise, so they are read again each time.
_remembered_read = lru_cache(maxsize=REMEMBERED_READS)(_read_query)


@dataclass(frozen=True)
class CorsHooks:
    """What ``server._init_cors`` registered, when every answer gets the same CORS headers
    (any origin): its after-request hooks, and those headers, which the fast path adds."""

    hooks: tuple[Callable[..., Any], ...]
    headers: tuple[tuple[str, str], ...]


def _hooks(registry: Mapping[str | None, list[Any]]) -> dict[str | None, list[Any]]:
    return {name: list(funcs) for name, funcs in registry.items() if funcs}


def _corked(environ: WSGIEnvironment) -> socket.socket | None:
    """The client's socket under gunicorn (``gunicorn.socket``), corked so that the response
    leaves in full segments: gunicorn writes the headers and the body apart, with TCP_NODELAY,
    and the client then mostly woke up for the headers alone and again for the body (35 answers
    in 50, counted with strace). None under another server, or on a Unix socket."""
    sock = environ.get("gunicorn.socket")
    if not isinstance(sock, socket.socket) or not hasattr(socket, "TCP_CORK"):
        return None
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    except OSError:
        return None
    return sock


def _counted_and_logged(
    query: str, seconds: float, results: Callable[[], int | None], length: int
) -> None:
    """A fast-path answer's metrics and log line, when the server closes the answer (after
    sending it, or failing to): the metrics took 4 µs in a loop but 51 µs with the CPU's
    caches emptied between calls (Prometheus' multiprocess files; medians of 1,000 calls,
    2026-11-30), as a server meets them between requests."""
    try:
        count_request("/sparql", "GET", 200, seconds)
    finally:
        log_query(query, seconds, results, length, 200)


class _Body:
    """A query's response body: uncorks the socket once the server has written it, and calls
    ``sent`` (the metrics and the log line) when the server closes it."""

    def __init__(self, body: bytes, corked: socket.socket | None, sent: Callable[[], None]):
        self.body = body
        self._corked = corked
        self._sent: Callable[[], None] | None = sent

    def __iter__(self) -> Iterator[bytes]:
        yield self.body
        self._uncork()  # the server asks for more once it has written the body: send it all

    def _uncork(self) -> None:
        sock, self._corked = self._corked, None
        if sock is not None:
            with contextlib.suppress(OSError):  # the client is gone
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)

    def close(self) -> None:
        self._uncork()
        sent, self._sent = self._sent, None
        if sent is not None:
            sent()


def answer_late(app: Flask, environ: WSGIEnvironment, error: Exception, query: str) -> None:
    """Answer a request with ``error`` while the thread that took it is still busy (with a
    runaway query, see server.inprocess): the view renders the error as if the query had
    raised it, with the request's log line and metrics, and the answer goes straight to the
    client's socket (gunicorn's), which is then closed."""
    sock = environ.get("gunicorn.socket")
    if not isinstance(sock, socket.socket):
        raise TypeError("a late answer needs gunicorn's socket in the WSGI environ")
    late = dict(environ)
    late["wsgi.input"] = io.BytesIO()  # read already, by the busy thread
    late[FAST_PATH_FAILURE] = _FastPathFailure(error, query)
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], _exc: object = None) -> Any:
        started.append((status, headers))

    chunks = Flask.wsgi_app(app, late, start_response)  # the app itself, not the fast path
    try:
        body = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    status, headers = started[-1]
    head = [f"HTTP/1.1 {status}", f"Date: {formatdate(usegmt=True)}", "Connection: close"]
    head += [f"{name}: {value}" for name, value in headers if name.lower() != "connection"]
    try:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
    finally:
        with contextlib.suppress(OSError):  # the client may be gone
            sock.shutdown(socket.SHUT_RDWR)


def _unsupported_function(message: str) -> ProtocolError:
    return ProtocolError(
        400,
        f"{message}.",
        "Use the SPARQL 1.1 built-in functions, or the XSD casts (xsd:integer(...) etc.). "
        f"For reference, see {FUNCTIONS_SPEC}",
        title="Unsupported function",
    )


def _iri(graph: NamedNode | BlankNode | DefaultGraph) -> str:
    if not isinstance(graph, NamedNode):  # the protocol names graphs by IRI only
        raise TypeError(f"{graph} is not a graph IRI")
    return graph.value


def _update(store: Store, update_request: UpdateRequest) -> Response:
    """Run an update in update mode (``SPARQL_UPDATE_TOKEN`` set): bearer token first."""
    token = str(current_app.config["SPARQL_UPDATE_TOKEN"])
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        response = error_response(
            401,
            "Unauthorized",
            "SPARQL updates need the operator's token.",
            "Send it as the header 'Authorization: Bearer <token>'.",
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="osce-kg update"'
        return response
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise HttpError(403, "The update token is wrong.", "Ask the operator for the token.")
    info = analyse_update(update_request.update)
    text = update_request.update
    if update_request.has_protocol_dataset:
        if info.has_dataset:
            raise ProtocolError(
                400,
                "The update names its dataset twice: in using-graph-uri/using-named-graph-uri "
                "and in USING, USING NAMED or WITH.",
                f"Keep one of the two. For reference, see {UPDATE_DATASET_SPEC}",
            )
        text = add_using_clauses(
            text, update_request.using_graph_uris, update_request.using_named_graph_uris
        )
    try:
        store.update(text, base_iri=request.base_url)
    except SyntaxError as e:
        raise ProtocolError(
            400, str(e), "The update engine rejected the update.", title="Update syntax error"
        ) from e
    except RuntimeError as e:  # the update's own failure, e.g. DROP of a graph that is absent
        raise ProtocolError(
            400,
            f"The update failed: {e}.",
            "Nothing was changed (an update applies whole or not at all). Add SILENT to "
            "CREATE, DROP, CLEAR, ADD, MOVE or COPY to ignore a graph that is absent or "
            "already there. "
            f"For reference, see {UPDATE_SPEC}",
            title="Update failed",
        ) from e
    return Response(status=204)


def _unknown_graph_warning(iri: str) -> str:
    """An RFC 7234 ``Warning`` (code 299, persistent) naming a graph read as empty."""
    shown = quote(iri, safe=":/?#[]@!$&'()*+,;=%~")  # header values are ASCII
    text = f"There is no graph <{shown}> in this store; it was read as empty."
    return '299 osce-kg "' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _rdf_format(fmt: ResultFormat) -> RdfFormat:
    if not isinstance(fmt.serializer, RdfFormat):
        raise TypeError(f"{fmt.media_type} cannot carry a graph")
    return fmt.serializer


def _graph(iri: str) -> NamedNode:
    try:
        return NamedNode(iri)
    except ValueError as e:
        raise ProtocolError(
            400, f"{iri!r} is not a valid graph IRI.", "Graph names are absolute IRIs."
        ) from e


class _DeadlineBuffer(io.BytesIO):
    """Collects the serialized results; raises QueryTimeout once the deadline has passed."""

    def __init__(self, deadline: float, seconds: int):
        super().__init__()
        self._deadline = deadline
        self._seconds = seconds

    def write(self, data: ReadableBuffer, /) -> int:
        if time.monotonic() > self._deadline:
            raise QueryTimeout(self._seconds)
        return super().write(data)


def _service_description(endpoint: str, update: bool = False) -> list[Triple]:
    """SPARQL 1.1 Service Description of this endpoint."""
    service = BlankNode()
    sd = {
        name: NamedNode(SD + name)
        for name in (
            "Service",
            "endpoint",
            "supportedLanguage",
            "SPARQL11Query",
            "SPARQL11Update",
            "feature",
            "UnionDefaultGraph",
            "resultFormat",
        )
    }
    triples = [
        Triple(service, NamedNode(str(RDF.type)), sd["Service"]),
        Triple(service, sd["endpoint"], NamedNode(endpoint)),
        Triple(service, sd["supportedLanguage"], sd["SPARQL11Query"]),
    ]
    if update:
        triples.append(Triple(service, sd["supportedLanguage"], sd["SPARQL11Update"]))
    if current_app.config.get("SPARQL_UNION_DEFAULT_GRAPH", True):
        triples.append(Triple(service, sd["feature"], sd["UnionDefaultGraph"]))
    triples += [
        Triple(service, sd["resultFormat"], NamedNode(f.serializer.iri))
        for f in (*SOLUTION_FORMATS, *GRAPH_FORMATS)
    ]
    return triples
