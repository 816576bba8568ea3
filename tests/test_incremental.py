"""Incremental, parallel and partial builds: what is redone, what is kept, what is reported."""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import random
import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic

from bench.corpus import generate
from kg_builder import cache, local_closure, pipeline, reason, workers
from kg_builder import extract as extractors
from kg_builder.config import BuildConfig
from kg_builder.dumpfile import PieceIndex
from kg_builder.errors import SourceError, ValidationFailed
from kg_builder.iris import Iris
from kg_builder.layout import current_release
from kg_builder.local_closure import Edges
from kg_builder.namespaces import PROV, RDFS
from kg_builder.pipeline import run
from kg_builder.void import Statistics, statistics
from tests.conftest import FIXTURES, SEED_DIR, project_config, read_plain

DEVSET = FIXTURES / "devset"
PAGES = ("dev01_minsk_group_vienna_2019-03-29.txt", "dev02_gid_geneva_2017-12-13.txt")
IRIS = Iris("https://w3id.org/osce-kg/")


@pytest.fixture(autouse=True)
def pinned_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """Other work on the code base must not invalidate the cache in the middle of a test."""
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "pinned")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for page in SEED_DIR.glob("*.txt"):
        shutil.copy(page, folder)
    for name in PAGES:
        shutil.copy(DEVSET / name, folder)
    return folder


def config(tmp_path: Path, corpus: Path, **changes: object) -> BuildConfig:
    return replace(project_config(tmp_path / "out", corpus), **changes)  # type: ignore[arg-type]


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """The documents parsed and extracted in this process."""
    calls: dict[str, list[str]] = {"parse": [], "extract": []}
    real_parse, real_extract = pipeline.parse, extractors.extract

    def parse(path: Path):  # type: ignore[no-untyped-def]
        calls["parse"].append(path.name)
        return real_parse(path)

    def extract(doc, *args):  # type: ignore[no-untyped-def]
        calls["extract"].append(doc.doc_id)
        return real_extract(doc, *args)

    monkeypatch.setattr(pipeline, "parse", parse)
    monkeypatch.setattr(extractors, "extract", extract)  # the workers import it when they run
    return calls


def graph_nt(release_store: Path, name: URIRef) -> set[str]:
    store = ox.Store.read_only(str(release_store))
    try:
        quads = store.quads_for_pattern(None, None, None, ox.NamedNode(str(name)))
        return {f"{q.subject} {q.predicate} {q.object}" for q in quads}
    finally:
        del store


def _counting(real: Callable[..., Any], calls: list[str]) -> Callable[..., Any]:
    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append("call")
        return real(*args, **kwargs)

    return spy


def test_unchanged_corpus_does_no_work(
    tmp_path: Path, corpus: Path, counted: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No parsing, extraction, validation (per page or across pages) or reasoning."""
    modules = {"workers": workers, "pipeline": pipeline}
    spied = {"workers.validate_ntriples", "pipeline.validate_ntriples", "pipeline.reason_file"}
    for key in spied:
        module_name, _, name = key.partition(".")
        counted[key] = []
        monkeypatch.setattr(
            modules[module_name], name, _counting(getattr(modules[module_name], name), counted[key])
        )
    first = run(config(tmp_path, corpus))
    assert len(counted["extract"]) == 3
    assert len(counted["workers.validate_ntriples"]) == 3  # a page each, in this process
    assert counted["pipeline.reason_file"]
    for calls in counted.values():
        calls.clear()
    second = run(config(tmp_path, corpus))
    assert second.report.status == "unchanged"
    assert second.release.root == first.release.root
    assert counted == {"parse": [], "extract": [], **{key: [] for key in spied}}
    assert {d.status for d in second.report.documents} == {"cached"}


def test_compact_publishes_the_same_graph_compacted_without_rebuilding(
    tmp_path: Path, corpus: Path, counted: dict[str, list[str]]
) -> None:
    """After a small change to a store above ``--compact-below`` the store is left
    uncompacted; ``--compact`` compacts it, and on an unchanged corpus publishes a compacted
    release of the same quads, every document cached, the inferences reused."""
    run(config(tmp_path, corpus))
    edited = corpus / PAGES[0]
    edited.write_text(edited.read_text() + "\nThe Co-Chairs will meet again in Vienna.\n")
    small = run(config(tmp_path, corpus, compact_below=0))
    assert small.report.publish["store_compacted"] is False
    counted["parse"].clear()
    counted["extract"].clear()
    compacted = run(config(tmp_path, corpus, compact=True))
    assert compacted.report.status == "ok" and compacted.release.root != small.release.root
    assert compacted.report.publish["store_compacted"] is True
    assert counted == {"parse": [], "extract": []}
    assert {d.status for d in compacted.report.documents} == {"cached"}
    assert compacted.report.reasoning.get("reused") is True

    def everything(release_store: Path) -> set[str]:
        store = ox.Store.read_only(str(release_store))
        try:
            return {str(q) for q in store.quads_for_pattern(None, None, None, None)}
        finally:
            del store

    before, after = everything(small.release.store), everything(compacted.release.store)
    assert len(before) > 1000 and len(after) == len(before)
    # the same quads (the ontology's blank nodes are labelled anew by every build)
    assert {q for q in after if "_:" not in q} == {q for q in before if "_:" not in q}


def _sst_files(release_store: Path) -> int:
    """The store's live SST files: those of a checkpoint of it (files a compaction replaced
    may still be on the disk until RocksDB next opens the store for writing)."""
    checkpoint = release_store.parent.parent / f"{release_store.parent.name}-checkpoint"
    store = ox.Store.read_only(str(release_store))
    try:
        store.backup(str(checkpoint))
    finally:
        del store
    try:
        return sum(1 for f in checkpoint.iterdir() if f.suffix == ".sst")
    finally:
        shutil.rmtree(checkpoint)


def test_a_small_change_to_a_small_store_is_compacted_at_once(tmp_path: Path, corpus: Path) -> None:
    """Below ``--compact-below`` (MB on disk) a small change is compacted into the store at
    once. Above it, the change's files stay beside the others."""
    first = run(config(tmp_path, corpus))
    assert first.report.publish["store_compacted"] is True  # a build from nothing
    from_nothing = _sst_files(first.release.store)  # the release is pruned later
    edited = corpus / PAGES[0]
    original = edited.read_text()
    edited.write_text(original + "\nThe Co-Chairs will meet again in Vienna.\n")
    left = run(config(tmp_path, corpus, compact_below=0))
    assert left.report.publish["store_compacted"] is False
    assert _sst_files(left.release.store) > from_nothing
    edited.write_text(original)
    compacted = run(config(tmp_path, corpus))  # the default bound, far above this store
    assert {d.status for d in compacted.report.documents} >= {"built", "cached"}
    assert compacted.report.publish["store_compacted"] is True
    # it holds left's files and its own change's, merged: fewer than left's alone
    assert _sst_files(compacted.release.store) < _sst_files(left.release.store)


def test_a_pruned_page_is_compacted_into_a_small_store_too(tmp_path: Path, corpus: Path) -> None:
    """The bound applies to a change that only removes graphs (``--prune``) as well."""
    run(config(tmp_path, corpus))
    (corpus / PAGES[0]).unlink()
    left = run(config(tmp_path, corpus, prune=True, compact_below=0))
    assert "pruned" in {d.status for d in left.report.documents}
    assert left.report.publish["store_compacted"] is False
    shutil.copy(DEVSET / PAGES[0], corpus)
    run(config(tmp_path, corpus))  # back, and compacted under the default bound
    (corpus / PAGES[0]).unlink()
    compacted = run(config(tmp_path, corpus, prune=True))
    assert "pruned" in {d.status for d in compacted.report.documents}
    assert compacted.report.publish["store_compacted"] is True


def test_changed_document_is_the_only_one_rebuilt(
    tmp_path: Path, corpus: Path, counted: dict[str, list[str]]
) -> None:
    first = run(config(tmp_path, corpus))
    # from nothing, the pages went into the store as they were built
    assert first.report.publish["graphs_loaded_beside_documents"] == 3
    edited = corpus / PAGES[0]
    old_sha = json.loads((first.release.root / "manifest.json").read_text())["documents"][
        "dev01_minsk_group_vienna_2019-03-29"
    ]["sha256"]
    kept_graph = IRIS.document_graph("dev02_gid_geneva_2017-12-13")
    before = graph_nt(first.release.store, kept_graph)
    counted["parse"].clear()
    counted["extract"].clear()
    edited.write_text(edited.read_text() + "\nThe Co-Chairs will meet again in Vienna.\n")
    second = run(config(tmp_path, corpus))
    assert counted["parse"] == [PAGES[0]]
    assert counted["extract"] == ["dev01_minsk_group_vienna_2019-03-29"]
    statuses = {d.doc_id: d.status for d in second.report.documents}
    assert statuses["dev01_minsk_group_vienna_2019-03-29"] == "built"
    assert statuses["dev02_gid_geneva_2017-12-13"] == "cached"
    assert graph_nt(second.release.store, kept_graph) == before
    # The edited page keeps its history.
    doc_id = "dev01_minsk_group_vienna_2019-03-29"
    revisions = graph_nt(second.release.store, IRIS.document_graph(doc_id))
    older = IRIS.source_version(doc_id, old_sha)
    assert f"<{IRIS.source(doc_id)}> <{PROV.wasRevisionOf}> <{older}>" in revisions
    # The dumps copy the unchanged page's pieces from the first release's, and hold the store.
    assert second.report.publish["graphs_loaded_beside_documents"] == 0  # from the base
    # (the seed's and dev02's, and the runs of inferences the edit did not change)
    index = PieceIndex.read(second.release.nquads_gz)
    assert index is not None
    runs = sum(1 for name in index.names if name.startswith(f"{IRIS.inferred_graph()} "))
    assert runs > 40
    assert 2 + runs * 0.8 < second.report.publish["dumps_copied_graphs"] < 2 + runs
    store = ox.Store.read_only(str(second.release.store))
    stored = _labelled(store.quads_for_pattern(None, None, None, None))
    del store
    dumped = ox.parse(read_plain(second.release.nquads_gz), ox.RdfFormat.N_QUADS)
    assert _labelled(dumped) == stored
    merged = {(q.subject, q.predicate, q.object) for q in stored}
    turtle = ox.parse(read_plain(second.release.turtle_gz), ox.RdfFormat.TURTLE)
    assert {(t.subject, t.predicate, t.object) for t in _labelled(turtle)} == merged


def _labelled(quads: Iterable[ox.Quad | ox.Triple]) -> set[ox.Quad | ox.Triple]:
    """The quads (or triples) without a blank node, whose labels are the parser's."""
    return {
        q
        for q in quads
        if not isinstance(q.subject, ox.BlankNode) and not isinstance(q.object, ox.BlankNode)
    }


def test_revisions_chain_back_to_the_first_version(tmp_path: Path, corpus: Path) -> None:
    page = corpus / PAGES[1]
    doc_id = "dev02_gid_geneva_2017-12-13"
    hashes = []
    for n in range(3):
        if n:
            page.write_text(page.read_text() + f"\nEdit number {n}.\n")
        result = run(config(tmp_path, corpus))
        manifest = json.loads((result.release.root / "manifest.json").read_text())
        hashes.append(manifest["documents"][doc_id]["sha256"])
    assert manifest["documents"][doc_id]["history"] == [hashes[1], hashes[0]]
    graph = graph_nt(result.release.store, IRIS.document_graph(doc_id))
    first, second = (IRIS.source_version(doc_id, h) for h in hashes[:2])
    assert f"<{IRIS.source(doc_id)}> <{PROV.wasRevisionOf}> <{second}>" in graph
    assert f"<{second}> <{PROV.wasRevisionOf}> <{first}>" in graph


def test_gone_document_is_kept_unless_pruned(tmp_path: Path, corpus: Path) -> None:
    run(config(tmp_path, corpus))
    (corpus / PAGES[0]).unlink()
    gone = IRIS.document_graph("dev01_minsk_group_vienna_2019-03-29")
    kept = run(config(tmp_path, corpus))
    assert kept.report.status == "unchanged"
    assert graph_nt(kept.release.store, gone)
    pruned = run(config(tmp_path, corpus, prune=True))
    assert not graph_nt(pruned.release.store, gone)
    assert "pruned" in {d.status for d in pruned.report.documents}
    nquads = read_plain(pruned.release.nquads_gz).decode()
    assert str(gone) not in nquads


def test_new_settings_rebuild_every_document(
    tmp_path: Path, corpus: Path, counted: dict[str, list[str]]
) -> None:
    run(config(tmp_path, corpus))
    counted["extract"].clear()
    other = run(config(tmp_path, corpus, base_iri="https://example.org/kg/"))
    assert len(counted["extract"]) == 3
    store = ox.Store.read_only(str(other.release.store))
    names = {g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)}
    assert all(n.startswith("https://example.org/kg/") for n in names), names


def test_bad_source_stops_the_build_without_keep_going(tmp_path: Path, corpus: Path) -> None:
    run(config(tmp_path, corpus))
    served = current_release(tmp_path / "out")
    (corpus / "broken.txt").write_text("")
    with pytest.raises(SourceError, match="empty"):
        run(config(tmp_path, corpus))
    assert current_release(tmp_path / "out") == served


def test_keep_going_builds_the_good_sources_and_reports_the_bad(
    tmp_path: Path, corpus: Path
) -> None:
    (corpus / "broken.txt").write_text("")
    result = run(config(tmp_path, corpus, keep_going=True))
    failed = {d.source.rsplit("/", 1)[-1]: d for d in result.report.failed}
    assert list(failed) == ["broken.txt"]
    assert "empty" in failed["broken.txt"].errors[0]
    assert result.report.status == "ok"
    assert len([d for d in result.report.documents if d.status == "built"]) == 3
    summary = (tmp_path / "out" / "report.txt").read_text()
    assert "broken.txt: failed" in summary and "seconds per stage" in summary
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["counts"] == {"built": 3, "failed": 1}
    # per document: its status, warnings, errors, counts and timings; totals per stage
    for document in report["documents"]:
        assert {"status", "warnings", "errors", "mentions", "triples", "timings"} <= set(document)
        if document["status"] == "built":
            assert document["triples"] > 100 and sum(document["mentions"].values()) > 0
            assert set(document["timings"]) == {"parse", "extract", "build", "validate", "dump"}
            assert all(seconds >= 0 for seconds in document["timings"].values())
    stages = {"parse", "documents", "store", "validate_shared", "reason", "publish"}
    assert stages <= set(report["timings"]) and report["timings"]["documents"] > 0
    assert report["triples"]["documents"] == sum(
        d["triples"] for d in report["documents"] if d["status"] == "built"
    )
    assert set(report["peak_rss_mib"]) >= {"parse", "documents", "reason", "publish"}
    assert 50 < report["peak_rss_mib"]["parse"] <= report["peak_rss_mib"]["publish"]
    assert "MiB" in summary
    # The report in Turtle says what the JSON says, in the release too.
    turtle = Graph().parse(tmp_path / "out" / "report.ttl")
    comments = {str(o) for o in turtle.objects(None, RDFS.comment)}
    assert f"error: {report['error']}" in comments and "status: ok" in comments
    assert any("broken.txt" in str(o) for o in turtle.objects(None, PROV.used))
    released = result.release.root / "report.ttl"
    assert released.read_bytes() == (tmp_path / "out" / "report.ttl").read_bytes()


def test_the_report_in_turtle_is_the_releases(tmp_path: Path, corpus: Path) -> None:
    result = run(config(tmp_path, corpus))
    written = (tmp_path / "out" / "report.ttl").read_bytes()
    assert written == (result.release.root / "report.ttl").read_bytes()
    turtle = Graph().parse(data=written, format="turtle")
    used = {str(o) for o in turtle.objects(None, PROV.used)}
    assert {d.source for d in result.report.documents} == used


def test_invalid_document_keeps_its_previous_version_with_keep_going(
    tmp_path: Path, corpus: Path
) -> None:
    run(config(tmp_path, corpus))
    page = corpus / PAGES[0]
    bad = (FIXTURES.parent / "cases" / "bad" / "no-title.txt").read_text()
    page.write_text(bad)
    with pytest.raises(ValidationFailed, match="title"):
        run(config(tmp_path, corpus))
    result = run(config(tmp_path, corpus, keep_going=True))
    (doc,) = result.report.failed
    assert doc.status == "invalid" and "previous version" in " ".join(doc.warnings)
    graph = graph_nt(result.release.store, IRIS.document_graph(doc.doc_id))
    assert any("Minsk" in line for line in graph)


@pytest.mark.slow
def test_jobs_build_the_same_graphs_as_one_process(tmp_path: Path, corpus: Path) -> None:
    from tests.conftest import FIXED_TIME

    one = run(config(tmp_path / "one", corpus), now=FIXED_TIME)
    two = run(config(tmp_path / "two", corpus, jobs=2), now=FIXED_TIME)
    for doc_id in ("dev01_minsk_group_vienna_2019-03-29", "dev02_gid_geneva_2017-12-13"):
        name = IRIS.document_graph(doc_id)
        a, b = (
            Graph().parse(
                data="\n".join(f"{t} ." for t in graph_nt(r.release.store, name)), format="nt"
            )
            for r in (one, two)
        )
        assert len(a) > 100 and isomorphic(a, b)


def test_cli_keep_going_exits_1_and_names_each_failure(tmp_path: Path, corpus: Path) -> None:
    from tests.test_cli import kg_build

    (corpus / "broken.txt").write_text("")
    (corpus / "zzz-not-utf8.txt").write_bytes(b"\xff\xfe\x00 not text")
    out = tmp_path / "out"
    stopped = kg_build("--out-dir", out, "-q", corpus)
    assert stopped.returncode == 2 and current_release(out) is None
    done = kg_build("--out-dir", out, "-q", "--keep-going", "--jobs", "2", corpus)
    assert done.returncode == 1, done.stderr
    assert "broken.txt" in done.stderr and "zzz-not-utf8.txt" in done.stderr
    assert current_release(out) is not None
    again = kg_build("--out-dir", out, "--keep-going", corpus)
    assert again.returncode == 1 and "unchanged" in again.stdout
    assert "broken.txt" in again.stderr


def test_cli_help_documents_the_failure_policy() -> None:
    from click.testing import CliRunner

    from kg_builder.cli import main

    text = CliRunner().invoke(main, ["--help"]).output
    for flag in ("--jobs", "--keep-going", "--prune", "--force"):
        assert flag in text
    assert "nothing is published" in " ".join(text.split())


DECISION = re.compile(r"(Permanent Council Decision No\. \d+) of (\w+) (\d{4})")


def _contradicting_pages(folder: Path) -> None:
    """Two generated pages, first.txt and second.txt, that date the same Permanent Council
    decision differently: a constraint no single page breaks."""
    text = next(t for _name, t in generate(40, seed=7) if DECISION.search(t))
    (folder / "first.txt").write_text(text, encoding="utf-8")
    month = "May" if DECISION.search(text)[2] != "May" else "June"  # type: ignore[index]
    (folder / "second.txt").write_text(
        DECISION.sub(lambda m: f"{m[1]} of {month} {m[3]}", text, count=1), encoding="utf-8"
    )


def test_pages_that_contradict_each_other_are_named_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A constraint no single page breaks: two pages give one decision two dates."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    _contradicting_pages(folder)
    with pytest.raises(ValidationFailed) as failed:
        run(config(tmp_path, folder))
    message = str(failed.value)
    assert "first.txt" in message and "second.txt" in message
    assert "permanent-council-decision-no-" in message and "dc/terms/date" in message
    assert current_release(tmp_path / "out") is None

    # With workers, the closure's process and the dumps start before the check: both end
    # with the failed build, and nothing is left of its release.
    started = []
    real_closure_ahead = pipeline._closure_ahead

    def closure_ahead(*args, **kwargs):  # type: ignore[no-untyped-def]
        started.append(real_closure_ahead(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(pipeline, "_closure_ahead", closure_ahead)
    with pytest.raises(ValidationFailed):
        run(config(tmp_path, folder, jobs=2))
    assert len(started) == 1 and started[0] is not None  # it was running during the check
    assert current_release(tmp_path / "out") is None
    assert not [c for c in mp.active_children() if c.name == "kg-build-closure"]
    assert not list((tmp_path / "out").glob("releases/*"))

    result = run(config(tmp_path, folder, keep_going=True))
    statuses = {Path(d.source).name: d.status for d in result.report.documents}
    assert statuses == {"first.txt": "invalid", "second.txt": "invalid"}


def test_an_edit_changes_the_inferences_in_place_as_replacing_them_would(
    tmp_path: Path, corpus: Path
) -> None:
    """After an edit only the difference of the inferred graph goes to the store, worked out
    from the previous release's copy of it; without that copy the graph is replaced whole.
    Both must give the same graph."""
    inferred = IRIS.inferred_graph()
    first = run(config(tmp_path, corpus))
    before = graph_nt(first.release.store, inferred)
    assert first.release.inferred.is_file()
    page = corpus / PAGES[1]
    lines = page.read_text().splitlines()
    kept = "\n".join(lines[: len(lines) * 2 // 3])  # mentions go, and one comes:
    page.write_text(kept + "\nThe Co-Chairs met the Foreign Minister of Armenia in Yerevan.\n")
    twin = tmp_path / "twin"
    shutil.copytree(tmp_path / "out", twin / "out", symlinks=True)
    current_release(twin / "out").inferred.unlink()  # so the twin replaces the graph whole
    edited = run(config(tmp_path, corpus))
    replaced = run(config(twin, corpus))
    after = graph_nt(edited.release.store, inferred)
    assert before - after and after - before  # inferences were withdrawn and added

    def ground(lines: set[str]) -> set[str]:  # the ontology's blank nodes differ per build
        return {line for line in lines if "_:" not in line}

    expected = graph_nt(replaced.release.store, inferred)
    assert ground(after) == ground(expected)
    assert len(after) == len(expected)
    on_disk = ox.parse(path=str(edited.release.inferred), format=ox.RdfFormat.N_TRIPLES)
    assert {f"{q.subject} {q.predicate} {q.object}" for q in on_disk} == after


def test_inferences_reused_keep_their_file(tmp_path: Path, corpus: Path) -> None:
    """A build whose graphs are those of the last one (a new source failed) reuses the
    inferred graph; its release still holds the graph's file, the one the store holds."""
    first = run(config(tmp_path, corpus))
    (corpus / "broken.txt").write_text("")
    second = run(config(tmp_path, corpus, keep_going=True))
    assert second.report.reasoning.get("reused") is True
    assert second.release.root != first.release.root
    kept = second.release.inferred.read_bytes()
    assert kept == first.release.inferred.read_bytes()
    lines = ox.parse(kept, format=ox.RdfFormat.N_TRIPLES)
    on_disk = {f"{q.subject} {q.predicate} {q.object}" for q in lines}
    assert on_disk == graph_nt(second.release.store, IRIS.inferred_graph())


def test_the_reasoning_input_from_the_cache_is_the_one_read_from_the_store(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When no document states an axiom, reasoning reads each document's relevant lines from
    the cache (kept by the worker that built it) instead of scanning the store: after an
    edit, that input and the inferences are those the store scan gives."""
    inputs: list[bytes] = []
    real = pipeline.reason_file

    def recording(path: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        inputs.append(path.read_bytes())
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pipeline, "reason_file", recording)
    # reasoning over the whole graph after the edit, not around it (tested apart)
    monkeypatch.setattr(pipeline, "_local_inference", lambda *args: "whole graph asked")
    page = corpus / PAGES[0]
    original = page.read_text()
    edited = original + "\nThe Co-Chairs then travelled to Baku, Azerbaijan.\n"
    run(config(tmp_path, corpus))
    page.write_text(edited)
    inputs.clear()  # a build from nothing reasons in a process of its own: not recorded here
    cached = run(config(tmp_path, corpus))
    assert cached.report.reasoning["input_from"] == "cache"
    (cached_input,) = inputs

    # the same two builds with every document flagged as stating axioms: the store is read
    split = reason.LineFilter.split
    monkeypatch.setattr(reason.LineFilter, "split", lambda self, nt: (split(self, nt)[0], True))
    page.write_text(original)
    run(config(tmp_path / "scan", corpus))
    page.write_text(edited)
    inputs.clear()
    scanned = run(config(tmp_path / "scan", corpus))
    assert scanned.report.reasoning["input_from"] == "store"
    (scanned_input,) = inputs

    def triples(data: bytes) -> tuple[set[str], int]:  # ground triples; blank nodes counted
        lines = {
            f"{t.subject} {t.predicate} {t.object}" for t in ox.parse(data, ox.RdfFormat.N_TRIPLES)
        }
        ground = {line for line in lines if "_:" not in line}
        return ground, len(lines) - len(ground)

    assert triples(cached_input) == triples(scanned_input)
    inferred = IRIS.inferred_graph()
    ground = [
        {line for line in graph_nt(r.release.store, inferred) if "_:" not in line}
        for r in (cached, scanned)
    ]
    assert ground[0] == ground[1] and ground[0]


def test_void_numbers_after_an_edit_are_updated_and_equal_a_full_count(
    tmp_path: Path, corpus: Path
) -> None:
    """The second build updates the base release's VoID numbers from the graphs it wrote
    (an edited page, a new one, the inferences' difference, and one pruned) rather than
    counting the store; the result is what counting gives."""
    first = run(config(tmp_path, corpus))
    assert first.report.publish["void"] == "counted"
    page = corpus / PAGES[1]
    page.write_text(page.read_text() + "\nThe Co-Chairs met the Foreign Minister of Armenia.\n")
    shutil.copy(DEVSET / "dev03_five_plus_two_rome_2018-05-30.txt", corpus)
    (corpus / PAGES[0]).unlink()
    second = run(config(tmp_path, corpus, prune=True))
    assert second.report.publish["void"] == "updated"
    kept = Statistics.from_json(second.release.void_statistics.read_text())
    store = ox.Store.read_only(str(second.release.store))
    try:
        counted = statistics(store)
    finally:
        del store
    assert kept == counted
    assert kept != Statistics.from_json(first.release.void_statistics.read_text())


def test_unreadable_void_numbers_of_the_base_make_the_build_count(
    tmp_path: Path, corpus: Path
) -> None:
    """A base release whose ``void.json`` is damaged (or absent, as in releases before it
    existed) is no reason to fail: the build counts the numbers in full, and they are right."""
    first = run(config(tmp_path, corpus))
    first.release.void_statistics.write_text('{"format": 1, "entities": ')
    page = corpus / PAGES[1]
    page.write_text(page.read_text() + "\nThe Co-Chairs met the Foreign Minister of Armenia.\n")
    second = run(config(tmp_path, corpus))
    assert second.report.publish["void"] == "counted"
    kept = Statistics.from_json(second.release.void_statistics.read_text())
    store = ox.Store.read_only(str(second.release.store))
    try:
        assert kept == statistics(store)
    finally:
        del store
    # the counted numbers are kept: the build after updates them again
    page.write_text(page.read_text() + "\nThey then travelled to Baku.\n")
    assert run(config(tmp_path, corpus)).report.publish["void"] == "updated"


def test_inferences_updated_around_a_change_equal_reasoning_over_everything(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After each of a series of changes (an edit that drops mentions and adds places, new
    pages with new places located in States, a pruned page, the edit undone), the inferred
    graph updated around the change (``kg_builder.local_closure``) is the one reasoning over
    the whole graph gives, as is the file beside the store."""
    local = pipeline._local_inference

    def only_in_the_first(staged, *args):  # type: ignore[no-untyped-def]
        return "asked" if "whole" in staged.root.parts else local(staged, *args)

    monkeypatch.setattr(pipeline, "_local_inference", only_in_the_first)
    inferred = IRIS.inferred_graph()
    page = corpus / PAGES[1]
    original = page.read_text()
    lines = original.splitlines()

    def edit_page() -> None:
        kept = "\n".join(lines[: len(lines) * 2 // 3])
        page.write_text(kept + "\nThe Co-Chairs met the Foreign Minister of Armenia in Yerevan.\n")

    def add_pages() -> None:
        for name in (
            "dev14_bishkek_police_training_osh_2014-09-26.txt",
            "dev08_sg_dushanbe_2018-05-04.txt",
        ):
            shutil.copy(DEVSET / name, corpus)

    steps = [
        ("edit", edit_page, {}),
        ("add", add_pages, {}),
        ("prune", lambda: (corpus / "dev08_sg_dushanbe_2018-05-04.txt").unlink(), {"prune": True}),
        ("undo", lambda: page.write_text(original), {}),
    ]
    run(config(tmp_path, corpus))
    run(config(tmp_path / "whole", corpus))
    previous = graph_nt(current_release(tmp_path / "out").store, inferred)
    for label, change, options in steps:
        change()
        updated = run(config(tmp_path, corpus, **options))
        whole = run(config(tmp_path / "whole", corpus, **options))
        assert updated.report.reasoning["method"] == "around the change", (
            label,
            updated.report.reasoning.get("not_around_the_change"),
        )
        assert whole.report.reasoning["method"] == "whole graph", label
        after = graph_nt(updated.release.store, inferred)
        expected = graph_nt(whole.release.store, inferred)
        assert after != previous, label  # the change changed the inferences
        assert {t for t in after if "_:" not in t} == {t for t in expected if "_:" not in t}, (
            label,
            sorted(after ^ expected)[:5],
        )
        assert len(after) == len(expected), label
        on_disk = ox.parse(path=str(updated.release.inferred), format=ox.RdfFormat.N_TRIPLES)
        assert {f"{q.subject} {q.predicate} {q.object}" for q in on_disk} == after, label
        # the edges the next update reads: kept up to date, as the whole graph's are read
        kept, read = (Edges.from_json(r.release.edges.read_text()) for r in (updated, whole))
        assert kept is not None and kept.lines and kept == read, label
        previous = after


def test_the_ontology_docs_are_shared_while_the_ontology_is_the_same(
    tmp_path: Path, corpus: Path
) -> None:
    """pyLODE runs when the ontology changed; otherwise the release shares the last one's
    documentation (hard links), and a release whose files are missing gets new ones."""
    first = run(config(tmp_path, corpus))
    page = corpus / PAGES[0]
    page.write_text(page.read_text() + "\nThe Co-Chairs then travelled to Baku, Azerbaijan.\n")
    second = run(config(tmp_path, corpus))
    for name in ("ontology.html", "ontology.ttl"):
        assert (second.release.docs / name).stat().st_ino == (
            first.release.docs / name
        ).stat().st_ino

    ontology = tmp_path / "osce.ttl"  # the same ontology with one more label: documented anew
    text = Path(project_config(tmp_path, corpus).ontology).read_text()
    comment = "<http://www.w3.org/2000/01/rdf-schema#comment>"
    state = "<https://w3id.org/osce-kg/ontology#State>"
    ontology.write_text(f'{text}\n{state} {comment} "One more comment."@en .\n')
    third = run(config(tmp_path, corpus, ontology=ontology))
    html = third.release.docs / "ontology.html"
    assert html.stat().st_ino != (second.release.docs / "ontology.html").stat().st_ino
    assert "One more comment." in html.read_text()
    assert (third.release.docs / "ontology.ttl").read_bytes() == ontology.read_bytes()


def test_a_base_store_that_cannot_be_opened_makes_the_build_reason_over_everything(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Updating the closure around a change reads the previous release's store; when it
    cannot be opened the build reasons over the whole graph and says why."""
    run(config(tmp_path, corpus))
    monkeypatch.setattr(pipeline.StagedRelease, "base_store", lambda self: None)
    page = corpus / PAGES[0]
    page.write_text(page.read_text() + "\nThe Co-Chairs then travelled to Baku, Azerbaijan.\n")
    second = run(config(tmp_path, corpus))
    assert second.report.reasoning["method"] == "whole graph"
    assert second.report.reasoning["not_around_the_change"] == (
        "the previous release's store cannot be opened"
    )
    assert second.report.publish["void"] == "counted"  # the VoID update needs it too


def test_the_digests_tell_the_subjects_described_unalike_as_the_store_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Which shared subjects the graphs describe differently, told from the digests kept with
    the cache entries, is what reading every graph's triples about them from the store tells."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for page in [*SEED_DIR.glob("*.txt"), *DEVSET.glob("*.txt")]:
        shutil.copy(page, folder)
    run(config(tmp_path, folder))
    calls: list[tuple[dict[str, cache.Entry], bytes, bool]] = []
    real = pipeline.described_unalike

    def spy(subjects: set[str], entries: dict[str, cache.Entry], ref: bytes, changed: bool):  # type: ignore[no-untyped-def]
        calls.append((dict(entries), ref, changed))
        return real(subjects, entries, ref, changed)

    monkeypatch.setattr(pipeline, "described_unalike", spy)
    page = folder / PAGES[1]
    page.write_text(page.read_text() + "\nThe Co-Chairs met the Foreign Minister of Armenia.\n")
    result = run(config(tmp_path, folder))
    ((entries, reference_nt, reference_changed),) = calls
    assert not reference_changed
    described = Counter(s for e in entries.values() for s in e.subjects)
    reference_subjects = {line.split(b"> ")[0][1:].decode() for line in reference_nt.splitlines()}
    in_reference = set(described) & reference_subjects
    subjects = {s for s, n in described.items() if n > 1} | in_reference
    digests = real(subjects, entries, reference_nt, False)

    skip = {ox.NamedNode(str(IRIS.ontology_graph())), ox.NamedNode(str(IRIS.inferred_graph()))}
    store = ox.Store.read_only(str(result.release.store))
    stored = set()
    for subject in subjects:
        by_graph: dict[ox.NamedNode, set[tuple[object, object]]] = {}
        for q in store.quads_for_pattern(ox.NamedNode(subject), None, None, None):
            if isinstance(q.graph_name, ox.NamedNode) and q.graph_name not in skip:
                by_graph.setdefault(q.graph_name, set()).add((q.predicate, q.object))
        if len({frozenset(v) for v in by_graph.values()}) > 1:
            stored.add(subject)
    # Every IRI subject of a page's graph is in its entry, with a digest or as its own; and
    # none of its own (its mentions) is described by another graph.
    graphs_of: dict[str, set[str]] = {}
    for q in store.quads_for_pattern(None, None, None, None):
        graph, subject = q.graph_name, q.subject
        named = isinstance(subject, ox.NamedNode) and isinstance(graph, ox.NamedNode)
        if named and graph not in skip:
            graphs_of.setdefault(subject.value, set()).add(graph.value)
    del store
    owned = 0
    kept = cache.DocCache(tmp_path / "out")
    assert any(e.own is None for e in entries.values())  # read from the cache: in their file
    for doc_id, entry in entries.items():
        own = set(kept.own_subjects(entry, str(IRIS.document(doc_id))))
        kept._own_path(entry.key).unlink(missing_ok=True)  # without it, taken from the graph
        assert set(kept.own_subjects(entry, str(IRIS.document(doc_id)))) == own
        owned += len(own)
        name = str(IRIS.document_graph(doc_id))
        assert own | set(entry.subjects) == {s for s, g in graphs_of.items() if name in g}
        assert all(graphs_of[s] == {name} for s in own)
    assert owned > sum(len(e.subjects) for e in entries.values())  # most of them
    # The pages named as describing a subject are those whose graphs do.
    describers = pipeline._Describers(entries, IRIS, graphs_of)
    reference = str(IRIS.reference_graph())
    for subject, graphs in graphs_of.items():
        assert set(describers.pages(subject)) == graphs - {reference}, subject
    assert len(subjects) > 20 and 0 < len(stored) < len(subjects)  # both kinds are there
    assert in_reference & stored and in_reference - stored
    assert digests == stored
    assert real(subjects, entries, reference_nt, True) == stored | in_reference


def test_the_reference_data_is_made_again_only_when_its_inputs_change(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[int] = []
    real = pipeline.build_reference

    def build_reference(*args):  # type: ignore[no-untyped-def]
        made.append(1)
        return real(*args)

    monkeypatch.setattr(pipeline, "build_reference", build_reference)
    first = run(config(tmp_path, corpus))
    reference = graph_nt(first.release.store, IRIS.reference_graph())
    assert len(made) == 1 and reference
    edited = corpus / PAGES[0]  # a page's text, not its menu
    edited.write_text(edited.read_text() + "\nThe Co-Chairs will meet again in Vienna.\n")
    second = run(config(tmp_path, corpus))
    assert len(made) == 1
    assert graph_nt(second.release.store, IRIS.reference_graph()) == reference
    assert second.report.warnings == first.report.warnings  # kept with it
    (seed,) = SEED_DIR.glob("*.txt")  # a new page with a menu: the reference data names it
    shutil.copy(seed, corpus / "copy_of_the_seed.txt")
    third = run(config(tmp_path, corpus))
    assert len(made) == 2
    added = graph_nt(third.release.store, IRIS.reference_graph()) - reference
    assert any("copy_of_the_seed" in triple for triple in added)
    kept = list((tmp_path / "out" / "cache" / "reference").iterdir())
    assert len(kept) == 2  # this build's graph and warnings: the others removed
    (damaged,) = (p for p in kept if p.suffix == ".nt")
    damaged.write_bytes(b"<not a triple\n")  # a kept graph that does not parse: made again
    edited.write_text(edited.read_text() + "\nThey will report to the Council.\n")
    fourth = run(config(tmp_path, corpus))
    assert len(made) == 3 and fourth.report.status == "ok"
    assert graph_nt(fourth.release.store, IRIS.reference_graph()) == reference | added


def test_the_affected_nodes_triples_are_read_from_one_graph_of_each_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The graphs the digests name for a subject (one of those that say the same of it) hold
    every asserted triple of it that the store holds, for every subject of the store."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for page in [*SEED_DIR.glob("*.txt"), *DEVSET.glob("*.txt")]:
        shutil.copy(page, folder)
    run(config(tmp_path, folder))
    compared: list[int] = []
    real = pipeline.local_update

    def spy(store: ox.Store, inferred: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        graphs_of = kwargs["graphs_of"]
        skip = ox.NamedNode(inferred)
        subjects = sorted(
            {
                f"<{q.subject.value}>".encode()
                for q in store.quads_for_pattern(None, None, None, None)
                if isinstance(q.subject, ox.NamedNode) and q.graph_name != skip
            }
        )
        every = local_closure._construct(store, local_closure._SUBJECTS, subjects, skip)
        read = local_closure._described(store, subjects, graphs_of)
        assert set(read.splitlines()) == set(every.splitlines())
        assert len(read) > 100_000
        compared.append(len(subjects))
        return real(store, inferred, *args, **kwargs)

    monkeypatch.setattr(pipeline, "local_update", spy)
    page = folder / PAGES[0]
    page.write_text(page.read_text() + "\nThe Co-Chairs met the Foreign Minister of Armenia.\n")
    result = run(config(tmp_path, folder))
    assert result.report.reasoning["method"] == "around the change"
    assert compared and compared[0] > 1000


def test_the_shacl_engines_make_the_same_build(tmp_path: Path) -> None:
    """The fast SHACL engine and the reference one (pySHACL) find the same results, per page
    and across pages, over the devset and two pages that contradict each other."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for page in [*SEED_DIR.glob("*.txt"), *DEVSET.glob("*.txt")]:
        shutil.copy(page, folder)
    _contradicting_pages(folder)
    said = {}
    for engine in ("shacl", "pyshacl"):
        out = tmp_path / engine
        result = run(replace(project_config(out, folder), keep_going=True, shacl_engine=engine))
        said[engine] = (
            sorted(
                (d.source, d.status, tuple(d.errors), tuple(d.warnings))
                for d in result.report.documents
            ),
            sorted(result.report.validation),
        )
    documents, validation = said["shacl"]
    assert {status for _source, status, _errors, _warnings in documents} == {"built", "invalid"}
    assert validation and said["shacl"] == said["pyshacl"]


def test_a_closure_made_beside_the_check_across_pages_is_not_used_when_pages_are_withdrawn(
    tmp_path: Path,
) -> None:
    """Building from nothing, the whole graph's closure is computed while the pages are
    checked against each other; when that check withdraws pages (--keep-going), the closure
    is made again without them: the inferences are those of a build without those pages."""
    from tests.conftest import FIXED_TIME

    folder = tmp_path / "corpus"
    folder.mkdir()
    for page in DEVSET.glob("dev0[1-4]*.txt"):
        shutil.copy(page, folder)
    _contradicting_pages(folder)
    checked = run(
        replace(project_config(tmp_path / "a", folder), keep_going=True, jobs=2), now=FIXED_TIME
    )
    withdrawn = {Path(d.source).name for d in checked.report.documents if d.status == "invalid"}
    assert withdrawn == {"first.txt", "second.txt"}
    assert "beside_validate_shared" not in checked.report.reasoning
    for name in withdrawn:
        (folder / name).unlink()
    clean = run(replace(project_config(tmp_path / "b", folder), jobs=2), now=FIXED_TIME)
    assert clean.report.reasoning["beside_validate_shared"] is True
    inferred = IRIS.inferred_graph()
    assert graph_nt(checked.release.store, inferred) == graph_nt(clean.release.store, inferred)
    assert len(graph_nt(clean.release.store, inferred)) > 1000


def _aged(path: Path, seconds: float = 10) -> None:
    """Make ``path`` look hashed long after its last change: its recorded hash time moves on
    (the change time cannot be set back)."""
    hashes = json.loads(path.read_text())
    for record in hashes["files"].values():
        record[5] += int(seconds * 1e9)
    path.write_text(json.dumps(hashes))


def test_a_source_whose_stat_is_unchanged_is_not_read_again(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_bytes(b"first version")
    first = cache.FileHashes(tmp_path)
    digest = first.sha256(page)
    assert digest == hashlib.sha256(b"first version").hexdigest() and first.read == 1
    first.save()
    racy = cache.FileHashes(tmp_path)  # changed just before it was hashed: read again
    assert racy.sha256(page) == digest and racy.read == 1
    racy.save()
    _aged(tmp_path / "cache" / "hashes.json")
    again = cache.FileHashes(tmp_path)
    assert again.sha256(page) == digest and again.read == 0
    assert cache.FileHashes(tmp_path, trust=False).sha256(page) == digest  # --force reads
    # Same size, the modification time put back: the change time tells it.
    told = page.stat()
    page.write_bytes(b"other version")
    os.utime(page, ns=(told.st_atime_ns, told.st_mtime_ns))
    edited = cache.FileHashes(tmp_path)
    assert edited.sha256(page) == hashlib.sha256(b"other version").hexdigest()
    assert edited.read == 1
    assert edited.sha256(tmp_path) == "" and edited.sha256(tmp_path / "gone.txt") == ""


@pytest.mark.parametrize(
    "kept",
    [
        "",
        "{",
        "[]",
        '{"format": 2, "files": {}}',
        '{"format": 1, "files": []}',
        '{"format": 1, "files": {"PAGE": 5}}',  # records that are not records
        '{"format": 1, "files": {"PAGE": [1, 2]}}',
        '{"format": 1, "files": {"PAGE": [1, 2, 3, 4, 5, "x", "ab"]}}',
    ],
)
def test_kept_hashes_that_cannot_be_read_are_made_again(tmp_path: Path, kept: str) -> None:
    page = tmp_path / "page.txt"
    page.write_bytes(b"text")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "hashes.json").write_text(kept.replace("PAGE", str(page)))
    hashes = cache.FileHashes(tmp_path)
    assert hashes.sha256(page) == hashlib.sha256(b"text").hexdigest() and hashes.read == 1
    hashes.save()
    assert json.loads((tmp_path / "cache" / "hashes.json").read_text())["format"] == 1


def test_an_unchanged_corpus_is_told_by_its_files_stat(tmp_path: Path, corpus: Path) -> None:
    run(config(tmp_path, corpus))
    _aged(tmp_path / "out" / "cache" / "hashes.json")
    reads = []
    real = cache.FileHashes.save

    def spy(self: cache.FileHashes) -> None:
        reads.append(self.read)
        real(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cache.FileHashes, "save", spy)
        assert run(config(tmp_path, corpus)).report.status == "unchanged"
        page = corpus / PAGES[0]
        page.write_text(page.read_text() + "\nThe Co-Chairs met in Vienna.\n")
        edited = run(config(tmp_path, corpus))
    assert reads == [0, 1]  # the edited page alone is read
    assert [d.status for d in edited.report.documents].count("built") == 1


def test_the_manifest_is_written_as_asdict_would_write_it_and_read_back(tmp_path: Path) -> None:
    """The manifest's JSON is ``asdict``'s, keys sorted, a document per line."""
    from dataclasses import asdict

    manifest = cache.Manifest(
        fingerprint="f",
        context="c",
        reference="r",
        inferred_key="i",
        documents={
            "b": cache.ManifestDoc("b", "s2", "pages/b.txt", "k2", ["old"]),
            "a": cache.ManifestDoc("a", "s1", "pages/é.txt", "k1"),
        },
        failed={"pages/x.txt": {"sha256": "", "doc_id": "", "status": "failed", "errors": ["e"]}},
    )
    text = manifest.to_json()
    assert json.loads(text) == asdict(manifest)
    assert list(json.loads(text)) == sorted(asdict(manifest))
    lines = text.splitlines()
    assert lines[1:3] == [' "context": "c",', ' "documents": {']
    assert [json.loads("{" + line.rstrip(",") + "}") for line in lines[3:5]] == [
        {"a": asdict(manifest.documents["a"])},
        {"b": asdict(manifest.documents["b"])},
    ]
    empty = cache.Manifest("f", "c", "r", "i", {}, {})
    assert json.loads(empty.to_json()) == asdict(empty)
    path = tmp_path / "manifest.json"
    path.write_text(text, encoding="utf-8")
    assert cache.Manifest.read(path) == manifest


def test_cached_entries_keep_their_menu_as_one_string_and_share_it(tmp_path: Path) -> None:
    """An entry's menu is kept as its canonical JSON and read back equal, one object for
    the entries that share it; a menu that is not a JSON object makes the entry unreadable
    (built again) rather than wrong."""
    docs = cache.DocCache(tmp_path)
    menu = {"Where we are": ["Vienna", "Skopje"], "Countries": ["Austria"]}
    for n in range(3):
        docs.put(
            cache.Entry(f"{n:02d}" * 32, f"d{n}", "0" * 64, f"d{n}.txt", dict(menu), {}, [], {})
        )
    read = [docs.get(f"{n:02d}" * 32, graph=False) for n in range(3)]
    assert all(e is not None and e.menu == menu for e in read)
    assert read[0].menu is read[1].menu  # type: ignore[union-attr]
    meta = docs.root / "00" / ("00" * 32 + ".json")
    kept = json.loads(meta.read_text())
    assert kept["menu"] == json.dumps(menu, sort_keys=True)
    texts = cache.canonical_menus([e.menu for e in read] + [None, dict(menu)])  # type: ignore[union-attr]
    assert texts == [kept["menu"]] * 3 + [None, kept["menu"]]
    for damaged in ("[1, 2]", "{"):  # JSON, but not of an object; not JSON
        meta.write_text(json.dumps({**kept, "menu": damaged}))
        assert docs.get("00" * 32, graph=False) is None


def test_the_reference_key_and_context_hash_are_those_of_the_menus_json() -> None:
    """Each distinct menu is written once; the keys are what writing every page's menu gives
    (so that the reference data kept by earlier builds is found again)."""
    rng = random.Random(3)
    sections = ["Fields of work", "b", "a", "Ç"]
    for _round in range(100):
        menus = [
            (
                f'page{i}é"',
                {
                    k: [f"x{rng.randint(0, 3)}ü" for _ in range(2)]
                    for k in sections[: rng.randint(0, 4)]
                },
            )
            for i in range(rng.randint(0, 6))
        ]
        pages = json.dumps([[d, m] for d, m in menus], sort_keys=True)
        assert (
            cache.reference_key("fp", menus) == hashlib.sha256(f"fp\0{pages}".encode()).hexdigest()
        )
        distinct = sorted({json.dumps(m, sort_keys=True) for _d, m in menus})
        expected = hashlib.sha256("\n".join(distinct).encode()).hexdigest()
        assert cache.context_hash([m for _d, m in menus] + [None]) == expected


def test_the_cache_keeps_only_the_entries_releases_refer_to(tmp_path: Path, corpus: Path) -> None:
    first = run(config(tmp_path, corpus))
    docs = tmp_path / "out" / "cache" / "docs"
    keys = {
        d.key for d in cache.Manifest.read(first.release.root / "manifest.json").documents.values()
    }  # type: ignore[union-attr]
    stray = docs / "ab" / ("ab" + "0" * 62)
    stray.parent.mkdir(exist_ok=True)
    stray.with_suffix(".nt").write_bytes(b"")  # a graph whose entry was never written
    half = docs / "ab" / ".half.json.123.tmp"
    half.write_bytes(b"")
    page = corpus / PAGES[0]
    for line in ("\nThe Co-Chairs met in Vienna.\n", "\nThey met again in Geneva.\n"):
        page.write_text(page.read_text() + line)
        last = run(config(tmp_path, corpus))
    manifest = cache.Manifest.read(last.release.root / "manifest.json")
    assert manifest is not None
    kept = {p.name.split(".", 1)[0] for p in docs.glob("*/*")}
    assert kept >= {d.key for d in manifest.documents.values()}
    assert len(keys - kept) == 1  # the first version of the edited page: gone
    # (not the folder's whole listing: a real entry's key may begin with "ab" too)
    assert not stray.with_suffix(".nt").exists() and not half.exists()
    assert {p.suffix for p in docs.glob("*/*")} == {".json", ".nt", ".dump", ".own"}


def test_a_closure_whose_process_dies_is_made_in_the_build_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process computing the closure beside the cross-page check is killed (as the
    kernel would for memory): the build computes it itself, and the inferences are those of a
    build that never used another process."""
    from tests.conftest import FIXED_TIME

    folder = tmp_path / "corpus"
    folder.mkdir()
    for page in DEVSET.glob("dev0[1-4]*.txt"):
        shutil.copy(page, folder)
    real_init = pipeline._ClosureAhead.__init__
    killed: list[int] = []

    def killing(self: pipeline._ClosureAhead, *args: object) -> None:
        real_init(self, *args)  # type: ignore[arg-type]
        assert self._child is not None and self._child._process is not None
        self._child._process.kill()  # dies before it answers: the pipe ends
        killed.append(1)

    monkeypatch.setattr(pipeline._ClosureAhead, "__init__", killing)
    beside = run(replace(project_config(tmp_path / "a", folder), jobs=2), now=FIXED_TIME)
    monkeypatch.undo()
    alone = run(project_config(tmp_path / "b", folder), now=FIXED_TIME)  # --jobs 1
    assert killed and "beside_validate_shared" not in alone.report.reasoning
    inferred = IRIS.inferred_graph()
    assert graph_nt(beside.release.store, inferred) == graph_nt(alone.release.store, inferred)
    assert len(graph_nt(alone.release.store, inferred)) > 1000


def test_an_edited_page_built_early_gives_the_build_it_would_have_given(
    tmp_path: Path, corpus: Path
) -> None:
    """With --jobs 2, an edited page is built in a process forked once the sources are hashed,
    against the reference data the last build kept, while the cache entries are read; the
    release is the one building it in its turn gives (--jobs 1), graph for graph."""
    from tests.test_cli import kg_build

    page = corpus / PAGES[1]
    original = page.read_text()
    stores = {}
    keys: dict[str, dict[str, str]] = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}"
        page.write_text(original)
        assert kg_build("--out-dir", out, "-q", "--jobs", jobs, corpus).returncode == 0
        page.write_text(original + "\nThe Co-Chairs then travelled to Baku, Azerbaijan.\n")
        done = kg_build("--out-dir", out, "-q", "--jobs", jobs, corpus)
        assert done.returncode == 0, done.stderr
        report = json.loads((out / "report.json").read_text())
        assert report["counts"] == {"built": 1, "cached": len(PAGES)}
        assert report["publish"].get("pages_built_early", 0) == (1 if jobs == "2" else 0)
        release = current_release(out)
        assert release is not None
        stores[jobs] = release.store
        manifest = cache.Manifest.read(release.root / "manifest.json")
        assert manifest is not None
        keys[jobs] = {d.doc_id: d.key for d in manifest.documents.values()}
        assert all(cache.DocCache(out).get(key) for key in keys[jobs].values())
    assert keys["1"] == keys["2"]  # each entry under the key the next build looks for
    builds = {j: ox.Store.read_only(str(s)) for j, s in stores.items()}
    try:
        names = {q.graph_name for q in builds["1"].quads_for_pattern(None, None, None, None)}
        pages = [n for n in names if isinstance(n, ox.NamedNode) and "/graph/document/" in n.value]
        assert len(pages) == len(PAGES) + 1
        for name in sorted(pages, key=str):
            one, two = (graph_nt(str(s), URIRef(name.value)) for s in stores.values())
            assert _without_the_build(one) == _without_the_build(two), name
    finally:
        del builds


def _without_the_build(lines: set[str]) -> set[str]:
    """A graph's lines, the build's own (its IRI, its times) left out: they differ by build."""
    return {line for line in lines if "/build/" not in line and "AtTime>" not in line}
