"""The ontology's documentation: an HTML page generated from the Turtle by pyLODE.

pyLODE runs in a child process: it configures the root logger and leaves files open, and
neither should leak into the build (or into a test run with warnings as errors).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from kg_builder.errors import PublishError

TIMEOUT_SECONDS = 300


def write_ontology_docs(
    ontology: Path, target: Path, previous: Path | None = None
) -> tuple[Path, Path]:
    """Write ``ontology.html`` (pyLODE) and ``ontology.ttl`` into ``target``; when the folder
    ``previous`` (the last release's) documents the same ontology, its files are shared
    (hard links: a published release is never written again) instead of running pyLODE
    again (0.75 s)."""
    target.mkdir(parents=True, exist_ok=True)
    html = target / "ontology.html"
    turtle = target / "ontology.ttl"
    if previous is not None and _documents(previous, ontology):
        try:
            for name in (turtle.name, html.name):
                _share(previous / name, target / name)
            return html, turtle
        except OSError:  # gone meanwhile, or unreadable: made again below
            pass
    shutil.copyfile(ontology, turtle)
    script = (
        "import sys; from pylode import OntPub; sys.stdout.write(OntPub(sys.argv[1]).make_html())"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-W", "ignore", "-c", script, str(ontology)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0 or "<html" not in done.stdout:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise PublishError(f"pyLODE could not document the ontology: {last}", subject=str(ontology))
    html.write_text(done.stdout, encoding="utf-8")
    return html, turtle


def _documents(folder: Path, ontology: Path) -> bool:
    """Whether ``folder`` holds the documentation of ``ontology`` (its copy and the page)."""
    try:
        same = (folder / "ontology.ttl").read_bytes() == ontology.read_bytes()
    except OSError:
        return False
    return same and (folder / "ontology.html").is_file()


def _share(source: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system, or no hard links: a copy
        shutil.copyfile(source, target)
