"""The benchmark corpus generator (``bench/corpus.py``): reproducible for a seed, and its pages
read by the parser in the layout they were written in."""

from __future__ import annotations

import re
from pathlib import Path

from bench.corpus import LAYOUTS, generate, write_corpus
from kg_builder.parse import parse


def test_generator_is_deterministic_for_a_seed():
    assert list(generate(20, seed=3)) == list(generate(20, seed=3))


def test_document_does_not_depend_on_corpus_size():
    assert list(generate(5, seed=3)) == list(generate(20, seed=3))[:5]


def test_another_seed_gives_another_corpus():
    assert [t for _, t in generate(5, seed=3)] != [t for _, t in generate(5, seed=4)]


def test_twenty_documents_parse_in_their_layouts(tmp_path: Path):
    paths = write_corpus(tmp_path / "corpus", 20, seed=11)
    assert len(paths) == 20
    layouts = set()
    for path in paths:
        text = path.read_text(encoding="utf-8")
        doc = parse(path)
        layouts.add(doc.layout)
        assert doc.layout in LAYOUTS
        assert not doc.warnings
        assert doc.title and doc.title in text
        assert doc.date is not None
        assert doc.date.isoformat() in path.name
        if doc.layout == "full":
            assert doc.menu is not None
            assert doc.metadata.source
            assert doc.metadata.fields_of_work
            assert doc.dateline is not None and doc.dateline.country
        elif doc.layout == "news_item":
            assert doc.publishing_date == doc.date
        else:
            assert doc.dateline is not None
        body = next(r for r in doc.regions if r.kind == "body")
        assert "Permanent Council Decision No." in body.text
    assert layouts == set(LAYOUTS)


def test_a_decision_number_has_one_date_across_the_corpus():
    """Pages that cite the same decision give it the same month (SHACL allows one date)."""
    cited: dict[str, set[str]] = {}
    pattern = re.compile(r"Permanent Council Decision No\. (\d+) of (\w+ \d{4})")
    citations = 0
    for _, text in generate(400, seed=7):
        for number, month in pattern.findall(text):
            cited.setdefault(number, set()).add(month)
            citations += 1
    assert citations > len(cited)  # some numbers are cited by several pages
    assert {n: m for n, m in cited.items() if len(m) > 1} == {}
