"""Extract stage: what the seed says, and the rules that keep mentions honest."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef

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
    assert doc.menu is not None
    reference = build_reference(ROOT / "data" / "reference", [doc], IRIS)
    return build_gazetteer(reference.graph, Graph().parse(ROOT / "ontology" / "osce.ttl"), IRIS)


@pytest.fixture(scope="module")
def seed(gazetteer: Gazetteer) -> Extraction:
    return extract(parse(SEED), gazetteer, IRIS)


def names(iris: set[URIRef]) -> set[str]:
    return {str(i).rsplit("/", 1)[-1] for i in iris}


def page(tmp_path: Path, body: str, title: str = "A statement") -> Path:
    path = tmp_path / "page.txt"
    path.write_text(f"{title}\nVIENNA, 4 December 2014 - {body}\n", encoding="utf-8")
    return path


def test_seed_states_come_from_body_and_dateline_not_menu(seed: Extraction) -> None:
    assert names(seed.entities("state")) == {
        "armenia",
        "azerbaijan",
        "france",
        "russian-federation",
        "switzerland",
        "united-states-of-america",
    }


def test_seed_persons_posts_and_states(seed: Extraction) -> None:
    got = {(p.holder_name, p.role_label, str(p.of).rsplit("/", 1)[-1]) for p in seed.posts.values()}
    assert got == {
        ("Sergey Lavrov", "Foreign Minister", "russian-federation"),
        ("John Kerry", "Secretary of State", "united-states-of-america"),
        ("Harlem Desir", "State Secretary for European Affairs", "france"),
    }
    assert all(p.of_is_state for p in seed.posts.values())


def test_seed_document_record(seed: Extraction) -> None:
    assert str(seed.issuer).endswith("/structure/minsk-group")
    assert seed.place is not None and seed.place.name == "Basel"
    assert seed.place.city is not None and seed.place.city.geonames_id == 2661604
    assert [label for _c, label, known in seed.fields_of_work if known] == [
        "Conflict prevention and resolution"
    ]
    assert names(seed.conflicts) == {"nagorno-karabakh"}


def test_seed_meetings_with_place_and_year(seed: Extraction) -> None:
    got = sorted((m.label, str(m.when)) for m in seed.meetings.values())
    assert got == [
        ("Meeting of Armenia and Azerbaijan in Newport, 2014", "2014"),
        ("Meeting of Armenia and Azerbaijan in Paris, 2014", "2014"),
        ("Meeting of Armenia and Azerbaijan in Sochi, 2014", "2014"),
    ]


def test_ambiguous_newport_is_left_unlinked(seed: Extraction) -> None:
    by_name = {p.name: p for p in seed.places.values()}
    assert by_name["Newport"].state is None and by_name["Newport"].city is None
    assert by_name["Sochi"].state is not None and str(by_name["Sochi"].state).endswith(
        "russian-federation"
    )
    assert by_name["Paris"].city is not None and by_name["Paris"].city.country_code == "FR"


def test_seed_agreements_with_dates(seed: Extraction) -> None:
    got = sorted((a.label, str(a.when)) for a in seed.agreements.values())
    assert got == [("Astrakhan statement", "2010-10"), ("Ceasefire of 1994", "1994")]


def test_every_mention_quotes_the_source_text_at_its_offsets(seed: Extraction) -> None:
    text = seed.document.text
    assert len(seed.mentions) > 20
    for mention in seed.mentions:
        assert text[mention.start : mention.end] == mention.exact
    menu_end = text.index("Press release\n")
    assert all(m.start > menu_end for m in seed.mentions)


def test_state_inside_structure_name_is_not_a_state(tmp_path: Path, gazetteer: Gazetteer) -> None:
    ex = extract(
        parse(page(tmp_path, "The OSCE Mission to Moldova met partners.")), gazetteer, IRIS
    )
    assert names(ex.entities("structure")) == {"mission-to-moldova"}
    assert ex.entities("state") == set()


def test_ethnonyms_languages_and_us_state_are_not_states(
    tmp_path: Path, gazetteer: Gazetteer
) -> None:
    body = (
        "She met ethnic Armenian and Azerbaijani communities, who speak Russian or Georgian. "
        "Observers went to the state of Georgia. The Austrian Foreign Minister spoke."
    )
    ex = extract(parse(page(tmp_path, body)), gazetteer, IRIS)
    assert names(ex.entities("state")) == {"austria"}


def test_surname_mentions_resolve_to_the_full_name(tmp_path: Path, gazetteer: Gazetteer) -> None:
    body = "Foreign Minister of Armenia Edward Nalbandian arrived. Later Nalbandian said more."
    ex = extract(parse(page(tmp_path, body)), gazetteer, IRIS)
    persons = [m for m in ex.mentions if m.kind == "person"]
    assert [m.exact for m in persons] == ["Edward Nalbandian", "Nalbandian"]
    assert len({m.entity for m in persons}) == 1


def test_adjective_post_pattern(tmp_path: Path, gazetteer: Gazetteer) -> None:
    ex = extract(
        parse(page(tmp_path, "Swiss Foreign Minister Didier Burkhalter opened it.")),
        gazetteer,
        IRIS,
    )
    (post,) = ex.posts.values()
    assert (post.holder_name, post.label) == (
        "Didier Burkhalter",
        "Foreign Minister of Switzerland",
    )


def test_spans_agree_with_brute_force() -> None:
    import random

    from kg_builder.extract import Spans

    rng = random.Random(7)
    for _trial in range(200):
        spans, taken = Spans(), []
        for _ in range(40):
            a = rng.randrange(200)
            b = a + rng.randrange(1, 12)
            assert spans.free(a, b) == all(b <= s or a >= e for s, e in taken)
            if rng.random() < 0.6:
                spans.take(a, b)
                taken.append((a, b))


def test_persons_listed_with_posts_keep_their_own_posts(seed: Extraction) -> None:
    holders = {(p.holder_name, p.role_label) for p in seed.posts.values()}
    assert ("John Kerry", "State Secretary for European Affairs") not in holders
    assert ("Harlem Desir", "State Secretary for European Affairs") in holders


def test_alternate_names_need_the_country() -> None:
    """Regression: without a country, GeoNames' alternate names linked "Gali" (Georgia) to
    Galle, Sri Lanka; with the country they still find Sokhumi for "Sukhumi"."""
    from kg_builder import places

    assert places.resolve("Gali") is None
    sukhumi = places.resolve("Sukhumi", "GE")
    assert sukhumi is not None and sukhumi.country_code == "GE"
