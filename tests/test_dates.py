"""Dates: partial dates, ISO weeks, intervals, and relative expressions resolved against the
document's date, with tense and year boundaries."""

from __future__ import annotations

from datetime import date

import pytest

from kg_builder.dates import (
    Interval,
    Point,
    day_month,
    days_ending,
    days_starting,
    durations,
    find_dates,
    is_future,
    last_month_named,
    month_only,
    parse_when,
    week_interval,
    week_of,
    weekday,
)
from kg_builder.namespaces import XSD

WED = date(2017, 12, 13)  # a Wednesday
NEW_YEAR = date(2019, 1, 2)  # a Wednesday, just after the year boundary
YEAR_END = date(2018, 12, 28)  # a Friday, just before it


def resolved(text: str, ref: date | None, future: bool | None = None) -> list[str]:
    return [str(d.value) for d in find_dates(text, ref, future=future)]


# --- values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2018",
        "2018-05",
        "2018-05-04",
        "2011-W49",
        "2018-05-03/2018-05-04",
        "../2018-05-04",
        "2014-02/..",
        "2013-06/2014",
    ],
)
def test_parse_when_round_trips(text: str) -> None:
    assert str(parse_when(text)) == text


@pytest.mark.parametrize("text", ["2018-13", "2018-02-30", "2015-W54", "../..", "18-05", "May"])
def test_parse_when_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_when(text)


def test_interval_must_not_run_backwards() -> None:
    with pytest.raises(ValueError):
        Interval(Point(2018, 5, 4), Point(2018, 5, 3))


def test_point_precision_bounds_and_literal() -> None:
    assert Point(2018).precision == "year" and Point(2018, 2).last_day() == date(2018, 2, 28)
    assert Point(2016, 2).last_day() == date(2016, 2, 29)
    assert Point(2018, 5, 4).literal().datatype == XSD.date
    assert Point(2018, 5).literal().datatype == XSD.gYearMonth
    assert Point(2018).literal().datatype == XSD.gYear
    with pytest.raises(ValueError):
        Point(2011, week=49).literal()


def test_iso_weeks_across_year_boundaries() -> None:
    assert str(week_of(date(2011, 12, 7))) == "2011-W49"
    assert str(week_of(date(2021, 1, 1))) == "2020-W53"  # a Friday in the last week of 2020
    assert str(week_of(date(2018, 12, 31))) == "2019-W01"  # a Monday in week 1 of 2019
    assert str(week_interval(Point(2011, week=49))) == "2011-12-05/2011-12-11"


def test_durations_become_intervals() -> None:
    assert str(days_ending(date(2014, 2, 21), 5)) == "2014-02-17/2014-02-21"
    assert str(days_ending(date(2018, 3, 1), 3)) == "2018-02-27/2018-03-01"  # month boundary
    assert str(days_starting(date(2018, 12, 31), 2)) == "2018-12-31/2019-01-01"  # year boundary
    assert [
        d[0] for d in durations("a five-day visit after two days of talks, a 2-week course")
    ] == [
        5,
        2,
        14,
    ]


# --- relative dates ---------------------------------------------------------------------


def test_weekday_is_before_or_after_never_the_day_itself() -> None:
    assert weekday("Tuesday", WED, future=False) == date(2017, 12, 12)
    assert weekday("Wednesday", WED, future=False) == date(2017, 12, 6)
    assert weekday("Thursday", WED, future=False) == date(2017, 12, 7)
    assert weekday("Thursday", WED, future=True) == date(2017, 12, 14)
    assert weekday("Monday", WED, future=True) == date(2017, 12, 18)
    assert weekday("Monday", NEW_YEAR, future=False) == date(2018, 12, 31)  # over new year
    assert weekday("Monday", YEAR_END, future=True) == date(2018, 12, 31)


def test_day_month_takes_the_year_that_fits_the_tense() -> None:
    assert day_month(16, 1, date(2019, 3, 29), future=False) == date(2019, 1, 16)
    assert day_month(20, 12, NEW_YEAR, future=False) == date(2018, 12, 20)  # last year
    assert day_month(10, 1, YEAR_END, future=True) == date(2019, 1, 10)  # next year
    assert day_month(10, 1, YEAR_END, future=None) == date(2019, 1, 10)  # nearest
    assert day_month(28, 12, YEAR_END, future=False) == date(2018, 12, 28)  # the day itself
    assert day_month(29, 2, date(2017, 3, 1), future=False) == date(2016, 2, 29)  # leap year


def test_month_without_year() -> None:
    assert str(month_only(12, date(2017, 9, 8), future=True)) == "2017-12"
    assert str(month_only(12, date(2025, 1, 23), future=False)) == "2024-12"
    assert str(month_only(1, date(2025, 1, 23), future=False)) == "2025-01"
    assert str(month_only(2, YEAR_END, future=True)) == "2019-02"
    assert str(month_only(11, NEW_YEAR, future=None)) == "2018-11"
    assert str(last_month_named(9, date(2019, 3, 29))) == "2018-09"
    assert str(last_month_named(9, date(2019, 9, 2))) == "2018-09"  # not this month


@pytest.mark.parametrize(
    ("text", "ref", "expected"),
    [
        ("concluded today", date(2018, 5, 4), ["2018-05-04"]),
        ("Yesterday's elections", date(2018, 11, 7), ["2018-11-06"]),
        ("will enter into force tomorrow", date(2011, 11, 30), ["2011-12-01"]),
        ("tomorrow", YEAR_END.replace(day=31), ["2019-01-01"]),
        ("yesterday", date(2019, 1, 1), ["2018-12-31"]),
        ("On Tuesday, participants attended a session.", WED, ["2017-12-12"]),
        ("On Tuesday the Council will meet.", WED, ["2017-12-19"]),
        ("last September", date(2019, 3, 29), ["2018-09"]),
        ("last August", date(2014, 2, 21), ["2013-08"]),
        ("next March", date(2019, 3, 29), ["2020-03"]),
        ("last year", date(2011, 11, 30), ["2010"]),
        ("next year", WED, ["2018"]),
        ("this year's conference", WED, ["2017"]),
        ("next month", date(2025, 1, 23), ["2025-02"]),
        ("next month", date(2018, 12, 3), ["2019-01"]),
        ("last month", date(2019, 1, 3), ["2018-12"]),
        ("in Vilnius next week", date(2011, 11, 30), ["2011-W49"]),
        ("next week", YEAR_END, ["2019-W01"]),
        ("last week", NEW_YEAR, ["2018-W52"]),
        ("who took office in December.", date(2025, 1, 23), ["2024-12"]),
        ("It will meet in Vienna in December.", date(2017, 9, 8), ["2017-12"]),
        ("It will meet in January.", YEAR_END, ["2019-01"]),
        ("hosted in Paris on 16 January", date(2019, 3, 29), ["2019-01-16"]),
        ("The next round will be on 10 January.", YEAR_END, ["2019-01-10"]),
        ("signed on 1 August 1975", WED, ["1975-08-01"]),
        ("in June 2013", WED, ["2013-06"]),
        ("in 1994", WED, ["1994"]),
        ("held on 3 and 4 May", date(2018, 5, 4), ["2018-05-03/2018-05-04"]),
        ("on 27 and 28 March 2018", WED, ["2018-03-27/2018-03-28"]),
        ("on 12-13 December", WED, ["2017-12-12/2017-12-13"]),
        ("from 22 to 26 September 2014", WED, ["2014-09-22/2014-09-26"]),
        ("from 30 November to 2 December 2011", WED, ["2011-11-30/2011-12-02"]),
        ("from 28 December to 3 January", NEW_YEAR, ["2018-12-28/2019-01-03"]),
        ("in the first weeks of the Chairpersonship", date(2025, 1, 23), ["2025-01"]),
        ("It will hold a gathering in the summer.", date(2025, 1, 23), ["2025"]),
        ("adopted in July 2003 and endorsed that December", WED, ["2003-07", "2003-12"]),
        ("the six-point agreement of 12 August 2008", WED, ["2008-08-12"]),
    ],
)
def test_find_dates(text: str, ref: date, expected: list[str]) -> None:
    assert resolved(text, ref) == expected


def test_find_dates_keeps_spans_and_offsets() -> None:
    text = "The round ended today. The next one is on 27 and 28 March 2018."
    found = find_dates(text, WED, offset=100)
    assert [(d.text, d.start - 100, d.end - 100) for d in found] == [
        ("today", 16, 21),
        ("27 and 28 March 2018", 42, 62),
    ]
    assert all(text[d.start - 100 : d.end - 100] == d.text for d in found)


@pytest.mark.parametrize(
    "text",
    [
        "Vienna Document 2011",  # a bare number in a name is no date
        "the 2030 Agenda",
        "more than 10,000 violations",
        "She may attend.",  # "may" is no month
        "The 56 participating States",
        "that December",  # no year stated before it
        "on 31 February",
    ],
)
def test_find_dates_ignores(text: str) -> None:
    assert resolved(text, WED) == []


def test_relative_dates_need_a_reference_date() -> None:
    assert resolved("today, on 16 January, in June 2013", None) == ["2013-06"]


def test_forced_tense() -> None:
    assert resolved("on Monday", WED, future=True) == ["2017-12-18"]
    assert resolved("on Monday", WED, future=False) == ["2017-12-11"]


def test_is_future() -> None:
    assert is_future("The next round will take place in March.")
    assert is_future("ahead of the Ministerial Council")
    assert not is_future("The round ended today.")
