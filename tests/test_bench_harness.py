"""The query benchmark and ``bench.floor`` end to end, on the seed's build: real servers on
local ports, a handful of requests a cell (the figures mean nothing here; the run and its
report are what is tested)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bench import queries, reasoning
from bench.corpus import write_corpus
from bench.floor import BARE, CONSTANT
from bench.run import engine_lines, query_section
from kg_builder.pipeline import BuildResult
from kg_builder.reason import ENGINES

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _bench(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m module args``, which must succeed; its output."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _out_dir(seed_build: BuildResult) -> Path:
    return seed_build.release.root.parent.parent


def test_the_query_benchmark_runs_to_its_report(seed_build: BuildResult) -> None:
    before = signal.getsignal(signal.SIGTERM)
    result = queries.run(
        _out_dir(seed_build),
        (1, 2),
        2,
        1.0,
        30.0,
        ("kg-serve", "oxigraph"),
        ready_timeout=120,
        one_client_rounds=3,
    )
    assert signal.getsignal(signal.SIGTERM) is before  # the harness's own handler is gone
    names = {q.name for q in queries.load_workload()}
    assert set(result["per_query"]) == names
    for name in names:
        verdicts = result["agreement"][name]
        assert verdicts["kg-serve"]["agrees"], (name, verdicts)
        for cell in ("kg-serve@1", "oxigraph@1", "kg-serve@2", "oxigraph@2"):
            summary = result["per_query"][name][cell]
            assert summary["errors"] == 0 and summary["requests"] >= 1, (name, cell, summary)
    for cell in ("kg-serve@1", "oxigraph@1"):  # the one-client rounds, not max_requests (2)
        assert result["per_query"]["q01_lookup_iri"][cell]["requests"] == 3
    assert result["settings"]["one_client_rounds"] == 3
    assert set(result["mix"]) == {"kg-serve@1", "kg-serve@2", "oxigraph@1", "oxigraph@2"}
    targets = result["targets"]
    assert set(targets["median_within_1.5x_oxigraph_every_query"]["ratios_at_1_client"]) == names
    # no rdflib-endpoint in this run: its target cannot be met, and the report says so
    assert targets["throughput_at_2_clients_vs_rdflib_endpoint"]["met"] is False
    report = query_section(
        {
            "date": "2026-11-30 00:00 UTC",
            "command": "test",
            "size": 1,
            "machine": {"nproc": 2, "cpu": "test", "memory_gib": 1, "git": "test"},
            "queries": result,
        }
    )
    assert report.startswith("## make bench: query endpoint, 1 documents")
    ours = result["per_query"]["q01_lookup_iri"]["kg-serve@1"]
    theirs = result["per_query"]["q01_lookup_iri"]["oxigraph@1"]
    row = f"| q01_lookup_iri | 1 | {ours['median_ms']} / {ours['p99_ms']} / "
    assert row in report and f"| {theirs['median_ms']} / {theirs['p99_ms']} / " in report


def test_floor_measures_every_server_on_the_same_answer(
    seed_build: BuildResult, tmp_path: Path
) -> None:
    out = tmp_path / "floor.json"
    done = _bench(
        "bench.floor",
        *("--out-dir", str(_out_dir(seed_build)), "--requests", "5", "--runs", "1"),
        *("--calls", "3", "--json", str(out)),
    )
    result = json.loads(out.read_text())
    assert result["query"] == "q01_lookup_iri"
    rows = result["rows"]
    assert set(rows) == {"kg-serve", "oxigraph", *BARE} - {CONSTANT}
    (count,) = set(rows.values())  # the same rows everywhere, checked before measuring
    assert count > 0
    (run,) = result["runs"]
    assert set(run) == {"kg-serve", *BARE}
    for cell in run.values():
        assert cell["errors"] == 0 and cell["oxigraph_errors"] == 0
        assert cell["requests"] == 5
        assert cell["ratio"] == round(cell["median_ms"] / cell["oxigraph_median_ms"], 2)
    assert result["failed"] == []
    assert result["versions"]["gunicorn"] and result["release"]
    assert list(result["in_process_ms_after_pause_ms"]) == ["0", "0.5", "2", "10"]
    assert "its ratio to oxigraph's median in the pair" in done.stdout
    for name in run:
        assert name in done.stdout


def test_shacl_engines_compares_the_engines_on_built_pages(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 4, 7)
    done = _bench("bench.shacl_engines", "--corpus", str(corpus), "--every", "2")
    first = done.stdout.splitlines()[0]
    pages, _, per_page = first.partition(" pages, ")
    assert pages == "2"  # every second of 4
    assert int(per_page.split()[0]) > 500  # the triples a page, not a count of node sets
    assert "pages whose results differ: 0" in done.stdout


def test_the_reasoning_engines_run_on_graphs_from_a_dump(seed_build: BuildResult) -> None:
    ballast = b"x" * (600 << 20)  # a large parent: its size must not count as the child's
    runs = reasoning.compare([3000], list(ENGINES), 3000, 300, seed_build.release.nquads_gz)
    assert len(ballast) == 600 << 20
    assert [row["engine"] for row in runs] == list(ENGINES)
    for row in runs:
        assert "error" not in row and "timeout_s" not in row, row
        assert int(row["triples"]) >= 3000
        assert int(row["inferred"]) > 0
        assert 0 < int(row["rss_after_parse_mib"]) <= int(row["peak_rss_mib"]) < 500, row
    table = engine_lines({"sizes": [3000], "runs": runs})
    assert sum(line.startswith(f"| {runs[0]['triples']:,} |") for line in table) == 2
