"""Partial dates ("1994", "2010-10", "2014-12-04") as typed literals, and OWL-Time intervals."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from rdflib import Literal, URIRef

from kg_builder.namespaces import RDF, TIME, XSD
from kg_builder.parse import MONTHS

if TYPE_CHECKING:
    from kg_builder.triples import TripleSink

PARTIAL_DATE = re.compile(r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2}))?)?$")
# The OWL-Time property that carries an instant's position at each precision.
TIME_POSITION = {
    XSD.date: TIME.inXSDDate,
    XSD.gYearMonth: TIME.inXSDgYearMonth,
    XSD.gYear: TIME.inXSDgYear,
}


def partial_date(text: str) -> Literal:
    """``"2010-10"`` → ``"2010-10"^^xsd:gYearMonth``; a ``ValueError`` for anything else."""
    match = PARTIAL_DATE.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a date like 1994, 2010-10 or 2014-12-04")
    year, month, day = match["y"], match["m"], match["d"]
    if day is not None:
        date(int(year), int(month), int(day))  # raises ValueError on 2014-02-30
        return Literal(f"{year}-{month}-{day}", datatype=XSD.date)
    if month is not None:
        if not 1 <= int(month) <= 12:
            raise ValueError(f"{text!r} has no month {month}")
        return Literal(f"{year}-{month}", datatype=XSD.gYearMonth)
    return Literal(year, datatype=XSD.gYear)


def add_interval(
    graph: TripleSink, interval: URIRef, start: Literal | None, end: Literal | None
) -> None:
    """An OWL-Time interval ``interval`` with instants ``#start`` / ``#end`` at their precision."""
    graph.add((interval, RDF.type, TIME.Interval))
    for edge, when, name in ((TIME.hasBeginning, start, "start"), (TIME.hasEnd, end, "end")):
        if when is None:
            continue
        instant = URIRef(f"{interval}-{name}")
        graph.add((interval, edge, instant))
        graph.add((instant, RDF.type, TIME.Instant))
        graph.add((instant, TIME_POSITION[URIRef(str(when.datatype))], when))


# ---------------------------------------------------------------------------------------------
# Date expressions in running text, relative ones resolved against the document's date.
#
# A resolved value is a ``Point`` (a day, a month, a year or an ISO week) or an ``Interval``
# (two points, either end may be open).  ``str()`` gives the devset notation: ``2018-05-04``,
# ``2018-05``, ``2018``, ``2011-W49``, ``2018-05-03/2018-05-04``, ``../2018-05-04``.
# ``find_dates`` scans a text and returns every expression with its character span.


@dataclass(frozen=True)
class Point:
    """A calendar position at day, month, year or ISO-week precision."""

    year: int
    month: int | None = None
    day: int | None = None
    week: int | None = None  # ISO week number; month and day are then None

    def __post_init__(self) -> None:
        if self.week is not None:
            if self.month is not None or self.day is not None:
                raise ValueError("an ISO week has no month or day")
            date.fromisocalendar(self.year, self.week, 1)  # raises on week 53 of a short year
        elif self.day is not None:
            if self.month is None:
                raise ValueError("a day needs a month")
            date(self.year, self.month, self.day)
        elif self.month is not None and not 1 <= self.month <= 12:
            raise ValueError(f"no month {self.month}")

    @classmethod
    def of(cls, day: date) -> Point:
        return cls(day.year, day.month, day.day)

    @property
    def precision(self) -> str:
        if self.week is not None:
            return "week"
        if self.day is not None:
            return "day"
        return "month" if self.month is not None else "year"

    def first_day(self) -> date:
        if self.week is not None:
            return date.fromisocalendar(self.year, self.week, 1)
        return date(self.year, self.month or 1, self.day or 1)

    def last_day(self) -> date:
        if self.week is not None:
            return date.fromisocalendar(self.year, self.week, 7)
        if self.day is not None:
            return self.first_day()
        if self.month is None:
            return date(self.year, 12, 31)
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def literal(self) -> Literal:
        """The typed literal (xsd:date, xsd:gYearMonth or xsd:gYear); weeks have none."""
        if self.week is not None:
            raise ValueError("an ISO week has no XSD literal; use week_interval()")
        return partial_date(str(self))

    def __str__(self) -> str:
        if self.week is not None:
            return f"{self.year:04d}-W{self.week:02d}"
        if self.day is not None:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month is not None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"


@dataclass(frozen=True)
class Interval:
    """From ``start`` to ``end`` (inclusive); ``None`` is an end the text leaves open."""

    start: Point | None
    end: Point | None

    def __post_init__(self) -> None:
        if self.start is None and self.end is None:
            raise ValueError("an interval needs at least one end")
        if self.start and self.end and self.start.first_day() > self.end.last_day():
            raise ValueError(f"{self.start} is after {self.end}")

    def __str__(self) -> str:
        return f"{self.start or '..'}/{self.end or '..'}"


When = Point | Interval


@dataclass(frozen=True)
class DateSpan:
    """A date expression found in a text: its resolved value and its character span."""

    value: When
    start: int
    end: int
    text: str


def parse_when(text: str) -> When:
    """The inverse of ``str()``: ``"2018-05-03/2018-05-04"``, ``"../2018"``, ``"2011-W49"``."""
    if "/" in text:
        first, _, last = text.partition("/")
        start = None if first == ".." else parse_when(first)
        end = None if last == ".." else parse_when(last)
        if isinstance(start, Interval) or isinstance(end, Interval):
            raise ValueError(f"{text!r} nests intervals")
        return Interval(start, end)
    week = re.fullmatch(r"(\d{4})-W(\d{2})", text)
    if week:
        return Point(int(week[1]), week=int(week[2]))
    match = PARTIAL_DATE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a date")
    return Point(int(match["y"]), _int(match["m"]), _int(match["d"]))


def _int(text: str | None) -> int | None:
    return int(text) if text else None


def week_of(day: date) -> Point:
    iso = day.isocalendar()
    return Point(iso[0], week=iso[1])


def week_interval(week: Point) -> Interval:
    """An ISO week as the interval from its Monday to its Sunday."""
    return Interval(Point.of(week.first_day()), Point.of(week.last_day()))


def interval_bounds(when: When) -> tuple[Literal | None, Literal | None]:
    """The typed literals of an interval's ends for ``add_interval``; an ISO week (alone or
    at an end) counts from its Monday to its Sunday."""
    span = week_interval(when) if isinstance(when, Point) else when

    def bound(point: Point | None, first: bool) -> Literal | None:
        if point is None:
            return None
        if point.week is not None:
            point = Point.of(point.first_day() if first else point.last_day())
        return point.literal()

    if isinstance(span, Point):  # a day, month or year: one instant at both ends
        return bound(span, True), bound(span, False)
    return bound(span.start, True), bound(span.end, False)


def days_ending(end: date, days: int) -> Interval:
    """A stated duration ("a five-day visit … concluded today") ending on ``end``."""
    return Interval(Point.of(end - timedelta(days=days - 1)), Point.of(end))


def days_starting(start: date, days: int) -> Interval:
    """A stated duration ("the two-day conference opened today") starting on ``start``."""
    return Interval(Point.of(start), Point.of(start + timedelta(days=days - 1)))


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = MONTHS.split("|")
NUMBER_WORDS = {
    w: n
    for n, w in enumerate(
        [
            *("one", "two", "three", "four", "five", "six", "seven"),
            *("eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen"),
        ],
        1,
    )
}


def weekday(name: str, ref: date, future: bool) -> date:
    """ "on Tuesday": the nearest such day before ``ref`` (past tense) or after it (future);
    the reference day itself is "today", never "on <its weekday>"."""
    wanted = WEEKDAYS.index(name.capitalize())
    if future:
        return ref + timedelta(days=(wanted - ref.weekday() - 1) % 7 + 1)
    return ref - timedelta(days=(ref.weekday() - wanted - 1) % 7 + 1)


def day_month(day: int, month: int, ref: date, future: bool | None) -> date:
    """ "16 January" with no year: the year that puts it on the right side of ``ref`` (on or
    before for the past tense, on or after for the future), else the nearest one."""
    candidates = []
    for year in (ref.year - 1, ref.year, ref.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:  # 29 February
            continue
    if not candidates:
        raise ValueError(f"no day {day} in month {month}")
    if future is True:
        later = [c for c in candidates if c >= ref]
        return min(later) if later else max(candidates)
    if future is False:
        earlier = [c for c in candidates if c <= ref]
        return max(earlier) if earlier else min(candidates)
    return min(candidates, key=lambda c: abs((c - ref).days))


def month_only(month: int, ref: date, future: bool | None) -> Point:
    """ "in December" with no year: this year's month if it fits the tense, else the nearest
    fitting year (the current month fits both tenses)."""
    if future is True:
        return Point(ref.year if month >= ref.month else ref.year + 1, month)
    if future is False:
        return Point(ref.year if month <= ref.month else ref.year - 1, month)
    options = [
        (abs((y - ref.year) * 12 + month - ref.month), y)
        for y in (ref.year - 1, ref.year, ref.year + 1)
    ]
    return Point(min(options)[1], month)


def last_month_named(month: int, ref: date) -> Point:
    """ "last September": the most recent September before the current month."""
    return Point(ref.year if month < ref.month else ref.year - 1, month)


def next_month_named(month: int, ref: date) -> Point:
    """ "next March": the first March after the current month."""
    return Point(ref.year if month > ref.month else ref.year + 1, month)


def shift_months(ref: date, months: int) -> Point:
    index = ref.year * 12 + ref.month - 1 + months
    return Point(index // 12, index % 12 + 1)


FUTURE_MARKERS = re.compile(
    r"\b(?:will|shall|'ll|is to|are to|to be held|is scheduled|are scheduled|is planned|"
    r"are planned|is expected|are expected|upcoming|forthcoming|ahead of|agreed to hold|"
    r"plans to|intends to|next)\b",
    re.IGNORECASE,
)


def is_future(sentence: str) -> bool:
    """A crude tense test: does the sentence speak of the future ("will", "next", …)?"""
    return FUTURE_MARKERS.search(sentence) is not None


_M = rf"(?:{MONTHS})"
_WD = "|".join(WEEKDAYS)
_YEAR = r"(?:1[89]\d{2}|20\d{2})"
_DASH = r"\s*[-–]\s*"
_DATE_RE = re.compile(
    r"(?<!\w)(?:"  # only at the start of a word: most positions fail here, fast
    + "|".join(
        [
            # 3 and 4 May 2018 · 12-13 December · from 22 to 26 September · between 3 and 5 May
            rf"(?P<r_d1>\d{{1,2}})(?:{_DASH}|\s+(?:and|to|until)\s+)(?P<r_d2>\d{{1,2}})\s+"
            rf"(?P<r_m>{_M})(?:,?\s+(?P<r_y>{_YEAR}))?\b",
            # 30 November to 2 December 2011 · 30 November - 2 December (or an en dash)
            rf"(?P<x_d1>\d{{1,2}})\s+(?P<x_m1>{_M})(?:\s+(?P<x_y1>{_YEAR}))?"
            rf"(?:{_DASH}|\s+(?:to|until)\s+)(?P<x_d2>\d{{1,2}})\s+(?P<x_m2>{_M})"
            rf"(?:,?\s+(?P<x_y2>{_YEAR}))?\b",
            # 16 January 2019 · 16 January
            rf"(?P<d_d>\d{{1,2}})\s+(?P<d_m>{_M})(?:,?\s+(?P<d_y>{_YEAR}))?\b",
            # January 16, 2019
            rf"(?P<u_m>{_M})\s+(?P<u_d>\d{{1,2}}),\s+(?P<u_y>{_YEAR})\b",
            # June 2013
            rf"(?P<my_m>{_M})\s+(?P<my_y>{_YEAR})\b",
            # last September · next March · that December · this June
            rf"\b(?P<rel_w>[Ll]ast|[Nn]ext|[Tt]hat|[Tt]his)\s+(?P<rel_m>{_M})\b",
            # in December · since July · until March (a bare month needs a preposition)
            rf"\b(?P<pm_p>[Ii]n|[Ss]ince|[Uu]ntil|[Bb]y|[Ff]rom|[Dd]uring|[Ee]arly|[Ll]ate|"
            rf"[Mm]id-)\s*(?:early\s+|late\s+|mid-)?(?P<pm_m>{_M})\b(?!,?\s+\d)"
            r"(?P<pm_that>\s+(?:of\s+)?that\s+year\b)?",
            # today · yesterday · tomorrow (also "Yesterday's")
            r"\b(?P<rel_day>[Tt]oday|[Yy]esterday|[Tt]omorrow)\b",
            # on Tuesday · since Sunday · last Friday · next Monday
            rf"\b(?:(?P<wd_w>[Ll]ast|[Nn]ext|[Tt]his)\s+)?(?P<wd>{_WD})\b",
            # last year · next month · this week · the previous year · the following week
            r"\b(?P<per_w>[Ll]ast|[Nn]ext|[Tt]his|[Tt]hat|the previous|the following)\s+"
            r"(?P<per>year|month|week)\b",
            # in the first weeks of the year / of the Chairpersonship (which is a calendar year)
            r"\b(?:[Ii]n|[Dd]uring)\s+the\s+first\s+(?:few\s+)?(?:days|weeks)\s+of\s+(?:the\s+|its\s+|"
            r"her\s+|his\s+)?(?:year|Chairpersonship|Chairmanship)\b(?P<first_weeks>)",
            # in the summer (a season resolves to its year)
            r"\b(?:[Ii]n|[Dd]uring|[Tt]his|[Nn]ext|[Ll]ast)\s+(?:the\s+)?"
            r"(?P<season>spring|summer|autumn|fall|winter)\b",
            # in 1992 · since 2010 · of 2012 · in early 2003 (a bare year needs a preposition)
            rf"\b(?:[Ii]n|[Ss]ince|[Uu]ntil|[Bb]y|[Oo]f|[Ff]rom|[Dd]uring|[Tt]hroughout)\s+"
            rf"(?:early\s+|late\s+|mid-)?(?P<y>{_YEAR})\b(?![-–/]\d)",
        ]
    )
    + ")"
)
_SEASON_MONTHS = {"spring": 4, "summer": 7, "autumn": 10, "fall": 10, "winter": 1}
_EXPLICIT_YEAR = re.compile(rf"\b{_YEAR}\b")


def _sentence_of(text: str, start: int, end: int) -> str:
    left = max(text.rfind(". ", 0, start), text.rfind("\n", 0, start))
    right_dot = text.find(". ", end)
    right_nl = text.find("\n", end)
    ends = [e for e in (right_dot, right_nl) if e >= 0]
    return text[left + 1 : min(ends) if ends else len(text)]


def find_dates(
    text: str, ref: date | None, *, future: bool | None = None, offset: int = 0
) -> list[DateSpan]:
    """Every date expression in ``text``, resolved against the document date ``ref``.

    ``future`` forces the tense for relative expressions; by default each expression takes the
    tense of its sentence (``is_future``). Expressions that need ``ref`` ("today", "16
    January") are skipped when it is None. "that December" takes the last explicit year
    written before it. Spans are offsets into ``text`` plus ``offset``.
    """
    found: list[DateSpan] = []
    for match in _DATE_RE.finditer(text):
        tense = future
        if tense is None:
            tense = is_future(_sentence_of(text, match.start(), match.end()))
        try:
            value = _resolve(match, text, ref, tense)
        except ValueError:
            continue
        if value is not None:
            found.append(
                DateSpan(value, offset + match.start(), offset + match.end(), match.group(0))
            )
    return found


def _resolve(match: re.Match[str], text: str, ref: date | None, future: bool) -> When | None:
    g = match.group
    if g("r_d1"):
        month = MONTH_NAMES.index(g("r_m")) + 1
        d1, d2 = int(g("r_d1")), int(g("r_d2"))
        if d1 >= d2:
            return None
        if g("r_y"):
            year = int(g("r_y"))
        elif ref is not None:
            year = day_month(d1, month, ref, future).year
        else:
            return None
        return Interval(Point(year, month, d1), Point(year, month, d2))
    if g("x_d1"):
        m1, m2 = MONTH_NAMES.index(g("x_m1")) + 1, MONTH_NAMES.index(g("x_m2")) + 1
        d1, d2 = int(g("x_d1")), int(g("x_d2"))
        y2 = int(g("x_y2")) if g("x_y2") else None
        y1 = int(g("x_y1")) if g("x_y1") else None
        wraps = (m1, d1) > (m2, d2)  # 28 December to 3 January
        if y1 is None and y2 is not None:
            y1 = y2 - 1 if wraps else y2
        elif y1 is None:
            if ref is None:
                return None
            y1 = day_month(d1, m1, ref, future).year
        if y2 is None:
            y2 = y1 + 1 if wraps else y1
        return Interval(Point(y1, m1, d1), Point(y2, m2, d2))
    if g("d_d"):
        month = MONTH_NAMES.index(g("d_m")) + 1
        if g("d_y"):
            return Point(int(g("d_y")), month, int(g("d_d")))
        if ref is None:
            return None
        return Point.of(day_month(int(g("d_d")), month, ref, future))
    if g("u_m"):
        return Point(int(g("u_y")), MONTH_NAMES.index(g("u_m")) + 1, int(g("u_d")))
    if g("my_m"):
        return Point(int(g("my_y")), MONTH_NAMES.index(g("my_m")) + 1)
    if g("y"):
        return Point(int(g("y")))
    if g("rel_m"):
        month = MONTH_NAMES.index(g("rel_m")) + 1
        word = g("rel_w").lower()
        if word == "that":
            years = _EXPLICIT_YEAR.findall(text, 0, match.start())
            return Point(int(years[-1]), month) if years else None
        if ref is None:
            return None
        if word == "last":
            return last_month_named(month, ref)
        if word == "next":
            return next_month_named(month, ref)
        return Point(ref.year, month)
    if ref is None:
        return None
    if g("pm_m"):
        if g("pm_that"):  # "in April of that year": the year last written before
            years = _EXPLICIT_YEAR.findall(text, 0, match.start())
            return Point(int(years[-1]), MONTH_NAMES.index(g("pm_m")) + 1) if years else None
        return month_only(MONTH_NAMES.index(g("pm_m")) + 1, ref, future)
    if g("rel_day"):
        shift = {"today": 0, "yesterday": -1, "tomorrow": 1}[g("rel_day").lower()]
        return Point.of(ref + timedelta(days=shift))
    if g("wd"):
        word = (g("wd_w") or "").lower()
        if word == "this":
            return Point.of(ref + timedelta(days=WEEKDAYS.index(g("wd")) - ref.weekday()))
        ahead = future if not word else word == "next"
        return Point.of(weekday(g("wd"), ref, ahead))
    if g("per"):
        word, unit = g("per_w").lower(), g("per")
        if word == "that":
            return None  # "that year" needs the year of the text before; left to the caller
        step = {"last": -1, "the previous": -1, "next": 1, "the following": 1, "this": 0}[word]
        if unit == "year":
            return Point(ref.year + step)
        if unit == "month":
            return shift_months(ref, step)
        return week_of(ref + timedelta(weeks=step))
    if g("first_weeks") is not None:
        return Point(ref.year, 1)
    if g("season"):
        month = _SEASON_MONTHS[g("season")]
        word = match.group(0).split()[0].lower()
        if word == "next":
            return Point(ref.year + 1)
        if word == "last":
            return Point(ref.year - 1)
        if word in ("in", "during") and future and month < ref.month - 1:
            return Point(ref.year + 1)
        if word in ("in", "during") and not future and month > ref.month + 1:
            return Point(ref.year - 1)
        return Point(ref.year)
    return None


_DURATION = re.compile(
    rf"\b(?P<n>\d{{1,2}}|{'|'.join(NUMBER_WORDS)})(?:-|\s+)(?P<unit>days?|weeks?)\b(?:\s+of\b)?",
    re.IGNORECASE,
)


def durations(text: str, offset: int = 0) -> list[tuple[int, int, int]]:
    """Stated durations in days: "five-day", "two days of", "3 days", "two-week" →
    ``(days, start, end)`` with spans offset by ``offset``."""
    found = []
    for match in _DURATION.finditer(text):
        word = match["n"].lower()
        n = int(word) if word.isdigit() else NUMBER_WORDS[word]
        days = n * 7 if match["unit"].lower().startswith("week") else n
        found.append((days, offset + match.start(), offset + match.end()))
    return found
