"""Linked data: every entity IRI under the base IRI dereferences. Browsers get an HTML page
(label, types, facts from and to the entity as links, asserted and inferred facts told apart,
the source documents and the sentences that mention it); RDF clients get Turtle, JSON-LD,
N-Triples or RDF/XML, chosen by ``Accept`` or by a ``.ttl`` / ``.jsonld`` / ``.nt`` / ``.rdf``
suffix. Unknown IRIs are 404. The ontology IRI returns its HTML documentation or its Turtle.

An entity ``<base>state/armenia`` is served at ``/state/armenia`` on this server, so the
graph can be browsed wherever it runs; the base IRI is the release's ``void:uriSpace``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request, send_file

from kg_builder.layout import Release
from kg_builder.publish import PREFIXES
from server import linked_data
from server.errors import HttpError
from server.protocol import parse_accept, quality
from server.remote import backend
from server.store import NoRelease, PublishedStore

bp = Blueprint("resources", __name__)

ONTOLOGY_TYPES = {"html": "text/html", "ttl": "text/turtle"}
# suffix -> (media type, pyoxigraph format); HTML first: it wins ties ("*/*", browsers)
ENTITY_FORMATS: dict[str, tuple[str, ox.RdfFormat | None]] = {
    "html": ("text/html", None),
    "ttl": ("text/turtle", ox.RdfFormat.TURTLE),
    "jsonld": ("application/ld+json", ox.RdfFormat.JSON_LD),
    "nt": ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    "rdf": ("application/rdf+xml", ox.RdfFormat.RDF_XML),
}
DEFAULT_BASE = "https://w3id.org/osce-kg/"


def choose(offers: dict[str, str], accept: str | None) -> str | None:
    """The key of the offer (key -> media type) that ``accept`` likes best; the first offer
    when nothing is said or on ties; None when it accepts none of them."""
    if not accept or not accept.strip():
        return next(iter(offers))
    ranges = parse_accept(accept)
    if not ranges:
        return next(iter(offers))
    best, best_q = None, 0.0
    for key, media in offers.items():
        q = quality(ranges, media)
        if q > best_q:
            best, best_q = key, q
    return best


def choose_ontology_format(accept: str | None) -> str | None:
    """``html`` or ``ttl`` for an Accept header (HTML when nothing is said), None if neither."""
    return choose(ONTOLOGY_TYPES, accept)


def _not_acceptable(offers: dict[str, str]) -> HttpError:
    return HttpError(
        406,
        f"This resource is available as {', '.join(offers.values())}.",
        f"Ask for one of these in the Accept header, or add a suffix: "
        f"{', '.join('.' + k for k in offers)}.",
        title="Not acceptable",
    )


def _published() -> PublishedStore:
    return cast(PublishedStore, current_app.extensions["osce_kg_store"])


def _release() -> Release:
    release = _published().release()
    if release is None:
        raise NoRelease()
    return release


@bp.route("/ontology", defaults={"ext": None})
@bp.route("/ontology.<ext>")
def ontology(ext: str | None) -> Response:
    chosen = ext if ext is not None else choose_ontology_format(request.headers.get("Accept"))
    if chosen not in ONTOLOGY_TYPES:
        raise _not_acceptable(ONTOLOGY_TYPES)
    release = _release()
    path = release.ontology_html if chosen == "html" else release.ontology_ttl
    if not path.is_file():
        raise NoRelease("This release has no ontology documentation; rebuild with kg-build.")
    response = send_file(path, mimetype=ONTOLOGY_TYPES[chosen], conditional=True)
    response.vary.add("Accept")
    return response


def base_iri(release: Release) -> str:
    """The release's base IRI: its VoID ``void:uriSpace``, else the project default."""
    cache = current_app.extensions.setdefault("osce_kg_base", {})
    if release.root not in cache:
        cache[release.root] = _uri_space(release.void) or DEFAULT_BASE
    return cast(str, cache[release.root])


def _uri_space(void: Path) -> str | None:
    if not void.is_file():
        return None
    for quad in ox.parse(path=str(void), format=ox.RdfFormat.TURTLE):
        if quad.predicate.value == "http://rdfs.org/ns/void#uriSpace":
            return cast(str, quad.object.value)
    return None


def _entity_source() -> tuple[str, Callable[[str], ox.Store]]:
    """The base IRI, and where the facts about an entity IRI come from: the release's store,
    or (``kg-serve --endpoint``) a copy of what the external store says around the entity."""
    external = backend()
    if external is not None:
        release = _published().release()
        return (base_iri(release) if release else DEFAULT_BASE), external.around
    release = _release()
    store = _published().get()
    return base_iri(release), lambda _iri: store


@bp.route("/<path:path>", methods=["GET", "HEAD"])
def entity(path: str) -> Response:
    """Any other path names an entity: ``/state/armenia`` is ``<base>state/armenia``."""
    base, store_for = _entity_source()
    iri, suffix = base + path, None
    stem, dot, ext = path.rpartition(".")
    if dot and ext in ENTITY_FORMATS and not linked_data.exists(store_for(iri), iri):
        iri, suffix = base + stem, ext
    store = store_for(iri)
    if not linked_data.exists(store, iri):
        raise HttpError(
            404,
            f"Nothing in the graph is named <{iri}>.",
            "Find entity IRIs with a query, e.g. SELECT ?s WHERE { ?s a ?type } LIMIT 10",
            title="Not found",
        )
    offers = {k: media for k, (media, _fmt) in ENTITY_FORMATS.items()}
    chosen = suffix or choose(offers, request.headers.get("Accept"))
    if chosen is None:
        raise _not_acceptable(offers)
    media, rdf_format = ENTITY_FORMATS[chosen]
    if rdf_format is None:
        page = render_template(
            "resource.html",
            d=linked_data.describe(store, iri),
            base=base,
            inferred=base + "graph/inferred",
            suffixes=[k for k in ENTITY_FORMATS if k != "html"],
            path=path if suffix is None else stem,
            curie=linked_data.curie,
        )
        response = Response(page, content_type="text/html; charset=utf-8")
    else:
        prefixes = {**PREFIXES, "kg": base} if rdf_format is ox.RdfFormat.TURTLE else None
        body = ox.serialize(linked_data.triples(store, iri), format=rdf_format, prefixes=prefixes)
        response = Response(body, content_type=media)
    if suffix is None:
        response.vary.add("Accept")
    response.headers["Link"] = f'<{iri}>; rel="canonical"'
    return response
