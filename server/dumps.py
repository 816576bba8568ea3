"""``/dumps/``: the published dumps, listed and downloadable with conditional and range
requests.

A release keeps its dumps gzip-compressed only; the plain ``osce-kg.nq`` and ``osce-kg.ttl``
are served decompressed on the way (``kg_builder.dumpfile.PlainDump``), with the length,
ranges and validators of a file: a range starts decompressing at the piece that holds its
first byte. Clients that accept gzip get the compressed bytes instead, as
``Content-Encoding: gzip``."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from pyoxigraph import RdfFormat

from kg_builder.dumpfile import PlainDump
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


def published_dumps(folder: Path) -> list[tuple[str, int, Path]]:
    """The dumps in a release's dump folder as (name, bytes, file): its files, and before each
    gzip dump the plain one served from it."""
    dumps: list[tuple[str, int, Path]] = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.name.endswith(GZIP):
            plain = _plain(folder, path.name.removesuffix(GZIP))
            if plain is not None and not (folder / plain.name).exists():
                dumps.append((plain.name, plain.dump.size, path))
        dumps.append((path.name, path.stat().st_size, path))
    return dumps


@bp.route("/dumps/")
def listing() -> Response | str:
    folder = _dumps_dir()
    files = [
        {
            "name": name,
            "url": url_for("dumps.download", name=name, _external=True),
            "media_type": media_type(name),
            "bytes": size,
            "modified": datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(
                timespec="seconds"
            ),
        }
        for name, size, path in published_dumps(folder)
    ]
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
    ``.gz`` twin with ``Content-Encoding: gzip`` to clients that accept gzip, and
    decompressed from it to the others."""
    if name.startswith("."):  # the indexes of pieces are the server's, not a download
        abort(404)
    folder = _dumps_dir()
    packed = name + GZIP
    if (
        not name.endswith(GZIP)
        and request.accept_encodings["gzip"] > 0
        and (folder / packed).is_file()
    ):
        response = send_from_directory(folder, packed, mimetype=media_type(name))
        response.headers["Content-Encoding"] = "gzip"
    elif not name.endswith(GZIP) and not (folder / name).exists():
        plain = _plain(folder, name)
        if plain is None:
            abort(404)
        response = plain.response()
    else:
        response = send_from_directory(folder, name, mimetype=media_type(name))
    if not name.endswith(GZIP):
        response.vary.add("Accept-Encoding")
    return response


class _Plain:
    """A plain dump served from its gzip file."""

    def __init__(self, name: str, packed: Path, dump: PlainDump):
        self.name = name
        self.packed = packed
        self.dump = dump

    def response(self) -> Response:
        stat = self.packed.stat()
        stream = _Stream(self.dump)
        response = Response(stream, mimetype=media_type(self.name), direct_passthrough=True)
        response.content_length = self.dump.size
        response.last_modified = datetime.fromtimestamp(stat.st_mtime, UTC)
        # the gzip file's identity (its inode changes with every release) and the plain length
        response.set_etag(f"{stat.st_ino:x}-{stat.st_mtime_ns:x}-{self.dump.size:x}-plain")
        response.cache_control.no_cache = True  # as send_file: revalidate, then use
        response.make_conditional(request, accept_ranges=True, complete_length=self.dump.size)
        return response


def _plain(folder: Path, name: str) -> _Plain | None:
    """The plain dump ``name`` served from ``name.gz`` and its index of pieces, if any."""
    if "/" in name or name.endswith(GZIP):
        return None
    packed = folder / (name + GZIP)
    dump = PlainDump.open(packed)
    return None if dump is None else _Plain(name, packed, dump)


class _Stream:
    """The plain bytes of a dump as a seekable iterable, which werkzeug's range handling moves
    to the first byte asked for (it reads an iterable that cannot seek from the start)."""

    def __init__(self, dump: PlainDump):
        self._dump = dump
        self._at = 0
        self._chunks: Iterator[bytes] | None = None

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int) -> None:
        self._at = offset
        self._chunks = None

    def tell(self) -> int:
        return self._at

    def __iter__(self) -> _Stream:
        return self

    def __next__(self) -> bytes:
        if self._chunks is None:
            self._chunks = self._dump.chunks(self._at)
        chunk = next(self._chunks)
        self._at += len(chunk)
        return chunk

    def close(self) -> None:
        chunks, self._chunks = self._chunks, None
        if chunks is not None and hasattr(chunks, "close"):
            chunks.close()
