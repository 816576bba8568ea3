"""``/.well-known/void``: the VoID description of the published graph (RFC 8615 location
named by the VoID specification, section 7.2).

The statistics come from the release's ``void.ttl``, written at build time; this blueprint
adds what depends on where the server runs — the SPARQL endpoint, the dump URLs, the root
resources — and the build's provenance from the release report.
"""

from __future__ import annotations

from functools import lru_cache
from typing import cast

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request, url_for

from kg_builder.layout import Release
from kg_builder.publish import PREFIXES
from server.dumps import published_dumps
from server.errors import HttpError
from server.resources import choose
from server.store import NoRelease, PublishedStore

bp = Blueprint("void", __name__)

VOID = "http://rdfs.org/ns/void#"
PROV = "http://www.w3.org/ns/prov#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}


def void_triples(release: Release, root: str) -> list[ox.Triple]:
    """The release's VoID, with the endpoint and dumps at ``root`` (``http://host/``)."""
    triples, main, dumps = _release_void(release)
    if main is None:
        return list(triples)
    here = [ox.Triple(main, _v("sparqlEndpoint"), ox.NamedNode(root + "sparql"))]
    here += [ox.Triple(main, _v("dataDump"), ox.NamedNode(f"{root}dumps/{name}")) for name in dumps]
    return [*triples, *here]


@lru_cache(maxsize=8)
def _release_void(
    release: Release,
) -> tuple[tuple[ox.Triple, ...], ox.NamedNode | ox.BlankNode | None, tuple[str, ...]]:
    """What a release says of itself, read once per release (releases never change): its VoID
    statistics with the build's provenance, its main dataset, and its dump files."""
    if not release.void.is_file():
        raise NoRelease("This release has no VoID description; rebuild it with kg-build.")
    triples = [q.triple for q in ox.parse(path=str(release.void), format=ox.RdfFormat.TURTLE)]
    datasets = [t.subject for t in triples if t.predicate == RDF_TYPE and t.object == _v("Dataset")]
    generated_by = {t.object for t in triples if t.predicate.value == PROV + "wasGeneratedBy"}
    subsets = {t.object for t in triples if t.predicate == _v("subset")}
    main = next((d for d in datasets if d not in subsets), None)
    if release.report_ttl.is_file():  # the build activity, as the report describes it
        report = ox.parse(path=str(release.report_ttl), format=ox.RdfFormat.TURTLE)
        triples += [q.triple for q in report if q.subject in generated_by]
    dumps: tuple[str, ...] = ()
    if release.dumps.is_dir():
        dumps = tuple(sorted(name for name, _, _ in published_dumps(release.dumps)))
    return tuple(triples), main, dumps


def _v(name: str) -> ox.NamedNode:
    return ox.NamedNode(VOID + name)


@bp.route("/.well-known/void")
def void() -> Response:
    store = cast(PublishedStore, current_app.extensions["osce_kg_store"])
    release = store.release()
    if release is None:
        raise NoRelease()
    media = choose({m: m for m in FORMATS}, request.headers.get("Accept"))
    if media is None:
        raise HttpError(
            406,
            f"The VoID description is available as {', '.join(FORMATS)}.",
            "Ask for one of these in the Accept header.",
            title="Not acceptable",
        )
    root = url_for("ui.index", _external=True)
    body = ox.serialize(
        void_triples(release, root),
        format=FORMATS[media],
        prefixes={**PREFIXES, "void": VOID} if FORMATS[media] is ox.RdfFormat.TURTLE else None,
    )
    response = Response(body, content_type=media)
    response.vary.add("Accept")
    return response
