"""``kg-build`` from the command line: success, and every kind of bad input."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kg_builder.layout import current_release

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "cases" / "bad"


def kg_build(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kg_builder", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def fingerprint(out: Path) -> dict[str, str]:
    """What is served: where ``current`` points and the hash of every published file."""
    release = current_release(out)
    assert release is not None
    files = sorted(p for p in release.root.rglob("*") if p.is_file())
    return {
        "current": os.readlink(out / "current"),
        **{
            str(p.relative_to(release.root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in files
        },
    }


def test_kg_build_help() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "kg-build"), "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert "Exit codes" in done.stdout and "--base-iri" in done.stdout


def test_build_seed_prints_summary(tmp_path: Path) -> None:
    done = kg_build("--out-dir", tmp_path / "out", ROOT / "data" / "sources")
    assert done.returncode == 0, done.stderr
    assert "1 document(s)" in done.stdout
    release = current_release(tmp_path / "out")
    assert release is not None and release.nquads_dump.stat().st_size > 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["status"] == "ok" and report["documents"][0]["layout"] == "full"


@pytest.mark.parametrize(
    ("source", "code", "message"),
    [
        (BAD / "missing.txt", 2, "no such file or folder"),
        (BAD / "empty.txt", 2, "empty document"),
        (BAD / "not-utf8.txt", 2, "not UTF-8 text"),
        (BAD / "not-a-page.txt", 2, "not a recognisable OSCE page"),
        (BAD / "no-title.txt", 1, "a statement needs exactly one title"),
    ],
    ids=["missing", "empty", "not-utf8", "not-a-page", "no-title"],
)
def test_bad_input_fails_clearly_and_keeps_previous_output(
    built_out: Path, source: Path, code: int, message: str
) -> None:
    before = fingerprint(built_out)
    done = kg_build("--out-dir", built_out, "-q", source)
    assert done.returncode == code
    first_line = done.stderr.strip().splitlines()[0]
    assert first_line.startswith("kg-build: ")
    assert source.name in done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert fingerprint(built_out) == before
    report = json.loads((built_out / "report.json").read_text())
    assert report["status"] == "failed" and message in report["error"]


def test_validation_failure_names_document_node_and_shape(built_out: Path) -> None:
    done = kg_build("--out-dir", built_out, "-q", BAD / "no-title.txt")
    assert done.returncode == 1
    assert "graph/document/no-title" in done.stderr
    assert "document/no-title" in done.stderr and "StatementShape" not in done.stderr
    assert "shapes#Statement" in done.stderr
    assert "http://purl.org/dc/terms/title" in done.stderr
    report_ttl = (built_out / "report.ttl").read_text()
    assert "ValidationReport" in report_ttl


def test_debug_shows_traceback() -> None:
    done = kg_build("--debug", "-q", BAD / "empty.txt", "--out-dir", "/tmp/osce-kg-unused")
    assert done.returncode == 2
    assert "Traceback" in done.stderr


def test_wrong_flag_is_a_usage_error() -> None:
    done = kg_build("--no-such-flag")
    assert done.returncode == 2
    assert "No such option" in done.stderr


def test_bad_base_iri_is_a_usage_error(tmp_path: Path) -> None:
    done = kg_build("--base-iri", "not an iri", "--out-dir", tmp_path, ROOT / "data" / "sources")
    assert done.returncode == 2
    assert "--base-iri" in done.stderr and "Traceback" not in done.stderr
