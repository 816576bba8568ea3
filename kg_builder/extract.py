"""Extract stage: what a document says — States, OSCE structures, persons and their posts,
places, conflicts, meetings and agreements — each with the text span it came from.

Only the title, photo caption and body are searched (``Document.regions``); the menu and the
metadata block supply the document's issuer, place and fields of work, never mentions.
Rules run in an order that lets longer names hide the names inside them: structures and
agreements first ("Mission to Moldova" is not a mention of Moldova), then conflicts, persons
with posts, States, places and meetings.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from datetime import date

from rdflib import Literal, URIRef

from kg_builder import places
from kg_builder.dates import partial_date
from kg_builder.gazetteer import UP, Gazetteer, bounded
from kg_builder.iris import Iris, slugify
from kg_builder.namespaces import OSCE
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
    posts: dict[tuple[URIRef, URIRef], PostRef] = field(default_factory=dict)  # (post, holder)
    meetings: dict[URIRef, MeetingRef] = field(default_factory=dict)
    agreements: dict[URIRef, AgreementRef] = field(default_factory=dict)
    conflicts: set[URIRef] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    person_at: dict[tuple[int, int], URIRef] = field(default_factory=dict)  # known persons

    def entities(self, kind: str) -> set[URIRef]:
        return {m.entity for m in self.mentions if m.kind == kind}


class _Spans:
    """Character spans already claimed by a longer name, kept sorted and disjoint so that a
    look-up costs O(log n) (a page dense with names must not take quadratic time)."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def free(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self._starts, start)
        if i > 0 and self._ends[i - 1] > start:
            return False
        return not (i < len(self._starts) and self._starts[i] < end)

    def take(self, start: int, end: int) -> None:
        i = bisect.bisect_right(self._starts, start)
        # merge with the neighbours it overlaps, keeping the lists disjoint
        while i > 0 and self._ends[i - 1] >= start:
            i -= 1
            start, end = min(start, self._starts[i]), max(end, self._ends[i])
            del self._starts[i], self._ends[i]
        while i < len(self._starts) and self._starts[i] <= end:
            end = max(end, self._ends[i])
            del self._starts[i], self._ends[i]
        self._starts.insert(i, start)
        self._ends.insert(i, end)


def extract(doc: Document, gaz: Gazetteer, iris: Iris) -> Extraction:
    out = Extraction(
        document=doc,
        doc_class=_document_class(doc),
        doc_date=doc.date,
        issuer=None,
        place=None,
    )
    spans = _Spans()
    context = _context_state(out, gaz)  # the State the document is about, if its title says
    _document_record(out, gaz, iris, spans)
    for region in doc.regions:
        _structures(out, region, gaz, spans)
        _organizations(out, region, gaz, spans)
        _agreements(out, region, iris, spans)
        _conflicts(out, region, gaz, spans)
        _persons(out, region, gaz, iris, spans, context)
    _surnames(out, spans)
    if out.issuer is None:
        out.issuer = _inferred_issuer(out)
    for region in doc.regions:
        _states(out, region, gaz, spans)
        _meetings(out, region, gaz, iris, spans)
        _places(out, region, gaz, iris, spans)
    _meeting_of_the_day(out, gaz, iris)
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
        issuer = gaz.structure(meta.source)
        out.issuer = _in_year(gaz, issuer, doc) if issuer is not None else None
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


def _inferred_issuer(out: Extraction) -> URIRef | None:
    """Without a Source in the metadata: the first OSCE structure the title names, else the
    first one the body's first paragraph names."""
    regions = [r for r in out.document.regions if r.kind == "title"]
    body = next((r for r in out.document.regions if r.kind == "body"), None)
    if body is not None:
        regions.append(Region("lead", body.start, body.text.split("\n", 1)[0]))
    for region in regions:
        found = [
            m
            for m in out.mentions
            if m.kind == "structure" and region.start <= m.start < region.end
        ]
        if found:
            return min(found, key=lambda m: m.start).entity
    return None


def _place(out: Extraction, gaz: Gazetteer, iris: Iris, name: str, country: str | None) -> PlaceRef:
    state = gaz.state(country) if country else None
    code = gaz.iso2.get(state) if state is not None else None
    city = places.resolve(name, code)
    label = name.title() if name.isupper() else name  # as written; "BASEL" → "Basel"
    if city is not None:
        state = state or gaz.state_by_iso2.get(city.country_code)
        code = city.country_code
    ref = PlaceRef(iris.place(city.name if city else label, code), label, state, city)
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
            structure = _in_year(gaz, gaz.structures[label], out.document)
            _mention(out, spans, structure, "structure", start, start + len(label))


def _organizations(out: Extraction, region: Region, gaz: Gazetteer, spans: _Spans) -> None:
    for match in gaz.organization_re.finditer(region.text):
        start, end = region.start + match.start(), region.start + match.end()
        if spans.free(start, end):
            _mention(out, spans, gaz.organizations[match.group(0)], "organization", start, end)


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
            when = None
            if year:
                when = partial_date(f"{year}-{MONTH_NUMBER[month]:02d}" if month else year)
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
        if spans.free(start, end):  # not claimed: "Russia's war" also mentions Russia
            conflict = gaz.conflicts[match.group(0)]
            out.conflicts.add(conflict)
            out.mentions.append(Mention(conflict, "conflict", start, end, match.group(0)))


# Capitalised words that open sentences or titles, never a person's first name.
NOT_NAMES = frozenset(
    {
        "The",
        "A",
        "An",
        "This",
        "That",
        "These",
        "Those",
        "In",
        "On",
        "At",
        "As",
        "By",
        "For",
        "OSCE",
        "Ambassador",
        "Mr",
        "Ms",
        "Mrs",
        "Dr",
        "His",
        "Her",
        "Its",
        "Our",
        "Their",
        "Since",
    }
)


# Nouns that end the names of bodies, never of persons ("the Programme Office").
BODY_NOUNS = frozenset(
    {
        "Office",
        "Mission",
        "Centre",
        "Center",
        "Group",
        "Council",
        "Programme",
        "Committee",
        "Commission",
        "Assembly",
        "Ministry",
        "Forum",
        "Agency",
        "Service",
        "Department",
        "Unit",
    }
)


def _plausible_name(name: str, gaz: Gazetteer) -> bool:
    words = name.split()
    return (
        words[0] not in NOT_NAMES
        and not BODY_NOUNS.intersection(words)
        and not any(w in gaz.role_words or w in gaz.states or w in gaz.adjectives for w in words)
        and gaz.structure(name) is None
        and name not in gaz.organizations
    )


def _persons(
    out: Extraction,
    region: Region,
    gaz: Gazetteer,
    iris: Iris,
    spans: _Spans,
    context: URIRef | None,
) -> None:
    """Persons: those the reference data knows, by full name; and persons named with their
    post ("Foreign Minister of the Russian Federation Sergey Lavrov", "Austrian Foreign
    Minister Karin Kneissl", "Thomas Greminger, the OSCE Secretary General", "President
    Emomali Rahmon" with the State from the context)."""
    for match in gaz.person_re.finditer(region.text):
        start, end = region.start + match.start(), region.start + match.end()
        if spans.free(start, end):
            out.person_at[(start, end)] = gaz.persons[match.group(0)]
            _mention(out, spans, gaz.persons[match.group(0)], "person", start, end)
    for pattern in (*gaz.person_res, gaz.role_then_person_re):
        for match in pattern.finditer(region.text):
            groups = match.groupdict()
            of_label = groups.get("of")
            state = gaz.state(of_label) if of_label else None
            of_iri = state if state is not None else gaz.structure(of_label or "")
            if of_label is None and (groups.get("osce") or gaz.structure(match["role"])):
                of_iri = gaz.osce  # "the OSCE Secretary General", "Representative on ..."
            elif of_label is None and gaz.roles[match["role"]] in gaz.state_roles:
                of_iri = state = context
            if not _plausible_name(match["name"], gaz):
                continue
            if (
                _person(
                    out,
                    region,
                    match,
                    gaz,
                    iris,
                    spans,
                    of_iri,
                    state is not None,
                    former=bool(groups.get("former")),
                )
                and of_label
            ):
                of_start = region.start + match.start("of")
                if of_iri is not None and spans.free(of_start, of_start + len(of_label)):
                    kind = "state" if state is not None else "structure"
                    _mention(out, spans, of_iri, kind, of_start, of_start + len(of_label))
    for match in gaz.titled_person_re.finditer(region.text):
        start = region.start + match.start("name")
        if not _plausible_name(match["name"], gaz) or not spans.free(start, start + 1):
            continue  # a stronger pattern has named this person already
        osce_title = gaz.structure(match["role"]) is not None
        state_title = gaz.roles[match["role"]] in gaz.state_roles and not match["compl"]
        of_iri = gaz.osce if osce_title else context if state_title else None
        _person(out, region, match, gaz, iris, spans, of_iri, not osce_title, former=False)
    for match in gaz.person_of_state_re.finditer(region.text):
        if _plausible_name(match["name"], gaz):
            _person(out, region, match, gaz, iris, spans, None, False, former=False)


def _person(
    out: Extraction,
    region: Region,
    match: re.Match[str],
    gaz: Gazetteer,
    iris: Iris,
    spans: _Spans,
    of_iri: URIRef | None,
    of_is_state: bool,
    *,
    former: bool,
) -> bool:
    """Record the person ``match`` names, and the post it gives them when it names one."""
    name = match["name"]
    start, end = region.start + match.start("name"), region.start + match.end("name")
    known = out.person_at.get((start, end))
    if known is not None:  # a person the reference data knows, already found by name
        person = known
    elif not spans.free(start, end):
        return False
    else:
        person = gaz.persons.get(name) or iris.person(name)
        _mention(out, spans, person, "person", start, end)
    groups = match.groupdict()
    before = region.text[max(0, match.start() - 8) : match.start()].casefold()
    former = former or before.endswith(("former ", "ex-"))
    if of_iri is None or former or not groups.get("role"):
        return True  # a former post is not held on the document's date
    base_role = gaz.roles[groups["role"]]
    compl = groups.get("compl") or ""
    canonical = gaz.label(base_role) + compl
    role, broader = (iris.role(canonical), base_role) if compl else (base_role, None)
    of_slug = str(of_iri).rstrip("/").rsplit("/", 1)[-1]
    post = PostRef(
        iri=iris.post(of_slug, canonical),
        label=f"{canonical} of {_with_article(gaz.label(of_iri))}",
        role=role,
        role_label=groups["role"] + compl,
        broader_role=broader,
        of=of_iri,
        of_is_state=of_is_state,
        holder=person,
        holder_name=name,
        holder_known=person in gaz.labels,
    )
    out.posts[(post.iri, person)] = post
    return True


def _context_state(out: Extraction, gaz: Gazetteer) -> URIRef | None:
    """The State a document is about: the only one its title names (a dateline city such as
    Vienna says where the text was issued, not whom it is about)."""
    title = next((r.text for r in out.document.regions if r.kind == "title"), "")
    named = {s for m in gaz.state_re.finditer(title) if (s := gaz.state(m.group(0)))}
    return named.pop() if len(named) == 1 else None


_TAKES_ARTICLE = re.compile(r"Federation|United|Republic|Holy See|Netherlands|Council|Group|Office")


def _with_article(name: str) -> str:
    """ "the Russian Federation", "the Minsk Group", but "France"."""
    return f"the {name}" if _TAKES_ARTICLE.search(name) and not name.startswith("the ") else name


def _surnames(out: Extraction, spans: _Spans) -> None:
    """Later surname-only mentions ("Desir said") belong to the person named in full."""
    surnames = {post.holder_name.split()[-1]: post.holder for post in out.posts.values()}
    patterns = [(bounded(re.escape(surname)), person) for surname, person in surnames.items()]
    for region in out.document.regions:
        for pattern, person in patterns:
            for match in pattern.finditer(region.text):
                start, end = region.start + match.start(), region.start + match.end()
                if spans.free(start, end):
                    _mention(out, spans, person, "person", start, end)


def _states(out: Extraction, region: Region, gaz: Gazetteer, spans: _Spans) -> None:
    for match in gaz.not_state_re.finditer(region.text):
        spans.take(region.start + match.start(), region.start + match.end())
    for match in gaz.state_re.finditer(region.text):
        start, end = region.start + match.start(), region.start + match.end()
        if spans.free(start, end):
            state = gaz.state(match.group(0))
            if state is not None:
                _mention(out, spans, state, "state", start, end)


_PLACE_LIST = re.compile(
    rf"(?<!\w)(?:in|at|near|from|outside|to|visited|of)\s+(?P<places>{PLACE_TOKEN}"
    rf"(?:(?:, and |, | and ){PLACE_TOKEN})*)"
)


def _places(out: Extraction, region: Region, gaz: Gazetteer, iris: Iris, spans: _Spans) -> None:
    """Cities named after a preposition ("in Osh", "from Tbilisi, Moscow and Washington"),
    when the gazetteer knows them without ambiguity; never a State, structure or person."""
    for match in _PLACE_LIST.finditer(region.text):
        offset = region.start + match.start("places")
        for token in re.finditer(PLACE_TOKEN, match["places"]):
            name = token.group(0)
            start, end = offset + token.start(), offset + token.end()
            if not spans.free(start, end) or not _plausible_place(name, gaz):
                continue
            city = places.resolve(name)
            if city is None:
                continue
            place = _place(out, gaz, iris, name, None)
            _mention(out, spans, place.iri, "place", start, end)


def _plausible_place(name: str, gaz: Gazetteer) -> bool:
    return not (
        gaz.state(name)
        or gaz.structure(name)
        or name in gaz.organizations
        or name in gaz.persons
        or name.split()[0] in NOT_NAMES
        or name in MONTH_NUMBER
    )


_MEETING = re.compile(
    rf"(?:(?P<count>{'|'.join(COUNT_WORDS)}|\d) )?(?P<kw>{MEETING_WORDS})"
    rf"(?P<between> (?:between|of|with) [^.;]{{0,200}}?)?"
    rf"(?: in (?P<year>(?:19|20)\d{{2}}))? (?:at|in) "
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
        when = partial_date(match["year"]) if match["year"] else None
        offset = region.start + match.start("places")
        for token in re.finditer(rf"{PLACE_TOKEN}", match["places"]):
            name = token.group(0)
            if not _plausible_place(name, gaz) or not places.is_known(name):
                continue
            place = _place(out, gaz, iris, name, None)
            start = offset + token.start()
            if spans.free(start, start + len(name)):
                _mention(out, spans, place.iri, "place", start, start + len(name))
            _add_meeting(out, gaz, iris, place, when, participants)


_TODAY_MEETING = re.compile(
    r"\b(?:meeting|talks|round|conference|forum|session|briefing|consultations|summit)\b"
    r"[^.]*\btoday\b|\btoday\b[^.]*\b(?:meeting|talks|round|conference|forum|session|briefing)\b",
    re.IGNORECASE,
)


def _meeting_of_the_day(out: Extraction, gaz: Gazetteer, iris: Iris) -> None:
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
