"""What extraction produces (mentions with their spans, places, posts, meetings, agreements)
and the helpers every rule shares."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date

from rdflib import Literal, URIRef

from kg_builder import places
from kg_builder.dates import When
from kg_builder.gazetteer import UP, Gazetteer
from kg_builder.iris import Iris
from kg_builder.parse import MONTHS, Document

MONTH_NUMBER = {m: n for n, m in enumerate(MONTHS.split("|"), 1)}
PLACE_TOKEN = rf"{UP}[\w'’-]+(?: {UP}[\w'’-]+)?"


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
    status: str = ""  # "former" or "incoming": not held on the document's date
    new_role: bool = False  # a title the reference data does not have (minted here)


@dataclass(frozen=True)
class MeetingRef:
    iri: URIRef
    label: str
    place: URIRef | None  # a place (schema:location) or, for a country-wide event, a State
    when: When | None  # a day, month, year or ISO week, or an interval
    participants: tuple[URIRef, ...]
    meeting_type: URIRef | None  # the site's menu concept, when the kind maps onto one
    kind: str = "meeting"  # a short free-text type: "negotiation round", "visit", …
    planned: bool = False  # announced for a date after the document's
    venue: PlaceRef | None = None  # the place, when only the meeting's name gives it


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
    # set when the issuer is a body the reference data does not know (IRI minted here)
    issuer_label: str | None = None
    # organisations the reference data does not know, minted here: IRI -> name as written
    new_organizations: dict[URIRef, str] = field(default_factory=dict)
    fields_of_work: list[tuple[URIRef, str, bool]] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    places: dict[URIRef, PlaceRef] = field(default_factory=dict)
    posts: dict[tuple[URIRef, URIRef], PostRef] = field(default_factory=dict)  # (post, holder)
    meetings: dict[URIRef, MeetingRef] = field(default_factory=dict)
    agreements: dict[URIRef, AgreementRef] = field(default_factory=dict)
    conflicts: set[URIRef] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # rules that failed on this page
    person_at: dict[tuple[int, int], URIRef] = field(default_factory=dict)  # known persons
    # acronyms the document defines ("... (GID)"), read once by the persons rule
    acronyms: dict[str, str] | None = field(default=None, repr=False, compare=False)

    def entities(self, kind: str) -> set[URIRef]:
        return {m.entity for m in self.mentions if m.kind == kind}


class Spans:
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


def add_mention(
    out: Extraction, spans: Spans, entity: URIRef, kind: str, start: int, end: int
) -> None:
    spans.take(start, end)
    out.mentions.append(Mention(entity, kind, start, end, out.document.text[start:end]))


def place_ref(
    out: Extraction, gaz: Gazetteer, iris: Iris, name: str, country: str | None
) -> PlaceRef:
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


def plausible_place(name: str, gaz: Gazetteer) -> bool:
    return not (
        gaz.state(name)
        or gaz.structure(name)
        or name in gaz.organizations
        or name in gaz.persons
        or name.split()[0] in NOT_NAMES
        or name in MONTH_NUMBER
    )
