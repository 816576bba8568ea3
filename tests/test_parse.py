"""Parse stage: layouts, menu, metadata block, dateline — on the seed and the devset pages."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from kg_builder.errors import ParseError, SourceError
from kg_builder.parse import parse

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data" / "sources" / "000_9fd24956cc425f56.txt"
DEVSET = ROOT / "tests" / "fixtures" / "devset"
GOLD = json.loads((DEVSET / "gold.json").read_text(encoding="utf-8"))


def test_seed_is_full_layout_with_metadata() -> None:
    doc = parse(SEED)
    assert doc.layout == "full"
    assert doc.type_label == "Press release"
    assert doc.title == (
        "Joint Statement by the Heads of Delegation of the OSCE Minsk Group Co-Chair Countries"
    )
    assert doc.metadata.date is None
    assert (doc.metadata.place_city, doc.metadata.place_country) == ("BASEL", "Switzerland")
    assert doc.metadata.source == "Minsk Group"
    assert doc.metadata.fields_of_work == ("Conflict prevention and resolution",)


def test_seed_date_comes_from_the_dateline_when_metadata_date_is_empty() -> None:
    doc = parse(SEED)
    assert doc.dateline is not None
    assert (doc.dateline.city, doc.dateline.country) == ("BASEL", "Switzerland")
    assert doc.date == date(2014, 12, 4)
    assert doc.date_source == "dateline"


def test_seed_menu_sections() -> None:
    menu = parse(SEED).menu
    assert menu is not None
    assert len(menu.items("Participating States")) == 59  # 57 States + 2 partner-group links
    assert "Finland – OSCE Chairpersonship 2025" in menu.items("Participating States")
    assert "Conflict prevention and resolution" in menu.items("Fields of work")
    assert "Conflict Prevention Centre" in menu.items("Secretariat")
    assert "Mission to Moldova" in menu.items("Field operations")
    assert "Summit meetings" in menu.items("Meetings and conferences")


def test_menu_and_metadata_are_not_searched() -> None:
    doc = parse(SEED)
    kinds = [r.kind for r in doc.regions]
    assert kinds == ["title", "body"]
    body = doc.regions[-1]
    assert body.text.startswith("BASEL, Switzerland, 4 December 2014 - We,")
    assert "Participating States" not in body.text and "- Source:" not in body.text
    assert doc.text[body.start : body.end] == body.text


@pytest.mark.parametrize("gold", GOLD, ids=lambda g: g["id"])
def test_devset_layout_date_title_and_body(gold: dict[str, object]) -> None:
    doc = parse(DEVSET / Path(str(gold["file"])).name)
    assert doc.layout == gold["layout"]
    assert doc.title == gold["title"]
    assert doc.date is not None and doc.date.isoformat() == gold["date"]
    body = doc.regions[-1]
    assert doc.text[: body.start].count("\n") + 1 == gold["body_start_line"]
    if gold["issuer_basis"] == "metadata Source":
        assert doc.metadata.fields_of_work == tuple(gold["fields_of_work"])  # type: ignore[arg-type]


def test_dev09_metadata_date_wins_and_body_bullets_stay_in_body() -> None:
    doc = parse(DEVSET / "dev09_mc_tirana_2020-12-04.txt")
    assert doc.date_source == "metadata"
    assert "- Helga Maria Schmid of Germany" in doc.regions[-1].text


def test_dev14_date_from_publishing_date() -> None:
    doc = parse(DEVSET / "dev14_bishkek_police_training_osh_2014-09-26.txt")
    assert doc.dateline is None
    assert doc.date_source == "publishing date" and doc.date == date(2014, 9, 26)


def test_newsroom_caption_is_a_region() -> None:
    doc = parse(DEVSET / "dev03_five_plus_two_rome_2018-05-30.txt")
    assert [r.kind for r in doc.regions] == ["title", "caption", "body"]


def test_missing_empty_and_unrecognisable(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        parse(tmp_path / "nope.txt")
    (tmp_path / "blank.txt").write_text("  \n\n")
    with pytest.raises(SourceError, match="empty document"):
        parse(tmp_path / "blank.txt")
    (tmp_path / "memo.txt").write_text("Hello\nworld\n")
    with pytest.raises(ParseError, match="not a recognisable OSCE page") as caught:
        parse(tmp_path / "memo.txt")
    assert str(tmp_path / "memo.txt") in str(caught.value)


def test_bad_metadata_date(tmp_path: Path) -> None:
    text = SEED.read_text(encoding="utf-8").replace("- Date:\n", "- Date:\n- 31 Foo 2014\n")
    (tmp_path / "baddate.txt").write_text(text, encoding="utf-8")
    with pytest.raises(ParseError, match="metadata Date '31 Foo 2014'"):
        parse(tmp_path / "baddate.txt")
