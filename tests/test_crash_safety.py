"""``kill -9`` at any point of a build leaves the served release intact; the next run recovers.

``kg-build`` runs as a subprocess with ``KG_BUILD_PAUSE_AT=<stage>``, which makes it stop at
that point of the pipeline (``publish.pause_point``); the test kills it there with SIGKILL,
then checks what a server would read: ``current`` resolves to a whole release whose store
opens and answers a query and whose dumps parse. Two more kills come after random delays.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg_builder.layout import current_release
from tests.conftest import FIXTURES, ROOT, SEED_DIR, read_plain

PAUSES = ("parsed", "built", "staged", "reasoned", "written", "fsynced", "renamed", "swapped")
BEFORE_THE_SWAP = PAUSES[:-1]


def start(out: Path, corpus: Path, pause: str | None) -> subprocess.Popen[str]:
    env = {**os.environ, "KG_BUILD_PAUSE_SECONDS": "120"}
    if pause is not None:
        env["KG_BUILD_PAUSE_AT"] = pause
    return subprocess.Popen(
        [sys.executable, "-m", "kg_builder", "--force", "--out-dir", str(out), str(corpus)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_pause(build: subprocess.Popen[str], stage: str) -> None:
    assert build.stderr is not None
    for line in build.stderr:
        if f"paused at {stage}" in line:
            return
    pytest.fail(f"kg-build ended (code {build.wait()}) before pausing at {stage}")


def kill(build: subprocess.Popen[str]) -> int:
    build.send_signal(signal.SIGKILL)
    code = build.wait(timeout=30)
    if build.stderr is not None:
        build.stderr.close()
    return code


def finish(build: subprocess.Popen[str]) -> None:
    """Let a build run to its end; it must succeed."""
    errors = build.stderr.read() if build.stderr is not None else ""
    assert build.wait(timeout=600) == 0, errors
    if build.stderr is not None:
        build.stderr.close()


def assert_served_release_intact(out: Path) -> str:
    """What a reader of ``out`` sees is one whole release; its name."""
    release = current_release(out)
    assert release is not None and release.root.is_dir()
    assert not release.root.name.endswith(".partial")
    store = ox.Store.read_only(str(release.store))
    try:
        answer = store.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert isinstance(answer, ox.QuerySolutions)
        (row,) = list(answer)
        count = int(row["n"].value)
        assert count > 1000
    finally:
        del store
    assert len(list(ox.parse(read_plain(release.nquads_gz), format=ox.RdfFormat.N_QUADS))) == count
    assert list(ox.parse(read_plain(release.turtle_gz), format=ox.RdfFormat.TURTLE))
    assert (release.root / "manifest.json").is_file()
    return release.root.name


@pytest.mark.slow
def test_kill_9_at_any_point_keeps_the_served_release(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for page in [*SEED_DIR.glob("*.txt"), FIXTURES / "devset" / "dev02_gid_geneva_2017-12-13.txt"]:
        (corpus / page.name).write_bytes(page.read_bytes())
    out = tmp_path / "out"
    finish(start(out, corpus, None))
    served = assert_served_release_intact(out)

    for stage in PAUSES:
        build = start(out, corpus, stage)
        wait_for_pause(build, stage)
        assert kill(build) == -signal.SIGKILL
        now = assert_served_release_intact(out)
        if stage in BEFORE_THE_SWAP:
            assert now == served, f"killed at {stage}, the served release changed"
        served = now

    rng = random.Random(6)
    for _ in range(2):
        build = start(out, corpus, None)
        time.sleep(rng.uniform(0.5, 8.0))
        kill(build)
        served = assert_served_release_intact(out)

    finish(start(out, corpus, None))
    assert assert_served_release_intact(out) != served
    assert not list((out / "releases").glob("*.partial"))
    assert not (out / ".current.tmp").exists()
