"""Publish stage: a failed or interrupted build never touches the served release."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg_builder import publish
from kg_builder.config import BuildConfig
from kg_builder.dumpfile import GraphDump, Share
from kg_builder.errors import BuildLocked, PublishError
from kg_builder.layout import current_release
from kg_builder.pipeline import BuildResult, lock_out_dir, run
from kg_builder.publish import StagedRelease, to_nquads
from tests.conftest import FIXED_TIME, project_config, read_plain
from tests.test_cli import fingerprint


def forced(out: Path) -> BuildConfig:
    """A build that publishes a new release even when nothing changed (``--force``)."""
    return replace(project_config(out), force=True)


def test_failure_while_writing_the_release_keeps_the_served_one(
    built_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = fingerprint(built_out)

    def disk_full(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(publish, "write_dumps", disk_full)  # the dumps cannot be written
    with pytest.raises(PublishError, match="No space left on device"):
        run(forced(built_out))
    assert fingerprint(built_out) == before
    assert not list((built_out / "releases").glob("*.partial"))


def test_leftover_partial_release_is_removed_by_the_next_build(built_out: Path) -> None:
    leftover = built_out / "releases" / "20250101T000000000000Z.partial"
    (leftover / "store").mkdir(parents=True)
    result = run(project_config(built_out))
    assert not leftover.exists()
    assert any("half-written" in w for w in result.report.warnings)


def test_new_build_swaps_current_and_keeps_two_releases(built_out: Path) -> None:
    first = os.readlink(built_out / "current")
    run(forced(built_out))
    second = os.readlink(built_out / "current")
    run(forced(built_out))
    third = os.readlink(built_out / "current")
    assert len({first, second, third}) == 3
    kept = sorted(p.name for p in (built_out / "releases").iterdir())
    assert kept == sorted([Path(second).name, Path(third).name])
    release = current_release(built_out)
    assert release is not None and release.store.is_dir() and release.turtle_gz.is_file()


def test_same_second_builds_do_not_collide(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(project_config(out), now=FIXED_TIME)
    before = fingerprint(out)
    with pytest.raises(PublishError, match="exists already"):
        run(forced(out), now=FIXED_TIME)
    assert fingerprint(out) == before


def test_concurrent_build_on_the_same_output_is_refused(built_out: Path) -> None:
    with lock_out_dir(built_out), pytest.raises(BuildLocked, match="another kg-build"):
        run(project_config(built_out))


def test_unchanged_rebuild_keeps_the_served_release(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(project_config(out))
    before = fingerprint(out)
    result = run(project_config(out))
    assert result.report.status == "unchanged"
    assert fingerprint(out) == before
    assert "unchanged" in (out / "report.txt").read_text()


def test_nquads_from_ntriples_keep_literals_with_dots_and_blank_nodes() -> None:
    data = b'<http://a> <http://b> "x ." .\n_:n1 <http://c> "y"@en .\n'
    quads = to_nquads(data, "http://g")
    parsed = list(ox.parse(quads, ox.RdfFormat.N_QUADS))
    assert [q.graph_name for q in parsed] == [ox.NamedNode("http://g")] * 2
    assert parsed[0].object == ox.Literal("x .")


def test_nquads_from_ntriples_in_any_spacing() -> None:
    fast = b'<http://a> <http://b> "x" .\n<http://a> <http://b> "y" .'
    slow = b'<http://a> <http://b> "x" . \r\n\n<http://a> <http://b> "y".\n'
    for data in (fast, slow):
        parsed = list(ox.parse(to_nquads(data, "http://g"), ox.RdfFormat.N_QUADS))
        assert [q.object.value for q in parsed] == ["x", "y"]
        assert {q.graph_name for q in parsed} == {ox.NamedNode("http://g")}


def test_the_dumps_hold_what_the_store_holds(seed_build: BuildResult) -> None:
    """The dumps are written from the graphs loaded into the store, not read back from it."""
    release = seed_build.release
    store = ox.Store.read_only(str(release.store))
    stored = set(store.quads_for_pattern(None, None, None, None))
    dumped = set(ox.parse(read_plain(release.nquads_gz), format=ox.RdfFormat.N_QUADS))
    assert len(stored) > 5000
    # blank nodes (the ontology's lists) are labelled anew by each load: compared by count
    assert _ground(dumped) == _ground(stored)
    assert len(dumped) == len(stored)
    merged = {q.triple for q in ox.parse(read_plain(release.turtle_gz), format=ox.RdfFormat.TURTLE)}
    assert _ground(merged) == _ground({q.triple for q in stored})
    assert len(merged) == len({q.triple for q in stored})
    # no plain copies on disk: the server serves them from the gzip files
    assert sorted(p.name for p in release.dumps.iterdir() if not p.name.startswith(".")) == [
        "osce-kg.nq.gz",
        "osce-kg.ttl.gz",
    ]


def _ground(items: set[ox.Quad] | set[ox.Triple]) -> set[ox.Quad | ox.Triple]:
    return {
        x
        for x in items
        if not isinstance(x.subject, ox.BlankNode) and not isinstance(x.object, ox.BlankNode)
    }


def _parts(graphs: dict[str, bytes]) -> list[Share]:
    return [Share(name, partial(GraphDump.of, name, nt)) for name, nt in graphs.items()]


def test_staged_release_from_a_checkpoint_replaces_only_the_named_graphs(tmp_path: Path) -> None:
    a, b = "http://example.org/g/a", "http://example.org/g/b"
    first = StagedRelease(tmp_path, "b1")
    graphs = {
        a: b"<http://s> <http://p> <http://o1> .\n",
        b: b"<http://s> <http://p> <http://o> .\n",
    }
    first.replace_many(graphs)
    one = first.finish(_parts(graphs))
    second = StagedRelease(tmp_path, "b2", base=one)
    second.replace(a, b"<http://s> <http://p> <http://o2> .\n")
    second.drop(b)
    two = second.finish(_parts({a: b"<http://s> <http://p> <http://o2> .\n"}))
    store = ox.Store.read_only(str(two.store))
    objects = {q.object.value for q in store.quads_for_pattern(None, None, None, None)}
    assert objects == {"http://o2"}
    old = ox.Store.read_only(str(one.store))
    assert len(list(old.quads_for_pattern(None, None, None, None))) == 2  # the base is untouched


def test_the_inferred_file_is_written_beside_the_build_and_its_failure_reported(
    tmp_path: Path,
) -> None:
    """The inferred graph's file is written on a thread: the release has it once finished,
    the build reads it back from memory meanwhile, and a write that fails fails ``finish``
    with the file named."""
    data = b"<http://s> <http://p> <http://o> .\n" * 1000
    staged = StagedRelease(tmp_path, "b1")
    staged.keep_inferred(data)
    assert staged.inferred_nt("http://example.org/g/inferred") is data
    release = staged.finish([])
    assert release.inferred.read_bytes() == data

    broken = StagedRelease(tmp_path, "b2")
    broken.release.inferred.mkdir()  # a folder where the file goes: it cannot be written
    broken.keep_inferred(data)
    with pytest.raises(PublishError, match="cannot write the release") as raised:
        broken.finish([])
    assert raised.value.subject == str(broken.release.inferred)
    broken.abandon()
    assert not broken.root.exists()


def test_dumps_started_early_wait_for_the_inferences_and_stop_with_the_build(
    tmp_path: Path,
) -> None:
    """Dumps started before the inferences are made write the asserted graphs, wait, then
    write the inferences given later, in that order; a build given up while they wait ends
    their thread and leaves no release."""
    a, inferred = "http://example.org/g/a", "http://example.org/g/inferred"
    asserted = {a: b"<http://s> <http://p> <http://o> .\n"}
    made = {inferred: b"<http://s> <http://q> <http://o> .\n"}
    asked: list[str] = []

    def later() -> list[Share]:
        asked.append("inferences")
        return _parts(made)

    staged = StagedRelease(tmp_path, "b1")
    staged.replace_many({**asserted, **made})
    staged.start_dumps(_parts(asserted), later)
    assert staged._dumps is not None
    staged._dumps.thread.join(0.2)
    assert staged._dumps.thread.is_alive() and asked == []  # waiting for the inferences
    staged.inferences_done()
    release = staged.finish([Share("http://example.org/g/never", lambda: None)])  # type: ignore[arg-type]
    assert asked == ["inferences"]
    quads = read_plain(release.nquads_gz).decode()
    assert quads.index("<http://p>") < quads.index("<http://q>")
    assert "never" not in quads

    given_up = StagedRelease(tmp_path, "b2")
    given_up.start_dumps(_parts(asserted), later)
    thread = given_up._dumps.thread  # type: ignore[union-attr]
    given_up.abandon()
    assert not thread.is_alive() and not given_up.root.exists()
    assert asked == ["inferences"]  # not asked again


def test_dumps_stop_at_the_next_graph_when_the_build_is_given_up(tmp_path: Path) -> None:
    """Dumps started before the check across documents, which may fail the build, stop at
    the graph after the one being written when the build is given up, not after all."""
    first_made, go_on = threading.Event(), threading.Event()
    made: list[str] = []

    def share(name: str) -> Share:
        def make() -> GraphDump:
            made.append(name)
            if len(made) == 1:
                first_made.set()
                go_on.wait(10)
            return GraphDump.of(name, b"<http://s> <http://p> <http://o> .\n")

        return Share(name, make)

    staged = StagedRelease(tmp_path, "b1")
    staged.start_dumps((share(f"http://example.org/g/{i}") for i in range(100)), list)
    assert first_made.wait(10)

    def once_given_up() -> None:  # the first graph is let go once abandon has begun
        while not staged._stopped:
            time.sleep(0.01)
        go_on.set()

    releaser = threading.Thread(target=once_given_up)
    releaser.start()
    staged.abandon()
    releaser.join()
    assert made == ["http://example.org/g/0"] and not staged.root.exists()


def test_the_background_loader_loads_beside_the_caller_and_reports_its_errors(
    tmp_path: Path,
) -> None:
    from kg_builder.errors import PublishError

    staged = StagedRelease(tmp_path, "b1")
    loader = staged.loader()
    graphs = {
        f"http://example.org/g/{i}": b"<http://s> <http://p> <http://o%d> .\n" % i
        for i in range(50)
    }
    for name, nt in graphs.items():
        loader.add(name, nt)
    loader.finish()
    assert loader.loaded == set(graphs) <= staged.touched
    assert staged.graph_names() == set(graphs)
    assert len(staged.store) == 50
    staged.abandon()

    broken = StagedRelease(tmp_path, "b2")
    loader = broken.loader()
    loader.add("http://example.org/g/x", b"<http://s> <http://p> not a term .\n")
    with pytest.raises(PublishError, match="cannot write the release"):
        loader.finish()
    broken.abandon()

    stopped = StagedRelease(tmp_path, "b3")
    loader = stopped.loader()
    loader.add("http://example.org/g/y", b"<http://s> <http://p> <http://o> .\n")
    loader.stop()  # the build failed: what waits is not loaded, the thread ends
    assert not loader._thread.is_alive()
    stopped.abandon()
