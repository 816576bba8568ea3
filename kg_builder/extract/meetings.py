"""Meetings: negotiation rounds, summits, conferences, visits, briefings — with their type,
place, date or interval and participants."""

from __future__ import annotations

import re

from rdflib import Literal, URIRef

from kg_builder import places
from kg_builder.dates import partial_date
from kg_builder.extract.model import (
    PLACE_TOKEN,
    Extraction,
    MeetingRef,
    PlaceRef,
    Spans,
    add_mention,
    place_ref,
    plausible_place,
)
from kg_builder.gazetteer import Gazetteer
from kg_builder.iris import Iris, slugify
from kg_builder.parse import Region

MEETING_WORDS = "meetings|meeting|summits|summit|talks|rounds|round|conferences|conference"
COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}

_MEETING = re.compile(
    rf"(?:(?P<count>{'|'.join(COUNT_WORDS)}|\d) )?(?P<kw>{MEETING_WORDS})"
    rf"(?P<between> (?:between|of|with) [^.;]{{0,200}}?)?"
    rf"(?: in (?P<year>(?:19|20)\d{{2}}))? (?:at|in) "
    rf"(?P<places>{PLACE_TOKEN}(?:(?:, and |, | and ){PLACE_TOKEN})*)"
)


def meetings(out: Extraction, region: Region, gaz: Gazetteer, iris: Iris, spans: Spans) -> None:
    for match in _MEETING.finditer(region.text):
        participants = tuple(
            dict.fromkeys(
                s
                for m in gaz.state_re.finditer(match["between"] or "")
                if (s := gaz.state(m.group(0))) is not None
            )
        )
        when = partial_date(match["year"]) if match["year"] else None
        offset = region.start + match.start("places")
        for token in re.finditer(rf"{PLACE_TOKEN}", match["places"]):
            name = token.group(0)
            if not plausible_place(name, gaz) or not places.is_known(name):
                continue
            place = place_ref(out, gaz, iris, name, None)
            start = offset + token.start()
            if spans.free(start, start + len(name)):
                add_mention(out, spans, place.iri, "place", start, start + len(name))
            _add_meeting(out, gaz, iris, place, when, participants)


_TODAY_MEETING = re.compile(
    r"\b(?:meeting|talks|round|conference|forum|session|briefing|consultations|summit)\b"
    r"[^.]*\btoday\b|\btoday\b[^.]*\b(?:meeting|talks|round|conference|forum|session|briefing)\b",
    re.IGNORECASE,
)


def meeting_of_the_day(out: Extraction, gaz: Gazetteer, iris: Iris) -> None:
    """A lead sentence that reports a meeting "today" dates it to the document's date and
    places it at the dateline ("GENEVA, 13 December 2017 - The 42nd round … ended today")."""
    doc = out.document
    body = next((r for r in doc.regions if r.kind == "body"), None)
    if body is None or doc.dateline is None or out.place is None or doc.date is None:
        return
    lead = body.text[doc.dateline.end - body.start :].split(". ", 1)[0]
    if not _TODAY_MEETING.search(lead):
        return
    when = partial_date(doc.date.isoformat())
    if any(m.place == out.place.iri and m.when == when for m in out.meetings.values()):
        return
    key = f"{doc.date.isoformat()}-{out.place.name}"
    label = f"Meeting in {out.place.name}, {doc.date.isoformat()}"
    meeting = MeetingRef(iris.meeting(key), label, out.place.iri, when, (), None)
    out.meetings[meeting.iri] = meeting


def _add_meeting(
    out: Extraction,
    gaz: Gazetteer,
    iris: Iris,
    place: PlaceRef,
    when: Literal | None,
    participants: tuple[URIRef, ...],
) -> None:
    same_place = [m for m in out.meetings.values() if m.place == place.iri]
    if same_place and (when is None or same_place[0].when is None):
        return  # "the last summit in Paris" is the Paris meeting already recorded
    who = " and ".join(gaz.label(p) for p in participants)
    year = str(when) if when is not None else out.document.doc_id
    key = "-".join([year, place.name, *(slugify(gaz.label(p)) for p in participants)])
    label = (
        f"Meeting{' of ' + who if who else ''} in {place.name}{', ' + str(when) if when else ''}"
    )
    meeting = MeetingRef(iris.meeting(key), label, place.iri, when, participants, None)
    out.meetings[meeting.iri] = meeting
