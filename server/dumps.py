"""``/dumps/``: the published dump files, listed and downloadable with conditional GET."""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from pyoxigraph import RdfFormat

from kg_builder.layout import GZIP, current_release
from server.protocol import parse_accept, quality
from server.store import NoRelease

bp = Blueprint("dumps", __name__)


def _dumps_dir() -> Path:
    release = current_release(current_app.config["KG_OUT_DIR"])
    if release is None or not release.dumps.is_dir():
        raise NoRelease()
    return release.dumps


def media_type(name: str) -> str:
    """The media type of a dump file, from pyoxigraph's formats, else the mimetypes table."""
    if name.endswith(GZIP):
        return "application/gzip"
    fmt = RdfFormat.from_extension(Path(name).suffix.lstrip("."))
    if fmt is not None:
        return fmt.media_type
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


@bp.route("/dumps/")
def listing() -> Response | str:
    folder = _dumps_dir()
    files: list[dict[str, Any]] = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            stat = path.stat()
            modified = datetime.fromtimestamp(stat.st_mtime, UTC)
            files.append(
                {
                    "name": path.name,
                    "url": url_for("dumps.download", name=path.name, _external=True),
                    "media_type": media_type(path.name),
                    "bytes": stat.st_size,
                    "modified": modified.isoformat(timespec="seconds"),
                }
            )
    release = folder.parent.name
    ranges = parse_accept(request.headers.get("Accept", ""))
    if quality(ranges, "text/html") > quality(ranges, "application/json"):
        return render_template("dumps.html", release=release, files=files)
    response = jsonify(release=release, dumps=files)
    response.vary.add("Accept")
    return response


@bp.route("/dumps/<name>")
def download(name: str) -> Response:
    """A dump, with ETag, Last-Modified, conditional and range requests; served from its
    ``.gz`` twin with ``Content-Encoding: gzip`` to clients that accept gzip."""
    folder = _dumps_dir()
    packed = name + GZIP
    if (
        not name.endswith(GZIP)
        and request.accept_encodings["gzip"] > 0
        and (folder / packed).is_file()
    ):
        response = send_from_directory(folder, packed, mimetype=media_type(name))
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = send_from_directory(folder, name, mimetype=media_type(name))
    if not name.endswith(GZIP):
        response.vary.add("Accept-Encoding")
    return response
