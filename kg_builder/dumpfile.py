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
import struct
from collections.abc import Iterable, Iterator
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
_INDEX_MAGIC = b"KGPIECES1\n"
_INDEX_HEAD = struct.Struct("<QQ")  # pieces, uncompressed length of the whole dump
_INDEX_ENTRY = struct.Struct("<QQ")  # where a piece starts: in the file, in the plain data


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


def index_path(packed: Path) -> Path:
    """Where the offsets of the pieces of the gzip dump ``packed`` are kept (a hidden file
    beside it, which the server does not list)."""
    return packed.with_name(f".{packed.name}.pieces")


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

    def add(self, piece: Piece) -> None:
        self.entries.append(_INDEX_ENTRY.pack(self.at, self.size))
        self.file.write(piece.blocks)
        self.at += len(piece.blocks)
        self.crc = zlib_ng.crc32_combine(self.crc, piece.crc, piece.size)
        self.size += piece.size

    def finish(self) -> None:
        self.file.write(FINAL_BLOCK)
        self.file.write(struct.pack("<II", self.crc, self.size & 0xFFFFFFFF))
        head = _INDEX_MAGIC + _INDEX_HEAD.pack(len(self.entries), self.size)
        index_path(self.path).write_bytes(head + b"".join(self.entries))


class DumpWriter:
    """Writes the N-Quads and Turtle dumps, gzip-compressed, one graph at a time."""

    def __init__(self, nquads_gz: Path, turtle_gz: Path) -> None:
        self._paths = (nquads_gz, turtle_gz)
        self._writers: list[_PackedWriter] = []

    def __enter__(self) -> DumpWriter:
        for path in self._paths:
            self._writers.append(_PackedWriter(path))
        return self

    def add(self, dump: GraphDump) -> None:
        """Append a graph's share."""
        nquads, turtle = self._writers
        nquads.add(dump.nquads_gz)
        turtle.add(dump.turtle_gz)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                for writer in self._writers:
                    writer.finish()
        finally:
            for writer in self._writers:
                writer.file.close()


def write_dumps(nquads_gz: Path, turtle_gz: Path, graphs: Iterable[GraphDump]) -> None:
    """The two gzip dumps (and their indexes of pieces) from the graphs' shares, in order."""
    with DumpWriter(nquads_gz, turtle_gz) as writer:
        for dump in graphs:
            writer.add(dump)


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
        try:
            data = index_path(packed).read_bytes()
        except OSError:
            return None
        at = len(_INDEX_MAGIC)
        if not data.startswith(_INDEX_MAGIC) or len(data) < at + _INDEX_HEAD.size:
            return None
        count, size = _INDEX_HEAD.unpack_from(data, at)
        at += _INDEX_HEAD.size
        if len(data) != at + count * _INDEX_ENTRY.size:
            return None
        starts, plain = [], []
        for start, plain_start in _INDEX_ENTRY.iter_unpack(data[at:]):
            starts.append(start)
            plain.append(plain_start)
        return cls(packed, starts, plain, size)

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
    "DumpWriter",
    "GraphDump",
    "Piece",
    "PlainDump",
    "index_path",
    "to_nquads",
    "to_turtle",
    "write_dumps",
]
