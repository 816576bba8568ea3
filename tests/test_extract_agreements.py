"""Agreements, decisions and documents: proper names as written (with their year or
qualifier), descriptive mentions with their dates, abbreviations resolved within the document,
and what is not an agreement."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from kg_builder.extract import Extraction, extract
from kg_builder.gazetteer import Gazetteer, build_gazetteer
from kg_builder.iris import Iris
from kg_builder.namespaces import OSCE
from kg_builder.parse import parse
from kg_builder.reference import build_reference

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data" / "sources" / "000_9fd24956cc425f56.txt"
IRIS = Iris("https://w3id.org/osce-kg/")


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    reference = build_reference(ROOT / "data" / "reference", [parse(SEED)], IRIS)
    return build_gazetteer(reference.graph, Graph().parse(ROOT / "ontology" / "osce.ttl"), IRIS)


def run(
    tmp_path: Path, gaz: Gazetteer, body: str, dateline: str = "VIENNA, 4 March 2021"
) -> Extraction:
    path = tmp_path / "page.txt"
    path.write_text(f"News of the day\n{dateline} - {body}\n", encoding="utf-8")
    return extract(parse(path), gaz, IRIS)


def labels(ex: Extraction) -> dict[str, str | None]:
    return {a.label: (str(a.when) if a.when is not None else None) for a in ex.agreements.values()}


def test_proper_names_keep_year_and_qualifier(tmp_path: Path, gazetteer: Gazetteer) -> None:
    ex = run(
        tmp_path,
        gazetteer,
        "The Forum adopted the Vienna Document 2019, which replaces the Vienna Document 2011. "
        "Under the Vienna Document, States exchange data. Speakers recalled the 1975 Helsinki "
        "Final Act, the Charter of Paris for a New Europe and the Berlin Protocol of June 2016, "
        "as well as the Bonn Guidelines on Protection of Wetlands of 2012.",
    )
    got = labels(ex)
    assert got["Vienna Document 2019"] == "2019" and "Vienna Document 2011" in got
    assert "Vienna Document" not in got  # it abbreviates both: left out
    assert got["1975 Helsinki Final Act"] == "1975"
    assert "Charter of Paris for a New Europe" in got
    assert got["Berlin Protocol"] == "2016-06"
    assert got["Bonn Guidelines on Protection of Wetlands"] == "2012"
    kinds = {a.label: a.kind for a in ex.agreements.values()}
    assert kinds["Berlin Protocol"] == OSCE.Agreement
    # names inside agreement names are no places (the dateline "VIENNA" is one)
    places = {m.exact for m in ex.mentions if m.kind == "place"}
    assert places == {"VIENNA"}


def test_numbered_decisions_behind_a_structure(tmp_path: Path, gazetteer: Gazetteer) -> None:
    ex = run(
        tmp_path,
        gazetteer,
        "Under Permanent Council Decision No. 1117 of March 2014, monitors move freely.",
    )
    ref = next(iter(ex.agreements.values()))
    assert ref.label == "Permanent Council Decision No. 1117"
    assert str(ref.when) == "2014-03" and ref.kind == OSCE.Decision


def test_descriptive_mentions_and_their_dates(tmp_path: Path, gazetteer: Gazetteer) -> None:
    ex = run(
        tmp_path,
        gazetteer,
        "The sides recalled the five-point agreement of 3 May 2009, respected the 1994 "
        "ceasefire and the ceasefire arrangement of 9 November, and discussed the so-called "
        '"package of eight". Ministers adopted decisions on strengthening border security, '
        "on the prevention of torture at its meeting, and on media freedom.",
    )
    got = labels(ex)
    assert got["Five-point agreement of 3 May 2009"] == "2009-05-03"
    assert got["1994 ceasefire"] == "1994"
    assert got["Ceasefire arrangement of 9 November"] == "2020-11-09"  # the last 9 November
    assert "package of eight" in got
    assert "decision on strengthening border security" in got
    assert "decision on the prevention of torture" in got
    assert "decision on media freedom" in got


def test_short_mentions_are_the_full_name(tmp_path: Path, gazetteer: Gazetteer) -> None:
    ex = run(
        tmp_path,
        gazetteer,
        "The OSCE Action Plan to Combat Corruption in Public Procurement turns ten. The Action "
        "Plan was adopted in 2011. Delegates cited the 2030 Agenda for Sustainable Development "
        "and the Paris Agreement on climate change.",
    )
    got = labels(ex)
    assert set(got) == {
        "OSCE Action Plan to Combat Corruption in Public Procurement",
        "2030 Agenda for Sustainable Development",
        "Paris Agreement",
    }
    mentions = [m for m in ex.mentions if m.kind == "agreement"]
    assert len(mentions) == 4  # "The Action Plan" is a mention of the full name


def test_what_is_not_an_agreement(tmp_path: Path, gazetteer: Gazetteer) -> None:
    ex = run(
        tmp_path,
        gazetteer,
        "The Press Statement was read out. An EU Statement followed. They continued work on a "
        "draft joint statement on the non-use of force. The Statement by the Chairperson "
        "welcomed the meeting of 5 May. Final Document drafts circulated.",
    )
    assert labels(ex) == {}
