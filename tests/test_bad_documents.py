"""Documents that are only partly readable: stray bytes of another encoding, an unknown
layout, a garbled body, a very long page, a rule that fails. The build keeps what could be
read and reports what could not; it never stops on them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph

from kg_builder.errors import ParseError, SourceError
from kg_builder.extract import Extraction, extract
from kg_builder.gazetteer import Gazetteer, build_gazetteer
from kg_builder.iris import Iris
from kg_builder.parse import parse
from kg_builder.reference import build_reference

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT / "tests" / "fixtures" / "devset"
IRIS = Iris("https://w3id.org/osce-kg/")


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    reference = build_reference(ROOT / "data" / "reference", [], IRIS)
    return build_gazetteer(reference.graph, Graph().parse(ROOT / "ontology" / "osce.ttl"), IRIS)


def consistent(ex: Extraction) -> None:
    """No rule failed, and every mention's offsets point at its text."""
    assert ex.failures == []
    for mention in ex.mentions:
        assert ex.document.text[mention.start : mention.end] == mention.exact


def test_stray_legacy_bytes_are_read_as_windows_1252(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes(
        "Statement on Chișinău\n".encode()
        + b"VIENNA, 4 March 2016 - The Caf\xe9 talks \x93ended\x94 in Vienna.\n"
    )
    doc = parse(path)
    assert "Café talks “ended”" in doc.text and "Chișinău" in doc.text
    assert doc.warnings == (
        "3 byte sequence(s) are not UTF-8 (the first at byte 54); read as Windows-1252",
    )
    assert doc.date is not None and doc.date.isoformat() == "2016-03-04"


def test_utf16_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "utf16.txt"
    path.write_bytes("Title\nVIENNA, 4 March 2016 - text\n".encode("utf-16"))
    with pytest.raises(SourceError, match="not UTF-8 text"):
        parse(path)


def test_unknown_layout_is_read_as_title_and_body(tmp_path: Path, gazetteer: Gazetteer) -> None:
    path = tmp_path / "plain.txt"
    path.write_text(
        "\nOSCE Chairperson-in-Office visits Armenia\n\nPosted on 12 May 2016 by the press office\n"
        "The Chairperson-in-Office met the Foreign Minister of Armenia in Yerevan.\n",
        encoding="utf-8",
    )
    doc = parse(path)
    assert doc.layout == "plain" and doc.title == "OSCE Chairperson-in-Office visits Armenia"
    assert doc.date is not None and doc.date.isoformat() == "2016-05-12"
    assert any("layout not recognised" in w for w in doc.warnings)
    ex = extract(doc, gazetteer, IRIS)
    consistent(ex)
    assert {str(s).rsplit("/", 1)[-1] for s in ex.entities("state")} == {"armenia"}


def test_text_without_a_date_is_not_taken_for_a_page(tmp_path: Path) -> None:
    path = tmp_path / "letter.txt"
    path.write_text("Dear colleagues,\nplease find the minutes attached.\n", encoding="utf-8")
    with pytest.raises(ParseError, match="not a recognisable OSCE page"):
        parse(path)


def test_a_failing_rule_is_reported_and_the_rest_is_kept(
    tmp_path: Path, gazetteer: Gazetteer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kg_builder.extract import meetings as meeting_rules

    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(meeting_rules, "meeting_of_the_day", broken)
    path = tmp_path / "page.txt"
    path.write_text(
        "A statement\nVIENNA, 4 March 2016 - Ministers of Armenia met in Paris.\n",
        encoding="utf-8",
    )
    ex = extract(parse(path), gazetteer, IRIS)
    assert ex.failures, "the failure is reported"
    for failure in ex.failures:
        assert failure.startswith("extraction rule 'meetings' failed on " + str(path))
        assert "RuntimeError: boom" in failure and failure in ex.warnings
    assert {str(s).rsplit("/", 1)[-1] for s in ex.entities("state")} == {"armenia"}


BODY_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=400
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(garbage=BODY_TEXT)
def test_garbled_bodies_never_break_extraction(
    tmp_path: Path, gazetteer: Gazetteer, garbage: str
) -> None:
    path = tmp_path / "garbled.txt"
    path.write_text(
        f"Statement on Georgia\nTBILISI, Georgia, 4 March 2016 - {garbage}\n"
        "The OSCE Secretary General met Foreign Minister of Georgia Mikheil Janelidze in "
        f"Tbilisi on Tuesday. {garbage[::-1]}\n",
        encoding="utf-8",
    )
    try:
        doc = parse(path)
    except (SourceError, ParseError):
        return  # refused with a message: also a correct outcome
    consistent(extract(doc, gazetteer, IRIS))


def test_a_very_long_page_is_extracted(tmp_path: Path, gazetteer: Gazetteer) -> None:
    source = (DEVSET / "dev09_mc_tirana_2020-12-04.txt").read_text(encoding="utf-8")
    head, body = source.split("TIRANA, Albania, 4 December 2020", 1)
    path = tmp_path / "long.txt"
    path.write_text(head + "TIRANA, Albania, 4 December 2020" + body * 300, encoding="utf-8")
    assert path.stat().st_size > 500_000
    ex = extract(parse(path), gazetteer, IRIS)
    consistent(ex)
    assert len(ex.mentions) > 300


def test_build_keeps_a_mixed_encoding_page_and_reports_it(tmp_path: Path) -> None:
    path = tmp_path / "sources" / "mixed.txt"
    path.parent.mkdir()
    path.write_bytes(
        b"Statement on Armenia\nYEREVAN, 4 March 2016 - Minister of Armenia \x93welcomed\x94 it.\n"
    )
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "kg_builder", "--out-dir", str(out), "-q", str(path.parent)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    (document,) = report["documents"]
    assert document["status"] == "built"
    assert any("not UTF-8" in w for w in document["warnings"])


def test_build_keeps_a_page_in_no_known_layout(tmp_path: Path) -> None:
    path = tmp_path / "sources" / "plain.txt"
    path.parent.mkdir()
    path.write_text(
        "OSCE Chairperson-in-Office visits Armenia\n\nPosted on 12 May 2016\n"
        "The Chairperson-in-Office met the Foreign Minister of Armenia in Yerevan.\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "kg_builder", "--out-dir", str(out), "-q", str(path.parent)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    (document,) = json.loads((out / "report.json").read_text(encoding="utf-8"))["documents"]
    assert document["status"] == "built" and document["layout"] == "plain"
    assert any("layout not recognised" in w for w in document["warnings"])


def test_a_page_without_body_keeps_its_title_and_date(tmp_path: Path, gazetteer: Gazetteer) -> None:
    path = tmp_path / "empty-body.txt"
    path.write_text(
        "News\nOSCE Mission to Serbia opens an office in Novi Pazar\n"
        "Publishing date: 4 March 2016\n\n",
        encoding="utf-8",
    )
    doc = parse(path)
    assert doc.title == "OSCE Mission to Serbia opens an office in Novi Pazar"
    assert doc.date is not None and doc.date.isoformat() == "2016-03-04"
    assert [r.kind for r in doc.regions] == ["title"]
    assert any("no body text" in w for w in doc.warnings)
    consistent(extract(doc, gazetteer, IRIS))


def test_a_page_without_body_or_date_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nothing.txt"
    path.write_text("News\nA title\n\n", encoding="utf-8")
    with pytest.raises(ParseError, match="no body text"):
        parse(path)
