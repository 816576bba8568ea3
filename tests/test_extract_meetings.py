"""Meetings: place, date (relative dates resolved against the page's date), type, planned,
participants — and the statements that must not become meetings."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from kg_builder.extract import Extraction, extract
from kg_builder.gazetteer import Gazetteer, build_gazetteer
from kg_builder.iris import Iris
from kg_builder.parse import parse
from kg_builder.reference import build_reference

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data" / "sources" / "000_9fd24956cc425f56.txt"
IRIS = Iris("https://w3id.org/osce-kg/")


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    doc = parse(SEED)
    reference = build_reference(ROOT / "data" / "reference", [doc], IRIS)
    return build_gazetteer(reference.graph, Graph().parse(ROOT / "ontology" / "osce.ttl"), IRIS)


def run(tmp_path: Path, gaz: Gazetteer, body: str) -> Extraction:
    """A title_dateline page dated Thursday 4 December 2014, datelined Vienna."""
    path = tmp_path / "page.txt"
    path.write_text(f"A statement\nVIENNA, 4 December 2014 - {body}\n", encoding="utf-8")
    return extract(parse(path), gaz, IRIS)


def keys(ex: Extraction, gaz: Gazetteer) -> set[str]:
    def place(m: object) -> str:
        iri = m.place  # type: ignore[attr-defined]
        if iri is None:
            return ""
        return ex.places[iri].name if iri in ex.places else gaz.label(iri)

    return {f"{place(m)} | {m.when or ''}" for m in ex.meetings.values()}


def kinds(ex: Extraction) -> set[str]:
    return {m.kind for m in ex.meetings.values()}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # the lead sentence's "today" meeting is at the dateline
        ("The 12th round of talks ended today.", {"Vienna | 2014-12-04"}),
        # a stated duration and "concluded today" make an interval ending today
        (
            "The Special Representative today concluded a three-day visit to Armenia.",
            {"Armenia | 2014-12-02/2014-12-04"},
        ),
        # a visit that concluded today, with no duration, has an open start
        ("The Secretary General concluded a visit to Serbia today.", {"Serbia | ../2014-12-04"}),
        # past-tense weekday: the Tuesday before the page's Thursday
        (
            "Experts met. On Tuesday, participants attended a seminar in Belgrade on border "
            "security.",
            {"Belgrade | 2014-12-02"},
        ),
        # day-month without year, past tense → this year
        ("The Co-Chairs hosted consultations in Paris on 16 January.", {"Paris | 2014-01-16"}),
        # day range with "and"
        (
            "Participants agreed to hold the next round on 27 and 28 January.",
            {" | 2015-01-27/2015-01-28"},
        ),
        # a named summit: its city is the place
        ("The post was created at the Helsinki Summit in 1992.", {"Helsinki | 1992"}),
        # a council with a place and a relative month
        (
            "The decision was endorsed by the Ministerial Council in Basel last month.",
            {"Basel | 2014-11"},
        ),
        # "next week" → an ISO week
        (
            "She hopes the Ministerial Council in Basel next week will agree.",
            {"Basel | 2014-W50"},
        ),
        # travelling to a list of States
        (
            "He said he had travelled to Ukraine and Moldova in June 2014.",
            {"Ukraine | 2014-06", "Moldova | 2014-06"},
        ),
        # yesterday's elections in a country
        ("Yesterday's parliamentary elections in Ukraine were calm.", {"Ukraine | 2014-12-03"}),
        # a press briefing
        (
            "The Chief Monitor told journalists in Kyiv today that fighting went on.",
            {"Kyiv | 2014-12-04"},
        ),
    ],
)
def test_meeting_place_and_date(
    tmp_path: Path, gazetteer: Gazetteer, body: str, expected: set[str]
) -> None:
    assert keys(run(tmp_path, gazetteer, body), gazetteer) == expected


@pytest.mark.parametrize(
    "body",
    [
        # an adoption act is not a meeting
        "The Action Plan was adopted by the Permanent Council in July 2003.",
        # a council as a body, with a place further on in another clause
        "The Forum meets alongside the Permanent Council, and meets weekly in Vienna.",
        # anaphoric mentions without place or date of their own
        "The Co-Chairs spoke to journalists after the meeting. The round was co-chaired by Italy.",
        # plural and generic mentions
        "States accept evaluation visits on their territory since 2010.",
        "The sides must respect the ceasefire of 1994 and create an atmosphere for peace talks.",
        # a date that belongs to something else in a long sentence
        "Training modules at the academy in Bishkek will be adapted.",
        # an organization's name is not a conference
        "The post was set up by the Conference on Security and Co-operation in Europe in 1992.",
        # a structure's seat is not a meeting place
        "The Secretary General also met the staff of the Programme Office in Dushanbe.",
    ],
)
def test_no_meeting(tmp_path: Path, gazetteer: Gazetteer, body: str) -> None:
    assert keys(run(tmp_path, gazetteer, body), gazetteer) == set()


def test_planned_meeting_type_and_participants(tmp_path: Path, gazetteer: Gazetteer) -> None:
    ex = run(
        tmp_path,
        gazetteer,
        "The next Ministerial Council will take place in Stockholm in December 2015.",
    )
    (meeting,) = ex.meetings.values()
    assert meeting.planned and meeting.kind == "Ministerial Council meeting (planned)"
    assert str(meeting.when) == "2015-12"
    assert meeting.meeting_type is not None  # the site's "Ministerial Council meetings"


def test_duration_stated_in_a_later_sentence(tmp_path: Path, gazetteer: Gazetteer) -> None:
    ex = run(
        tmp_path,
        gazetteer,
        "Experts gathered in Vienna today for the opening of the 5th Conference on cyber "
        "security. The two-day conference, which continues tomorrow, has three panels.",
    )
    assert keys(ex, gazetteer) == {"Vienna | 2014-12-04/2014-12-05"}


def test_opening_session_and_nth_day(tmp_path: Path, gazetteer: Gazetteer) -> None:
    ex = run(
        tmp_path,
        gazetteer,
        "Twenty officers completed a five-day course in Osh today. On the second day of the "
        "course they travelled to Uzgen, where they met volunteers.",
    )
    assert keys(ex, gazetteer) == {"Osh | 2014-11-30/2014-12-04", "Uzgen | 2014-12-01"}
    assert kinds(ex) == {"training course", "visit"}


def test_meeting_with_named_person_needs_no_place(tmp_path: Path, gazetteer: Gazetteer) -> None:
    ex = run(
        tmp_path,
        gazetteer,
        "During the visit, Lamberto Zannier was received by Foreign Minister Sergey Lavrov.",
    )
    (meeting,) = ex.meetings.values()
    assert meeting.place is None and meeting.when is None
    assert meeting.kind == "bilateral meeting" and len(meeting.participants) >= 1


def test_every_meeting_has_a_span(tmp_path: Path, gazetteer: Gazetteer) -> None:
    ex = run(tmp_path, gazetteer, "The 12th round of talks ended in Geneva today.")
    spans = [m for m in ex.mentions if m.kind == "meeting"]
    assert len(spans) == 1 and spans[0].exact == "12th round of talks ended in Geneva today"
    assert ex.document.text[spans[0].start : spans[0].end] == spans[0].exact


def test_rdf_of_intervals_weeks_host_states_and_planned(
    tmp_path: Path, gazetteer: Gazetteer
) -> None:
    from datetime import datetime

    from kg_builder.build import BuildInfo, build_document
    from kg_builder.namespaces import OSCE, RDF, RDFS, SCHEMA, TIME

    ex = run(
        tmp_path,
        gazetteer,
        "The Special Representative today concluded a three-day visit to Armenia. She hopes "
        "the Ministerial Council in Basel next week will agree.",
    )
    g = build_document(ex, IRIS, BuildInfo("b", datetime(2014, 12, 4), {})).graph
    by_kind = {m.kind: m for m in ex.meetings.values()}
    visit = by_kind["visit"]
    assert (visit.iri, OSCE.hostCountry, visit.place) in g  # a State, not a schema:location
    assert (visit.iri, SCHEMA.location, None) not in g
    (interval,) = g.objects(visit.iri, TIME.hasTime)
    assert str(g.value(interval, RDFS.label)) == "2014-12-02/2014-12-04"
    council = by_kind["Ministerial Council meeting (planned)"]
    assert (council.iri, RDF.type, OSCE.PlannedMeeting) in g
    (week,) = g.objects(council.iri, TIME.hasTime)
    start = g.value(g.value(week, TIME.hasBeginning), TIME.inXSDDate)
    end = g.value(g.value(week, TIME.hasEnd), TIME.inXSDDate)
    assert (str(start), str(end)) == ("2014-12-08", "2014-12-14")  # Monday to Sunday
    (concept,) = g.objects(council.iri, OSCE.meetingType)
    assert (concept, RDF.type, OSCE.MeetingType) in g
