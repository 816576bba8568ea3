"""Publish stage: a persistent pyoxigraph store and the dumps, swapped in atomically.

Everything is written under ``releases/<build id>.partial``; the directory is renamed to its
final name only once complete, then the ``current`` symlink is replaced with one ``rename``.
A build that fails or is killed before that leaves the served release untouched; leftover
``.partial`` directories are removed by the next run.
"""

from __future__ import annotations

import gc
import os
import queue
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Generic, TypeVar, cast

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from kg_builder.dumpfile import PREFIXES, GraphDump, Share, to_nquads, write_dumps
from kg_builder.errors import PublishError
from kg_builder.layout import CURRENT, RELEASES, Release, current_release
from kg_builder.namespaces import RDF, SH, XSD

PARTIAL = ".partial"
BULK_BYTES = 256 << 20  # N-Quads per bulk load: few files in the store, bounded memory
# N-Quads bytes written past which the store is compacted at the end (``Store.optimize``,
# 2.3 s at 1M triples even after one edit); below, RocksDB's own background compaction of
# its few new files is enough.
OPTIMIZE_AFTER = BULK_BYTES

T = TypeVar("T")


def clean_partials(out_dir: Path) -> list[Path]:
    """Remove releases a killed build left half-written."""
    removed = []
    for path in sorted((out_dir / RELEASES).glob(f"*{PARTIAL}")):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def pause_point(stage: str) -> None:
    """A test hook: with ``KG_BUILD_PAUSE_AT=<stage>`` the build stops here for
    ``KG_BUILD_PAUSE_SECONDS`` (default 60) so that ``tests/test_crash_safety.py`` can kill it
    at a known point. Does nothing otherwise."""
    if os.environ.get("KG_BUILD_PAUSE_AT") != stage:
        return
    print(f"kg-build: paused at {stage}", file=sys.stderr, flush=True)
    time.sleep(float(os.environ.get("KG_BUILD_PAUSE_SECONDS", "60")))


class StagedRelease:
    """A release being written under ``releases/<build id>.partial``, not yet served.

    With ``base`` (the served release) the store starts as a RocksDB checkpoint of the base's
    store (``Store.backup``: hard links to its immutable files, so it costs no copy), and only
    the named graphs that changed are replaced; without it the store starts empty. The served
    store is opened read-only, never written. ``compact`` (``kg-build --compact``): ``finish``
    compacts the store even after a small change; so it does when the base's store takes at
    most ``compact_below_bytes`` on disk (``kg-build --compact-below``). A compacted store
    shares no files with its base's: it is written whole."""

    def __init__(
        self,
        out_dir: Path,
        build_id: str,
        base: Release | None = None,
        *,
        compact: bool = False,
        compact_below_bytes: int = 0,
    ) -> None:
        self.root = out_dir / RELEASES / f"{build_id}{PARTIAL}"
        self.release = Release(self.root)
        self.base = base
        self.touched: set[str] = set()  # the named graphs written since the base's checkpoint
        self.written = 0  # N-Quads bytes loaded or changed since the checkpoint
        self.compact = compact  # compact the store at the end whatever was written
        self.compact_below_bytes = compact_below_bytes  # the base's size on disk up to which a
        # small change is compacted all the same
        self.compacted = False  # whether finish() compacted the store
        self.seconds: dict[str, float] = {}  # what finish() spent its time on
        self.dumps_copied = 0  # graphs whose shares of the dumps finish() copied from the base
        # per graph changed by apply_difference: the triples it removed and added (N-Triples)
        self.differences: dict[str, bytes] = {}
        self._base_store: ox.Store | None = None  # the base's store, read-only, once opened
        self._inferred: bytes | None = None  # the inferred graph's file, as written
        self._writers: list[_OnThread[None]] = []  # files being written beside the build
        self._dumps: _OnThread[tuple[int, float]] | None = None  # the dumps, once started
        self._go_on = threading.Event()  # the inferences are final: the dumps may take them
        self._stopped = False  # the build gave up: the dumps stop before the inferences
        if (out_dir / RELEASES / build_id).exists():
            raise PublishError(f"a release with id {build_id} exists already", subject=str(out_dir))
        try:
            self.release.dumps.mkdir(parents=True)
            if base is not None and base.store.is_dir():
                old = ox.Store.read_only(str(base.store))
                old.backup(str(self.release.store))
                del old
            self.store = ox.Store(str(self.release.store))
        except OSError as exc:
            self.abandon()
            raise PublishError(f"cannot write the release: {exc}", subject=str(self.root)) from exc

    def graph_names(self) -> set[str]:
        return {g.value for g in self.store.named_graphs() if isinstance(g, ox.NamedNode)}

    def replace(self, name: URIRef | str, data: bytes) -> None:
        """Make the named graph ``name`` hold exactly the N-Triples ``data``."""
        self.replace_many({str(name): data})

    def replace_many(self, graphs: Iterable[tuple[str, bytes]] | dict[str, bytes]) -> None:
        """Make each named graph hold exactly its N-Triples. The bulk loader writes new files
        per call, so the graphs go in batches of about ``BULK_BYTES``, not one call per graph;
        ``graphs`` may be a generator (read from the cache one at a time), so that the whole
        corpus is never in memory at once."""
        pairs = graphs.items() if isinstance(graphs, dict) else graphs
        batch: list[bytes] = []
        size = 0
        try:
            for name, data in pairs:
                self.drop(name)
                quads = to_nquads(data, name)
                batch.append(quads)
                size += len(quads)
                self.written += len(quads)
                if size >= BULK_BYTES:
                    self.store.bulk_load(b"".join(batch), ox.RdfFormat.N_QUADS)
                    batch, size = [], 0
            if batch:
                self.store.bulk_load(b"".join(batch), ox.RdfFormat.N_QUADS)
        except OSError as exc:
            self.abandon()
            raise PublishError(f"cannot write the release: {exc}", subject=str(self.root)) from exc

    def loader(self) -> BackgroundLoader:
        """A loader of named graphs into this (empty) store on a thread of its own."""
        return BackgroundLoader(self)

    def replace_inferred(
        self, name: URIRef | str, triples: Iterable[tuple[Node, Node, Node]]
    ) -> None:
        """Make the inferred graph ``name`` hold exactly ``triples`` (rdflib terms), and keep
        it beside the store as sorted N-Triples (``Release.inferred``). When the base release
        has that file (the graph as the checkpoint holds it), only the difference goes to the
        store: dropping 600k quads and loading them again took half a minute after one page
        changed."""
        self.replace_inferred_nt(name, self._sorted_nt(triples))

    def replace_inferred_nt(self, name: URIRef | str, data: bytes) -> None:
        """``replace_inferred`` with the triples as sorted N-Triples."""
        previous = self.base.inferred if self.base is not None else None
        try:
            old = previous.read_bytes() if previous is not None else None
        except OSError:  # none (an older release), or unreadable: replace the graph whole
            old = None
        if old is None:
            self.replace(name, data)
        else:
            self.apply_difference(name, old, data)
        self.keep_inferred(data)

    def apply_difference(self, name: URIRef | str, old: bytes, new: bytes) -> None:
        """Turn the named graph ``name`` from the N-Triples ``old`` (what it holds) into
        ``new``, quad by quad."""
        before, after = set(old.splitlines(True)), set(new.splitlines(True))
        self.apply_lines(name, sorted(before - after), sorted(after - before))

    def apply_lines(self, name: URIRef | str, gone: list[bytes], added: list[bytes]) -> None:
        """Remove the N-Triples lines ``gone`` from the named graph ``name`` (which holds them)
        and add the lines ``added`` (which it does not hold)."""
        self.touched.add(str(name))
        self.differences[str(name)] = b"".join(sorted(gone + added))
        self.written += len(self.differences[str(name)])
        try:
            for quad in _quads(gone, str(name)):
                self.store.remove(quad)
            self.store.extend(_quads(added, str(name)))
        except OSError as exc:
            raise PublishError(f"cannot write the release: {exc}", subject=str(self.root)) from exc

    def keep_inferred(self, data: bytes | None = None) -> None:
        """Write the inferred graph's file: ``data``, else (the graph was not recomputed:
        nor were the asserted graphs) the base release's, if it has one, and its edges."""
        try:
            if data is not None:  # 100 MB at 10,000 pages: written (and synced) on a thread
                self._wait_for_writers()  # one writer of the file at a time
                self._inferred = data
                path = self.release.inferred
                self._writers.append(
                    _OnThread(f"write {path.name}", partial(_write_synced, path, data))
                )
            elif self.base is not None:
                for kept in (self.base.inferred, self.base.edges):
                    if kept.is_file():
                        try:  # a published release is never written again: share the file
                            os.link(kept, self.root / kept.name)
                        except OSError:
                            shutil.copyfile(kept, self.root / kept.name)
        except OSError as exc:
            raise PublishError(f"cannot write the release: {exc}", subject=str(self.root)) from exc

    def keep_edges(self, text: str) -> None:
        """Write the asserted edges the next local update reads (``local_closure.Edges``)."""
        try:
            self.release.edges.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise PublishError(f"cannot write the release: {exc}", subject=str(self.root)) from exc

    def inferred_nt(self, name: URIRef | str) -> bytes:
        """The inferred graph ``name`` as N-Triples: from its file, else from the store."""
        if self._inferred is not None:
            return self._inferred
        try:
            return self.release.inferred.read_bytes()
        except FileNotFoundError:
            return self.graph_nt(name)

    def _sorted_nt(self, triples: Iterable[tuple[Node, Node, Node]]) -> bytes:
        return sorted_ntriples(self._serialize(ox_triples(triples), ox.RdfFormat.N_TRIPLES))

    def drop(self, name: URIRef | str) -> None:
        self.touched.add(str(name))
        self.differences.pop(str(name), None)  # replaced whole: no known difference
        graph = ox.NamedNode(str(name))
        if self.store.contains_named_graph(graph):
            self.store.remove_graph(graph)

    def quads_in(
        self, graphs: dict[str, list[str]], predicate: str | None = None
    ) -> Iterator[Quad]:
        """The quads of each subject of ``graphs`` (with ``predicate``, if given) in the named
        graphs listed for it, one at a time."""
        p = ox.NamedNode(predicate) if predicate is not None else None
        for subject, names in graphs.items():
            for name in names:
                yield from self.store.quads_for_pattern(
                    ox.NamedNode(subject), p, None, ox.NamedNode(name)
                )

    def select(
        self, predicates: Iterable[str], classes: Iterable[str], exclude: Iterable[str] = ()
    ) -> Iterator[tuple[Node, Node, Node]]:
        """The triples (as rdflib terms) of every named graph but ``exclude`` whose predicate
        is one of ``predicates``, or that type a node with one of ``classes``: read through
        the store's predicate and object indexes, so the cost follows what is selected, not
        the size of the store. A triple in several graphs comes once per graph."""
        skipped = set(exclude)
        rdf_type = ox.NamedNode(str(RDF.type))
        patterns: list[tuple[ox.NamedNode, ox.NamedNode | None]] = [
            (ox.NamedNode(p), None) for p in predicates if p != str(RDF.type)
        ]
        patterns += [(rdf_type, ox.NamedNode(c)) for c in classes]
        quads = (q for p, o in patterns for q in self.store.quads_for_pattern(None, p, o, None))
        for graph, triple in rdflib_quads(quads):
            if graph and graph not in skipped:  # "": the default graph, unused by releases
                yield triple

    def write_triples(
        self,
        path: Path,
        exclude: Iterable[str],
        predicates: Iterable[str] | None = None,
        classes: Iterable[str] = (),
    ) -> None:
        """Write to ``path``, as N-Triples, the triples of every named graph but ``exclude``
        whose predicate is one of ``predicates`` or that type a node with one of ``classes``
        (every triple when ``predicates`` is None). One query, serialised by Oxigraph: no
        Python object per triple."""
        graphs = ", ".join(f"<{name}>" for name in exclude)
        outside = f" FILTER(?g NOT IN ({graphs}))" if graphs else ""
        if predicates is None:
            where = f"GRAPH ?g {{ ?s ?p ?o }}{outside}"
        else:
            listed = " ".join(f"<{p}>" for p in sorted(predicates) if p != str(RDF.type))
            typed = " ".join(f"<{c}>" for c in sorted(classes))
            where = (
                f"{{ VALUES ?p {{ {listed} }} GRAPH ?g {{ ?s ?p ?o }}{outside} }} UNION "
                f"{{ VALUES ?o {{ {typed} }} GRAPH ?g {{ ?s a ?o }}{outside} "
                f"BIND(<{RDF.type}> AS ?p) }}"
            )
        result = self.store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {where} }}")
        assert isinstance(result, ox.QueryTriples)  # noqa: S101 - a CONSTRUCT gives triples
        try:
            ox.serialize(result, str(path), ox.RdfFormat.N_TRIPLES)
        except OSError as exc:
            raise PublishError(f"cannot write the release: {exc}", subject=str(path)) from exc

    def holds(self, predicate: str, exclude: Iterable[str]) -> bool:
        """Whether a named graph but ``exclude`` has a triple with ``predicate``."""
        skipped = {ox.NamedNode(s) for s in exclude}
        quads = self.store.quads_for_pattern(None, ox.NamedNode(predicate), None, None)
        return any(
            isinstance(q.graph_name, ox.NamedNode) and q.graph_name not in skipped for q in quads
        )

    def _serialize(
        self,
        items: Iterable[Quad] | Iterable[ox.Triple] | ox.QueryTriples,
        fmt: ox.RdfFormat,
    ) -> bytes:
        try:
            data = ox.serialize(items, format=fmt)
        except OSError as exc:
            raise PublishError(f"cannot write the release: {exc}", subject=str(self.root)) from exc
        assert data is not None  # noqa: S101 - without an output, serialize returns bytes
        return data

    def iri_subjects(self, names: Iterable[str]) -> Iterator[str]:
        """The IRI subjects of the named graphs ``names``, each once per graph."""
        for name in names:
            query = f"SELECT DISTINCT ?s WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }} }}"
            result = self.store.query(query)
            assert isinstance(result, ox.QuerySolutions)  # noqa: S101 - a SELECT gives solutions
            for row in result:
                subject = row["s"]
                if isinstance(subject, ox.NamedNode):
                    yield subject.value

    def graph_nt(self, name: URIRef | str, store: ox.Store | None = None) -> bytes:
        """The named graph ``name`` as N-Triples, from the staged store or ``store``."""
        source = self.store if store is None else store
        quads = source.quads_for_pattern(None, None, None, ox.NamedNode(str(name)))
        return self._serialize((q.triple for q in quads), ox.RdfFormat.N_TRIPLES)

    def base_store(self) -> ox.Store | None:
        """The base release's store, read-only (opened on first use, once per build); None
        without a base or when it cannot be opened (the callers then do without it)."""
        if self._base_store is None and self.base is not None:
            try:
                self._base_store = ox.Store.read_only(str(self.base.store))
            except OSError:
                return None
        return self._base_store

    def start_dumps(self, parts: Iterable[Share], later: Callable[[], Iterable[Share]]) -> None:
        """Start writing the dumps on a thread of their own (``finish`` waits for it): the
        shares ``parts``, then, once ``inferences_done`` is called, those ``later`` gives
        (the inferred graph's, made while the others are written: after one edit at 10,000
        pages the dumps took 0.52-0.60 s, and ``finish``, 0.53-0.61 s with the VoID update's
        0.27-0.31 s, spent the rest waiting for them)."""
        if self._dumps is not None:
            return

        def shares() -> Iterator[Share]:
            for share in parts:
                if self._stopped:  # the build failed (``abandon``): stop at the next graph
                    raise _DumpsStopped
                yield share
            self._go_on.wait()
            if self._stopped:
                raise _DumpsStopped
            yield from later()

        self._dumps = _OnThread("dumps", partial(self._write_dumps, shares()))

    def _write_dumps(self, shares: Iterable[Share]) -> tuple[int, float]:
        """The dumps written from ``shares`` and synced: the graphs copied from the base
        release's dumps, and the seconds it took."""
        t0 = time.perf_counter()
        base = (self.base.nquads_gz, self.base.turtle_gz) if self.base else None
        copied = write_dumps(self.release.nquads_gz, self.release.turtle_gz, shares, base)
        for path in self.release.dumps.iterdir():  # on the disk now, not at ``promote``
            _fsync(path)
        return copied, time.perf_counter() - t0

    def inferences_done(self) -> None:
        """The inferred graph is final: the dumps' thread may go on to it."""
        self._go_on.set()

    def finish(
        self,
        parts: Iterable[Share],
        describe: Callable[[ox.Store], Iterable[tuple[Node, Node, Node]]] | None = None,
    ) -> Release:
        """Write the dumps (gzip, the plain ones being served from them) and the VoID
        statistics (``describe``).

        ``parts`` are the shares of the dumps of the store's named graphs, in order, made from
        the N-Triples that were loaded into the store: the dumps are joined from them graph
        by graph (``kg_builder.dumpfile``), copying cached pieces rather than serialising
        and compressing the store, and copying from the base release's dumps the runs of
        pieces of the graphs that did not change. The Turtle dump is the merge of the
        graphs, so a triple several graphs hold is written once per graph: the same RDF
        graph. When ``start_dumps`` started them, ``parts`` is not read."""
        release = self.release
        self.start_dumps(parts, lambda: ())
        self.inferences_done()
        dumps = self._dumps
        assert dumps is not None  # noqa: S101 - started just above
        # The dumps are made from the pieces, not the store: on a thread of their own while
        # the store is compacted and counted (Oxigraph and zlib let go of the interpreter).
        try:
            store = self.store
            t0 = time.perf_counter()
            store.flush()
            if (
                self.compact
                or self.base is None
                or self.written > OPTIMIZE_AFTER
                or (self.touched and self._small_base())  # written, changed or dropped
            ):
                # compacted for queries, the inferences included: a store compacted before
                # they were stored answered workload queries up to 1.9x slower at 10,000
                # pages (885346b, reverted). A small change to a large store is left to
                # RocksDB (and to kg-build --compact).
                store.optimize()
                self.compacted = True
            t1 = time.perf_counter()
            if describe is not None:  # Oxigraph's writer: rdflib's took 0.45 s at 1,000 pages
                release.void.write_text(turtle(describe(store)), encoding="utf-8")
            t2 = time.perf_counter()
            copied, dumps_seconds = dumps.result()
            self._wait_for_writers()
            self.seconds = {  # each part's own time: the dumps' overlap the others
                "optimize_store": round(t1 - t0, 2),
                "dumps": round(dumps_seconds, 2),
                "void": round(t2 - t1, 2),
            }
            self.dumps_copied = copied
            self.close()
        except OSError as exc:
            store = None  # our handle too: RocksDB must close before its folder is removed
            self.abandon()
            raise PublishError(f"cannot write the release: {exc}", subject=str(self.root)) from exc
        return release

    def _small_base(self) -> bool:
        """Whether the base release's store takes at most ``compact_below_bytes`` on disk."""
        if self.base is None:
            return False
        try:
            return _bytes_on_disk(self.base.store) <= self.compact_below_bytes
        except OSError:  # no store there (an older layout): left to kg-build --compact
            return False

    def _wait_for_writers(self) -> None:
        """Wait for the files being written on threads; raise the first one's error."""
        writers, self._writers = self._writers, []
        for writer in writers:
            writer.wait()
        for writer in writers:
            writer.result()

    def close(self) -> None:
        self._base_store = None
        if hasattr(self, "store"):
            del self.store

    def abandon(self) -> None:
        """Remove the half-written release (the served one is untouched). RocksDB closes its
        files when the last handle goes and its background threads stop; until then they
        may still write, so removal is retried (a leftover is removed by the next build)."""
        for writer in self._writers:
            writer.wait()  # never writing into a folder being removed
        self._writers = []
        if self._dumps is not None:  # stopped at the next graph, if not past them all
            self._stopped = True
            self._go_on.set()
            self._dumps.wait()
            self._dumps = None
        self.close()
        gc.collect()
        for attempt in range(5):
            shutil.rmtree(self.root, ignore_errors=True)
            if not self.root.exists():
                return
            time.sleep(0.1 * (attempt + 1))


class BackgroundLoader:
    """Loads named graphs into a staged store on a thread of its own, in batches of about
    ``BULK_BYTES``, while the caller goes on: Oxigraph's bulk loader releases the GIL and
    keeps to one core, so a build from nothing loads the pages its workers finish beside them
    (loading them after the workers took 99.5 s at 10,000 pages). The store must start
    empty, the graphs be new to it, and nothing else write to it until ``finish``.

    At most ``PENDING`` batches wait; ``add`` blocks past that. An error of the loader is
    raised by the next ``add`` or by ``finish``; ``stop`` ends it without loading the rest."""

    PENDING = 2

    def __init__(self, staged: StagedRelease) -> None:
        self.staged = staged
        self.loaded: set[str] = set()  # the graphs given to it
        self._batch: list[bytes] = []
        self._size = 0
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=self.PENDING)
        self._error: BaseException | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._load, name="kg-build bulk load")
        self._thread.start()

    def add(self, name: str, ntriples: bytes) -> None:
        self._check()
        quads = to_nquads(ntriples, name)
        self._batch.append(quads)
        self._size += len(quads)
        self.loaded.add(name)
        self.staged.touched.add(name)
        self.staged.written += len(quads)
        if self._size >= BULK_BYTES:
            self._send()

    def finish(self) -> None:
        """Load what is left and wait for the thread; raise its error, if any."""
        if self._batch:
            self._send()
        self._queue.put(None)
        self._thread.join()
        self._check()

    def stop(self) -> None:
        """End the thread without loading what waits (the build failed)."""
        self._stopping = True
        self._batch = []
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(None)
        self._thread.join()

    def _send(self) -> None:
        self._queue.put(b"".join(self._batch))
        self._batch, self._size = [], 0

    def _load(self) -> None:
        while (data := self._queue.get()) is not None:
            if self._error is None and not self._stopping:
                try:
                    # written by Oxigraph in the workers: its IRIs need no checking again
                    self.staged.store.bulk_load(data, ox.RdfFormat.N_QUADS, lenient=True)
                except BaseException as exc:
                    self._error = exc

    def _check(self) -> None:
        if self._error is not None:
            raise PublishError(
                f"cannot write the release: {self._error}", subject=str(self.staged.root)
            ) from self._error


Quad = ox.Quad


OxTerm = ox.NamedNode | ox.BlankNode | ox.Literal


def _quads(lines: list[bytes], graph: str) -> Iterator[ox.Quad]:
    """N-Triples ``lines`` as Oxigraph quads in ``graph``."""
    if lines:
        yield from ox.parse(to_nquads(b"".join(lines), graph), format=ox.RdfFormat.N_QUADS)


def sorted_ntriples(data: bytes) -> bytes:
    """N-Triples ``data`` with its lines sorted (as the inferred graph is kept)."""
    lines = data.splitlines(True)
    lines.sort()
    return b"".join(lines)


def turtle(graph: Iterable[tuple[Node, Node, Node]]) -> str:
    """``graph`` (an rdflib ``Graph`` or any triples) as Turtle with the dumps' prefixes (and
    SHACL's), written by Oxigraph: 0.06 s for the 10,000-triple report of a 10,000-document
    build, where rdflib's writer, which sorts and nests, took 0.27 s."""
    prefixes = {**PREFIXES, "sh": str(SH)}
    data = ox.serialize(ox_triples(graph), format=ox.RdfFormat.TURTLE, prefixes=prefixes)
    assert data is not None  # noqa: S101 - without an output, serialize returns the bytes
    return data.decode("utf-8")


def ox_triples(triples: Iterable[tuple[Node, Node, Node] | ox.Triple]) -> Iterator[ox.Triple]:
    """rdflib triples as Oxigraph's (an Oxigraph triple among them as it is). Each distinct
    term is made once: a page's 1,100 triples name a few hundred terms (rdflib terms are equal
    only to terms of their own kind, with the same lexical form, language and datatype)."""
    made: dict[Node, ox.NamedNode | ox.BlankNode | ox.Literal] = {}
    for triple in triples:
        if isinstance(triple, ox.Triple):
            yield triple
            continue
        s, p, o = triple
        subject = made.get(s)
        if subject is None:
            subject = made[s] = _oxigraph(s)
        predicate = made.get(p)
        if predicate is None:
            predicate = made[p] = _oxigraph(p)
        object_ = made.get(o)
        if object_ is None:
            object_ = made[o] = _oxigraph(o)
        yield ox.Triple(subject, predicate, object_)  # type: ignore[arg-type]


def _oxigraph(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF 1.1 term: {term!r}")


def rdflib_quads(quads: Iterable[Quad]) -> Iterator[tuple[str, tuple[Node, Node, Node]]]:
    """Oxigraph quads as (graph name, triple of rdflib terms), without a round trip through
    a serialisation and rdflib's parser (ten times faster)."""
    terms: dict[OxTerm, Node] = {}
    for quad in quads:
        graph = quad.graph_name
        yield (graph.value if isinstance(graph, ox.NamedNode) else ""), rdflib_triple(quad, terms)


def rdflib_triple(
    triple: ox.Triple | ox.Quad, cache: dict[OxTerm, Node]
) -> tuple[Node, Node, Node]:
    """An Oxigraph triple (or a quad's triple) as rdflib's (``cache``: see ``_rdflib``)."""
    return (
        _rdflib(triple.subject, cache),
        _rdflib(triple.predicate, cache),
        _rdflib(triple.object, cache),
    )


def _rdflib(term: OxTerm | ox.Triple, cache: dict[OxTerm, Node]) -> Node:
    """An Oxigraph term as the rdflib term the N-Triples parser would give; one object per
    term (``cache``), as a million triples share far fewer terms."""
    known = cache.get(term) if not isinstance(term, ox.Triple) else None
    if known is not None:
        return known
    node: Node
    if isinstance(term, ox.NamedNode):
        node = URIRef(term.value)
    elif isinstance(term, ox.BlankNode):
        node = BNode(term.value)
    elif isinstance(term, ox.Literal):
        if term.language:
            node = Literal(term.value, lang=term.language)
        elif term.datatype.value == str(XSD.string):
            node = Literal(term.value)
        else:
            node = Literal(term.value, datatype=URIRef(term.datatype.value))
    else:  # RDF-star quoted triples are not in this project's data
        raise TypeError(f"not an RDF 1.1 term: {term!r}")
    cache[term] = node
    return node


def stage_release(
    out_dir: Path,
    build_id: str,
    graphs: dict[URIRef, Graph],
    describe: Callable[[ox.Store], Iterable[tuple[Node, Node, Node]]] | None = None,
) -> Release:
    """Write the store, the dumps and the VoID statistics (``describe``) of a new release from
    rdflib graphs, not yet served."""
    staged = StagedRelease(out_dir, build_id)
    parts = {
        str(name): graph.serialize(format="nt", encoding="utf-8") for name, graph in graphs.items()
    }
    staged.replace_many(parts)
    dumps = (Share(name, partial(GraphDump.of, name, nt)) for name, nt in sorted(parts.items()))
    return staged.finish(dumps, describe)


def promote(out_dir: Path, staged: Release, keep: int) -> Release:
    """Make a staged release the served one: rename it, then swap the ``current`` link."""
    final = staged.root.with_name(staged.root.name.removesuffix(PARTIAL))
    _fsync_tree(staged.root)  # the data is on disk before any name points at it
    pause_point("fsynced")
    os.replace(staged.root, final)
    _fsync(final.parent)
    pause_point("renamed")
    link = out_dir / CURRENT
    tmp_link = out_dir / f".{CURRENT}.tmp"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    os.symlink(Path(RELEASES) / final.name, tmp_link)
    os.replace(tmp_link, link)
    _fsync(out_dir)
    pause_point("swapped")
    _prune(out_dir, final, keep)
    return Release(final)


def _prune(out_dir: Path, current: Path, keep: int) -> None:
    releases = sorted(
        (p for p in (out_dir / RELEASES).iterdir() if p.is_dir() and not p.name.endswith(PARTIAL)),
        key=lambda p: p.name,
    )
    for old in releases[: max(0, len(releases) - max(keep, 1))]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)


def _bytes_on_disk(folder: Path) -> int:
    """The size of the files in ``folder`` (a published store, which nothing writes: its SST
    files, logs and manifests)."""
    with os.scandir(folder) as entries:
        return sum(e.stat().st_size for e in entries if e.is_file(follow_symlinks=False))


def _fsync_tree(root: Path) -> None:
    for folder, _dirs, files in os.walk(root):
        for name in files:
            _fsync(Path(folder) / name)
        _fsync(Path(folder))


def _write_synced(path: Path, data: bytes) -> None:
    """``data`` written to ``path`` and synced to the disk."""
    try:
        with open(path, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except OSError as exc:
        raise PublishError(f"cannot write the release: {exc}", subject=str(path)) from exc


class _DumpsStopped(Exception):
    """The build gave up while its dumps were being written."""


class _OnThread(Generic[T]):
    """``call`` run on a thread of its own, which lets go of the interpreter while files are
    written or copied (the inferred graph's 100 MB at 10,000 pages took 0.24 s on the build's
    own thread): ``result`` waits for it and gives its answer or raises its error."""

    def __init__(self, name: str, call: Callable[[], T]) -> None:
        self.answer: T | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(call,), name=name)
        self.thread.start()

    def _run(self, call: Callable[[], T]) -> None:
        try:
            self.answer = call()
        except BaseException as exc:  # given back to the thread that waits
            self.error = exc

    def wait(self) -> None:
        """Wait until the call has ended, whatever its outcome."""
        self.thread.join()

    def result(self) -> T:
        self.thread.join()
        if self.error is not None:
            raise self.error
        return cast(T, self.answer)


def _fsync(path: Path) -> None:
    """A file or folder synced to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = [
    "PREFIXES",  # re-exported: the server and the tests write with the dumps' prefixes
    "StagedRelease",
    "clean_partials",
    "current_release",
    "pause_point",
    "promote",
    "stage_release",
    "turtle",
]
