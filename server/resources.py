"""Linked data: the ontology IRI returns its HTML documentation to browsers and its Turtle
to RDF clients (``Accept``, or a ``.html`` / ``.ttl`` suffix)."""

from __future__ import annotations

from typing import cast

from flask import Blueprint, Response, current_app, request, send_file

from kg_builder.layout import Release
from server.errors import HttpError
from server.protocol import parse_accept, quality
from server.store import NoRelease, PublishedStore

bp = Blueprint("resources", __name__)

ONTOLOGY_TYPES = {"html": "text/html", "ttl": "text/turtle"}


def choose_ontology_format(accept: str | None) -> str | None:
    """``html`` or ``ttl`` for an Accept header (HTML when nothing is said), None if neither."""
    if not accept:
        return "html"
    ranges = parse_accept(accept)
    scores = {ext: quality(ranges, media) for ext, media in ONTOLOGY_TYPES.items()}
    best = max(scores, key=lambda ext: (scores[ext], ext == "html"))
    return best if scores[best] > 0 else None


def _release() -> Release:
    store = cast(PublishedStore, current_app.extensions["osce_kg_store"])
    release = store.release()
    if release is None:
        raise NoRelease()
    return release


@bp.route("/ontology", defaults={"ext": None})
@bp.route("/ontology.<ext>")
def ontology(ext: str | None) -> Response:
    chosen = ext if ext is not None else choose_ontology_format(request.headers.get("Accept"))
    if chosen not in ONTOLOGY_TYPES:
        offers = ", ".join(ONTOLOGY_TYPES.values())
        raise HttpError(
            406,
            f"The ontology is available as {offers}.",
            "Ask for one of these in the Accept header, or add .html or .ttl.",
            title="Not acceptable",
        )
    release = _release()
    path = release.ontology_html if chosen == "html" else release.ontology_ttl
    if not path.is_file():
        raise NoRelease("This release has no ontology documentation; rebuild with kg-build.")
    response = send_file(path, mimetype=ONTOLOGY_TYPES[chosen], conditional=True)
    response.vary.add("Accept")
    return response
