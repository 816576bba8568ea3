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
from dataclasses import dataclass, field
from datetime import date

from rdflib import Literal, URIRef

from kg_builder import places
from kg_builder.gazetteer import UP, Gazetteer, bounded
from kg_builder.iris import Iris, slugify
from kg_builder.namespaces import OSCE, XSD
from kg_builder.parse import MONTHS, Document, Region

MONTH_NUMBER = {m: n for n, m in enumerate(MONTHS.split("|"), 1)}
GENERIC_FIRST_WORDS = {"Joint", "This", "The", "That", "Our", "A", "New", "Final", "Draft"}
AGREEMENT_HEADS = (
    "statement|Statement|Declaration|declaration|Protocol|protocol|Agreement|agreement|"
    "Document|Accords?|Charter|Final Act|Memorandum|Plan of Action"
)
MEETING_WORDS = "meetings|meeting|summits|summit|talks|rounds|round|conferences|conference"
COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
PLACE_TOKEN = rf"{UP}[\w'’-]+(?: {UP}[\w'’-]+)?"
TYPE_CLASS = {
    "Press release": OSCE.PressRelease,
    "Newsroom": OSCE.PressRelease,
    "News": OSCE.NewsItem,
    "News item": OSCE.NewsItem,
}


@dataclass(frozen=True)
class Mention:
    entity: URIRef
    kind: str
    start: int
    end: int
    exact: str


@dataclass(frozen=True)
class PlaceRef:
    iri: URIRef
    name: str
    state: URIRef | None
    city: places.City | None


@dataclass(frozen=True)
class PostRef:
    iri: URIRef
    label: str
    role: URIRef
    role_label: str
    broader_role: URIRef | None
    of: URIRef
    of_is_state: bool
    holder: URIRef
    holder_name: str  # as written in the document
    holder_known: bool  # the reference data already names this person


@dataclass(frozen=True)
class MeetingRef:
    iri: URIRef
    label: str
    place: URIRef | None
    when: Literal | None
    participants: tuple[URIRef, ...]
    meeting_type: URIRef | None


@dataclass(frozen=True)
class AgreementRef:
    iri: URIRef
    label: str
    when: Literal | None
    kind: URIRef  # osce:Agreement, osce:Decision, osce:Declaration or osce:Document


@dataclass
class Extraction:
    """Everything the builder needs to describe one document."""

    document: Document
    doc_class: URIRef
    doc_date: date | None
    issuer: URIRef | None
    place: PlaceRef | None
    fields_of_work: list[tuple[URIRef, str, bool]] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    places: dict[URIRef, PlaceRef] = field(default_factory=dict)
    posts: dict[URIRef, PostRef] = field(default_factory=dict)
    meetings: dict[URIRef, MeetingRef] = field(default_factory=dict)
    agreements: dict[URIRef, AgreementRef] = field(default_factory=dict)
    conflicts: set[URIRef] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)

    def entities(self, kind: str) -> set[URIRef]:
        return {m.entity for m in self.mentions if m.kind == kind}


class _Spans:
    """Character spans already claimed by a longer name."""

    def __init__(self) -> None:
        self._taken: list[tuple[int, int]] = []

    def free(self, start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in self._taken)

    def take(self, start: int, end: int) -> None:
        self._taken.append((start, end))


def extract(doc: Document, gaz: Gazetteer, iris: Iris) -> Extraction:
    out = Extraction(
        document=doc,
        doc_class=TYPE_CLASS.get(doc.type_label or "", OSCE.Statement),
        doc_date=doc.date,
        issuer=None,
        place=None,
    )
    spans = _Spans()
    _document_record(out, gaz, iris, spans)
    for region in doc.regions:
        _structures(out, region, gaz, spans)
        _agreements(out, region, iris, spans)
        _conflicts(out, region, gaz, spans)
        _persons(out, region, gaz, iris, spans)
    _surnames(out, spans)
    for region in doc.regions:
        _states(out, region, gaz, spans)
        _meetings(out, region, gaz, iris, spans)
    out.mentions.sort(key=lambda m: (m.start, m.end, m.kind))
    return out


def _mention(
    out: Extraction, spans: _Spans, entity: URIRef, kind: str, start: int, end: int
) -> None:
    spans.take(start, end)
    out.mentions.append(Mention(entity, kind, start, end, out.document.text[start:end]))


def _document_record(out: Extraction, gaz: Gazetteer, iris: Iris, spans: _Spans) -> None:
    doc, meta = out.document, out.document.metadata
    if meta.source:
        out.issuer = gaz.structure(meta.source)
        if out.issuer is None:
            out.warnings.append(f"issuer {meta.source!r} is not a known OSCE structure")
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
        out.place = _place(out, gaz, iris, city, country)
    dateline = doc.dateline
    if dateline is not None and dateline.country:
        state = gaz.state(dateline.country)
        offset = doc.text.find(dateline.country, dateline.start, dateline.end)
        if state is not None and offset >= 0:
            _mention(out, spans, state, "state", offset, offset + len(dateline.country))
    if dateline is not None and out.place is not None:
        _mention(
            out, spans, out.place.iri, "place", dateline.start, dateline.start + len(dateline.city)
        )


def _place(out: Extraction, gaz: Gazetteer, iris: Iris, name: str, country: str | None) -> PlaceRef:
    state = gaz.state(country) if country else None
    code = gaz.iso2.get(state) if state is not None else None
    city = places.resolve(name, code)
    if city is not None:
        state = state or gaz.state_by_iso2.get(city.country_code)
        label, code = city.name, city.country_code
    else:
        label = name.title() if name.isupper() else name
    ref = PlaceRef(iris.place(label, code), label, state, city)
    out.places[ref.iri] = ref
    return ref


def _structures(out: Extraction, region: Region, gaz: Gazetteer, spans: _Spans) -> None:
    for match in gaz.structure_re.finditer(region.text):
        label = match.group(0)
        rest = region.text[match.end() : match.end() + 12]
        if (
            label == "Secretary General"
            and rest.startswith(" of ")
            and not rest.startswith(" of the OSCE")
        ):
            continue  # the Secretary General of another organisation
        start = region.start + match.start()
        if spans.free(start, start + len(label)):
            _mention(out, spans, gaz.structures[label], "structure", start, start + len(label))


_AGREEMENT = re.compile(
    rf"(?P<name>{UP}[\w-]+ (?:{AGREEMENT_HEADS}))"
    rf"(?: of (?P<month>{MONTHS})? ?(?P<year>(?:19|20)\d{{2}})| (?P<year2>(?:19|20)\d{{2}}))?"
)
_CEASEFIRE = re.compile(r"(?P<name>ceasefire)(?: agreement)? of (?P<year>(?:19|20)\d{2})")
_DECISION = re.compile(
    r"(?P<name>(?:Permanent Council|Ministerial Council|FSC|Forum for Security Co-operation) "
    r"Decision No\. ?\d+(?:/\d+)?)"
)


def _agreements(out: Extraction, region: Region, iris: Iris, spans: _Spans) -> None:
    for pattern in (_DECISION, _AGREEMENT, _CEASEFIRE):
        for match in pattern.finditer(region.text):
            name = match["name"]
            if name.split()[0] in GENERIC_FIRST_WORDS:
                continue
            groups = match.groupdict()
            year = groups.get("year") or groups.get("year2")
            month = groups.get("month")
            when: Literal | None = None
            if year and month:
                when = Literal(f"{year}-{MONTH_NUMBER[month]:02d}", datatype=XSD.gYearMonth)
            elif year:
                when = Literal(year, datatype=XSD.gYear)
            label = name[0].upper() + name[1:]
            if name == "ceasefire" and year:
                label = f"Ceasefire of {year}"
            key = f"{name} {when}" if when is not None and name != "ceasefire" else label
            ref = AgreementRef(iris.agreement(key), label, when, _document_kind(name))
            start = region.start + match.start()
            end = region.start + match.end()
            if spans.free(start, end):
                out.agreements[ref.iri] = ref
                _mention(out, spans, ref.iri, "agreement", start, end)


def _document_kind(name: str) -> URIRef:
    head = name.split()[-1].casefold()
    if "decision" in name.casefold():
        return OSCE.Decision
    if head in {"statement", "declaration"}:
        return OSCE.Declaration
    if head in {"protocol", "agreement", "accord", "accords", "ceasefire"}:
        return OSCE.Agreement
    return OSCE.Document


def _conflicts(out: Extraction, region: Region, gaz: Gazetteer, spans: _Spans) -> None:
    for match in gaz.conflict_re.finditer(region.text):
        start, end = region.start + match.start(), region.start + match.end()
        if spans.free(start, end):
            conflict = gaz.conflicts[match.group(0)]
            out.conflicts.add(conflict)
            _mention(out, spans, conflict, "conflict", start, end)


def _persons(out: Extraction, region: Region, gaz: Gazetteer, iris: Iris, spans: _Spans) -> None:
    """Persons named with their post: "Foreign Minister of the Russian Federation Sergey
    Lavrov", "Austrian Foreign Minister Karin Kneissl", "Thomas Greminger, the Secretary
    General of the OSCE"."""
    for pattern in gaz.person_res:
        for match in pattern.finditer(region.text):
            name_start = region.start + match.start("name")
            name_end = region.start + match.end("name")
            if not spans.free(name_start, name_end):
                continue
            of_label = match["of"]
            state = gaz.state(of_label)
            of_iri = state if state is not None else gaz.structure(of_label)
            if of_iri is None:
                continue
            base_role = gaz.roles[match["role"]]
            role_label = gaz.label(base_role) + match["compl"]
            role, broader = (
                (iris.role(role_label), base_role) if match["compl"] else (base_role, None)
            )
            person = iris.person(match["name"])
            of_slug = str(of_iri).rstrip("/").rsplit("/", 1)[-1]
            post = PostRef(
                iri=iris.post(of_slug, role_label),
                label=f"{role_label} of {_with_article(gaz.label(of_iri))}",
                role=role,
                role_label=role_label,
                broader_role=broader,
                of=of_iri,
                of_is_state=state is not None,
                holder=person,
                holder_name=match["name"],
                holder_known=person in gaz.labels,
            )
            out.posts[post.iri] = post
            _mention(out, spans, person, "person", name_start, name_end)
            of_start = region.start + match.start("of")
            if spans.free(of_start, of_start + len(of_label)):
                _mention(
                    out,
                    spans,
                    of_iri,
                    "state" if state is not None else "structure",
                    of_start,
                    of_start + len(of_label),
                )


_TAKES_ARTICLE = re.compile(r"Federation|United|Republic|Holy See|Netherlands|Council|Group|Office")


def _with_article(name: str) -> str:
    """ "the Russian Federation", "the Minsk Group", but "France"."""
    return f"the {name}" if _TAKES_ARTICLE.search(name) and not name.startswith("the ") else name


def _surnames(out: Extraction, spans: _Spans) -> None:
    """Later surname-only mentions ("Desir said") belong to the person named in full."""
    surnames = {post.holder_name.split()[-1]: post.holder for post in out.posts.values()}
    for region in out.document.regions:
        for surname, person in surnames.items():
            for match in bounded(re.escape(surname)).finditer(region.text):
                start, end = region.start + match.start(), region.start + match.end()
                if spans.free(start, end):
                    _mention(out, spans, person, "person", start, end)


_NOT_A_STATE = re.compile(
    r"(?:ethnic|speak|speaks|speaking|spoken in) (?P<list>{adj}(?:(?:, | and | or ){adj})*)"
    r"|(?P<usstate>state of Georgia)"
)


def _states(out: Extraction, region: Region, gaz: Gazetteer, spans: _Spans) -> None:
    excluded = re.compile(_NOT_A_STATE.pattern.replace("{adj}", f"(?:{gaz.state_adjective_re})"))
    for match in excluded.finditer(region.text):
        spans.take(region.start + match.start(), region.start + match.end())
    for match in gaz.state_re.finditer(region.text):
        start, end = region.start + match.start(), region.start + match.end()
        if spans.free(start, end):
            state = gaz.state(match.group(0))
            if state is not None:
                _mention(out, spans, state, "state", start, end)


_MEETING = re.compile(
    rf"(?:(?P<count>{'|'.join(COUNT_WORDS)}|\d) )?(?P<kw>{MEETING_WORDS})"
    rf"(?P<between> (?:between|of|with) [^.;]*?)?(?: in (?P<year>(?:19|20)\d{{2}}))? (?:at|in) "
    rf"(?P<places>{PLACE_TOKEN}(?:(?:, and |, | and ){PLACE_TOKEN})*)"
)


def _meetings(out: Extraction, region: Region, gaz: Gazetteer, iris: Iris, spans: _Spans) -> None:
    for match in _MEETING.finditer(region.text):
        participants = tuple(
            dict.fromkeys(
                s
                for m in gaz.state_re.finditer(match["between"] or "")
                if (s := gaz.state(m.group(0))) is not None
            )
        )
        when = Literal(match["year"], datatype=XSD.gYear) if match["year"] else None
        offset = region.start + match.start("places")
        for token in re.finditer(rf"{PLACE_TOKEN}", match["places"]):
            name = token.group(0)
            if gaz.state(name) or gaz.structure(name) or not places.is_known(name):
                continue
            place = _place(out, gaz, iris, name, None)
            start = offset + token.start()
            if spans.free(start, start + len(name)):
                _mention(out, spans, place.iri, "place", start, start + len(name))
            _add_meeting(out, gaz, iris, place, when, participants)


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
