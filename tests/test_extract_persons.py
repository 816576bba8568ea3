"""Persons and their posts: titles before and after names, lists, former and incoming posts,
posts of other organisations, and what must not become a post."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from rdflib import Graph, URIRef

from kg_builder.build import BuildInfo, build_document
from kg_builder.extract import Extraction, extract
from kg_builder.gazetteer import Gazetteer, build_gazetteer, trie
from kg_builder.iris import Iris
from kg_builder.namespaces import ORG, OSCE
from kg_builder.parse import parse
from kg_builder.reference import build_reference

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data" / "sources" / "000_9fd24956cc425f56.txt"
IRIS = Iris("https://w3id.org/osce-kg/")


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    reference = build_reference(ROOT / "data" / "reference", [parse(SEED)], IRIS)
    return build_gazetteer(reference.graph, Graph().parse(ROOT / "ontology" / "osce.ttl"), IRIS)


def run(tmp_path: Path, gaz: Gazetteer, body: str, title: str = "A statement") -> Extraction:
    path = tmp_path / "page.txt"
    path.write_text(f"{title}\nVIENNA, 4 December 2016 - {body}\n", encoding="utf-8")
    return extract(parse(path), gaz, IRIS)


def posts(ex: Extraction) -> set[tuple[str, str, str, str]]:
    """(holder, status, role as stated, owner's IRI slug)"""
    return {
        (p.holder_name, p.status, p.role_label, str(p.of).rstrip("/").rsplit("/", 1)[-1])
        for p in ex.posts.values()
    }


def persons(ex: Extraction) -> set[str]:
    return {m.exact for m in ex.mentions if m.kind == "person"}


def test_a_list_shares_one_role(tmp_path: Path, gazetteer: Gazetteer) -> None:
    body = (
        "The Co-Chairs of the OSCE Minsk Group, Jean Dupont of France, Ivan Petrov of the "
        "Russian Federation and John Miller of the United States, met the sides."
    )
    assert posts(run(tmp_path, gazetteer, body)) == {
        ("Jean Dupont", "", "Co-Chair", "minsk-group"),
        ("Ivan Petrov", "", "Co-Chair", "minsk-group"),
        ("John Miller", "", "Co-Chair", "minsk-group"),
    }


def test_apposition_after_and_before_the_name(tmp_path: Path, gazetteer: Gazetteer) -> None:
    body = (
        "Ambassador Karl Berger, Head of the OSCE Mission to Moldova, opened the event. "
        "The Head of the OSCE Mission to Skopje, Ambassador Clemens Koja, spoke too. "
        'Berger said: "We are ready."'
    )
    ex = run(tmp_path, gazetteer, body)
    assert posts(ex) == {
        ("Karl Berger", "", "Head", "mission-to-moldova"),
        ("Clemens Koja", "", "Head", "mission-to-skopje"),
    }
    berger = [m for m in ex.mentions if m.kind == "person" and "Berger" in m.exact]
    assert [m.exact for m in berger] == ["Karl Berger", "Berger"]
    assert len({m.entity for m in berger}) == 1


def test_two_posts_in_one_phrase(tmp_path: Path, gazetteer: Gazetteer) -> None:
    body = (
        "The OSCE Chairperson-in-Office, Slovak Foreign and European Affairs Minister Pavol "
        "Hrusovsky, welcomed it. Anna Lind, Minister for Foreign Affairs of Sweden and OSCE "
        "Chairperson-in-Office, agreed."
    )
    assert posts(run(tmp_path, gazetteer, body)) == {
        ("Pavol Hrusovsky", "", "Chairperson-in-Office", "osce"),
        ("Pavol Hrusovsky", "", "Foreign and European Affairs Minister", "slovakia"),
        ("Anna Lind", "", "Minister for Foreign Affairs", "sweden"),
        ("Anna Lind", "", "Chairperson-in-Office", "osce"),
    }


def test_former_and_incoming_posts(tmp_path: Path, gazetteer: Gazetteer) -> None:
    body = (
        "Marco Rossi, the CiO's Special Representative for the Settlement Process, spoke. "
        '"Talks matter," Rossi, a former Italian Foreign Minister, said. '
        "Former British Prime Minister Jane Smith, who as Home Secretary reformed the police, "
        "also spoke. Eva Berg, the incoming Chairperson-in-Office, attended."
    )
    assert posts(run(tmp_path, gazetteer, body)) == {
        (
            "Marco Rossi",
            "",
            "Special Representative of the OSCE Chairperson-in-Office for the Settlement Process",
            "chairpersonship",
        ),
        ("Marco Rossi", "former", "Foreign Minister", "italy"),
        ("Jane Smith", "former", "Prime Minister", "united-kingdom"),
        ("Jane Smith", "former", "Home Secretary", "united-kingdom"),
        ("Eva Berg", "incoming", "Chairperson-in-Office", "osce"),
    }


def test_posts_of_other_organizations(tmp_path: Path, gazetteer: Gazetteer) -> None:
    body = (
        "Peter Kovac, the recently appointed EU Special Representative for Central Asia, and "
        "Maria Lopez, Special Adviser to the UN Secretary-General on Migration, spoke."
    )
    assert posts(run(tmp_path, gazetteer, body)) == {
        ("Peter Kovac", "", "EU Special Representative for Central Asia", "european-union"),
        (
            "Maria Lopez",
            "",
            "Special Adviser to the UN Secretary-General on Migration",
            "united-nations",
        ),
    }


def test_titles_with_complements_and_delegations(tmp_path: Path, gazetteer: Gazetteer) -> None:
    body = (
        "The Moldovan delegation was headed by Deputy Prime Minister for Reintegration Ion "
        "Popa. The meeting was opened by Austria's Federal Minister of Finance, Hans Gruber, "
        "and by Georgian Minister of Migration and European Affairs Nino Beridze."
    )
    assert posts(run(tmp_path, gazetteer, body)) == {
        ("Ion Popa", "", "Deputy Prime Minister for Reintegration", "moldova"),
        ("Hans Gruber", "", "Federal Minister of Finance", "austria"),
        ("Nino Beridze", "", "Minister of Migration and European Affairs", "georgia"),
    }


def test_structure_posts_and_free_text_titles(tmp_path: Path, gazetteer: Gazetteer) -> None:
    body = (
        "Lena Vogel, Head of the OSCE PA delegation, and Tom Hart, Director of the Office for "
        "Democratic Institutions and Human Rights (ODIHR), presented the report. Paul Dorn, a "
        "member of the Estonian parliament, joined them."
    )
    assert posts(run(tmp_path, gazetteer, body)) == {
        ("Lena Vogel", "", "Head of the OSCE PA delegation", "parliamentary-assembly"),
        ("Tom Hart", "", "Director", "odihr"),
        ("Paul Dorn", "", "member of parliament", "estonia"),
    }


def test_occupations_make_persons_and_posts_only_with_an_owner(
    tmp_path: Path, gazetteer: Gazetteer
) -> None:
    body = (
        "The Representative condemned the murder of investigative journalist Ivan Horak and "
        "his partner Eva Mala, months after the killing of the Maltese journalist Rita Borg."
    )
    ex = run(tmp_path, gazetteer, body)
    assert {"Ivan Horak", "Eva Mala", "Rita Borg"} <= persons(ex)
    assert posts(ex) == {("Rita Borg", "", "journalist", "malta")}


def test_a_state_post_takes_the_state_of_the_title_only(
    tmp_path: Path, gazetteer: Gazetteer
) -> None:
    title = "Secretary General visits Tajikistan"
    body = (
        "The Secretary General was received by President Ali Karimov. He also met Interior "
        "Minister Sher Nazarov, who had visited Uzbekistan."
    )
    ex = run(tmp_path, gazetteer, body, title)
    assert posts(ex) == {("Ali Karimov", "", "President", "tajikistan")}
    assert "Sher Nazarov" in persons(ex)  # a person, but whose minister is unclear


def test_what_must_not_become_a_person_or_post(tmp_path: Path, gazetteer: Gazetteer) -> None:
    body = (
        "In Working Group I, participants discussed security. Jan Vos, a Dutch diplomat, "
        "chaired it. Swiss Federal Councillor Rolf Keller and State Secretary Ute Frei "
        "attended. Prime Minister Ivo Lang, Foreign Minister Ana Kos, and the Public "
        "Defender, Mia Vuk, met the Secretary General of the European External Action Service."
    )
    ex = run(tmp_path, gazetteer, body, "Visit to Croatia")
    names = persons(ex)
    assert not {n for n in names if "Working" in n or "Group" in n}
    got = posts(ex)
    assert ("Ivo Lang", "", "Prime Minister", "croatia") in got
    assert ("Ana Kos", "", "Foreign Minister", "croatia") in got
    assert ("Mia Vuk", "", "Public Defender", "croatia") in got
    assert not [p for p in got if p[0] == "Jan Vos" or "Councillor" in p[2]]
    assert not [p for p in got if p[0] == "Ivo Lang" and p[2] != "Prime Minister"]


def test_former_posts_are_not_held_in_the_graph(tmp_path: Path, gazetteer: Gazetteer) -> None:
    body = "Marta Kis, a former Hungarian Foreign Minister, became OSCE Secretary General."
    ex = run(tmp_path, gazetteer, body)
    info = BuildInfo("test", datetime(2026, 1, 1, tzinfo=UTC), {})
    g = build_document(ex, IRIS, info).graph
    person = IRIS.person("Marta Kis")
    (former,) = g.objects(person, OSCE.formerlyHeld)
    assert list(g.objects(person, ORG.holds)) == []
    assert (former, OSCE.postOf, IRIS.relative("state/hungary")) in g
    assert (former, OSCE.attestedOn, None) not in g
    assert isinstance(former, URIRef)


def test_trie_prefers_the_longest_label() -> None:
    import re

    pattern = re.compile(rf"(?:{trie(['Fin', 'Finland', 'Finnish', 'A', 'An'])})(?!\w)")
    assert [pattern.match(w) is not None for w in ("Finland", "Fin", "Finl", "An")] == [
        True,
        True,
        False,
        True,
    ]


def test_a_reporter_for_a_news_outlet(tmp_path: Path, gazetteer: Gazetteer) -> None:
    body = "Ivan Horak, a reporter for the news website Dennik.sk, was threatened. Horak left."
    got = posts(run(tmp_path, gazetteer, body))
    assert got == {("Ivan Horak", "", "reporter", "dennik-sk")}
