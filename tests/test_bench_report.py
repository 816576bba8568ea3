"""The benchmark's own report (``bench/run.py``): what it says of the build targets."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from bench.run import build_section, engine_lines, write_doc

RESULT = json.loads((Path(__file__).parent.parent / "bench/results/build-10000.json").read_text())


def _with_rounds(walls: list[float]) -> dict[str, object]:
    result = copy.deepcopy(RESULT)
    result.pop("previous", None)
    result["build"]["one_edit"]["wall_s"] = walls[0]
    result["build"]["one_edit_rounds"] = {"walls_s": walls, "median_s": sorted(walls)[2]}
    return result


def _edit_line(text: str) -> str:
    return next(line for line in text.splitlines() if "after one changed document" in line)


def test_the_edit_target_is_judged_on_the_median_of_the_rounds() -> None:
    line = _edit_line(build_section(_with_rounds([6.1, 4.6, 4.7, 4.4, 4.9])))
    assert "median 4.7 s of 5 rebuilds (6.1, 4.6, 4.7, 4.4, 4.9 s" in line
    assert line.endswith("— met")
    missed = _edit_line(build_section(_with_rounds([4.1, 5.2, 5.6, 5.1, 4.9])))
    assert "median 5.1 s" in missed and missed.endswith("**MISSED**")
    failing = _with_rounds([4.1, 4.2, 4.3, 4.4, 4.5])
    failing["build"]["one_edit_rounds"]["failed"] = 1  # type: ignore[index]
    line = _edit_line(build_section(failing))
    assert "; 1 failed)" in line and line.endswith("**MISSED**")  # a fast median is not enough


def test_a_result_without_rounds_is_judged_on_its_one_edit() -> None:
    result = copy.deepcopy(RESULT)
    result["build"].pop("one_edit_rounds", None)
    result["build"]["one_edit"]["wall_s"] = 4.2
    line = _edit_line(build_section(result))
    assert "4.2 s — met" in line


def test_a_run_rewrites_only_the_sections_of_its_own_size(tmp_path: Path) -> None:
    results = Path(__file__).parent.parent / "bench/results"
    build = json.loads((results / "build-1000.json").read_text())
    queries = json.loads((results / "queries-1000.json").read_text())
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text(
        "# Benchmarks\n\n## Build: 1,000 documents\n\nhand-written, of the same size, kept\n\n"
        "## make bench: build, 10,000 documents\n\nanother size's run, kept\n\n"
        "## make bench: build, 1,000 documents\n\nan older run, replaced\n\n"
        "## make bench: query endpoint, 10,000 documents\n\nanother size's queries, kept\n\n"
        "## Query endpoint: every run\n\nhand-written table, kept\n"
    )
    write_doc(build, queries, doc)
    text = doc.read_text()
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Build: 1,000 documents",
        "## make bench: build, 10,000 documents",
        "## make bench: build, 1,000 documents",
        "## make bench: query endpoint, 10,000 documents",
        "## Query endpoint: every run",
        "## make bench: query endpoint, 1,000 documents",
    ]
    for kept in (
        "hand-written, of the same size, kept",
        "another size's run, kept",
        "another size's queries, kept",
        "hand-written table, kept",
    ):
        assert kept in text
    assert "an older run, replaced" not in text
    assert f"Written by `bench/run.py` on {build['date']}" in text
    assert f"Written by `bench/run.py` on {queries['date']}" in text


def test_the_hand_written_10000_page_build_survives_a_run_at_that_size(tmp_path: Path) -> None:
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text("# Benchmarks\n\n## Build: 10,000 documents\n\nthe analysis, kept\n")
    write_doc(RESULT, None, doc)
    text = doc.read_text()
    assert "the analysis, kept" in text
    assert "## make bench: build, 10,000 documents" in text


def test_the_engine_table_says_what_did_not_run() -> None:
    runs = [
        {
            "engine": "reasonable",
            "triples": 100_000,
            "reason_s": 2.5,
            "reason_cpu_s": 2.0,
            "inferred": 12_000,
            "peak_rss_mib": 360,
        },
        {"engine": "owlrl", "triples": 100_000, "timeout_s": 600},
        {"engine": "owlrl", "triples": 1_000_000, "over": 100_000},
        {"engine": "owlrl", "triples": 10_000, "error": "Traceback"},
    ]
    lines = engine_lines({"sizes": [10_000, 100_000], "runs": runs})
    rows = [line for line in lines if line.startswith("| 1") and "engine" not in line]
    assert rows == [
        "| 100,000 | reasonable | 2.5 s | 2.0 s | 12,000 | 360 MiB |",
        "| 100,000 | owlrl | did not finish in 600 s **MISSED** | | | |",
        "| 1,000,000 | owlrl | not run (over --owlrl-max 100,000) | | | |",
        "| 10,000 | owlrl | failed **MISSED** | | | |",
    ]
    assert engine_lines(None) == []
