"""The dumps, written from per-graph pieces that are made once per graph and cached.

Each named graph becomes a :class:`GraphDump`: its Turtle, and its N-Quads and Turtle as
compressed pieces. A document's pieces are made by the worker that builds the document and
kept in the build cache with its graph, so a rebuild after one edit copies the other graphs'
pieces instead of serialising and compressing ten million triples again.

**Why pieces concatenate into one gzip file.** A gzip file (RFC 1952) wraps one DEFLATE
stream (RFC 1951), which is a series of blocks. A graph compressed by a fresh compressor and
ended with a *sync flush* (an empty non-final stored block, which byte-aligns the output)
is a run of blocks that refers to nothing before it. Runs can therefore follow each other;
one final empty block and the gzip trailer (the CRC-32 of all the data and its length) close
the stream. The CRC-32 of a concatenation is computed from the pieces' own CRCs
(``crc32_combine``), so nothing is decompressed. The result is a single-member gzip file that
every gunzip and HTTP client reads. (pigz compresses in parallel the same way.)

**No plain copies.** Only the gzip files are written (with, beside each, the offsets where
its pieces start, compressed and not): a plain dump is the gzip file decompressed, and the
server streams it so (:class:`PlainDump`), from the piece that holds the first byte asked for
when a client asks for a range. At 10,000 pages the plain files were 4.5 GB that a build
wrote and synced again after every change, where the gzip files are 270 MB.

**Turtle.** Each graph's Turtle starts with the same ``@prefix`` lines; Turtle allows a
prefix to be declared again, so the concatenation is one Turtle document: the merge of the
graphs, as before. Blank node labels are kept as the N-Triples give them (their scope is the
whole dump in N-Quads and Turtle alike).
"""

from __future__ import annotations

import bisect
import errno
import os
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import pyoxigraph as ox
from zlib_ng import zlib_ng

from kg_builder.namespaces import (
    DCTERMS,
    OA,
    ORG,
    OSCE,
    OWL,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    SKOSXL,
    TIME,
    XSD,
)

PREFIXES = {
    "osce": str(OSCE._NS),
    "org": str(ORG),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "prov": str(PROV),
    "schema": str(SCHEMA),
    "oa": str(OA),
    "owl": str(OWL),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
    "time": str(TIME),
    "skosxl": str(SKOSXL),
}
LEVEL = 6  # zlib-ng at 6: about 260 MB/s here, and smaller than zlib's 6 (20.6x on N-Quads)
# gzip header: magic, DEFLATE, no flags, mtime 0 (reproducible), no extra flags, OS unknown
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
FINAL_BLOCK = b"\x03\x00"  # an empty final block with fixed Huffman codes
_PIECE = struct.Struct("<IQQ")  # CRC-32, uncompressed length, compressed length
_MAGIC = b"KGDUMP2\n"
_INDEX_MAGIC = b"KGPIECES2\n"
# pieces, plain length of the whole dump, where the pieces end in the file, names' length
_INDEX_HEAD = struct.Struct("<QQQQ")
# a piece: where it starts in the file and in the plain data, the CRC-32 of its plain data
_INDEX_ENTRY = struct.Struct("<QQI")


@dataclass(frozen=True)
class Piece:
    """Data compressed as DEFLATE blocks that a sync flush ends: see the module docstring."""

    blocks: bytes
    crc: int  # CRC-32 of the uncompressed data
    size: int  # its length

    @classmethod
    def of(cls, data: bytes) -> Piece:
        packer = zlib_ng.compressobj(LEVEL, zlib_ng.DEFLATED, -15)  # raw DEFLATE, no header
        blocks = packer.compress(data) + packer.flush(zlib_ng.Z_SYNC_FLUSH)
        return cls(blocks, zlib_ng.crc32(data), len(data))


@dataclass(frozen=True)
class GraphDump:
    """One named graph's share of the dumps: its N-Quads and its Turtle, compressed."""

    nquads_gz: Piece
    turtle_gz: Piece

    @classmethod
    def of(cls, name: str, ntriples: bytes) -> GraphDump:
        return cls(Piece.of(to_nquads(ntriples, name)), Piece.of(to_turtle(ntriples)))

    def to_bytes(self) -> bytes:
        """The form kept in the build cache (``from_bytes`` reads it back)."""
        parts = [_MAGIC]
        for piece in (self.nquads_gz, self.turtle_gz):
            parts += [_PIECE.pack(piece.crc, piece.size, len(piece.blocks)), piece.blocks]
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> GraphDump | None:
        """The dump ``to_bytes`` wrote, or None when ``data`` is not one (truncated, or
        written by another version)."""
        if not data.startswith(_MAGIC):
            return None
        view = memoryview(data)
        at = len(_MAGIC)
        try:
            pieces = []
            for _ in range(2):
                crc, size, length = _PIECE.unpack_from(view, at)
                at += _PIECE.size
                pieces.append(Piece(bytes(view[at : at + length]), crc, size))
                at += length
        except struct.error:
            return None
        if at != len(data):  # a slice past the end is short, not an error: caught here
            return None
        return cls(pieces[0], pieces[1])


def to_nquads(ntriples: bytes, graph: str) -> bytes:
    """N-Triples (one triple a line, as rdflib and Oxigraph write them) into ``graph``.

    A line break cannot occur inside an N-Triples term (it is escaped), so every " .\n" ends
    a triple: one replacement in C does it when every line ends so; other spacing goes the
    slow way, line by line."""
    if not ntriples.endswith(b"\n"):
        ntriples += b"\n"
    suffix = f" <{graph}> .\n".encode()
    quads = ntriples.replace(b" .\n", suffix)
    if quads.count(b"\n") == ntriples.count(b" .\n") and b"\r" not in ntriples:
        return quads
    lines = (line.rstrip() for line in ntriples.splitlines())
    return b"".join(line[:-1].rstrip() + suffix for line in lines if line)


def to_turtle(ntriples: bytes) -> bytes:
    """N-Triples as Turtle with the project's prefixes (Oxigraph's serialiser)."""
    triples = ox.parse(ntriples, ox.RdfFormat.N_TRIPLES)
    data = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    assert data is not None  # noqa: S101 - without an output, serialize returns the bytes
    return data


RUNS = 64  # runs of lines a large graph's share is cut into (see ``runs_of_subjects``)


def runs_of_subjects(data: bytes, keys: list[bytes] | None) -> list[tuple[bytes, bytes]]:
    """Sorted N-Triples ``data`` cut into runs of lines, all the lines of a subject in one
    run, as (the run's key, its lines): at ``keys`` (a subject and a space each, the first
    b"", in order) when given, so that the runs are those of an earlier version of the data
    and an edit changes only the runs its lines fall in; else at ``RUNS`` places about as far
    apart. A line belongs to the last run whose key is not after it."""
    if keys is None:
        keys = [b""]
        for k in range(1, RUNS):
            at = data.find(b"\n", len(data) * k // RUNS - 1) + 1
            space = data.find(b" ", at)
            if 0 < at < len(data) and space > at:
                key = data[at : space + 1]
                if key > keys[-1]:
                    keys.append(key)
    starts = [0, *(first_line_at_or_after(data, key) for key in keys[1:]), len(data)]
    return [(key, data[starts[i] : starts[i + 1]]) for i, key in enumerate(keys)]


def run_of(keys: list[bytes], line: bytes) -> int:
    """The run (``runs_of_subjects``) that ``line`` belongs to."""
    return max(bisect.bisect_right(keys, line) - 1, 0)


def first_line_at_or_after(data: bytes, key: bytes) -> int:
    """The offset of the first of the sorted lines of ``data`` that is not before ``key``
    (``len(data)`` when none is): a binary search over the bytes."""
    lo, hi = 0, len(data)  # line starts: every line before lo is before key; hi is not
    while lo < hi:
        mid = (lo + hi) // 2
        start = data.rfind(b"\n", lo, mid) + 1 or lo  # the line that holds byte mid
        end = data.find(b"\n", start) + 1 or len(data)
        if data[start:end] < key:
            lo = end
        else:
            hi = start
    return lo


def index_path(packed: Path) -> Path:
    """Where the offsets of the pieces of the gzip dump ``packed`` are kept (a hidden file
    beside it, which the server does not list)."""
    return packed.with_name(f".{packed.name}.pieces")


@dataclass(frozen=True)
class PieceIndex:
    """Where each graph's piece is in a gzip dump: in the file and in the plain data, with
    the piece's CRC-32 and the graph's name; enough to copy a run of pieces into another
    dump without decompressing them."""

    starts: list[int]  # file offset of each piece
    plain: list[int]  # plain offset of each piece
    crcs: list[int]
    names: list[str]
    size: int  # bytes of plain data
    end: int  # file offset where the pieces end (the final block follows)

    @classmethod
    def read(cls, packed: Path) -> PieceIndex | None:
        """The index of the gzip dump ``packed``, or None without a readable one (a dump not
        written by :class:`DumpWriter`, or by an older version)."""
        try:
            data = index_path(packed).read_bytes()
        except OSError:
            return None
        at = len(_INDEX_MAGIC)
        if not data.startswith(_INDEX_MAGIC) or len(data) < at + _INDEX_HEAD.size:
            return None
        count, size, end, names_length = _INDEX_HEAD.unpack_from(data, at)
        at += _INDEX_HEAD.size
        names_at = at + count * _INDEX_ENTRY.size
        if len(data) != names_at + names_length:
            return None
        starts, plain, crcs = [], [], []
        for start, plain_start, crc in _INDEX_ENTRY.iter_unpack(data[at:names_at]):
            starts.append(start)
            plain.append(plain_start)
            crcs.append(crc)
        names = data[names_at:].decode("utf-8", "replace").split("\n") if count else []
        if len(names) != count:
            return None
        return cls(starts, plain, crcs, names, size, end)

    def plain_size(self, piece: int) -> int:
        following = self.plain[piece + 1] if piece + 1 < len(self.plain) else self.size
        return following - self.plain[piece]

    def file_end(self, piece: int) -> int:
        return self.starts[piece + 1] if piece + 1 < len(self.starts) else self.end


class _PackedWriter:
    """One gzip dump being written piece by piece, with its index of pieces."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: BinaryIO = path.open("wb")
        self.file.write(GZIP_HEADER)
        self.at = len(GZIP_HEADER)
        self.crc = 0
        self.size = 0
        self.entries: list[bytes] = []
        self.names: list[str] = []

    def _piece(self, name: str, start: int, crc: int, size: int) -> None:
        self.entries.append(_INDEX_ENTRY.pack(start, self.size, crc))
        self.names.append(name)
        self.crc = zlib_ng.crc32_combine(self.crc, crc, size)
        self.size += size

    def add(self, name: str, piece: Piece) -> None:
        self._piece(name, self.at, piece.crc, piece.size)
        self.file.write(piece.blocks)
        self.at += len(piece.blocks)

    def copy(self, source: BinaryIO, index: PieceIndex, first: int, last: int) -> None:
        """Append the pieces ``first`` to ``last`` of the dump ``source`` (indexed by
        ``index``) as they are: one range of the file, copied by the kernel."""
        begin, end = index.starts[first], index.file_end(last)
        for piece in range(first, last + 1):
            start = self.at + index.starts[piece] - begin
            self._piece(index.names[piece], start, index.crcs[piece], index.plain_size(piece))
        self.file.flush()
        _copy_range(source, begin, end - begin, self.file)
        self.at += end - begin

    def finish(self) -> None:
        self.file.write(FINAL_BLOCK)
        self.file.write(struct.pack("<II", self.crc, self.size & 0xFFFFFFFF))
        names = "\n".join(self.names).encode("utf-8")
        head = _INDEX_MAGIC + _INDEX_HEAD.pack(len(self.entries), self.size, self.at, len(names))
        index_path(self.path).write_bytes(head + b"".join(self.entries) + names)


def _copy_range(source: BinaryIO, offset: int, length: int, target: BinaryIO) -> None:
    """``length`` bytes of ``source`` from ``offset`` appended to ``target`` (flushed, its
    position at its end), by ``copy_file_range`` where the kernel and file system have it."""
    out = target.fileno()
    position = os.lseek(out, 0, os.SEEK_CUR)
    left = length
    try:
        while left:
            done = os.copy_file_range(source.fileno(), out, left, offset, position)
            if done == 0:
                break
            offset, position, left = offset + done, position + done, left - done
    except OSError as exc:  # not between these files: copied below
        if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            raise
    target.seek(position)
    source.seek(offset)
    while left:
        data = source.read(min(left, 1 << 20))
        if not data:
            raise OSError(f"{getattr(source, 'name', 'the base dump')}: shorter than its index")
        target.write(data)
        left -= len(data)


@dataclass(frozen=True)
class Share:
    """A named graph's share of the dumps: made by ``make``, or, ``reusable``, copied from the
    base release's dumps when they hold that graph's pieces (its cache key did not change)."""

    name: str
    make: Callable[[], GraphDump]
    reusable: bool = False


class _Base:
    """The base release's two dumps, open for copying pieces out of them; none when either
    has no index or is not the file its index describes."""

    def __init__(self, nquads_gz: Path, turtle_gz: Path) -> None:
        self.indexes: list[PieceIndex] = []
        self.files: list[BinaryIO] = []
        self.numbers: list[dict[str, int]] = []
        for path in (nquads_gz, turtle_gz):
            index = PieceIndex.read(path)
            try:
                handle = path.open("rb") if index is not None else None
            except OSError:
                handle = None
            if index is None or handle is None:
                break
            self.files.append(handle)
            if os.fstat(handle.fileno()).st_size != index.end + len(FINAL_BLOCK) + 8:
                break
            self.indexes.append(index)
        if len(self.indexes) == 2:
            self.numbers = [{name: i for i, name in enumerate(x.names)} for x in self.indexes]

    def pieces(self, name: str) -> tuple[int, int] | None:
        """The numbers of graph ``name``'s pieces in the two dumps, when both hold it."""
        if not self.numbers:
            return None
        nquads, turtle = (numbers.get(name) for numbers in self.numbers)
        return None if nquads is None or turtle is None else (nquads, turtle)

    def close(self) -> None:
        for handle in self.files:
            handle.close()


class DumpWriter:
    """Writes the N-Quads and Turtle dumps, gzip-compressed, one graph at a time, copying
    runs of pieces from the base release's dumps where a graph's share can be reused."""

    def __init__(
        self, nquads_gz: Path, turtle_gz: Path, base: tuple[Path, Path] | None = None
    ) -> None:
        self._paths = (nquads_gz, turtle_gz)
        self._base_paths = base
        self._base: _Base | None = None
        self._writers: list[_PackedWriter] = []
        self._run: list[tuple[int, int]] = []  # pieces of the base to copy next
        self.copied = 0  # graphs whose pieces were copied from the base

    def __enter__(self) -> DumpWriter:
        for path in self._paths:
            self._writers.append(_PackedWriter(path))
        if self._base_paths is not None:
            self._base = _Base(*self._base_paths)
        return self

    def add(self, name: str, dump: GraphDump) -> None:
        """Append graph ``name``'s share."""
        self._copy_run()
        nquads, turtle = self._writers
        nquads.add(name, dump.nquads_gz)
        turtle.add(name, dump.turtle_gz)

    def share(self, share: Share) -> None:
        """Append a graph's share: copied from the base when it can be, else made."""
        found = self._base.pieces(share.name) if share.reusable and self._base else None
        if found is None:
            self.add(share.name, share.make())
            return
        if self._run and (self._run[-1][0] + 1, self._run[-1][1] + 1) != found:
            self._copy_run()  # not next to the last one in the base: a run of its own
        self._run.append(found)
        self.copied += 1

    def _copy_run(self) -> None:
        if not self._run or self._base is None:
            return
        for k, writer in enumerate(self._writers):
            first, last = self._run[0][k], self._run[-1][k]
            writer.copy(self._base.files[k], self._base.indexes[k], first, last)
        self._run = []

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                self._copy_run()
                for writer in self._writers:
                    writer.finish()
        finally:
            for writer in self._writers:
                writer.file.close()
            if self._base is not None:
                self._base.close()


def write_dumps(
    nquads_gz: Path,
    turtle_gz: Path,
    shares: Iterable[Share],
    base: tuple[Path, Path] | None = None,
) -> int:
    """The two gzip dumps (and their indexes of pieces) from the graphs' shares, in order,
    reusable shares copied from the ``base`` dumps (N-Quads, Turtle); returns how many were."""
    with DumpWriter(nquads_gz, turtle_gz, base) as writer:
        for share in shares:
            writer.share(share)
    return writer.copied


class PlainDump:
    """A gzip dump read as its plain data, from any byte on: decompression starts at the piece
    that holds that byte (pieces refer to nothing before them)."""

    CHUNK = 1 << 16

    def __init__(self, path: Path, starts: list[int], plain_starts: list[int], size: int):
        self.path = path
        self._starts = starts  # file offset of each piece
        self._plain = plain_starts  # plain offset of each piece
        self.size = size  # bytes of plain data

    @classmethod
    def open(cls, packed: Path) -> PlainDump | None:
        """The plain view of the gzip dump ``packed``, or None without a readable index of its
        pieces (a dump not written by :class:`DumpWriter`)."""
        index = PieceIndex.read(packed)
        if index is None:
            return None
        return cls(packed, index.starts, index.plain, index.size)

    def chunks(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The plain bytes from ``start`` up to ``end`` (exclusive; default: the end)."""
        end = self.size if end is None else min(end, self.size)
        if start >= end:
            return
        piece = bisect.bisect_right(self._plain, start) - 1  # data means pieces: the first at 0
        skip = start - self._plain[piece]
        left = end - start
        unpacker = zlib_ng.decompressobj(-15)
        with self.path.open("rb") as handle:
            handle.seek(self._starts[piece])
            while left > 0:
                data = unpacker.unconsumed_tail or handle.read(self.CHUNK)
                if not data:
                    raise OSError(f"{self.path}: the data ends {left} bytes early")
                out = unpacker.decompress(data, self.CHUNK)
                if skip:
                    cut = min(skip, len(out))
                    out, skip = out[cut:], skip - cut
                if out:
                    out = out[:left]
                    left -= len(out)
                    yield out
                elif unpacker.eof:
                    raise OSError(f"{self.path}: the data ends {left} bytes early")


__all__ = [
    "PREFIXES",
    "RUNS",
    "DumpWriter",
    "GraphDump",
    "Piece",
    "PieceIndex",
    "PlainDump",
    "Share",
    "index_path",
    "run_of",
    "runs_of_subjects",
    "to_nquads",
    "to_turtle",
    "write_dumps",
]
