"""Who issued a page: its metadata Source, else its title ("Statement by …"), else the
structure the title names, the organiser of a meeting series it names, or the lead's first
structure."""

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
IRIS = Iris("https://w3id.org/osce-kg/")


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    reference = build_reference(ROOT / "data" / "reference", [], IRIS)
    return build_gazetteer(reference.graph, Graph().parse(ROOT / "ontology" / "osce.ttl"), IRIS)


def extracted(tmp_path: Path, gaz: Gazetteer, title: str, body: str) -> Extraction:
    path = tmp_path / "page.txt"
    path.write_text(f"{title}\nVIENNA, 4 March 2016 - {body}\n", encoding="utf-8")
    return extract(parse(path), gaz, IRIS)


def slug(ex: Extraction) -> str:
    assert ex.issuer is not None
    return str(ex.issuer).removeprefix(IRIS.base)


def test_statement_by_a_structure_names_the_issuer(tmp_path: Path, gazetteer: Gazetteer) -> None:
    ex = extracted(
        tmp_path,
        gazetteer,
        "Statement by the OSCE Chairperson-in-Office on the elections",
        "The Secretary General welcomed the vote.",
    )
    assert slug(ex) == "chairpersonship/2016"  # Germany's year, not the SG in the lead
    assert ex.issuer_label is None


def test_structure_inside_the_titles_issuer(tmp_path: Path, gazetteer: Gazetteer) -> None:
    ex = extracted(
        tmp_path,
        gazetteer,
        "Press statement of the Co-Chairs of the OSCE Minsk Group",
        "The Co-Chairs met the ministers.",
    )
    assert slug(ex) == "structure/minsk-group"


def test_unknown_issuer_in_title_is_minted_with_its_name(
    tmp_path: Path, gazetteer: Gazetteer
) -> None:
    ex = extracted(
        tmp_path,
        gazetteer,
        "Joint statement of the Friends of the Danube Talks on river safety",
        "The ODIHR was not involved.",
    )
    assert slug(ex) == "body/friends-of-the-danube-talks"
    assert ex.issuer_label == "Friends of the Danube Talks"
    assert any("Friends of the Danube Talks" in w for w in ex.warnings)


def test_lowercase_word_after_statement_of_is_no_issuer(
    tmp_path: Path, gazetteer: Gazetteer
) -> None:
    ex = extracted(
        tmp_path,
        gazetteer,
        "Statement of concern about media freedom",
        "The OSCE Representative on Freedom of the Media spoke.",
    )
    assert slug(ex) == "structure/representative-on-freedom-of-the-media"


def test_meeting_series_in_title_gives_its_organiser(tmp_path: Path, gazetteer: Gazetteer) -> None:
    ex = extracted(
        tmp_path,
        gazetteer,
        "Human Dimension Implementation Meeting opens in Warsaw",
        "The German OSCE Chairmanship opened the meeting.",
    )
    assert slug(ex) == "structure/odihr"


def test_structure_in_title_wins_over_series(tmp_path: Path, gazetteer: Gazetteer) -> None:
    ex = extracted(
        tmp_path,
        gazetteer,
        "OSCE Secretary General addresses the Economic and Environmental Forum",
        "The Forum met in Prague.",
    )
    assert slug(ex) == "structure/secretary-general"


def test_media_outlet_named_by_its_kind_is_an_organization(
    tmp_path: Path, gazetteer: Gazetteer
) -> None:
    ex = extracted(
        tmp_path,
        gazetteer,
        "Media freedom representative condemns attack",
        "A reporter for the news website Daily Trumpet.com was attacked; the SMM published "
        "its daily Spot Report, and the newspaper said nothing.",
    )
    assert set(ex.new_organizations.values()) == {"Daily Trumpet.com"}
    assert [m.exact for m in ex.mentions if m.kind == "organization"] == ["Daily Trumpet.com"]


def test_a_structure_for_one_conflict_makes_the_page_concern_it(
    tmp_path: Path, gazetteer: Gazetteer
) -> None:
    ex = extracted(
        tmp_path,
        gazetteer,
        "Monitors report shelling",
        "The OSCE Special Monitoring Mission to Ukraine recorded 300 explosions.",
    )
    (conflict,) = ex.conflicts
    assert str(conflict).endswith("conflict/ukraine")
    (evidence,) = [m for m in ex.mentions if m.kind == "structure"]
    assert evidence.exact == "OSCE Special Monitoring Mission to Ukraine"
    spans = [(m.start, m.end) for m in ex.mentions]
    assert len(spans) == len(set(spans)), "one annotation per span: it names one entity"


def test_a_structure_with_a_wider_mandate_says_nothing_of_a_conflict(
    tmp_path: Path, gazetteer: Gazetteer
) -> None:
    ex = extracted(
        tmp_path,
        gazetteer,
        "Gender equality workshop",
        "The OSCE Mission to Moldova held a workshop on gender equality in Comrat.",
    )
    assert ex.conflicts == set()


def test_one_person_across_transliterations_and_accents(
    tmp_path: Path, gazetteer: Gazetteer
) -> None:
    first = extracted(
        tmp_path,
        gazetteer,
        "Ministers meet",
        "Foreign Minister of the Russian Federation Sergei Lavrov met Harlem Désir.",
    )
    second = extracted(
        tmp_path,
        gazetteer,
        "Ministers meet again",
        "Foreign Minister of the Russian Federation Sergey Lavrov met Harlem Desir.",
    )
    assert first.entities("person") == second.entities("person")
    assert {str(p).rsplit("/", 1)[-1] for p in first.entities("person")} == {
        "sergey-lavrov",
        "harlem-desir",
    }
    assert IRIS.person("Rei Kawakubo") != IRIS.person("Rey Kawakubo")  # short names untouched
