"""Places named in the text: cities, towns, regions and venues, linked to GeoNames."""

from __future__ import annotations

import re

from kg_builder import places
from kg_builder.extract.model import (
    PLACE_TOKEN,
    Extraction,
    Spans,
    add_mention,
    place_ref,
    plausible_place,
)
from kg_builder.gazetteer import Gazetteer
from kg_builder.iris import Iris
from kg_builder.parse import Region

_PLACE_LIST = re.compile(
    rf"(?<!\w)(?:in|at|near|from|outside|to|visited|of)\s+(?P<places>{PLACE_TOKEN}"
    rf"(?:(?:, and |, | and ){PLACE_TOKEN})*)"
)


def locations(out: Extraction, region: Region, gaz: Gazetteer, iris: Iris, spans: Spans) -> None:
    """Cities named after a preposition ("in Osh", "from Tbilisi, Moscow and Washington"),
    when the gazetteer knows them without ambiguity; never a State, structure or person."""
    for match in _PLACE_LIST.finditer(region.text):
        offset = region.start + match.start("places")
        for token in re.finditer(PLACE_TOKEN, match["places"]):
            name = token.group(0)
            start, end = offset + token.start(), offset + token.end()
            if not spans.free(start, end) or not plausible_place(name, gaz):
                continue
            city = places.resolve(name)
            if city is None:
                continue
            place = place_ref(out, gaz, iris, name, None)
            add_mention(out, spans, place.iri, "place", start, end)
