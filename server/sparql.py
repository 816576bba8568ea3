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
"""

from __future__ import annotations

import hmac
import io
import time
from typing import TYPE_CHECKING, cast
from urllib.parse import quote

from flask import Blueprint, Response, current_app, request
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

from server.analysis import (
    QueryInfo,
    add_using_clauses,
    analyse_query,
    analyse_update,
    explain_syntax_error,
)
from server.errors import HttpError, error_response
from server.executor import PublishedExecutor, QueryFailed, QuerySyntaxError, QueryTimeout
from server.observability import note_query
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
    info = analyse_query(
        query_request.query, request.base_url, current_app.config["SPARQL_SERVICE_ALLOWLIST"]
    )
    fmt = choose_format(info.form, request.headers.get("Accept"), format_param)
    external = backend()
    if external is not None:  # kg-serve --endpoint: the external store answers
        answer = run_query(external, query_request, info, fmt)
        note_query(query_request.query, answer.count)
        return Response(answer.body, content_type=fmt.content_type)
    body, unknown = _run(published, query_request, info, fmt)
    response = Response(body, content_type=fmt.content_type)
    for iri in unknown:
        response.headers.add("Warning", _unknown_graph_warning(iri))
    return response


def _run(
    published: PublishedStore, query_request: QueryRequest, info: QueryInfo, fmt: ResultFormat
) -> tuple[bytes, list[str]]:
    """Execute and serialize fully before answering, so an error never hides in a 200 body.

    Returns the body and the graph IRIs the dataset names that are not in the store: they are
    read as empty graphs (SPARQL 1.1 Protocol semantics), and the response says so in a
    ``Warning`` header, so a misspelt graph name is noticed without breaking conformance.
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
    union = bool(current_app.config.get("SPARQL_UNION_DEFAULT_GRAPH", True))
    as_union = union and not (query_request.has_protocol_dataset or info.has_dataset)
    if not published.writable:
        executor = cast(PublishedExecutor, current_app.extensions["osce_kg_executor"])
        try:
            result = executor.run(
                query_request.query,
                fmt.serializer,
                base_iri=request.base_url,
                use_default_graph_as_union=as_union,
                default_graph=None if default is None else [_iri(g) for g in default],
                named_graphs=None if named is None else [_iri(g) for g in named],
                timeout=current_app.config["SPARQL_TIMEOUT_SECONDS"],
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
        note_query(query_request.query, result.count)
        return result.body, unknown
    note_query(query_request.query)
    store = published.get()
    try:
        results = store.query(
            query_request.query,
            base_iri=request.base_url,
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
    timeout = current_app.config["SPARQL_TIMEOUT_SECONDS"]
    out = _DeadlineBuffer(time.monotonic() + timeout, timeout)
    if isinstance(results, QueryTriples):
        results.serialize(out, _rdf_format(fmt))
    elif isinstance(fmt.serializer, QueryResultsFormat):
        results.serialize(out, fmt.serializer)
    else:  # rdflib and pyoxigraph disagree on the query form: our bug, a 500
        raise TypeError(f"{fmt.media_type} cannot carry query solutions")
    return out.getvalue(), unknown


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
