"""The dumps joined from per-graph pieces: one valid gzip member, the Turtle the merge of the
graphs, the plain data read from any byte; cached pieces read back or made again."""

from __future__ import annotations

import gzip
import random
import shutil
import subprocess
import zlib
from functools import partial
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg_builder.cache import DocCache, Entry
from kg_builder.dumpfile import (
    GraphDump,
    Piece,
    PieceIndex,
    PlainDump,
    Share,
    index_path,
    run_of,
    runs_of_subjects,
    to_nquads,
    write_dumps,
)
from tests.conftest import read_plain

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


def _shares(graphs: dict[str, bytes], reusable: frozenset[str] = frozenset()) -> list[Share]:
    return [Share(n, partial(GraphDump.of, n, nt), n in reusable) for n, nt in graphs.items()]


def _write(tmp_path: Path) -> tuple[Path, Path]:
    nq, ttl = tmp_path / "d.nq.gz", tmp_path / "d.ttl.gz"
    write_dumps(nq, ttl, _shares(GRAPHS))
    return nq, ttl


def test_the_joined_pieces_are_one_gzip_member_holding_the_dump(tmp_path: Path) -> None:
    nq, ttl = _write(tmp_path)
    for packed in (nq.read_bytes(), ttl.read_bytes()):
        unpacker = zlib.decompressobj(wbits=31)  # one gzip member, CRC and length checked
        plain = unpacker.decompress(packed)
        assert unpacker.eof and unpacker.unused_data == b""
        assert gzip.decompress(packed) == plain
    assert read_plain(nq) == b"".join(to_nquads(nt, g) for g, nt in GRAPHS.items() if nt)


@pytest.mark.skipif(shutil.which("gzip") is None, reason="no gzip command on this machine")
def test_gzip_itself_accepts_the_joined_file(tmp_path: Path) -> None:
    nq, _ttl = _write(tmp_path)
    subprocess.run(["gzip", "--test", str(nq)], check=True)
    out = subprocess.run(
        ["gzip", "--decompress", "--stdout", str(nq)],
        check=True,
        capture_output=True,
    ).stdout
    assert out == read_plain(nq)


def test_the_turtle_dump_is_the_merge_of_the_graphs(tmp_path: Path) -> None:
    nq, ttl = _write(tmp_path)
    merged = {q.triple for q in ox.parse(read_plain(nq), format=ox.RdfFormat.N_QUADS)}
    turtle = read_plain(ttl)
    assert {q.triple for q in ox.parse(turtle, format=ox.RdfFormat.TURTLE)} == merged
    # the blank node two graphs share stays one node in the Turtle
    subjects = {t.subject for t in merged if isinstance(t.subject, ox.BlankNode)}
    assert len(subjects) == 1
    assert turtle.count(b"@prefix osce:") == 2  # one block per non-empty graph


def _many_graphs(count: int) -> dict[str, bytes]:
    return {
        f"http://example.org/g/{i:04d}": b"".join(
            b'<http://example.org/s%d> <http://example.org/p> "%d %s" .\n'
            % (j, i, b"x" * (i % 7) * j)
            for j in range(i % 5 * 40)  # some graphs empty
        )
        for i in range(count)
    }


def test_the_plain_dump_is_read_from_any_byte_to_any_byte(tmp_path: Path) -> None:
    graphs = _many_graphs(60)
    nq, ttl = tmp_path / "d.nq.gz", tmp_path / "d.ttl.gz"
    write_dumps(nq, ttl, _shares(graphs))
    for packed in (nq, ttl):
        whole = read_plain(packed)
        plain = PlainDump.open(packed)
        assert plain is not None and plain.size == len(whole) > 100_000
        assert b"".join(plain.chunks()) == whole
        assert max(len(chunk) for chunk in plain.chunks()) <= PlainDump.CHUNK
        rng = random.Random(7)
        for _ in range(60):
            start = rng.randrange(len(whole) + 10)
            end = start + rng.choice((0, 1, 17, 5000, 200_000, len(whole)))
            assert b"".join(plain.chunks(start, end)) == whole[start:end], (start, end)


def _refused() -> GraphDump:
    raise AssertionError("a share that could be copied was made")


def test_unchanged_graphs_are_copied_from_the_base_dumps(tmp_path: Path) -> None:
    """Runs of unchanged graphs are copied out of the base release's dumps: the result is
    the dumps written from nothing, byte for byte, with the same index."""
    old = _many_graphs(60)
    base = tmp_path / "b.nq.gz", tmp_path / "b.ttl.gz"
    write_dumps(*base, _shares(old))
    new = dict(old)
    new["http://example.org/g/0007"] += b'<http://example.org/x> <http://example.org/p> "1" .\n'
    del new["http://example.org/g/0030"]
    del new["http://example.org/g/0050"]  # its neighbours are no run in the base
    new["http://example.org/g/0030a"] = b'<http://example.org/y> <http://example.org/p> "2" .\n'
    new = dict(sorted(new.items()))
    same = frozenset(n for n in new if old.get(n) == new[n] and not n.endswith("0045"))
    fresh = tmp_path / "f.nq.gz", tmp_path / "f.ttl.gz"
    write_dumps(*fresh, _shares(new))
    shares = [Share(s.name, _refused, True) if s.name in same else s for s in _shares(new, same)]
    copied = tmp_path / "c.nq.gz", tmp_path / "c.ttl.gz"
    assert write_dumps(*copied, shares, base) == len(same) == 56
    for made, joined in zip(fresh, copied, strict=True):
        assert joined.read_bytes() == made.read_bytes()
        assert index_path(joined).read_bytes() == index_path(made).read_bytes()
        assert gzip.decompress(joined.read_bytes()) == read_plain(made)
        index = PieceIndex.read(joined)
        assert index is not None and index.names == list(new)


def test_a_base_whose_index_does_not_fit_is_not_copied_from(tmp_path: Path) -> None:
    graphs = _many_graphs(8)
    base = tmp_path / "b.nq.gz", tmp_path / "b.ttl.gz"
    write_dumps(*base, _shares(graphs))
    everything = frozenset(graphs)
    expected = b"".join(to_nquads(nt, n) for n, nt in graphs.items() if nt)
    out = tmp_path / "c.nq.gz", tmp_path / "c.ttl.gz"
    base[1].write_bytes(base[1].read_bytes() + b"\0")  # not the file its index describes
    assert write_dumps(*out, _shares(graphs, everything), base) == 0
    assert gzip.decompress(out[0].read_bytes()) == expected
    index_path(base[0]).write_bytes(b"KGPIECES1\n")  # an older index
    assert write_dumps(*out, _shares(graphs, everything), base) == 0
    assert gzip.decompress(out[0].read_bytes()) == expected


def test_a_gzip_file_without_its_index_has_no_plain_view(tmp_path: Path) -> None:
    nq, _ttl = _write(tmp_path)
    assert PlainDump.open(nq) is not None
    index = index_path(nq)
    index.write_bytes(index.read_bytes()[:-1])  # torn
    assert PlainDump.open(nq) is None
    index.unlink()
    assert PlainDump.open(nq) is None


def test_a_truncated_gzip_file_is_an_error_not_a_short_answer(tmp_path: Path) -> None:
    nq, _ttl = _write(tmp_path)
    plain = PlainDump.open(nq)
    assert plain is not None
    nq.write_bytes(nq.read_bytes()[:-40])
    with pytest.raises(OSError, match=r"ends .* early"):
        b"".join(plain.chunks())


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


def test_sorted_lines_are_cut_into_runs_of_whole_subjects() -> None:
    rng = random.Random(3)
    for _ in range(200):
        subjects = {f"<http://e/{rng.randrange(90)}{'/x' * rng.randrange(2)}>" for _ in range(40)}
        lines = sorted(
            f'{s} <http://e/p> "{rng.randrange(5)}" .\n'.encode()
            for s in subjects
            for _ in range(rng.randrange(1, 4))
        )
        data = b"".join(lines)
        runs = runs_of_subjects(data, None)
        assert b"".join(lines for _key, lines in runs) == data
        keys = [key for key, _lines in runs]
        assert keys[0] == b"" and keys == sorted(set(keys))
        for key, run in runs:
            for line in run.splitlines(True):
                assert keys[run_of(keys, line)] == key
        again = runs_of_subjects(data[: len(data) // 2], keys)  # cut where the keys say
        assert [key for key, _lines in again] == keys
        assert b"".join(lines for _key, lines in again) == data[: len(data) // 2]
    assert len(runs_of_subjects(data * 0, None)) == 1
