"""Places named in the text: cities, towns, villages, regions, facilities and venues, each
with the State it lies in, linked to GeoNames where the offline gazetteer knows them.

A name counts as a place when the gazetteer knows it and the wording fits: after a
preposition ("in Osh", "from Tbilisi, Moscow and Washington", "around Avdiivka"), before a
regional head ("in Donetsk region", "the Osh, Jalal-Abad and Batken provinces"), as a
facility named after a known place ("Donetsk Filtration Station"), a well-known venue ("the
Hofburg"), a US state ("the state of Georgia"), or anywhere when it is a city of a country
the document is about ("Chisinau and Tiraspol"). Small towns and villages are looked up only
in the countries the document names (its States and dateline country), so that "Gali" is the
town in Georgia, not Galle in Sri Lanka. A name the gazetteer does not know is taken only when
the text places it: coordinated with known places of one State ("in Ergneti and Gali") or
located relative to one ("Velka Maca, east of Bratislava"). Anything else is left out rather
than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rdflib import URIRef

from kg_builder import places
from kg_builder.extract.model import (
    NOT_NAMES,
    PLACE_TOKEN,
    Extraction,
    PlaceRef,
    Spans,
    add_mention,
    plausible_place,
)
from kg_builder.gazetteer import UP, Gazetteer
from kg_builder.iris import Iris
from kg_builder.parse import Document, Region

PREPOSITIONS = (
    "in|at|near|from|outside|to|visited|of|around|via|towards|toward|between|inside|across|"
    "reached|entered|left"
)
PREPOSITION_SET = frozenset(PREPOSITIONS.split("|"))
CASED_PREPOSITIONS = "|".join(f"[{p[0]}{p[0].upper()}]{p[1:]}" for p in PREPOSITIONS.split("|"))
SINGULAR_HEADS = "region|province|district|oblast|raion|rayon|municipality|county"
PLURAL_HEADS = "regions|provinces|districts|oblasts|raions|rayons|municipalities|counties"
FACILITY_HEADS = (
    "Nuclear Power Plant|Thermal Power Plant|Power Plant|Power Station|Filtration Station|"
    "Pumping Station|Railway Station|railway station|Airport|airport|Bridge|bridge|"
    "Entry-Exit Checkpoint|Checkpoint|checkpoint|Crossing Point|crossing point|Dam|dam"
)
WORD = rf"{UP}[\w'’]+"
# Capitalised words that are never a place of their own when coordinated with one.
NOT_PLACE_WORDS = frozenset(
    [
        "Government",
        "Parliament",
        "Ministry",
        "Office",
        "Council",
        "Mission",
        "Group",
        "Centre",
        "Center",
        "Committee",
        "Commission",
        "Assembly",
        "Secretariat",
        "Delegation",
        "Conference",
        "Forum",
        "Embassy",
        "University",
        "Court",
        "Agency",
        "Union",
        "Republic",
        "Federation",
        "Region",
        "District",
        "Province",
        "Day",
        "Week",
        "Year",
        "Programme",
        "Project",
        "Police",
        "Army",
        "Forces",
        "North",
        "South",
        "East",
        "West",
        "Central",
        "Northern",
        "Southern",
        "Eastern",
        "Western",
        "Upper",
        "Lower",
        "Greater",
        "Minister",
        "President",
        "Prime",
        "Chair",
        "States",
        "Affairs",
    ]
)
WEEKDAYS = frozenset(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])
COMPASS = (
    r"(?:north|south|east|west|north-east|north-west|south-east|south-west|"
    r"northeast|northwest|southeast|southwest)"
)

_LIST = re.compile(
    rf"\b(?P<prep>{CASED_PREPOSITIONS})\s+(?P<the>the\s+)?(?P<places>{PLACE_TOKEN}"
    rf"(?:(?:, and |, | and ){PLACE_TOKEN})*)"
    rf"(?: (?P<plural>{PLURAL_HEADS})| (?P<singular>{SINGULAR_HEADS}))?(?!\w)"
)
_SINGULAR_END = re.compile(rf"(?<![\w'’-])(?P<name>{PLACE_TOKEN}) (?P<head>{SINGULAR_HEADS})$")
_PLURAL_END = re.compile(
    rf"(?<![\w'’-])(?P<places>{PLACE_TOKEN}(?:(?:, and |, | and ){PLACE_TOKEN})+)"
    rf" (?P<plural>{PLURAL_HEADS})$"
)
SINGULAR_WORDS = tuple(SINGULAR_HEADS.split("|"))
PLURAL_WORDS = tuple(PLURAL_HEADS.split("|"))
_PREPOSITION_BEFORE = re.compile(rf"\b(?:{CASED_PREPOSITIONS})\s+(?:the\s+)?$")
_TOKEN = re.compile(PLACE_TOKEN)
# Cheap tests that let a region skip the costlier patterns (extraction must stay fast).
# Words that open a landmark's name without naming a place ("the Old Bridge").
_PLAIN_ADJECTIVES = frozenset(
    {"Old", "New", "Great", "Little", "Big", "Long", "High", "Main", "Grand", "Royal", "Holy"}
)
# "Zolote and Popasna in the Luhansk region": the places of a named region (its country).
_LOCATED_LIST = re.compile(
    rf"(?<![\w'’-])(?P<places>{PLACE_TOKEN}(?:(?:, and |, | and ){PLACE_TOKEN})*) in the $"
)
# "villages such as Blagaj and Bijelo Polje": settlements of the document's country.
_SUCH_AS = re.compile(
    r"\b(?:villages|towns|cities|settlements|municipalities) (?:such as|including) "
    rf"(?P<places>{PLACE_TOKEN}(?:(?:, and |, | and ){PLACE_TOKEN})*)"
)
FACILITY_HINTS = ("Station", "Plant", "irport", "ridge", "heckpoint", "rossing", "Dam", "dam ")
_RELATIVE = re.compile(
    rf",? (?:(?:some |about )?\d+ ?(?:km|kilometres|kilometers|miles) )?"
    rf"(?:{COMPASS}|near|outside) of (?P<anchor>{PLACE_TOKEN})"
)
_FACILITY = re.compile(
    rf"(?<![\w'’-])(?P<name>(?P<pre>{WORD}(?:[ –-]{WORD}){{0,3}}) (?:(?:{WORD}|[a-z]+) ){{0,2}}?"
    rf"(?:{FACILITY_HEADS}))(?!\w)"
)
_VENUE = re.compile(
    r"(?<!\w)(?P<name>"
    + "|".join(re.escape(v) for v in sorted(places.VENUES, key=len, reverse=True))
    + r")(?!\w)"
)
_US_STATE = re.compile(rf"(?<!\w)the state of (?P<name>{WORD}(?: {WORD})?)")
_CAPITALISED_RUN = re.compile(rf"(?<![\w'’-]){WORD}(?:-{WORD})*(?: {WORD}(?:-{WORD})*)*")


@dataclass(frozen=True)
class Found:
    """What the gazetteer knows of a name: a GeoNames city or a region or venue."""

    name: str  # the gazetteer's name (for the IRI)
    code: str  # ISO country code
    city: places.City | None
    kind: str  # "city", "region" or "venue"


class Context:
    """What a document is about: the ISO codes of the States it names (found by the States
    rule, which runs first) and of its dateline country; and, on demand, the words it writes
    in lower case."""

    def __init__(self, out: Extraction, gaz: Gazetteer) -> None:
        states = {m.entity for m in out.mentions if m.kind == "state"}
        if out.place is not None and out.place.state is not None:
            states.add(out.place.state)
        self.codes = frozenset(gaz.iso2[s] for s in states if s in gaz.iso2)
        self._regions = out.document.regions
        self._lower: dict[str, bool] = {}

    def writes_lower(self, word: str) -> bool:
        if word not in self._lower:
            pattern = re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])")
            self._lower[word] = any(pattern.search(r.text) for r in self._regions)
        return self._lower[word]


def lookup(name: str, context: Context, *, small: bool = True) -> Found | None:
    """A city, region or venue called ``name``: a town of the document's countries unless a
    namesake elsewhere is far more populous (Moscow, Russia over Moscow, Idaho). Villages
    (``small``) only where the wording is clearly locative: many are named like common words
    ("Council", Idaho)."""
    return _lookup(name, context.codes, small)


@lru_cache(maxsize=8192)
def _lookup(name: str, codes: frozenset[str], small: bool) -> Found | None:
    local = places.locate(name, codes) if codes and small else None
    world = places.resolve(name)
    city = local
    if world is not None and (
        local is None or world.population >= places.DOMINANCE * local.population
    ):
        city = world
    if city is not None:
        return Found(city.name, city.country_code, city, "city")
    hit = places.region(name, codes)
    if hit is not None:
        return Found(hit[1], hit[0], None, "region")
    venue = places.VENUES.get(name)
    if venue is not None:
        return Found(name, venue[1], None, "venue")
    return None


def locations(out: Extraction, region: Region, gaz: Gazetteer, iris: Iris, spans: Spans) -> None:
    """Places of the region, most specific wording first (venues, US states, facilities,
    regions with their head word, lists after prepositions, then context cities anywhere).

    The regions wait for the document's last one, when every State it names is known, so
    that a title's village is looked up in the countries of the body."""
    doc = out.document
    key = id(doc)
    entry = _pending.get(key)
    if entry is None or entry[0] is not doc:
        if len(_pending) > 64:  # documents whose extraction stopped half-way
            _pending.clear()
        entry = _pending[key] = (doc, [])
    entry[1].append(region)
    if region is not doc.regions[-1]:
        return
    del _pending[key]
    context = Context(out, gaz)
    for waiting in entry[1]:
        _Finder(out, waiting, gaz, iris, spans, context).run()


# Regions waiting for their document's last one, by document (safe across threads).
_pending: dict[int, tuple[Document, list[Region]]] = {}


class _Finder:
    def __init__(
        self,
        out: Extraction,
        region: Region,
        gaz: Gazetteer,
        iris: Iris,
        spans: Spans,
        context: Context,
    ) -> None:
        self.out, self.gaz, self.iris, self.spans = out, gaz, iris, spans
        self.text, self.base = region.text, region.start
        self.context = context

    def free(self, start: int, end: int) -> bool:
        return self.spans.free(self.base + start, self.base + end)

    def state_of(self, code: str | None) -> URIRef | None:
        return self.gaz.state_by_iso2.get(code) if code else None

    def add(
        self,
        name: str,
        start: int,
        end: int,
        found: Found | None,
        state: URIRef | None = None,
        *,
        region: bool = False,
    ) -> None:
        label = name.title() if name.isupper() else name
        code = found.code if found is not None else self.gaz.iso2.get(state) if state else None
        state = state or self.state_of(code)
        key = found.name if found is not None else label
        if region or (found is not None and found.kind == "region"):
            key = f"{key} region"  # not the city of the same name (Osh, Batken)
        iri = self.iris.place(key, code)
        if iri not in self.out.places:
            city = found.city if found is not None else None
            self.out.places[iri] = PlaceRef(iri, label, state, city)
        add_mention(self.out, self.spans, iri, "place", self.base + start, self.base + end)

    def known(self, name: str, *, small: bool = True) -> Found | None:
        if not plausible_place(name, self.gaz) or name in WEEKDAYS:
            return None
        found = lookup(name, self.context, small=small)
        if found is not None and found.kind == "city" and self.common_word(name):
            found = lookup(name, self.context, small=False)  # a village named like a word
        return found

    def common_word(self, name: str) -> bool:
        """The document also writes the name in lower case ("reading", "council")."""
        if " " in name or not name[1:].islower():
            return False
        return self.context.writes_lower(name.casefold())

    def run(self) -> None:
        text = self.text
        venues = any(v in text for v in places.VENUES)
        for match in _VENUE.finditer(text) if venues else ():
            if self.free(*match.span()):
                self.add(match["name"], *match.span(), lookup(match["name"], self.context))
        for match in _US_STATE.finditer(text) if "state of " in text else ():
            hit = places.region(match["name"], ("US",))
            if hit is not None:  # the span is claimed as "not the State Georgia"
                found = Found(hit[1], "US", None, "region")
                self.add(match["name"], *match.span("name"), found)
        facilities = any(h in text for h in FACILITY_HINTS)
        for match in _FACILITY.finditer(text) if facilities else ():
            start, end = match.span("name")
            opening = match["name"].split(" ", 1)[0]
            if opening in NOT_NAMES or opening in NOT_PLACE_WORDS:  # "The Donetsk … Station"
                start += len(opening) + 1
            if self.free(start, end):
                anchor = self.anchor(text[start : match.end("pre")])
                if anchor is not None:
                    self.add(text[start:end], start, end, None, self.state_of(anchor.code))
        # Regional heads: the patterns run only just before each head word, which is rare.
        for pattern, words in ((_SINGULAR_END, SINGULAR_WORDS), (_PLURAL_END, PLURAL_WORDS)):
            for head_end in _word_ends(text, words):
                headed = pattern.search(text, max(0, head_end - 200), head_end)
                if headed is None:
                    continue
                if pattern is _SINGULAR_END:
                    self.singular(headed)
                    self.located(headed)
                else:
                    self.listed(headed)
        for match in _SUCH_AS.finditer(text) if " such as " in text or "including" in text else ():
            self.settlements(match)
        # Lists after prepositions and lone names: both start at a capitalised word.
        runs = list(_CAPITALISED_RUN.finditer(text))
        listed_to = 0
        for run in runs:
            if run.start() < listed_to:
                continue
            prep = _PREPOSITION_BEFORE.search(text, max(0, run.start() - 16), run.start())
            at = prep.start() if prep is not None else run.start()  # "In Texas and …"
            if (
                prep is not None or run.group(0).split(" ", 1)[0].casefold() in PREPOSITION_SET
            ) and (listed := _LIST.match(text, at)) is not None:
                self.listed(listed)
                listed_to = listed.end()
        for run in runs:
            self.anywhere(run)

    def anchor(self, words: str) -> Found | None:
        """The known place a facility is named after ("Donetsk" in "Donetsk Filtration
        Station", "Gura Bicului" in "Gura Bicului-Bychok bridge", with a dash): its longest
        known run of words."""
        if words in _PLAIN_ADJECTIVES:
            return None  # "the Old Bridge": no place in the name (not Old, a hamlet)
        parts = [p.strip() for p in re.split(r"[–-]", words) if p.strip()]
        for part in dict.fromkeys([words, *parts]):
            tokens = part.split()
            for size in range(len(tokens), 0, -1):
                for i in range(len(tokens) - size + 1):
                    found = self.known(" ".join(tokens[i : i + size]))
                    if found is not None and found.kind != "venue":
                        return found
        return None

    def singular(self, match: re.Match[str]) -> None:
        """ "in Donetsk region" (a region named after its city keeps its head word) or "the
        Samtskhe-Javakheti region" (a region's own name)."""
        name = match["name"]
        if not self.free(*match.span()):
            return
        found = self.known(name)
        if found is None:
            return
        if found.kind == "city":
            label = f"{name} {match['head']}"
            self.add(label, *match.span(), None, self.state_of(found.code))
        elif found.kind == "region":
            self.add(name, *match.span("name"), found)

    def located(self, headed: re.Match[str]) -> None:
        """ "A and B in the Luhansk region": unknown names placed in a known region."""
        lst = _LOCATED_LIST.search(self.text, max(0, headed.start() - 160), headed.start())
        region = self.known(headed["name"]) if lst is not None else None
        if lst is None or region is None:
            return
        self._place_unknown(lst, self.state_of(region.code))

    def settlements(self, match: re.Match[str]) -> None:
        """ "villages such as A and B": unknown names, in the dateline's country (or the one
        country the document names)."""
        place = self.out.place
        state = place.state if place is not None else None
        if state is None and len(self.context.codes) == 1:
            state = self.state_of(next(iter(self.context.codes)))
        self._place_unknown(match, state)

    def _place_unknown(self, match: re.Match[str], state: URIRef | None) -> None:
        if state is None:
            return
        offset = match.start("places")
        for token in _TOKEN.finditer(match["places"]):
            start, end, name = offset + token.start(), offset + token.end(), token.group(0)
            if not self.free(start, end) or not plausible_place(name, self.gaz):
                continue
            if _looks_like_place(name) and name not in WEEKDAYS:
                found = self.known(name)
                code = self.gaz.iso2.get(state)
                if found is None or found.code == code:
                    self.add(name, start, end, found, None if found else state)

    def listed(self, match: re.Match[str]) -> None:
        """A list after a preposition or before a plural regional head: known places, and
        unknown names that the text places (coordinated with known places of one State, or
        "X, east of Y")."""
        groups = match.groupdict()
        if groups.get("singular"):
            return  # "in Donetsk region": handled with its head word
        offset = match.start("places")
        plural = bool(groups.get("plural"))
        # "of" and "the" make a common noun likelier than a village ("of the Council")
        weak = not plural and (groups.get("the") or str(groups.get("prep")).casefold() == "of")
        items: list[tuple[str, int, int, Found | None]] = []
        codes_seen: set[str] = set()  # States of the cities regions are named after
        for token in _TOKEN.finditer(match["places"]):
            start, end = offset + token.start(), offset + token.end()
            name = token.group(0)
            if self.free(start, end) and plausible_place(name, self.gaz):
                found = self.known(name, small=not weak)
                if plural and found is not None and found.kind == "city":
                    # "the Osh and Batken provinces": the provinces, not their capitals
                    codes_seen.add(found.code)
                    hit = places.region(name, (found.code,))
                    found = Found(hit[1], hit[0], None, "region") if hit else None
                items.append((name, start, end, found))
        codes = {f.code for *_, f in items if f is not None} | codes_seen
        shared = next(iter(codes)) if len(codes) == 1 else None
        coordinated = " and " in match["places"] and not weak
        any_city = any(f is not None and f.kind == "city" for *_, f in items)
        for name, start, end, found in items:
            if found is not None:
                following = self.text[end : end + 2]
                if groups.get("the") and not plural and following[1:].isupper():
                    continue  # "of the Minsk Group": a longer name
                if groups.get("the") and found.kind == "city" and not plural:
                    continue  # "from the Old Bridge": a landmark; towns take no article
                self.add(name, start, end, found)
                continue
            relative = _RELATIVE.match(self.text, end)
            if relative is not None:
                anchor = self.known(relative["anchor"])
                if anchor is not None:
                    self.add(name, start, end, None, self.state_of(anchor.code))
            elif (
                shared is not None
                and (plural or (any_city and coordinated))
                and len(items) > 1
                and _looks_like_place(name)
            ):
                self.add(name, start, end, None, self.state_of(shared), region=plural)

    def anywhere(self, match: re.Match[str]) -> None:
        """A city of a country the document is about, whatever the wording ("brings together
        Chisinau and Tiraspol"), if it is a town of 15,000 people or more."""
        name = match.group(0)
        if name.count(" ") > 1:
            return
        world = places.resolve(name)
        if world is None or world.country_code not in self.context.codes:
            return
        if not self.free(*match.span()) or not plausible_place(name, self.gaz):
            return
        if _sentence_initial(self.text, match.start()) or self.common_word(name):
            return  # "Independence of the media …": a word, not Independence, Missouri
        if self.text.endswith(("the ", "The "), 0, match.start()):
            return  # "from the Old Bridge": a landmark; towns take no article
        found = lookup(name, self.context)
        if found is not None and found.city is not None:
            self.add(name, *match.span(), found)


def _word_ends(text: str, words: tuple[str, ...]) -> list[int]:
    """Where each of ``words`` ends as a whole word in ``text`` (found with str.find)."""
    ends = []
    for word in words:
        at = text.find(word)
        while at >= 0:
            end = at + len(word)
            if not text[end : end + 1].isalnum() and not text[at - 1 : at].isalnum():
                ends.append(end)
            at = text.find(word, end)
    return sorted(ends)


def _sentence_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \"“‘'(")
    return not before or before[-1] in ".!?:\n"


def _looks_like_place(name: str) -> bool:
    words = name.split()
    return not (
        any(w in NOT_PLACE_WORDS or w in NOT_NAMES for w in words)
        or name.isupper()
        or len(name) < 3
    )
