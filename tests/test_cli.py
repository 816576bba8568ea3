"""``kg-build`` from the command line: success, and every kind of bad input."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
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
    assert release is not None and release.nquads_gz.stat().st_size > 0
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
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("kg-build: ")
    if code == 2:
        assert len(lines) == 1, "an input error is one line"
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


def test_debug_shows_traceback(tmp_path: Path) -> None:
    done = kg_build("--debug", "-q", BAD / "empty.txt", "--out-dir", tmp_path / "out")
    assert done.returncode == 2
    assert "Traceback" in done.stderr


def test_wrong_flag_is_a_usage_error() -> None:
    done = kg_build("--no-such-flag")
    assert done.returncode == 2
    assert "No such option" in done.stderr


def test_a_negative_compaction_bound_is_a_usage_error(tmp_path: Path) -> None:
    done = kg_build("--compact-below", "-1", "--out-dir", tmp_path, ROOT / "data" / "sources")
    assert done.returncode == 2
    assert "--compact-below" in done.stderr and "-1" in done.stderr
    assert not (tmp_path / "current").exists()


def test_bad_base_iri_is_a_usage_error(tmp_path: Path) -> None:
    done = kg_build("--base-iri", "not an iri", "--out-dir", tmp_path, ROOT / "data" / "sources")
    assert done.returncode == 2
    assert "--base-iri" in done.stderr and "Traceback" not in done.stderr


def seed_text() -> str:
    return (ROOT / "data" / "sources" / "000_9fd24956cc425f56.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("make_source", "message"),
    [
        (lambda d: Path("/dev/zero"), "is not a regular file"),
        (
            lambda d: _write(
                d / "bad-pubdate.txt",
                "News\nA title\nPublishing date: 31 February 2014\nBody text.\n",
            ),
            "Publishing date '31 February 2014' is not a valid date",
        ),
    ],
    ids=["device", "impossible-publishing-date"],
)
def test_more_bad_sources_are_input_errors(
    built_out: Path, tmp_path: Path, make_source: object, message: str
) -> None:
    source = make_source(tmp_path)  # type: ignore[operator]
    before = fingerprint(built_out)
    done = kg_build("--out-dir", built_out, "-q", source)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert fingerprint(built_out) == before


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("flag", "make_value", "message"),
    [
        ("--ontology", lambda d: d, "ontology file is missing or not a file"),
        ("--out-dir", lambda d: _write(d / "a-file", "x"), "exists and is not a directory"),
        ("--reference-dir", lambda d: d / "nowhere", "reference file is missing"),
    ],
    ids=["ontology-is-a-folder", "out-dir-is-a-file", "missing-reference-dir"],
)
def test_bad_settings_are_usage_errors(
    tmp_path: Path, flag: str, make_value: object, message: str
) -> None:
    value = make_value(tmp_path)  # type: ignore[operator]
    args = [flag, value] if flag == "--out-dir" else ["--out-dir", tmp_path / "out", flag, value]
    done = kg_build(*args, "-q", ROOT / "data" / "sources")
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr


def test_reference_table_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    ref = tmp_path / "ref"
    shutil.copytree(ROOT / "data" / "reference", ref)
    (ref / "chairpersonships.tsv").write_bytes(b"year\tstate\n1991\tGermany\xff\n")
    done = kg_build(
        "--out-dir", tmp_path / "out", "--reference-dir", ref, "-q", ROOT / "data" / "sources"
    )
    assert done.returncode == 2
    assert "chairpersonships.tsv: not UTF-8 text" in done.stderr


def test_title_equal_to_a_menu_line_points_at_the_title(tmp_path: Path) -> None:
    from kg_builder.parse import parse

    text = seed_text().replace(
        "Joint Statement by the Heads of Delegation of the OSCE Minsk Group Co-Chair Countries",
        "Secretariat",
    )
    doc = parse(_write(tmp_path / "menu-title.txt", text))
    title = doc.regions[0]
    assert title.kind == "title" and title.text == "Secretariat"
    assert doc.text.index("Press release\nSecretariat") + len("Press release\n") == title.start


def test_body_bullets_after_fields_of_work_stay_in_the_body(tmp_path: Path) -> None:
    from kg_builder.parse import parse

    text = seed_text().replace(
        "- Conflict prevention and resolution\nBASEL",
        "- Conflict prevention and resolution\n- BASEL",
    )
    doc = parse(_write(tmp_path / "bullet.txt", text))
    assert doc.metadata.fields_of_work == ("Conflict prevention and resolution",)
    assert doc.regions[-1].text.startswith("- BASEL, Switzerland")


def test_a_bulleted_date_line_does_not_make_a_full_page(tmp_path: Path) -> None:
    from kg_builder.parse import parse

    text = "A title\nVIENNA, 4 December 2014 - The meeting agreed:\n- Date:\n- to meet again.\n"
    doc = parse(_write(tmp_path / "bullets.txt", text))
    assert doc.layout == "title_dateline"


def test_crlf_and_bom_offsets_point_at_the_mention(tmp_path: Path) -> None:
    from kg_builder.parse import parse

    raw = "\ufeff" + seed_text().replace("\n", "\r\n")
    path = tmp_path / "crlf.txt"
    path.write_bytes(raw.encode("utf-8"))
    doc = parse(path)
    body = doc.regions[-1]
    assert doc.text[body.start : body.end] == body.text
    start = doc.text.index("Sergey Lavrov")
    assert doc.text[start : start + 13] == "Sergey Lavrov"
    assert doc.date is not None and doc.date.isoformat() == "2014-12-04"


def test_the_command_loads_neither_the_http_stack_nor_pyshacl_until_used(tmp_path: Path) -> None:
    """``requests`` (with its cache) and pySHACL take 0.35 s to import: a build from local
    files with the fast SHACL engine does without them, its options read (the check of
    ``--push`` among them) up to the build itself."""
    code = (
        "import sys, kg_builder.cli as cli, kg_builder.pipeline, kg_builder.workers\n"
        "def run(config, **_):\n"
        "    heavy = ('pyshacl', 'requests', 'requests_cache')\n"
        "    print(sorted(m for m in heavy if m in sys.modules))\n"
        "    sys.exit(0)\n"
        "cli.run = run\n"
        f"cli.main(['-q', '--out-dir', {str(tmp_path / 'out')!r}, {str(tmp_path)!r}])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _stderr_on_a_terminal(*args: str | Path) -> tuple[int, bytes]:
    """Run kg-build with its stderr on a pseudo-terminal of 24 by 80 (one starts at 0 by 0):
    its exit code and what it wrote, within 300 s in all."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    import time

    leader, follower = pty.openpty()
    written = bytearray()
    try:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        process = subprocess.Popen(
            [sys.executable, "-m", "kg_builder", *map(str, args)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=follower,
        )
        os.close(follower)
        follower = -1
        deadline = time.monotonic() + 300
        while (left := deadline - time.monotonic()) > 0:
            if not select.select([leader], [], [], left)[0]:
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the command ended and its output was read
                break
            if not chunk:
                break
            written += chunk
        else:
            process.kill()
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    return process.wait(timeout=60), bytes(written)


def test_progress_bars_with_a_rate_on_a_terminal_and_none_in_a_pipe(tmp_path: Path) -> None:
    """On a terminal the parse and build stages show a bar with its rate in documents per
    second (tqdm); with stderr in a pipe or a file (CI, logs) there is no bar, and -q keeps a
    terminal quiet too."""
    devset = ROOT / "tests" / "fixtures" / "devset"  # 14 pages: long enough for a rate
    code, shown = _stderr_on_a_terminal("--jobs", "1", "--out-dir", tmp_path / "tty", devset)
    assert code == 0, shown.decode(errors="replace")
    assert b"kg-build: build:" in shown and b"%|" in shown  # a bar drawn
    assert re.search(rb"[1-9]\d*/14 \[[^\]]*,\s*\d+(\.\d+)?doc/s\]", shown)  # with its rate
    seed = ROOT / "data" / "sources"
    piped = kg_build("--out-dir", tmp_path / "pipe", seed)
    assert piped.returncode == 0, piped.stderr
    assert "%|" not in piped.stderr and "doc/s" not in piped.stderr
    code, quiet = _stderr_on_a_terminal("-q", "--out-dir", tmp_path / "quiet", seed)
    assert code == 0 and b"%|" not in quiet and b"doc/s" not in quiet


def test_compact_below_from_the_command_line(tmp_path: Path) -> None:
    """``--compact-below MB`` reaches the build: after a small change, 0 leaves the store
    uncompacted, and a bound above the store's size compacts it (the default, 512, would
    compact this small store both times)."""
    corpus, out = tmp_path / "corpus", tmp_path / "out"
    shutil.copytree(ROOT / "data" / "sources", corpus)
    page = next(corpus.glob("*.txt"))
    original = page.read_text(encoding="utf-8")
    assert kg_build("-q", "--out-dir", out, corpus).returncode == 0

    def compacted_after(text: str, bound: str) -> bool:
        page.write_text(text, encoding="utf-8")
        done = kg_build("-q", "--compact-below", bound, "--out-dir", out, corpus)
        assert done.returncode == 0, done.stderr
        report = json.loads((out / "report.json").read_text())
        assert "built" in {d["status"] for d in report["documents"]}
        return bool(report["publish"]["store_compacted"])

    assert compacted_after(original + "\nThe Chair will meet again in Vienna.\n", "0") is False
    assert compacted_after(original, "1000") is True


def test_compact_on_an_unchanged_corpus_publishes_a_compacted_release(tmp_path: Path) -> None:
    """``kg-build --compact`` from the command line: where a plain rerun keeps the served
    release, it publishes a new one, compacted, with every document from the cache."""
    out, seed = tmp_path / "out", ROOT / "data" / "sources"
    assert kg_build("-q", "--out-dir", out, seed).returncode == 0
    first = current_release(out)
    again = kg_build("-q", "--out-dir", out, seed)
    assert again.returncode == 0 and current_release(out) == first
    compacted = kg_build("-q", "--compact", "--out-dir", out, seed)
    assert compacted.returncode == 0, compacted.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "ok" and report["publish"]["store_compacted"] is True
    assert {d["status"] for d in report["documents"]} == {"cached"}
    assert current_release(out) != first
