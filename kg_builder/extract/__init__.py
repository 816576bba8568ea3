"""Extract stage: what a document says — States, OSCE structures, persons and their posts,
places, conflicts, meetings and agreements — each with the text span it came from.

Only the title, photo caption and body are searched (``Document.regions``); the menu and the
metadata block supply the document's issuer, place and fields of work, never mentions.
Rules run in an order that lets longer names hide the names inside them: structures and
agreements first ("Mission to Moldova" is not a mention of Moldova), then conflicts, persons
with posts, States, places and meetings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from rdflib import URIRef

from kg_builder.extract import agreements as agreement_rules
from kg_builder.extract import locations as place_rules
from kg_builder.extract import meetings as meeting_rules
from kg_builder.extract import persons as person_rules
from kg_builder.extract.model import (
    NOT_NAMES,
    AgreementRef,
    Extraction,
    MeetingRef,
    Mention,
    PlaceRef,
    PostRef,
    Spans,
    add_mention,
    place_ref,
)
from kg_builder.gazetteer import NOT_STATE_HINTS, UP, Gazetteer
from kg_builder.iris import Iris, slugify
from kg_builder.namespaces import OSCE
from kg_builder.parse import Document, Region

__all__ = [
    "AgreementRef",
    "Extraction",
    "MeetingRef",
    "Mention",
    "PlaceRef",
    "PostRef",
    "Spans",
    "extract",
]
TITLE_OPENINGS = (
    ("press communiqué", OSCE.PressCommunique),
    ("press communique", OSCE.PressCommunique),
    ("joint statement", OSCE.JointStatement),
    ("statement", OSCE.Statement),
)
TYPE_CLASS = {
    "Press release": OSCE.PressRelease,
    "Newsroom": OSCE.PressRelease,
    "News": OSCE.NewsItem,
    "News item": OSCE.NewsItem,
    "Statement": OSCE.Statement,
}


def extract(doc: Document, gaz: Gazetteer, iris: Iris) -> Extraction:
    out = Extraction(
        document=doc,
        doc_class=_document_class(doc),
        doc_date=doc.date,
        issuer=None,
        place=None,
    )
    spans = Spans()
    context = None
    with _rule(out, "document record"):
        # the State the document is about, if its title says
        context = person_rules.context_state(out, gaz)
        _document_record(out, gaz, iris, spans)
    for region in doc.regions:
        with _rule(out, "structures"):
            _structures(out, region, gaz, spans)
        with _rule(out, "organizations"):
            _organizations(out, region, gaz, iris, spans)
        with _rule(out, "agreements"):
            agreement_rules.agreements(out, region, iris, spans)
        with _rule(out, "conflicts"):
            _conflicts(out, region, gaz, spans)
        with _rule(out, "persons"):
            person_rules.persons(out, region, gaz, iris, spans, context)
    with _rule(out, "conflicts"):
        _conflicts_of_structures(out, gaz)
    with _rule(out, "surnames"):
        person_rules.surnames(out, spans)
    if out.issuer is None:
        with _rule(out, "issuer"):
            out.issuer = _inferred_issuer(out, gaz)
    for region in doc.regions:
        with _rule(out, "states"):
            _states(out, region, gaz, spans)
        with _rule(out, "places"):
            place_rules.locations(out, region, gaz, iris, spans)
    with _rule(out, "meetings"):
        meeting_rules.meeting_of_the_day(out, gaz, iris)
    out.mentions.sort(key=lambda m: (m.start, m.end, m.kind))
    return out


@contextmanager
def _rule(out: Extraction, name: str) -> Iterator[None]:
    """Run one extraction rule; if it fails on this document, report it and keep what the
    other rules found (a page the rules cannot read must not stop the build)."""
    try:
        yield
    except Exception as exc:  # any bug or surprise in a rule, on any input
        failure = (
            f"extraction rule {name!r} failed on {out.document.path} "
            f"({type(exc).__name__}: {exc}); what it would have found is missing"
        )
        out.failures.append(failure)
        out.warnings.append(failure)


def _document_record(out: Extraction, gaz: Gazetteer, iris: Iris, spans: Spans) -> None:
    doc, meta = out.document, out.document.metadata
    if meta.source:
        _set_issuer(out, gaz, iris, meta.source)
    elif doc.title and (match := _TITLE_ISSUER.match(doc.title)):
        _set_issuer(out, gaz, iris, match["issuer"])
    for name in meta.fields_of_work:
        concept = gaz.fields_of_work.get(name.casefold())
        known = concept is not None
        if concept is None:
            concept = iris.concept("fields-of-work", name)
            out.warnings.append(f"field of work {name!r} is not in the site's scheme")
        out.fields_of_work.append((concept, name, known))
    city, country = meta.place_city, meta.place_country
    if city is None and doc.dateline is not None:
        city, country = doc.dateline.city, doc.dateline.country
    if city is not None:
        out.place = place_ref(out, gaz, iris, city, country)
    dateline = doc.dateline
    if dateline is not None and dateline.country:
        state = gaz.state(dateline.country)
        offset = doc.text.find(dateline.country, dateline.start, dateline.end)
        if state is not None and offset >= 0:
            add_mention(out, spans, state, "state", offset, offset + len(dateline.country))
    if dateline is not None and out.place is not None:
        add_mention(
            out, spans, out.place.iri, "place", dateline.start, dateline.start + len(dateline.city)
        )


def _document_class(doc: Document) -> URIRef:
    """From the page's type label; without one, from how the title opens; else a press release."""
    if doc.type_label in TYPE_CLASS:
        return TYPE_CLASS[doc.type_label]
    title = (doc.title or "").casefold()
    for opening, kind in TITLE_OPENINGS:
        if title.startswith(opening):
            return kind
    return OSCE.PressRelease


def _in_year(gaz: Gazetteer, structure: URIRef, doc: Document) -> URIRef:
    """ "the Chairpersonship" in a dated document is that year's Chairpersonship."""
    if structure != gaz.chairpersonship or doc.date is None:
        return structure
    return gaz.chairpersonship_of_year.get(doc.date.year, structure)


# "Press communiqué of the Co-Chairs of …", "Statement by the OSCE Chairperson-in-Office on …"
_TITLE_ISSUER = re.compile(
    r"(?:Joint )?(?:[Pp]ress (?:communiqu[ée]|release|statement)|[Ss]tatement|[Dd]eclaration"
    r"|[Cc]ommuniqu[ée])s? (?:of|by|from) (?:the )?(?P<issuer>[A-Z0-9].+?)"
    r"(?= on | at | in | following | after | about | regarding |[:,;(]|$)"
)


def _set_issuer(out: Extraction, gaz: Gazetteer, iris: Iris, name: str) -> None:
    """The issuer a page names (its metadata Source, or its title's "Statement by …"): a known
    structure or body; else the structure its name contains ("the Co-Chairs of the OSCE Minsk
    Group"); else a body minted from the name, with a warning."""
    name = name.strip()
    known = gaz.structure(name) or gaz.bodies.get(name) or gaz.organizations.get(name)
    if known is None and (inner := gaz.structure_re.search(name)):
        known = gaz.structures[inner.group(0)]
    if known is not None:
        out.issuer = _in_year(gaz, known, out.document)
        return
    out.issuer, out.issuer_label = iris.relative(f"body/{slugify(name)}"), name
    out.warnings.append(f"issuer {name!r} is not in the reference data; recorded as a new body")


def _inferred_issuer(out: Extraction, gaz: Gazetteer) -> URIRef | None:
    """Without a Source in the metadata or the title: the first OSCE structure the title
    names; else the organiser of a meeting series the title names ("the 25th Economic and
    Environmental Forum" → its Co-ordinator's Office); else the first structure the body's
    first paragraph names."""
    title = next((r for r in out.document.regions if r.kind == "title"), None)
    body = next((r for r in out.document.regions if r.kind == "body"), None)
    lead = Region("lead", body.start, body.text.split("\n", 1)[0]) if body else None
    first = _first_structure(out, title)
    if first is not None:
        return first
    if title is not None:
        for match in gaz.series_re.finditer(title.text):
            organizer = gaz.organizer.get(gaz.meeting_series[match.group(0)])
            if organizer is not None:
                return _in_year(gaz, organizer, out.document)
    return _first_structure(out, lead)


def _first_structure(out: Extraction, region: Region | None) -> URIRef | None:
    if region is None:
        return None
    found = [
        m for m in out.mentions if m.kind == "structure" and region.start <= m.start < region.end
    ]
    return min(found, key=lambda m: m.start).entity if found else None


# After a structure's name: "of" and a State or another organisation ("the Parliamentary
# Assembly of Bosnia and Herzegovina" is a national parliament, not the OSCE's).
_OF_OTHER = re.compile(r" of (?:the )?")
# After a Representative's name: a topic of its own ("Personal Representative of the OSCE
# Chairperson-in-Office on Combating Anti-Semitism" is not the PRCiO on Nagorno-Karabakh).
_OWN_TOPIC = re.compile(rf" (?:on|for) (?:the )?{UP}")


def _structures(out: Extraction, region: Region, gaz: Gazetteer, spans: Spans) -> None:
    text = region.text
    for match in gaz.structure_re.finditer(text):
        label = match.group(0)
        rest = text[match.end() : match.end() + 12]
        if (
            label == "Secretary General"
            and rest.startswith(" of ")
            and not rest.startswith(" of the OSCE")
        ):
            continue  # the Secretary General of another organisation
        if rest.startswith(" of ") and "OSCE" not in label and "CSCE" not in label:
            at = _OF_OTHER.match(text, match.end())
            state = gaz.state_re.match(text, at.end()) if at else None
            if at and (
                (state is not None and state.group(0) in gaz.states)
                or gaz.organization_re.match(text, at.end())
            ):
                continue  # a body of a State or of another organisation
        if label.startswith(("Personal Representative", "Special Representative")) and (
            _OWN_TOPIC.match(text, match.end())
        ):
            continue  # another Representative, on a topic of its own
        start = region.start + match.start()
        if spans.free(start, start + len(label)):
            structure = _in_year(gaz, gaz.structures[label], out.document)
            add_mention(out, spans, structure, "structure", start, start + len(label))


# "the news website Aktuality.sk", "the daily Kommersant": a media outlet by its kind.
_MEDIA_OUTLET = re.compile(
    r"(?<!\w)(?:(?:news|online|independent|local|national|state|private) )?"
    r"(?:website|web portal|portal|outlet|news agency|newspaper|magazine"
    r"|broadcaster|TV channel|television channel|radio station|TV station) "
    rf"(?P<name>{UP}[\w&'’-]*(?: {UP}[\w&'’-]*){{0,3}}(?:\.[a-z]{{2,3}}\b)?)"
)


# International courts and parliaments, named by their head word ("the European Court of
# Human Rights", "the International Criminal Court", "the European Parliament").
_INTERNATIONAL_BODY = re.compile(
    rf"(?<![\w-])(?:European|International|Inter-American|African)(?: {UP}[\w-]*)?"
    rf" (?:Court|Parliament|Tribunal)(?![\w-])"
    rf"(?: (?:of|on|for) (?:the )?{UP}[\w-]*(?: (?:and |of |the )*{UP}[\w-]*){{0,3}})?"
)


def _new_organization(
    out: Extraction, iris: Iris, spans: Spans, gaz: Gazetteer, name: str, start: int, end: int
) -> None:
    organization = gaz.organizations.get(name) or iris.relative(f"org/{slugify(name)}")
    if organization not in gaz.labels:
        out.new_organizations[organization] = name
    add_mention(out, spans, organization, "organization", start, end)


def _organizations(
    out: Extraction, region: Region, gaz: Gazetteer, iris: Iris, spans: Spans
) -> None:
    # a body of another organisation is an organisation of its own: "the Parliamentary
    # Assembly of the Council of Europe" (not a mention of the Council of Europe)
    text = region.text
    for match in gaz.organization_body_re.finditer(text):
        if text[match.start() - 1 : match.start()].isalnum() or (
            text[match.start() - 1 : match.start()] == "-"
        ):
            continue  # inside a word
        left = gaz.organization_body_left.search(text, max(0, match.start() - 80), match.start())
        at = left.start() if left is not None else match.start()
        name = text[at : match.end()]
        start, end = region.start + at, region.start + match.end()
        if spans.free(start, end) and name.split(" ", 1)[0] not in NOT_NAMES:
            _new_organization(out, iris, spans, gaz, name, start, end)
    for match in (
        _INTERNATIONAL_BODY.finditer(region.text)
        if "ourt" in region.text or ("arliament" in region.text)
        else ()
    ):
        start, end = region.start + match.start(), region.start + match.end()
        if spans.free(start, end):
            _new_organization(out, iris, spans, gaz, match.group(0), start, end)
    for match in gaz.organization_re.finditer(region.text):
        start, end = region.start + match.start(), region.start + match.end()
        if spans.free(start, end):
            add_mention(out, spans, gaz.organizations[match.group(0)], "organization", start, end)
    for match in _MEDIA_OUTLET.finditer(region.text):
        name = match["name"]
        start, end = region.start + match.start("name"), region.start + match.end("name")
        if not spans.free(start, end) or name.split()[0] in NOT_NAMES:
            continue
        outlet = gaz.organizations.get(name) or iris.relative(f"org/{slugify(name)}")
        if outlet not in gaz.labels:
            out.new_organizations[outlet] = name
        add_mention(out, spans, outlet, "organization", start, end)


def _conflicts(out: Extraction, region: Region, gaz: Gazetteer, spans: Spans) -> None:
    for match in gaz.conflict_re.finditer(region.text):
        start, end = region.start + match.start(), region.start + match.end()
        if spans.free(start, end):  # not claimed: "Russia's war" also mentions Russia
            conflict = gaz.conflicts[match.group(0)]
            out.conflicts.add(conflict)
            out.mentions.append(Mention(conflict, "conflict", start, end, match.group(0)))


def _conflicts_of_structures(out: Extraction, gaz: Gazetteer) -> None:
    """A page that names a structure which exists for one conflict (the Special Monitoring
    Mission, the Minsk Group) concerns that conflict. The structure's mention is the evidence;
    no second annotation is made on the same words (one annotation names one entity)."""
    for mention in [m for m in out.mentions if m.kind == "structure"]:
        conflict = gaz.mandated_for.get(mention.entity)
        if conflict is not None:
            out.conflicts.add(conflict)


def _not_states(region: Region, gaz: Gazetteer, spans: Spans) -> None:
    """State names that are no mention of the State: a language ("Albanian-language
    classes"), a name of its own ("the Croatian Democratic Union", "the Jewish Museum of
    Belgium"). Found from the head word, then read leftwards."""
    text, base = region.text, region.start
    for head in gaz.not_state_head_re.finditer(text):
        lo = max(0, head.start() - 80)
        if head["lang"]:
            left = gaz.not_state_lang_left.search(text, lo, head.start())
            if left is not None:
                spans.take(base + left.start(), base + head.end())
            continue
        if text[head.start() - 1 : head.start()] != " ":
            continue
        left = gaz.not_state_adj_left.search(text, lo, head.start())
        if left is not None:
            spans.take(base + left.start(), base + head.end())
        of = gaz.not_state_of.match(text, head.end())
        if of is not None:
            left = gaz.not_state_cap_left.search(text, lo, head.start())
            if left is not None:
                spans.take(base + left.start(), base + of.end())


def _states(out: Extraction, region: Region, gaz: Gazetteer, spans: Spans) -> None:
    for match in gaz.not_state_re.finditer(region.text):
        spans.take(region.start + match.start(), region.start + match.end())
    if any(hint in region.text for hint in NOT_STATE_HINTS):
        _not_states(region, gaz, spans)
    for match in gaz.state_re.finditer(region.text):
        start, end = region.start + match.start(), region.start + match.end()
        if spans.free(start, end):
            state = gaz.state(match.group(0))
            if state is not None:
                add_mention(out, spans, state, "state", start, end)
