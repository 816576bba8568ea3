"""Fronting an external SPARQL store: with ``SPARQL_BACKEND_URL`` set (``kg-serve --endpoint
URL``), ``/sparql`` forwards each query to that SPARQL 1.1 query endpoint (``oxigraph serve``'s
``/query``, QLever, Fuseki, Virtuoso) instead of running it on a local release.

What the local endpoint guarantees holds here too, because the request goes through the same
steps before anything is sent: ``protocol.parse_request`` (updates 403, bad requests 400/413/415),
``analysis.analyse_query`` (SERVICE refused unless to an allow-listed endpoint, which the store
then asks itself; nesting bounded), ``protocol.choose_format`` (406).
FROM / FROM NAMED become ``default-graph-uri`` / ``named-graph-uri``, which override the query's
own dataset (SPARQL 1.1 Protocol, 2.1.4), so the store is never asked to fetch a graph; the
endpoint's URL is given to the store as the query's base IRI (a ``BASE`` on the first line).

The answer is read in full before the client gets anything, within ``SPARQL_TIMEOUT_SECONDS``
(connecting, waiting and reading together; a watchdog closes the connection when the time is
up) and ``SPARQL_MAX_RESULT_BYTES``: an overrun is a 503 ``Query timeout``, a larger answer a
413, as locally — never a truncated 200. The store is asked for the format the client chose,
with SPARQL JSON / XML / TSV or N-Triples / Turtle / RDF/XML as fallbacks that kg-serve
re-serializes with pyoxigraph when the store does not offer the chosen one.

=========================================  ======  =========================================
the store                                  status  title
=========================================  ======  =========================================
cannot be reached                          502     Store unreachable
answers 400 (or another client error)      400     Query rejected by the store
answers 401, 403, 404, 405, 406, 415, 3xx  502     Store misconfigured
answers 408, 429, 503                      503     Store busy
answers another 5xx, or what cannot parse  502     Store failed
answers too slowly                         503     Query timeout
answers more than the result limit         413     Result too large
=========================================  ======  =========================================

The other routes: ``/health`` asks the store ``ASK {}``; entity pages are built from what the
store says about the entity (RDF by CONSTRUCT; the HTML page from a small in-memory copy of
the quads around it); the Graph Store (``/store``) is 501; the dumps, VoID and the ontology come
from a local release when there is one (``KG_OUT_DIR``), else 404.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.cookiejar import DefaultCookiePolicy
from typing import cast
from urllib.parse import urlsplit

import pyoxigraph as ox
import requests
from flask import Flask, Response, current_app, jsonify, request
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from kg_builder.fetch import USER_AGENT
from kg_builder.layout import current_release
from kg_builder.push import public_url
from server.analysis import QueryInfo, explain_syntax_error
from server.errors import HttpError
from server.executor import QueryTimeout, ResultTooLarge
from server.linked_data import LABELS
from server.protocol import SOLUTION_FORMATS, QueryRequest, ResultFormat

log = logging.getLogger(__name__)

EXTENSION = "osce_kg_backend"
CHUNK = 64 * 1024
CONNECT_TIMEOUT = 5.0  # seconds, at most: a store that does not accept a connection is down
HEALTH_TIMEOUT = 5.0
POOL_SIZE = 16  # kept-alive connections per server process (gunicorn threads share them)
MAX_MESSAGE = 500  # characters of the store's error text quoted to the client
MAX_ERROR_BODY = 64 * 1024
SOLUTION_FALLBACKS = (
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/tab-separated-values",
)
GRAPH_FALLBACKS = ("application/n-triples", "text/turtle", "application/rdf+xml")
_MISCONFIGURED = {401, 403, 404, 405, 406, 407, 410, 415}
_BUSY = {408, 429, 503}
_COUNT_JSON_UP_TO = 1024 * 1024


class StoreError(HttpError):
    """The external store failed, refused, or cannot be reached (502/503)."""


class StoreTimeout(QueryTimeout):
    """The store did not answer within the timeout: 503, counted as a query timeout."""

    def __init__(self, seconds: float, store: str):
        super().__init__(seconds)
        self.message = (
            f"The query ran longer than {seconds:g} s at the SPARQL store {store}; "
            "kg-serve stopped waiting for it."
        )
        self.args = (self.message,)


@dataclass(frozen=True)
class Answer:
    body: bytes
    count: int | None  # solutions or triples, where counting is cheap


class RemoteStore:
    """The external SPARQL query endpoint at ``url``, over one pooled requests session per
    process (created after gunicorn's fork; its connections are never shared across one)."""

    def __init__(self, url: str, timeout: float, max_result_bytes: int):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http(s) URL of a SPARQL query endpoint")
        self.url = url
        self.name = public_url(url)  # for messages: no credentials
        self.timeout = timeout
        self.max_result_bytes = max_result_bytes
        self._lock = threading.Lock()
        self._session: tuple[int, requests.Session] | None = None

    def session(self) -> requests.Session:
        with self._lock:
            if self._session is None or self._session[0] != os.getpid():
                session = requests.Session()
                # retry only a connection that could not be made (a stale pooled one); a query
                # that was sent is never sent twice
                retry = Retry(total=1, connect=1, read=0, redirect=0, status=0, other=0)
                adapter = HTTPAdapter(pool_connections=1, pool_maxsize=POOL_SIZE, max_retries=retry)
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                session.headers["User-Agent"] = USER_AGENT
                session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # stateless
                self._session = (os.getpid(), session)
            return self._session[1]

    def query(
        self,
        query: str,
        fmt: ResultFormat,
        returns_graph: bool,
        *,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        base_iri: str | None = None,
        timeout: float | None = None,
    ) -> Answer:
        """Send the query, read the whole answer, and give it back as ``fmt``."""
        seconds = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + seconds
        text = query  # the base on the query's first line: the store's line numbers hold
        if base_iri is not None:
            text = f"BASE {ox.NamedNode(base_iri)} {query}"
        data = [("query", text)]
        data += [("default-graph-uri", g) for g in default_graph_uris]
        data += [("named-graph-uri", g) for g in named_graph_uris]
        fallbacks = GRAPH_FALLBACKS if returns_graph else SOLUTION_FALLBACKS
        try:
            response = self.session().post(
                self.url,
                data=data,
                headers={"Accept": _accept(fmt.media_type, fallbacks)},
                timeout=(min(CONNECT_TIMEOUT, seconds), seconds),
                stream=True,
                allow_redirects=False,
            )
        except requests.ConnectTimeout as e:
            raise self._unreachable(
                f"no connection within {min(CONNECT_TIMEOUT, seconds):g} s"
            ) from e
        except requests.Timeout as e:
            raise StoreTimeout(seconds, self.name) from e
        except requests.ConnectionError as e:
            raise self._unreachable(_reason(e)) from e
        with response:
            if response.status_code != 200:
                raise self._refusal(response, deadline, seconds, query)
            body = self._read(response, deadline, seconds, self.max_result_bytes)
            media = _essence(response.headers.get("Content-Type", ""))
        return self._convert(body, media, fmt, returns_graph)

    def around(self, iri: str) -> ox.Store:
        """An in-memory copy of the quads an entity page shows (facts from and to ``iri``, the
        labels of what they link to, the annotations that quote it), from one query."""
        mirror = ox.Store()
        try:
            node = ox.NamedNode(iri)
        except ValueError:
            return mirror
        query = _AROUND.replace("ENTITY", str(node)).replace("LABELS", _LABELS)
        answer = self.query(query, SOLUTION_FORMATS[0], False)
        results = ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.JSON)
        if not isinstance(results, ox.QuerySolutions):
            raise self._failed("answered a SELECT with a boolean")
        quads = []
        for row in results:
            s, p, o, g = row["s"], row["p"], row["o"], row["g"]
            if (
                isinstance(s, ox.NamedNode | ox.BlankNode)
                and isinstance(p, ox.NamedNode)
                and o is not None
                and isinstance(g, ox.NamedNode | ox.BlankNode)
            ):
                quads.append(ox.Quad(s, p, o, g))
        mirror.extend(quads)
        return mirror

    def health(self) -> tuple[Response, int]:
        """``/health``: 200 when the store answers ``ASK {}`` in time, else 503."""
        started = time.monotonic()
        body: dict[str, object] = {"status": "unavailable", "store": self.name}
        try:
            self.query("ASK {}", SOLUTION_FORMATS[0], False, timeout=HEALTH_TIMEOUT)
        except HttpError as e:
            body["error"] = e.message
            return jsonify(body), 503
        body["status"] = "ok"
        body["ms"] = round((time.monotonic() - started) * 1000, 1)
        release = current_release(current_app.config["KG_OUT_DIR"])
        if release is not None:
            body["local_release"] = release.root.name
        return jsonify(body), 200

    # --- reading the answer -------------------------------------------------------------------

    def _read(
        self, response: requests.Response, deadline: float, seconds: float, limit: int
    ) -> bytes:
        """The whole body, or StoreTimeout at the deadline (the watchdog shuts the socket, so a
        store that trickles bytes cannot hold the request past it), or ResultTooLarge."""
        aborted = threading.Event()

        def abort() -> None:
            aborted.set()
            sock = getattr(getattr(response.raw, "connection", None), "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        watchdog = threading.Timer(max(deadline - time.monotonic(), 0.0), abort)
        watchdog.daemon = True
        watchdog.start()
        buffer = bytearray()
        try:
            for chunk in response.iter_content(CHUNK):
                buffer += chunk
                if len(buffer) > limit:
                    raise ResultTooLarge(self.max_result_bytes)
                if aborted.is_set():
                    break
        except (requests.RequestException, OSError) as e:
            if aborted.is_set() or isinstance(e, requests.Timeout):
                raise StoreTimeout(seconds, self.name) from e
            raise StoreError(
                502,
                f"The SPARQL store {self.name} broke off its answer: {_reason(e)}.",
                "Retry; if it persists, look at the store's log.",
                title="Store failed",
            ) from e
        finally:
            watchdog.cancel()
        if aborted.is_set() or time.monotonic() > deadline:
            raise StoreTimeout(seconds, self.name)
        return bytes(buffer)

    def _convert(self, body: bytes, media: str, fmt: ResultFormat, returns_graph: bool) -> Answer:
        """The store's answer as ``fmt``: as it came when the store spoke ``fmt``, else parsed
        and re-serialized."""
        got: ox.RdfFormat | ox.QueryResultsFormat | None
        if returns_graph:
            got = ox.RdfFormat.from_media_type(media) if media else None
        else:
            got = ox.QueryResultsFormat.from_media_type(media) if media else None
        if got is None:
            raise self._failed(f"answered with Content-Type {media or '(none)'!r}, unreadable")
        if got == fmt.serializer:
            return Answer(body, count_results(body, fmt.media_type))
        out = io.BytesIO()
        count: int | None = None
        try:
            if isinstance(got, ox.RdfFormat):
                triples = [q.triple for q in ox.parse(body, format=got)]
                ox.serialize(triples, out, cast(ox.RdfFormat, fmt.serializer))
                count = len(triples)
            else:
                results = ox.parse_query_results(body, format=got)
                if not isinstance(results, ox.QuerySolutions | ox.QueryBoolean):
                    raise TypeError("not query results")
                results.serialize(out, cast(ox.QueryResultsFormat, fmt.serializer))
        except (SyntaxError, ValueError, TypeError) as e:
            raise self._failed(f"answered with {media} that does not parse: {e}") from e
        if out.tell() > self.max_result_bytes:
            raise ResultTooLarge(self.max_result_bytes)
        converted = out.getvalue()
        if count is None:
            count = count_results(converted, fmt.media_type)
        return Answer(converted, count)

    # --- errors -------------------------------------------------------------------------------

    def _unreachable(self, reason: str) -> StoreError:
        return StoreError(
            502,
            f"The SPARQL store {self.name} cannot be reached: {reason}.",
            "Retry shortly; the operator should check that the store is running at this "
            "address (kg-serve --endpoint).",
            title="Store unreachable",
        )

    def _failed(self, what: str) -> StoreError:
        return StoreError(
            502,
            f"The SPARQL store {self.name} {what}.",
            "This is a problem of the store or of kg-serve, not of your query; retry, or "
            "report it.",
            title="Store failed",
        )

    def _refusal(
        self, response: requests.Response, deadline: float, seconds: float, query: str
    ) -> HttpError:
        status = response.status_code
        try:
            text = self._read(response, deadline, seconds, MAX_ERROR_BODY)
        except ResultTooLarge:
            text = b""
        message = _message(text, response.headers.get("Content-Type", ""))
        said = f"HTTP {status} {_phrase(status)}" + (f": {message}" if message else "")
        if 300 <= status < 400:
            where = response.headers.get("Location", "(nowhere)")
            return StoreError(
                502,
                f"The SPARQL store {self.name} redirects to {where}.",
                "The operator should set kg-serve --endpoint to the URL of the store's SPARQL "
                "query endpoint itself.",
                title="Store misconfigured",
            )
        if status in _MISCONFIGURED:
            return StoreError(
                502,
                f"The SPARQL store {self.name} refused the query: {said}.",
                "The operator should check kg-serve --endpoint: it must be the store's SPARQL "
                "query endpoint, readable by kg-serve.",
                title="Store misconfigured",
            )
        if status in _BUSY:
            return StoreError(
                503,
                f"The SPARQL store {self.name} is busy or unavailable: {said}.",
                "Retry shortly.",
                title="Store busy",
            )
        if status in (413, 414):
            return StoreError(
                413,
                f"The SPARQL store {self.name} refused the query as too large: {said}.",
                "Shorten the query.",
                title="Query too large",
            )
        if 400 <= status < 500:
            explained = explain_syntax_error(query)  # rdflib's line and column, when it agrees
            hint = explained.message if explained is not None else ""
            return StoreError(
                400,
                f"The SPARQL store rejected the query: {said}.",
                hint or "Change the query as the store's message says.",
                title="Query syntax error" if explained is not None else "Query rejected",
            )
        return StoreError(
            502,
            f"The SPARQL store {self.name} failed: {said}.",
            "Retry; if it persists, the operator should look at the store's log.",
            title="Store failed",
        )


_LABELS = " ".join(f"<{iri}>" for iri in LABELS)
_AROUND = """
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT DISTINCT ?s ?p ?o ?g WHERE {
  VALUES ?e { ENTITY }
  { GRAPH ?g { ?e ?p ?o } BIND (?e AS ?s) }
  UNION { GRAPH ?g { ?s ?p ?e } BIND (?e AS ?o) }
  UNION { GRAPH ?g { ?s oa:hasBody ?e ; ?p ?o } }
  UNION { GRAPH ?g { ?a oa:hasBody ?e ; oa:hasTarget ?s . ?s ?p ?o } }
  UNION { GRAPH ?g { ?a oa:hasBody ?e ; oa:hasTarget/oa:hasSelector ?s . ?s ?p ?o } }
  UNION { GRAPH ?g { ?a oa:hasBody ?e ; oa:hasTarget/oa:hasSource ?source .
                     ?s prov:wasDerivedFrom ?source ; ?p ?o .
                     VALUES ?p { prov:wasDerivedFrom dcterms:title dcterms:date } } }
  UNION { { GRAPH ?h { ?e ?x ?s } } UNION { GRAPH ?h { ?s ?x ?e } }
          UNION { GRAPH ?h { ?e ?s ?y } } UNION { GRAPH ?h { ?y ?s ?e } }
          FILTER (isIRI(?s))
          GRAPH ?g { ?s ?p ?o } VALUES ?p { LABELS } }
}
"""


def _accept(chosen: str, fallbacks: Sequence[str]) -> str:
    others = [m for m in fallbacks if m != chosen]
    return ", ".join([chosen] + [f"{m};q={0.9 - 0.1 * i:.1f}" for i, m in enumerate(others)])


def _essence(media_type: str) -> str:
    return media_type.partition(";")[0].strip().lower()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _reason(error: BaseException) -> str:
    """The innermost cause of a requests error, without urllib3's wrapping."""
    while error.__context__ is not None and not isinstance(error, OSError):
        error = error.__context__
    for arg in getattr(error, "args", ()):
        if isinstance(arg, BaseException):
            return _reason(arg)
    text = str(error)
    return re.sub(r"^<[^>]*>: ", "", text) or type(error).__name__


_TAG = re.compile(r"<[^>]*>")


def _message(body: bytes, content_type: str) -> str:
    """What the store said, as one short line of text (JSON, HTML or plain)."""
    text = body.decode("utf-8", errors="replace")
    media = _essence(content_type)
    if "json" in media:
        with contextlib.suppress(ValueError):
            document = json.loads(text)
            if isinstance(document, dict):
                for key in ("exception", "message", "error", "detail"):
                    if isinstance(document.get(key), str):
                        text = document[key]
                        break
    elif "html" in media or text.lstrip().startswith("<"):
        text = _TAG.sub(" ", text)
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def count_results(body: bytes, media_type: str) -> int | None:
    """Solutions or triples in a serialized answer, where that is cheap and exact enough for
    the query log."""
    essence = _essence(media_type)
    if essence in ("application/n-triples", "application/n-quads"):
        return sum(1 for line in body.splitlines() if line.strip() and not line.startswith(b"#"))
    if essence == "text/tab-separated-values":
        return max(body.count(b"\n") - 1, 0)
    if essence == "application/sparql-results+xml":
        return body.count(b"<result>")
    if essence == "application/sparql-results+json" and len(body) <= _COUNT_JSON_UP_TO:
        with contextlib.suppress(ValueError, AttributeError, TypeError):
            results = json.loads(body).get("results")
            return len(results["bindings"]) if results is not None else None
    return None


# --- the app's hooks ------------------------------------------------------------------------


def backend() -> RemoteStore | None:
    """The external store this app fronts, or None when it serves a local release."""
    return cast(RemoteStore | None, current_app.extensions.get(EXTENSION))


def run_query(
    store: RemoteStore, query_request: QueryRequest, info: QueryInfo, fmt: ResultFormat
) -> Answer:
    """``/sparql``: the query, analysed and negotiated already, answered by the store."""
    if query_request.has_protocol_dataset:  # as locally: the protocol dataset wins over FROM
        default, named = query_request.default_graph_uris, query_request.named_graph_uris
    else:  # the query's FROM / FROM NAMED (resolved against BASE), so the store fetches nothing
        default, named = info.from_graphs, info.from_named_graphs
    return store.query(
        query_request.query,
        fmt,
        info.form.returns_graph,
        default_graph_uris=default,
        named_graph_uris=named,
        base_iri=request.base_url,
    )


NO_GRAPH_STORE = (
    "This server fronts the SPARQL store {store} and offers no Graph Store of its own.",
    "Read graphs with a query (CONSTRUCT WHERE { GRAPH <iri> { ?s ?p ?o } }), or from the "
    "store's own Graph Store.",
)
NO_LOCAL_RELEASE = (
    "This server fronts the SPARQL store {store} and has no local release to serve {what} from.",
    "Get {what} where the graph is built (kg-build writes them to build/current), or run "
    "kg-serve --endpoint beside that build (KG_OUT_DIR).",
)
_LOCAL_FILES = {
    "dumps.listing": "the dumps",
    "dumps.download": "the dumps",
    "void.void": "the VoID description",
    "resources.ontology": "the ontology documentation",
}


def _before_request() -> Response | None:
    store = backend()
    if store is None:
        return None
    endpoint = request.endpoint or ""
    if endpoint == "graph_store.graph_store":
        message, hint = NO_GRAPH_STORE
        raise HttpError(501, message.format(store=store.name), hint, title="Not implemented")
    if endpoint in _LOCAL_FILES and current_release(current_app.config["KG_OUT_DIR"]) is None:
        what = _LOCAL_FILES[endpoint]
        message, hint = NO_LOCAL_RELEASE
        raise HttpError(
            404,
            message.format(store=store.name, what=what),
            hint.format(what=what),
            title="Not found",
        )
    return None


def init_app(app: Flask) -> None:
    """Front the store at ``SPARQL_BACKEND_URL``: read-only, no update mode."""
    if app.config.get("SPARQL_UPDATE_TOKEN"):
        raise ValueError(
            "update mode (SPARQL_UPDATE_TOKEN) and an external store (SPARQL_BACKEND_URL) do "
            "not go together: kg-serve --endpoint is read-only"
        )
    app.extensions[EXTENSION] = RemoteStore(
        str(app.config["SPARQL_BACKEND_URL"]),
        timeout=float(app.config["SPARQL_TIMEOUT_SECONDS"]),
        max_result_bytes=int(app.config["SPARQL_MAX_RESULT_BYTES"]),
    )
    app.before_request(_before_request)
    log.info("fronting the SPARQL store %s", app.extensions[EXTENSION].name)
