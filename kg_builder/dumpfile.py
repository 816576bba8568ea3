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

**Turtle.** Each graph's Turtle starts with the same ``@prefix`` lines; Turtle allows a
prefix to be declared again, so the concatenation is one Turtle document: the merge of the
graphs, as before. Blank node labels are kept as the N-Triples give them (their scope is the
whole dump in N-Quads and Turtle alike).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
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
_MAGIC = b"KGDUMP1\n"


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
    """One named graph's share of the dumps (its plain N-Quads are made from its N-Triples
    when written, which is cheaper than keeping them)."""

    turtle: bytes
    nquads_gz: Piece
    turtle_gz: Piece

    @classmethod
    def of(cls, name: str, ntriples: bytes) -> GraphDump:
        turtle = to_turtle(ntriples)
        return cls(turtle, Piece.of(to_nquads(ntriples, name)), Piece.of(turtle))

    def to_bytes(self) -> bytes:
        """The form kept in the build cache (``from_bytes`` reads it back)."""
        parts = [_MAGIC, struct.pack("<Q", len(self.turtle)), self.turtle]
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
            (length,) = struct.unpack_from("<Q", view, at)
            at += 8
            turtle = bytes(view[at : at + length])
            at += length
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
        return cls(turtle, pieces[0], pieces[1])


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


class DumpWriter:
    """Writes the N-Quads and Turtle dumps, plain and gzip, one graph at a time."""

    def __init__(self, nquads: Path, turtle: Path, gz_suffix: str) -> None:
        self._paths = (
            nquads,
            turtle,
            nquads.with_name(nquads.name + gz_suffix),
            turtle.with_name(turtle.name + gz_suffix),
        )
        self._files: list[BinaryIO] = []
        self._crcs = [0, 0]
        self._sizes = [0, 0]

    def __enter__(self) -> DumpWriter:
        for path in self._paths:
            self._files.append(path.open("wb"))
        self._files[2].write(GZIP_HEADER)
        self._files[3].write(GZIP_HEADER)
        return self

    def add(self, name: str, ntriples: bytes, dump: GraphDump) -> None:
        """Append the graph ``name`` (its N-Triples and the pieces made from them)."""
        plain_nq, plain_ttl, packed_nq, packed_ttl = self._files
        plain_nq.write(to_nquads(ntriples, name))
        plain_ttl.write(dump.turtle)
        for i, (piece, out) in enumerate(
            ((dump.nquads_gz, packed_nq), (dump.turtle_gz, packed_ttl))
        ):
            out.write(piece.blocks)
            self._crcs[i] = zlib_ng.crc32_combine(self._crcs[i], piece.crc, piece.size)
            self._sizes[i] += piece.size

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                for i, out in enumerate(self._files[2:]):
                    out.write(FINAL_BLOCK)
                    out.write(struct.pack("<II", self._crcs[i], self._sizes[i] & 0xFFFFFFFF))
        finally:
            for handle in self._files:
                handle.close()


def write_dumps(
    nquads: Path, turtle: Path, gz_suffix: str, graphs: Iterable[tuple[str, bytes, GraphDump]]
) -> None:
    """The four dump files from ``graphs`` as (name, N-Triples, pieces), in that order."""
    with DumpWriter(nquads, turtle, gz_suffix) as writer:
        for name, ntriples, dump in graphs:
            writer.add(name, ntriples, dump)


__all__ = ["PREFIXES", "DumpWriter", "GraphDump", "Piece", "to_nquads", "to_turtle", "write_dumps"]
