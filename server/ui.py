"""``/``: the query page — YASGUI served from the local npm install, with our example queries.

YASGUI (the ``@zazuko/yasgui`` npm package, pinned in ``package.json`` and installed by
``make install``) is served from ``node_modules`` under ``/static/yasgui/``; nothing is loaded
from a CDN. Without ``node_modules`` the page falls back to a plain form that posts to
``/sparql`` and says how to install YASGUI. The example queries are the ``server/queries/*.rq``
files; each starts with two comment lines, its title and a one-line description.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, send_from_directory

from server.errors import error_response

bp = Blueprint("ui", __name__, static_folder="ui_static", static_url_path="/static/ui")

QUERIES_DIR = Path(__file__).resolve().parent / "queries"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_YASGUI_DIR = ROOT / "node_modules" / "@zazuko" / "yasgui" / "build"
YASGUI_FILES = ("yasgui.min.js", "yasgui.min.css")
INSTALL_HINT = "make install"  # runs `npm ci` for the versions pinned in package-lock.json


class ExampleError(ValueError):
    """An example query file without its title and description header."""


@dataclass(frozen=True)
class ExampleQuery:
    """One example: ``slug`` from the file name, ``title`` and ``description`` from its header."""

    slug: str
    title: str
    description: str
    query: str


@dataclass(frozen=True)
class Yasgui:
    """Where the installed YASGUI build is, and its version (for cache-busting URLs)."""

    folder: Path
    version: str


_SLUG = re.compile(r"^(?:\d+-)?(?P<slug>[a-z0-9-]+)\.rq$")


def parse_example(name: str, text: str) -> ExampleQuery:
    """An example from its file name and text: line 1 ``# Title``, line 2 ``# Description``."""
    match = _SLUG.match(name)
    lines = text.splitlines()
    if match is None:
        raise ExampleError(f"{name}: file names are [NN-]lower-case-words.rq")
    if len(lines) < 3 or not all(line.startswith("# ") for line in lines[:2]):
        raise ExampleError(f"{name}: start with '# <title>' and '# <one-line description>'")
    title, description = (line[2:].strip() for line in lines[:2])
    if not title or not description:
        raise ExampleError(f"{name}: the title or the description is empty")
    return ExampleQuery(match["slug"], title, description, text)


@cache
def load_examples(folder: Path = QUERIES_DIR) -> tuple[ExampleQuery, ...]:
    """The example queries in ``folder``, in file-name order."""
    return tuple(
        parse_example(path.name, path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.rq"))
    )


def find_yasgui(folder: Path) -> Yasgui | None:
    """The YASGUI build in ``folder`` (``…/@zazuko/yasgui/build``), or None if not installed."""
    if not all((folder / name).is_file() for name in YASGUI_FILES):
        return None
    try:
        version = str(json.loads((folder.parent / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        version = "unknown"
    return Yasgui(folder, version)


def _yasgui() -> Yasgui | None:
    return find_yasgui(Path(current_app.config.get("YASGUI_DIR") or DEFAULT_YASGUI_DIR))


@bp.route("/")
def index() -> str:
    examples = load_examples()
    return render_template(
        "index.html",
        examples=examples,
        example_data=[asdict(example) for example in examples],
        query=examples[0].query,
        yasgui=_yasgui(),
        install_hint=INSTALL_HINT,
    )


@bp.route("/static/yasgui/<path:filename>")
def yasgui_asset(filename: str) -> Response:
    """A file of the installed YASGUI build (404 when it is not installed)."""
    yasgui = _yasgui()
    if yasgui is None or filename not in YASGUI_FILES:
        return _not_installed()
    return send_from_directory(yasgui.folder, filename, max_age=86400)


def _not_installed() -> Response:
    return error_response(
        404,
        "Not Found",
        "This YASGUI file is not served: YASGUI is not installed, or the file is not part of it.",
        f"Run `{INSTALL_HINT}` to install YASGUI from package-lock.json.",
    )
