"""``/store``: the SPARQL 1.1 Graph Store HTTP Protocol, read-only.

``GET /store?graph=<iri>`` returns one named graph, ``GET /store?default`` the default graph
(as at ``/sparql``: the union of all named graphs unless ``SPARQL_UNION_DEFAULT_GRAPH`` is
off), ``GET /store`` the whole dataset as TriG
or N-Quads. HEAD answers the same headers without the body. Writes (PUT, POST, DELETE) are
405: the published graph changes only through ``kg-build``.

Responses carry an ETag made of the release id, so a client that polls gets 304 until the
next build is published.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import cast

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request

from kg_builder.publish import PREFIXES
from server.errors import HttpError
from server.resources import choose
from server.store import PublishedStore

bp = Blueprint("graph_store", __name__)

SPEC = "https://www.w3.org/TR/sparql11-http-rdf-update/"
GRAPH_FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
DATASET_FORMATS = {
    "application/trig": ox.RdfFormat.TRIG,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}
LINE_BASED = (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS)  # safe to write in chunks
CHUNK = 10_000


@bp.route("/store", methods=["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH"])
def graph_store() -> Response:
    if request.method not in ("GET", "HEAD"):
        raise HttpError(
            405,
            f"{request.method} would change the graph; this Graph Store is read-only.",
            "Rebuild and publish with kg-build to change the graph.",
            title="Method Not Allowed",
        )
    published = cast(PublishedStore, current_app.extensions["osce_kg_store"])
    store = published.get()
    release = published.release()
    graphs, default = request.args.getlist("graph"), "default" in request.args
    if len(graphs) > 1 or (graphs and default):
        raise HttpError(
            400,
            "Name one graph: a single graph=<IRI>, or default.",
            f"For reference, see {SPEC}#indirect-graph-identification",
        )
    offers = GRAPH_FORMATS if graphs or default else DATASET_FORMATS
    media = choose({m: m for m in offers}, request.headers.get("Accept"))
    if media is None:
        raise HttpError(
            406,
            f"This resource is available as {', '.join(offers)}.",
            "Ask for one of these in the Accept header.",
            title="Not Acceptable",
        )
    fmt = offers[media]
    quads: Iterable[ox.Quad | ox.Triple]
    if graphs:
        node = _graph_name(graphs[0])
        if not store.contains_named_graph(node):
            raise HttpError(
                404,
                f"There is no graph <{graphs[0]}> in this store.",
                "List the graphs with: SELECT DISTINCT ?g WHERE { GRAPH ?g { } }",
                title="Not Found",
            )
        quads = (q.triple for q in store.quads_for_pattern(None, None, None, node))
    elif default and current_app.config.get("SPARQL_UNION_DEFAULT_GRAPH", True):
        quads = _union(store)
    elif default:
        quads = (q.triple for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    else:
        quads = store.quads_for_pattern(None, None, None, None)
    tag = hashlib.sha256(
        f"{release.root.name if release else ''}|{graphs}|{default}|{media}".encode()
    ).hexdigest()[:32]
    response = Response(content_type=media)
    response.set_etag(tag)
    response.vary.add("Accept")
    response.make_conditional(request)
    if response.status_code == 304 or request.method == "HEAD":
        return response
    if fmt in LINE_BASED:
        response.response = _chunks(quads, fmt)
    else:
        prefixes = PREFIXES if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else None
        body = ox.serialize(cast(Iterable[ox.Quad], quads), format=fmt, prefixes=prefixes)
        response.set_data(cast(bytes, body))
    return response


def _graph_name(iri: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(iri)
    except ValueError as e:
        raise HttpError(400, f"{iri!r} is not an IRI.", "Pass graph=<an absolute IRI>.") from e


def _union(store: ox.Store) -> ox.QueryTriples:
    """Each triple of any named graph once: the default graph the endpoint queries."""
    result = store.query(
        "CONSTRUCT { ?s ?p ?o } WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }"
    )
    assert isinstance(result, ox.QueryTriples)  # noqa: S101 - a CONSTRUCT gives triples
    return result


def _chunks(quads: Iterable[ox.Quad | ox.Triple], fmt: ox.RdfFormat) -> Iterator[bytes]:
    iterator = iter(quads)
    while batch := list(islice(iterator, CHUNK)):
        yield cast(bytes, ox.serialize(cast(list[ox.Quad], batch), format=fmt))
