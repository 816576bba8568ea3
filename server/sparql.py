"""``/sparql``: the read-only SPARQL 1.1 Protocol endpoint over the published store.

Without ``default-graph-uri``/``named-graph-uri`` or FROM clauses, the default graph is the
union of all named graphs. A GET without a query returns the service description.

Timeouts: pyoxigraph 0.5 cannot cancel a running query, so ``SPARQL_TIMEOUT_SECONDS`` is
checked each time the serializer writes a chunk (about 8 KiB). A query that computes long
before its first chunk (ORDER BY, GROUP BY, ASK) is stopped only by the gunicorn worker
timeout (``kg-serve --timeout``); cancelling inside the engine is issue-5 work.
"""

from __future__ import annotations

import io
import time
from typing import TYPE_CHECKING, cast

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

from server.analysis import QueryInfo, analyse_query
from server.errors import HttpError
from server.protocol import (
    GRAPH_FORMATS,
    SOLUTION_FORMATS,
    ProtocolError,
    QueryForm,
    QueryRequest,
    ResultFormat,
    choose_format,
    parse_request,
)
from server.store import PublishedStore

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

bp = Blueprint("sparql", __name__)

SD = "http://www.w3.org/ns/sparql-service-description#"


class QueryTimeout(HttpError):
    def __init__(self, seconds: int):
        super().__init__(
            503,
            f"The query ran longer than {seconds} s and was stopped.",
            "Narrow the query: add LIMIT, more specific patterns, or fewer OPTIONALs.",
            title="Query timeout",
        )


@bp.after_request
def _vary_accept(response: Response) -> Response:
    response.vary.add("Accept")
    return response


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    published = cast(PublishedStore, current_app.extensions["osce_kg_store"]).get()
    query_request = parse_request(
        request.method,
        request.content_type,
        request.args,
        request.form,
        request.get_data(),
        current_app.config["SPARQL_MAX_QUERY_BYTES"],
    )
    format_param = request.values.get("format")
    if query_request is None:
        fmt = choose_format(QueryForm.DESCRIBE, request.headers.get("Accept"), format_param)
        body = serialize(
            _service_description(request.base_url), format=_rdf_format(fmt), prefixes={"sd": SD}
        )
        return Response(body, content_type=fmt.content_type)
    info = analyse_query(query_request.query)
    fmt = choose_format(info.form, request.headers.get("Accept"), format_param)
    return Response(_run(published, query_request, info, fmt), content_type=fmt.content_type)


def _run(store: Store, query_request: QueryRequest, info: QueryInfo, fmt: ResultFormat) -> bytes:
    """Execute and serialize fully before answering, so an error never hides in a 200 body."""
    default: list[NamedNode | BlankNode | DefaultGraph] | None = None
    named: list[NamedNode | BlankNode] | None = None
    if query_request.has_protocol_dataset:  # the protocol dataset overrides FROM clauses
        default = [_graph(store, g) for g in query_request.default_graph_uris]
        named = [_graph(store, g) for g in query_request.named_graph_uris]
    else:
        for iri in (*info.from_graphs, *info.from_named_graphs):
            _graph(store, iri)
    try:
        results = store.query(
            query_request.query,
            base_iri=request.base_url,
            use_default_graph_as_union=not (query_request.has_protocol_dataset or info.has_dataset),
            default_graph=default,
            named_graphs=named,
        )
    except SyntaxError as e:
        raise ProtocolError(
            400, str(e), "The query engine rejected the query.", title="Query syntax error"
        ) from e
    timeout = current_app.config["SPARQL_TIMEOUT_SECONDS"]
    out = _DeadlineBuffer(time.monotonic() + timeout, timeout)
    if isinstance(results, QueryTriples):
        results.serialize(out, _rdf_format(fmt))
    elif isinstance(fmt.serializer, QueryResultsFormat):
        results.serialize(out, fmt.serializer)
    else:  # rdflib and pyoxigraph disagree on the query form: our bug, a 500
        raise TypeError(f"{fmt.media_type} cannot carry query solutions")
    return out.getvalue()


def _rdf_format(fmt: ResultFormat) -> RdfFormat:
    if not isinstance(fmt.serializer, RdfFormat):
        raise TypeError(f"{fmt.media_type} cannot carry a graph")
    return fmt.serializer


def _graph(store: Store, iri: str) -> NamedNode:
    try:
        node = NamedNode(iri)
    except ValueError as e:
        raise ProtocolError(
            400, f"{iri!r} is not a valid graph IRI.", "Graph names are absolute IRIs."
        ) from e
    if not store.contains_named_graph(node):
        raise ProtocolError(
            400,
            f"There is no graph <{iri}> in this store; it would be read as empty.",
            "List the graphs with: SELECT DISTINCT ?g WHERE { GRAPH ?g { } }",
            title="Unknown graph",
        )
    return node


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


def _service_description(endpoint: str) -> list[Triple]:
    """SPARQL 1.1 Service Description of this endpoint."""
    service = BlankNode()
    sd = {
        name: NamedNode(SD + name)
        for name in (
            "Service",
            "endpoint",
            "supportedLanguage",
            "SPARQL11Query",
            "feature",
            "UnionDefaultGraph",
            "resultFormat",
        )
    }
    triples = [
        Triple(service, NamedNode(str(RDF.type)), sd["Service"]),
        Triple(service, sd["endpoint"], NamedNode(endpoint)),
        Triple(service, sd["supportedLanguage"], sd["SPARQL11Query"]),
        Triple(service, sd["feature"], sd["UnionDefaultGraph"]),
    ]
    triples += [
        Triple(service, sd["resultFormat"], NamedNode(f.serializer.iri))
        for f in (*SOLUTION_FORMATS, *GRAPH_FORMATS)
    ]
    return triples
