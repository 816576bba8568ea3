"""The dumps joined from per-graph pieces: one valid gzip member, the same data as the plain
files, the Turtle the merge of the graphs; cached pieces read back or made again."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import zlib
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg_builder.cache import DocCache, Entry
from kg_builder.dumpfile import GraphDump, Piece, to_nquads, write_dumps

GRAPHS = {
    "http://example.org/g/1": (
        b'<http://example.org/a> <http://example.org/p> "caf\\u00E9"@fr .\n'
        b"<http://example.org/a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
        b"<http://www.w3.org/ns/org#Organization> .\n"
        b"_:shared <http://example.org/p> <http://example.org/a> .\n"
    ),
    "http://example.org/g/2": (
        b"<http://example.org/a> <http://example.org/p> <http://example.org/b> .\n"
        b'_:shared <http://example.org/q> "2"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
    ),
    "http://example.org/g/empty": b"",
}


def _write(tmp_path: Path) -> tuple[Path, Path]:
    nq, ttl = tmp_path / "d.nq", tmp_path / "d.ttl"
    parts = ((name, nt, GraphDump.of(name, nt)) for name, nt in GRAPHS.items())
    write_dumps(nq, ttl, ".gz", parts)
    return nq, ttl


def test_the_joined_pieces_are_one_gzip_member_holding_the_plain_dump(tmp_path: Path) -> None:
    nq, ttl = _write(tmp_path)
    for plain in (nq, ttl):
        packed = plain.with_name(plain.name + ".gz").read_bytes()
        unpacker = zlib.decompressobj(wbits=31)  # one gzip member, CRC and length checked
        assert unpacker.decompress(packed) == plain.read_bytes()
        assert unpacker.eof and unpacker.unused_data == b""
        assert gzip.decompress(packed) == plain.read_bytes()
    assert nq.read_bytes() == b"".join(to_nquads(nt, g) for g, nt in GRAPHS.items() if nt)


@pytest.mark.skipif(shutil.which("gzip") is None, reason="no gzip command on this machine")
def test_gzip_itself_accepts_the_joined_file(tmp_path: Path) -> None:
    nq, _ttl = _write(tmp_path)
    packed = nq.with_name(nq.name + ".gz")
    subprocess.run(["gzip", "--test", str(packed)], check=True)
    out = subprocess.run(
        ["gzip", "--decompress", "--stdout", str(packed)],
        check=True,
        capture_output=True,
    ).stdout
    assert out == nq.read_bytes()


def test_the_turtle_dump_is_the_merge_of_the_graphs(tmp_path: Path) -> None:
    nq, ttl = _write(tmp_path)
    merged = {q.triple for q in ox.parse(path=str(nq), format=ox.RdfFormat.N_QUADS)}
    assert {q.triple for q in ox.parse(path=str(ttl), format=ox.RdfFormat.TURTLE)} == merged
    # the blank node two graphs share stays one node in the Turtle
    subjects = {t.subject for t in merged if isinstance(t.subject, ox.BlankNode)}
    assert len(subjects) == 1
    assert ttl.read_bytes().count(b"@prefix osce:") == 2  # one block per non-empty graph


def test_a_piece_holds_its_data_crc_and_length() -> None:
    data = b"x" * 100_000 + bytes(range(256))
    piece = Piece.of(data)
    assert piece.size == len(data) and piece.crc == zlib.crc32(data)
    assert zlib.decompressobj(wbits=-15).decompress(piece.blocks) == data


def test_a_graph_dump_reads_back_and_rejects_what_it_did_not_write() -> None:
    name, nt = next(iter(GRAPHS.items()))
    dump = GraphDump.of(name, nt)
    data = dump.to_bytes()
    assert GraphDump.from_bytes(data) == dump
    for bad in (data[:-1], data + b"x", b"", b"KGDUMP0\n" + data[8:], data[:20]):
        assert GraphDump.from_bytes(bad) is None


def test_a_missing_or_damaged_cached_dump_is_made_again(tmp_path: Path) -> None:
    cache = DocCache(tmp_path)
    name, nt = next(iter(GRAPHS.items()))
    entry = Entry("ab" * 32, "d1", "0" * 64, "d1.txt", None, {}, [], [], graph=nt)
    cache.put(entry)  # without a dump: made when first asked for
    path = cache.root / entry.key[:2] / f"{entry.key}.dump"
    assert not path.exists()
    stored = cache.get(entry.key, graph=False)
    assert stored is not None
    assert cache.dump(stored, name) == GraphDump.of(name, nt)
    assert path.is_file()
    path.write_bytes(path.read_bytes()[:-3])  # a torn write
    assert cache.dump(stored, name) == GraphDump.of(name, nt)
    assert GraphDump.from_bytes(path.read_bytes()) == GraphDump.of(name, nt)
