"""Saved HTML pages as sources: the same ``Document`` as the text layouts, read from the HTML
structure; the menu and sidebars never become mentions; bad pages fail with the file named."""

from __future__ import annotations

import codecs
import gzip
import hashlib
import json
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph

from kg_builder.errors import ParseError, SourceError
from kg_builder.extract import Extraction, extract
from kg_builder.gazetteer import Gazetteer, build_gazetteer
from kg_builder.html_source import decode_html, is_html
from kg_builder.iris import Iris
from kg_builder.parse import Document, parse
from kg_builder.pipeline import collect_sources
from kg_builder.reference import build_reference

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "tests" / "fixtures" / "html"
DEVSET = ROOT / "tests" / "fixtures" / "devset"
SEED = ROOT / "data" / "sources" / "000_9fd24956cc425f56.txt"
IRIS = Iris("https://w3id.org/osce-kg/")

# HTML page -> the text page it was made from, and whether it renders to exactly that text
PAIRS = {
    "full_seed.html": (SEED, True),
    "full_dev01.html": (DEVSET / "dev01_minsk_group_vienna_2019-03-29.txt", True),
    "full_dev09.html": (DEVSET / "dev09_mc_tirana_2020-12-04.txt", True),
    "newsroom_dev03.html": (DEVSET / "dev03_five_plus_two_rome_2018-05-30.txt", False),
    "news_item_dev08.html": (DEVSET / "dev08_sg_dushanbe_2018-05-04.txt", True),
    "news_item_dev14.html": (DEVSET / "dev14_bishkek_police_training_osh_2014-09-26.txt", True),
    "title_dateline_dev02.html": (DEVSET / "dev02_gid_geneva_2017-12-13.txt", True),
}


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    reference = build_reference(ROOT / "data" / "reference", [parse(SEED)], IRIS)
    return build_gazetteer(reference.graph, Graph().parse(ROOT / "ontology" / "osce.ttl"), IRIS)


def regions(doc: Document) -> list[tuple[str, str]]:
    return [(r.kind, r.text) for r in doc.regions]


def dateline(doc: Document) -> tuple[str, str | None, date] | None:
    return (doc.dateline.city, doc.dateline.country, doc.dateline.date) if doc.dateline else None


def page(tmp_path: Path, body: str, name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


# --- the same record as the text page -------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_html_page_gives_the_record_of_its_text_page(name: str) -> None:
    text_path, _ = PAIRS[name]
    html_doc, text_doc = parse(HTML / name), parse(text_path)
    assert html_doc.media_type == "text/html" and text_doc.media_type == "text/plain"
    assert html_doc.layout == text_doc.layout
    assert html_doc.title == text_doc.title
    assert html_doc.type_label == text_doc.type_label
    assert html_doc.metadata == text_doc.metadata
    assert html_doc.date == text_doc.date and html_doc.date_source == text_doc.date_source
    assert html_doc.publishing_date == text_doc.publishing_date
    assert dateline(html_doc) == dateline(text_doc)
    assert regions(html_doc) == regions(text_doc)
    assert all(html_doc.text[r.start : r.end] == r.text for r in html_doc.regions)
    assert html_doc.warnings == ()


@pytest.mark.parametrize("name", sorted(n for n, (_, same) in PAIRS.items() if same))
def test_html_page_renders_to_the_text_of_its_text_page(name: str) -> None:
    """One block per line, the menu as '-' / heading / '- item': offsets mean the same."""
    text_path, _ = PAIRS[name]
    html_doc, text_doc = parse(HTML / name), parse(text_path)
    assert html_doc.text == text_doc.text.rstrip("\n") + "\n"
    assert [(r.kind, r.start) for r in html_doc.regions] == [
        (r.kind, r.start) for r in text_doc.regions
    ]
    assert html_doc.menu == text_doc.menu


def test_menu_read_from_nested_lists_is_the_text_menu() -> None:
    doc = parse(HTML / "full_dev09.html")
    assert doc.menu is not None and doc.menu == parse(SEED).menu
    assert "Finland – OSCE Chairpersonship 2025" in doc.menu.items("Participating States")
    assert doc.menu.items("Secretariat")[0] == "Secretary General"
    # the newsroom page carries the site menu although its text rendering has none
    assert parse(HTML / "newsroom_dev03.html").menu == doc.menu
    # a page whose only <nav> lists are flat (languages, footer) has no menu
    assert parse(HTML / "news_item_dev14.html").menu is None


def test_labelled_div_metadata_with_time_and_several_fields() -> None:
    doc = parse(HTML / "full_dev09.html")
    assert doc.metadata.date == date(2020, 12, 4) and doc.date_source == "metadata"
    assert (doc.metadata.place_city, doc.metadata.place_country) == ("TIRANA", "Albania")
    assert doc.metadata.source == "Chairpersonship"
    assert doc.metadata.fields_of_work == ("Good governance", "Human rights")
    body = next(r.text for r in doc.regions if r.kind == "body")
    assert "\n- Teresa Ribeiro of Portugal as Representative on Freedom of the Media;\n" in body


def test_sha256_is_of_the_original_bytes() -> None:
    path = HTML / "news_item_dev14.html"
    doc = parse(path)
    assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert doc.doc_id == "news_item_dev14"  # from the file name, as for text pages


# --- extraction: same entities, offsets in regions, nothing from the menu --------------------


def kinds_and_entities(ex: Extraction) -> set[tuple[str, str]]:
    """What was found, with the document's own id (in meeting IRIs) left out."""
    own = ex.document.doc_id
    return {(m.kind, str(m.entity).replace(own, "<doc>")) for m in ex.mentions}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_extraction_from_html_finds_what_the_text_gives(name: str, gazetteer: Gazetteer) -> None:
    text_path, same_text = PAIRS[name]
    from_html = extract(parse(HTML / name), gazetteer, IRIS)
    from_text = extract(parse(text_path), gazetteer, IRIS)
    assert kinds_and_entities(from_html) == kinds_and_entities(from_text)
    assert from_html.issuer == from_text.issuer and from_html.doc_class == from_text.doc_class
    assert set(from_html.posts) == set(from_text.posts)
    assert len(from_html.meetings) == len(from_text.meetings)
    if same_text:
        spans = [(m.kind, m.start, m.end, m.exact) for m in from_html.mentions]
        assert spans == [(m.kind, m.start, m.end, m.exact) for m in from_text.mentions]


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_every_mention_lies_in_a_region_and_quotes_the_rendered_text(
    name: str, gazetteer: Gazetteer
) -> None:
    doc = parse(HTML / name)
    ex = extract(doc, gazetteer, IRIS)
    assert ex.mentions
    for mention in ex.mentions:
        assert doc.text[mention.start : mention.end] == mention.exact
        assert any(r.start <= mention.start and mention.end <= r.end for r in doc.regions)


def test_menu_sidebar_hidden_and_noscript_text_never_become_mentions(
    gazetteer: Gazetteer,
) -> None:
    doc = parse(HTML / "full_seed.html")
    menu_end = doc.regions[0].start
    assert "Related content" not in doc.text and "Kazakhstan" not in doc.text[menu_end:]
    ex = extract(doc, gazetteer, IRIS)
    named = {str(m.entity).rsplit("/", 1)[-1] for m in ex.mentions}
    for absent in ("georgia", "moldova", "mission-to-moldova", "secretary-general", "ukraine"):
        assert absent not in named
    assert "- Mission to Moldova\n" in doc.text[:menu_end]


def test_stray_markup_reads_as_the_page_shows_it() -> None:
    """Entities, &nbsp;, a comment inside a word, a script inside a paragraph, <br> in the
    title and nested inline tags leave the text a reader sees."""
    doc = parse(HTML / "full_seed.html")
    body = next(r.text for r in doc.regions if r.kind == "body")
    assert body.startswith("BASEL, Switzerland, 4 December 2014 - We, the Heads")
    assert "countries – Foreign Minister of the Russian Federation Sergey Lavrov," in body
    assert "border. Military actions" in body and "trackParagraph" not in doc.text
    assert "at Sochi, Newport, and Paris" in body
    assert doc.title == (
        "Joint Statement by the Heads of Delegation of the OSCE Minsk Group Co-Chair Countries"
    )


def test_br_in_a_paragraph_breaks_the_line(tmp_path: Path) -> None:
    doc = parse(
        page(
            tmp_path,
            "<html><body><h1>OSCE Chairperson visits Armenia</h1>"
            "<p>YEREVAN, 4 December 2014 - First line.<br/>Second &amp; last line.</p>"
            "<ul><li><p>A bullet made of a paragraph</p></li></ul></body></html>",
        )
    )
    assert doc.layout == "title_dateline"
    assert doc.regions[-1].text.split("\n") == [
        "YEREVAN, 4 December 2014 - First line.",
        "Second & last line.",
        "- A bullet made of a paragraph",
    ]


# --- character sets ------------------------------------------------------------------------


def test_declared_windows_1252_and_character_references() -> None:
    doc = parse(HTML / "news_item_dev14.html")
    assert "Publishing date: 26 September 2014" in doc.text
    text = (DEVSET / "dev14_bishkek_police_training_osh_2014-09-26.txt").read_text("utf-8")
    assert doc.text == text.rstrip("\n") + "\n"  # the cp1252 bytes read back to the same text


def test_page_declared_utf8_but_saved_as_windows_1252_is_read_with_a_warning() -> None:
    doc = parse(HTML / "wrong_charset.html")
    assert "Harlem Désir, today condemned" in doc.text and "“A journalist" in doc.text
    assert len(doc.warnings) == 1 and "declared utf-8" in doc.warnings[0]
    assert "Windows-1252" in doc.warnings[0]


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_byte_order_mark_wins(tmp_path: Path, bom: bytes, codec: str) -> None:
    source = (HTML / "title_dateline_dev02.html").read_text("utf-8")
    path = tmp_path / "dev02.html"
    path.write_bytes(bom + source.encode(codec))
    assert parse(path).text == parse(HTML / "title_dateline_dev02.html").text


def test_unknown_or_missing_charset_falls_back_to_utf8_then_windows_1252() -> None:
    html = "<html><head><meta charset='x-klingon'></head><body><p>Désir</p></body></html>"
    text, warnings = decode_html(html.encode("utf-8"), Path("p.html"))
    assert "Désir" in text and warnings == [
        "declared charset 'x-klingon' is unknown; read as UTF-8"
    ]
    text, warnings = decode_html(b"<p>D\xe9sir</p>", Path("p.html"))
    assert text == "<p>Désir</p>" and "no charset declared" in warnings[0]
    # 'iso-8859-1' is read as Windows-1252, as browsers do: 0x93/0x94 are curly quotes
    text, warnings = decode_html(b'<meta charset="ISO-8859-1"><p>\x93Hi\x94</p>', Path("p.html"))
    assert text.endswith("<p>“Hi”</p>") and warnings == []
    text, _ = decode_html(
        b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">\xf0', Path("p")
    )
    assert text.endswith("П")
    # a page saved as UTF-8 under an old Windows-1252 declaration is read as UTF-8
    text, warnings = decode_html('<meta charset="windows-1252"><p>Désir</p>'.encode(), Path("p"))
    assert text.endswith("<p>Désir</p>")
    assert warnings == ["declared windows-1252, but the bytes are UTF-8; read as UTF-8"]


# --- bad pages -------------------------------------------------------------------------------


def test_page_without_an_article_names_the_file() -> None:
    with pytest.raises(ParseError, match="no recognisable article") as err:
        parse(HTML / "no_article.html")
    assert str(HTML / "no_article.html") in str(err.value)


def test_empty_h1_is_no_title(tmp_path: Path) -> None:
    path = page(tmp_path, '<main><h1><img src="logo.png"></h1><p>VIENNA, 4 May 2018 - x</p></main>')
    with pytest.raises(ParseError, match="no recognisable article"):
        parse(path)


def test_page_without_body_text() -> None:
    with pytest.raises(ParseError, match="no body text"):
        parse(HTML / "no_body.html")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ((HTML / "binary.html").read_bytes(), "binary data"),
        (gzip.compress(b"<html><body><h1>T</h1><p>VIENNA, 4 May 2018 - x</p></body></html>"),
         "gzip-compressed"),
        (b"  \n\t ", "empty document"),
        (codecs.BOM_UTF16_LE + b"\x00\xd8", "byte-order mark but is not utf-16-le"),
    ],
)  # fmt: skip
def test_unreadable_bytes_are_a_source_error(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(data)
    with pytest.raises(SourceError, match=message) as err:
        parse(path)
    assert str(path) in str(err.value)


def test_missing_html_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        parse(tmp_path / "gone.html")


def test_bad_metadata_date(tmp_path: Path) -> None:
    path = page(
        tmp_path,
        "<article><p>Press release</p><h1>T</h1><dl><dt>Date:</dt><dd>31 June 2020</dd>"
        "<dt>Source:</dt><dd>ODIHR</dd></dl><p>VIENNA, 4 May 2018 - Text.</p></article>",
    )
    with pytest.raises(ParseError, match="metadata Date '31 June 2020' is not a date like"):
        parse(path)


def test_page_with_no_layout_and_no_date_is_refused(tmp_path: Path) -> None:
    path = page(tmp_path, "<main><h1>About us</h1><p>The OSCE has 57 States.</p></main>")
    with pytest.raises(ParseError, match="not a recognisable OSCE page"):
        parse(path)


def test_page_in_no_layout_with_a_date_near_the_top_is_read_as_plain(tmp_path: Path) -> None:
    path = page(
        tmp_path,
        "<main><h1>OSCE Chairperson visits Armenia</h1><p>Posted 4 December 2014</p>"
        "<p>The Chairperson met the Foreign Minister of Armenia.</p></main>",
    )
    doc = parse(path)
    assert doc.layout == "plain" and doc.date == date(2014, 12, 4)
    assert doc.warnings and "layout not recognised" in doc.warnings[0]


def test_newsroom_and_news_labels_without_date_lines(tmp_path: Path) -> None:
    doc = parse(
        page(
            tmp_path,
            "<article><div>News</div><h1>Field office opens</h1>"
            "<p>OSH, 3 March 2015 - The office opened.</p></article>",
        )
    )
    assert (doc.layout, doc.type_label, doc.date_source) == ("news_item", "News", "dateline")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(
            ["<p>", "</p>", "<div>", "</div>", "<br>", "<li>", "<ul>", "</ul>", "<h1>", "</h1>",
             "<nav>", "</nav>", "<script>", "</script>", "<!--", "-->", "<dt>Date:</dt>",
             "<dd>4 May 2018</dd>", "&amp;", "&nbsp;", "&#0;", "<", ">", "\u00ad", "\n",
             "VIENNA, 4 May 2018 - ", "Austria", "News", "Newsroom", "Publishing date: ",
             "<figcaption>", "(OSCE) Photo details", "<article>", "<table><tr><td>"]
        ),
        max_size=40,
    )
)  # fmt: skip
def test_any_tag_soup_gives_a_document_or_a_named_error(pieces: list[str]) -> None:
    """Whatever the markup, the reader returns a Document whose regions quote its text, or
    raises one of the project's errors naming the file — never anything else."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "soup.html"
        path.write_text("<html><body>" + "".join(pieces), encoding="utf-8")
        try:
            doc = parse(path)
        except (ParseError, SourceError) as err:
            assert str(path) in str(err)
            return
    assert any(r.kind == "body" and r.text.strip() for r in doc.regions)
    for region in doc.regions:
        assert doc.text[region.start : region.end] == region.text


# --- dispatch and folders --------------------------------------------------------------------


def test_dispatch_by_suffix_or_by_content(tmp_path: Path) -> None:
    html = (HTML / "title_dateline_dev02.html").read_bytes()
    upper = tmp_path / "PAGE.HTM"
    upper.write_bytes(html)
    sniffed = tmp_path / "saved.txt"
    sniffed.write_bytes(b"\xef\xbb\xbf\n  <!DOCTYPE HTML>\n" + html)
    plain = DEVSET / "dev02_gid_geneva_2017-12-13.txt"
    assert is_html(upper) and is_html(sniffed) and not is_html(plain)
    assert not is_html(tmp_path / "missing.txt")
    assert parse(upper).media_type == parse(sniffed).media_type == "text/html"
    assert parse(sniffed).title == parse(plain).title


def test_folders_give_html_pages_too(tmp_path: Path) -> None:
    for name in ("b.html", "a.txt", "c.htm", "notes.md"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    assert [p.name for p in collect_sources((tmp_path,))] == ["a.txt", "b.html", "c.htm"]


@pytest.mark.slow
def test_kg_build_builds_a_folder_with_html_pages_and_reports_them(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "000_seed.txt").write_bytes(SEED.read_bytes())
    for name in ("full_dev01.html", "newsroom_dev03.html"):
        (sources / name).write_bytes((HTML / name).read_bytes())
    done = subprocess.run(
        [sys.executable, "-m", "kg_builder", "--out-dir", str(tmp_path / "out"), str(sources)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    docs = {Path(d["source"]).name: d for d in report["documents"]}
    assert set(docs) == {"000_seed.txt", "full_dev01.html", "newsroom_dev03.html"}
    assert (
        docs["full_dev01.html"]["layout"] == "full" and docs["full_dev01.html"]["status"] == "built"
    )
    assert docs["newsroom_dev03.html"]["layout"] == "newsroom"
    assert docs["full_dev01.html"]["mentions"].get("state", 0) >= 4
