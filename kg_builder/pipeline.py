"""The pipeline: parse → extract → build → validate → reason → publish.

``run`` composes the stages; each stage is a plain function in its own module.

**Incremental.** Every build leaves a manifest in its release (``cache.Manifest``) and a cache
entry per document (``cache.DocCache``). The next build hashes the sources first:

- same code, ontology, shapes, reference data and base IRI (the fingerprint), every source
  with the hash it had, nothing to prune → nothing to do: the served release stays, the report
  says ``unchanged``, exit 0. No parsing, extraction, validation or reasoning.
- otherwise only the new and changed sources are parsed (the others give their menu, which
  feeds the reference data, from the cache), and only the documents whose cache key changed
  are extracted, built and validated (``workers.process``, in ``--jobs`` processes). The new
  store starts as a checkpoint of the served one and only the changed named graphs are
  replaced; graphs of documents that are gone stay, unless ``--prune``.

**Validation** is per document (``workers.validate_document``, cached with the document), plus
a pass over the entities that several graphs describe (``_validate_shared``): exact for the
shapes of ``shapes/``, whose constraints look at a node's own triples and the types of the
nodes it points at.

**Reasoning** is the OWL 2 RL closure of the whole graph, reused when no graph changed and
recomputed otherwise. A per-document closure would make a one-page rebuild cheaper, but it is
not the closure of the union here: the ontology has transitive and functional properties and
disjoint classes, whose rules join triples of different documents (a place located in a
region another page locates in a State). Correctness first: the whole closure is recomputed
(seconds with the ``reasonable`` engine).

**Failures.** Without ``--keep-going`` the first source that cannot be read or parsed stops the
build (exit 2) and SHACL violations stop it after every document was checked (exit 1);
nothing is published. With ``--keep-going`` each failure is reported (stderr, the report) and
the others are built and published; a failing document keeps its previous version if it had
one; the exit code is 1.

**Publishing** is atomic (see ``publish``): a killed build leaves the served release as it
was, and the next build removes its leftovers and rebuilds from the cache.
"""

from __future__ import annotations

import ctypes
import fcntl
import gc
import hashlib
import multiprocessing as mp
import os
import resource
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from itertools import chain
from multiprocessing.connection import Connection
from pathlib import Path
from types import SimpleNamespace
from typing import TypeVar, cast

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.exceptions import ParserError
from rdflib.term import Node

from kg_builder import __version__, places
from kg_builder.cache import (
    CACHE,
    MANIFEST,
    DocCache,
    Entry,
    FileHashes,
    Manifest,
    ManifestDoc,
    ReferenceCache,
    context_hash,
    entry_key,
    fingerprint,
    inferred_key,
    reference_key,
)
from kg_builder.config import BuildConfig
from kg_builder.docs import write_ontology_docs
from kg_builder.dumpfile import GraphDump, PieceIndex, Share, run_of, runs_of_subjects
from kg_builder.errors import (
    EXIT_INVALID,
    BuildLocked,
    ConfigError,
    KgError,
    PublishError,
    SourceError,
    ValidationFailed,
)
from kg_builder.iris import Iris
from kg_builder.layout import RELEASES, Release, current_release
from kg_builder.local_closure import Edges, LocalRules, asserted_edges, local_update
from kg_builder.namespaces import OSCE, OWL, RDF
from kg_builder.parse import Document, NavMenu, parse
from kg_builder.publish import (
    PARTIAL,
    BackgroundLoader,
    StagedRelease,
    clean_partials,
    ox_triples,
    pause_point,
    promote,
    rdflib_quads,
    sorted_ntriples,
    turtle,
)
from kg_builder.reason import (
    ENGINE_LABELS,
    VOCABULARY,
    Inference,
    LineFilter,
    Relevance,
    collector_paused,
    documents_relevance,
    in_schema,
    is_axiom,
    is_schema,
    reason_file,
)
from kg_builder.reference import ReferenceData, build_reference
from kg_builder.report import BuildReport, DocumentReport, write_atomic
from kg_builder.sidecar import SIDECAR_SUFFIX, source_url_for
from kg_builder.validate import (
    SHACL_SPEC,
    Result,
    descriptions,
    load_shapes,
    results_report,
    validate_ntriples,
)
from kg_builder.void import Statistics, describe, statistics, update
from kg_builder.workers import (
    Context,
    Failure,
    Task,
    init_worker,
    process,
    set_context,
    subclass_axioms,
)

SOURCE_SUFFIXES = (".txt", ".html", ".htm")
EARLY_WAIT = 60.0  # seconds _EarlyPages.outcomes waits for the forked process
FEW_TASKS = 16  # documents built in this process without freezing the context (set_context)
MAX_LISTED_VIOLATIONS = 5
REPORT_TXT = "report.txt"
T = TypeVar("T")


@dataclass(frozen=True)
class BuildResult:
    release: Release
    report: BuildReport


def collect_sources(
    paths: tuple[Path, ...],
    config: BuildConfig | None = None,
    failed: list[SourceError] | None = None,
) -> list[Path]:
    """The files to build: given files as they are, folders' pages (``*.txt``, ``*.html``,
    ``*.htm``, in any case) in name order, then the pages of ``config.urls`` and
    ``config.crawl`` fetched and saved under ``<out-dir>/sources`` (see ``fetch``).

    A URL that cannot be fetched stops everything, unless ``config.keep_going``: then its
    error goes to ``failed`` and the other sources are returned."""
    web = config is not None and bool(config.urls or config.crawl)
    if not paths and not web:
        raise SourceError("no sources given", hint="pass files or folders, e.g. data/sources")
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            with os.scandir(path) as listing:  # the listing tells regular files: no stat each
                found = sorted(
                    path / e.name
                    for e in listing
                    if os.path.splitext(e.name)[1].lower() in SOURCE_SUFFIXES and e.is_file()
                )
            if not found:
                raise SourceError(
                    "folder holds no pages (*.txt, *.html or *.htm)", subject=str(path)
                )
            files.extend(found)
        elif not path.exists():
            raise SourceError("no such file or folder", subject=str(path), hint="check the path")
        else:
            files.append(path)
    # --- web sources (kg_builder.fetch) ---
    if config is not None and web:
        from kg_builder.fetch import combined_failure, fetch_sources  # the HTTP stack: 0.2 s

        outcome = fetch_sources(config)
        if outcome.failures:
            if failed is None or not config.keep_going:
                raise combined_failure(outcome)
            failed.extend(outcome.failures)
        files.extend(outcome.paths)
    # --- end web sources ---
    return files


def load_ontology(path: Path) -> Graph:
    if not path.is_file():
        raise ConfigError("ontology file is missing or not a file", subject=str(path))
    try:
        return Graph().parse(path, format="turtle")
    except (ParserError, SyntaxError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"ontology does not parse: {first}", subject=str(path)) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read the ontology: {exc.strerror}", subject=str(path)) from exc


def new_build_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%S%fZ")


def run(
    config: BuildConfig,
    *,
    now: datetime | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
    bars: bool = False,
) -> BuildResult:
    """Build the graph from ``config.sources`` and publish it; raise ``KgError`` on bad input.

    ``progress`` receives a line per stage; ``bars`` shows progress bars (on a terminal)."""
    started = now or datetime.now(UTC)
    build_id = new_build_id(started)
    attempt = _Attempt(BuildReport(build_id=build_id, started=started.isoformat()))
    _prepare_out_dir(config.out_dir)
    with lock_out_dir(config.out_dir):
        try:
            release = _run(config, started, build_id, attempt, progress, bars)
        except BaseException as exc:
            gc.unfreeze()
            attempt.give_up_staged()
            if not isinstance(exc, KgError):
                raise
            attempt.report.status = "failed"
            attempt.report.error = str(exc)
            iris = Iris(config.base_iri) if _valid_base(config) else None
            _write_report(config.out_dir, attempt, iris)
            raise
        gc.unfreeze()  # what _run froze goes back to the collector
    return BuildResult(release, attempt.report)


def _prepare_out_dir(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".write-test"
        probe.touch()
        probe.unlink()
    except (FileExistsError, NotADirectoryError) as exc:
        raise ConfigError("exists and is not a directory", subject=str(out_dir)) from exc
    except OSError as exc:
        raise ConfigError(
            f"cannot write the output directory: {exc.strerror}",
            subject=str(out_dir),
            hint="choose another --out-dir or fix its permissions",
        ) from exc


@dataclass
class _Attempt:
    """What a build attempt has found so far, reported whether it succeeds or not."""

    report: BuildReport
    validation: Graph | None = None
    # the report's Turtle as the release has it, and what it was made from
    turtle: tuple[tuple[object, ...], str] | None = None
    # a build from nothing: the release staged before the documents stage, and the loader
    # of its store (``publish.BackgroundLoader``), given up if the build fails
    staged: StagedRelease | None = None
    loader: BackgroundLoader | None = None
    early: _EarlyPages | None = None  # the changed pages built before their turn
    ahead: _ClosureAhead | None = None  # the whole graph's closure, in a process of its own

    def give_up_staged(self) -> None:
        if self.ahead is not None:  # it writes under the staged release
            self.ahead.discard()
        if self.early is not None:
            self.early.close()
        if self.loader is not None:
            self.loader.stop()
        if self.staged is not None:
            self.staged.abandon()

    def report_turtle(self, iris: Iris) -> str:
        """The report as Turtle, made again only when what it says changed since the
        release's was written (0.7 s at 10,000 pages, twice a build)."""
        said = (*self.report.graph_inputs(), id(self.validation))
        if self.turtle is None or self.turtle[0] != said:
            graph = self.report.rdf(iris.build(self.report.build_id), self.validation)
            self.turtle = (said, turtle(graph))
        return self.turtle[1]


@contextmanager
def lock_out_dir(out_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out_dir`` so two builds never write it at once."""
    with (out_dir / ".lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BuildLocked(
                "another kg-build is writing to this output directory",
                subject=str(out_dir),
                hint="wait for it to finish, or use another --out-dir",
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _valid_base(config: BuildConfig) -> bool:
    try:
        Iris(config.base_iri)
    except ConfigError:
        return False
    return True


@contextmanager
def _timed(report: BuildReport, stage: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        report.timings[stage] = round(report.timings.get(stage, 0.0) + time.perf_counter() - t0, 4)
        report.peak_rss_mib[stage] = _peak_mib(resource.RUSAGE_SELF)
        if stage == "documents":  # the worker processes have ended (a child forked later
            # would report the memory it shared with this process at the fork)
            workers = _peak_mib(resource.RUSAGE_CHILDREN)
            if workers:
                report.peak_rss_mib["workers"] = workers


FEW_CHANGES = 50  # documents: up to this many changed, a rebuild skips full collections


def _give_back_memory(collect: bool = True) -> None:
    """Return the memory a stage freed to the system (glibc keeps freed small blocks for
    reuse), so that the next stage's peak does not stack on the last one's. ``collect``
    first frees the reference cycles (rdflib graphs): a full collection walks every live
    object, about a second at 1,000 documents, worth it only after a large stage."""
    if collect:
        gc.collect()
    with suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _peak_mib(who: int) -> float:
    """The peak resident set size of this process or of its largest ended child, in MiB."""
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)  # Linux gives KiB


def _run(
    config: BuildConfig,
    started: datetime,
    build_id: str,
    attempt: _Attempt,
    progress: Callable[[str], None],
    bars: bool,
) -> Release:
    report = attempt.report
    iris = Iris(config.base_iri)
    for leftover in clean_partials(config.out_dir):
        report.warnings.append(
            f"removed a half-written release left by an interrupted build: {leftover}"
        )
    ontology = load_ontology(config.ontology)
    shapes = load_shapes(config.shapes)
    places.keep_tables_in(config.out_dir / CACHE)
    unfetched: list[SourceError] = []
    files = collect_sources(config.sources, config, unfetched)
    cache = DocCache(config.out_dir)
    with _timed(report, "hash"):
        fp = fingerprint(
            base_iri=config.base_iri,
            ontology=config.ontology,
            shapes=config.shapes,
            reference_dir=config.reference_dir,
            reasoner=config.reasoner,
            shacl_engine=config.shacl_engine,
        )
        hashes = FileHashes(config.out_dir, trust=not config.force)
        display = _display_paths()
        fetched = _with_sidecars(files)  # a listing per folder, not an open per page
        sources = [
            _Source(
                path,
                (source_url_for(path) if path in fetched else None) or display(path),
                hashes.sha256(path),
            )
            for path in files
        ]
        hashes.save()
    previous = current_release(config.out_dir)
    manifest = Manifest.read(previous.root / MANIFEST) if previous is not None else None
    if (
        previous is not None
        and manifest is not None
        and not unfetched  # a URL that failed now is reported in a report of this run
        and not config.compact  # a compacted copy of the release is asked for
        and _unchanged(config, fp, sources, manifest)
    ):
        report.status = "unchanged"
        report.release = str(previous.root)
        report.documents = [
            DocumentReport(d.doc_id, d.source, status="cached")
            for d in manifest.documents.values()
            if d.source not in manifest.failed
        ]
        report.documents.extend(
            DocumentReport(
                str(f["doc_id"]),
                label,
                str(f["status"]),
                errors=[str(e) for e in cast(list[object], f["errors"])],
            )
            for label, f in manifest.failed.items()
        )
        report.documents.sort(key=lambda d: d.source)
        _write_report(config.out_dir, attempt, iris)
        return previous
    known = manifest.documents if manifest is not None else {}
    by_source = {d.source: d for d in known.values()}
    reuse = manifest is not None and manifest.fingerprint == fp and not config.force
    if reuse and config.jobs > 1:
        attempt.early = _EarlyPages.start(
            config, sources, by_source, ontology, shapes, iris, build_id, started
        )
    failures: list[KgError] = []

    def fail(source: _Source, exc: KgError, doc_id: str | None = None) -> None:
        """A source that cannot be built: stop, or (``--keep-going``) report it and go on."""
        if not config.keep_going:
            raise exc
        failures.append(exc)
        old = known.get(doc_id) if doc_id else by_source.get(source.label)
        report.documents.append(
            DocumentReport(
                doc_id or (old.doc_id if old else ""), source.label, "failed", errors=[str(exc)]
            )
        )
        progress(f"{source.label}: failed: {exc}")

    for unreachable in unfetched:  # --keep-going: the URL's previous version, if any, stays
        fail(_Source(Path(unreachable.subject), unreachable.subject, ""), unreachable)

    # 1. Parse the new and changed sources; the unchanged ones give their menu from the cache.
    items: list[_Item] = []
    ids: dict[str, _Source] = {}
    read: dict[str, Entry] = {}  # cache entries read here, by key: the cache stage needs them
    # Reading 10,000 cache entries makes millions of objects, all kept, and no cycle of
    # garbage: automatic collections, each walking them again, took 0.20 of 0.63 s (measured
    # reading the entries' JSON alone). Parsing many pages does make such cycles: then the
    # collector runs.
    new_sources = sum(
        not reuse or (old := by_source.get(s.label)) is None or old.sha256 != s.sha for s in sources
    )
    with _timed(report, "parse"), collector_paused(new_sources <= FEW_CHANGES):
        for source in _bar(sources, "parse", bars):
            old = by_source.get(source.label)
            same = reuse and old is not None and old.sha256 == source.sha
            meta = cache.get(old.key, graph=False) if same and old is not None else None
            item: _Item
            if meta is not None:
                read[meta.key] = meta
                item = _Item(source, meta.doc_id, meta.menu)
            else:
                try:
                    t0 = time.perf_counter()
                    page = parse(source.path)
                except KgError as exc:
                    fail(source, exc)
                    continue
                menu = {k: list(v) for k, v in page.menu.sections.items()} if page.menu else None
                item = _Item(source, page.doc_id, menu, page, time.perf_counter() - t0)
            clash = ids.get(item.doc_id)
            if clash is not None:
                fail(
                    source,
                    SourceError(
                        f"document id {item.doc_id!r} is also the id of {clash.path}",
                        subject=str(source.path),
                        hint="rename one of the files",
                    ),
                )
                continue
            ids[item.doc_id] = source
            items.append(item)

    pause_point("parsed")
    # What was read so far (the cache entries of 10,000 pages: millions of objects) lives to
    # the end of the build: out of the cycle collector's sight, so that each full collection
    # does not walk it again (eight of them took 1.0 s of a 7.8 s build after one edit). No
    # collection first (it would walk all of it once more): a cycle of garbage made so far
    # lives until ``run`` gives everything back to the collector at the end of the build.
    gc.freeze()

    # 2. The reference data: curated files and the pages' menus.
    references = ReferenceCache(config.out_dir)
    with _timed(report, "reference"):
        ref_key = reference_key(fp, ((i.doc_id, i.menu) for i in items if i.menu is not None))
        cached = None if config.force else _kept_reference(references.get(ref_key))
        if cached is not None:
            reference, reference_nt = cached
        else:
            reference = build_reference(
                config.reference_dir, [i.menu_holder() for i in items], iris
            )
            reference_nt = _canonical_nt(reference.graph)
            references.put(ref_key, reference_nt, reference.warnings)
        report.warnings.extend(reference.warnings)
        reference_hash = hashlib.sha256(reference_nt).hexdigest()
        context = context_hash(i.menu for i in items)

    # 3. What is cached, what must be built.
    entries: dict[str, Entry] = {}
    built: set[str] = set()
    invalid: list[Result] = []

    def accept(entry: Entry, new: bool) -> None:
        """A document's graph, built now or cached: published unless it violates a shape."""
        violations = [r for r in map(_result, entry.results) if r.severity == "Violation"]
        if violations:
            invalid.extend(violations)
            if config.keep_going:
                doc_report = DocumentReport.from_dict(entry.report)
                report.documents.append(doc_report)
                failures.append(ValidationFailed(violations[0].line(), subject=entry.source))
                return
        entries[entry.doc_id] = entry
        if new:
            built.add(entry.doc_id)

    tasks: list[Task] = []
    seen: set[str] = set()  # this run's keys: kept in the cache even when invalid
    with _timed(report, "cache"):
        for item in items:
            old = known.get(item.doc_id)
            history = _history(old, item.source.sha)
            item.history = history
            key = entry_key(item.source.sha, item.source.label, fp, context, history)
            seen.add(key)
            entry = None if config.force else read.pop(key, None) or cache.get(key, graph=False)
            if entry is not None:
                accept(entry, new=False)
                continue
            doc = item.doc
            if doc is None:
                try:
                    t0 = time.perf_counter()
                    doc = parse(item.source.path)
                    item.parse_seconds = time.perf_counter() - t0
                except KgError as exc:
                    fail(item.source, exc, item.doc_id)
                    continue
            tasks.append(Task(doc, item.source.label, key, tuple(history), item.parse_seconds))
        read.clear()

    # 4. Extract, build and validate the documents that changed, in parallel with --jobs.
    # From nothing, the release is staged now and each page goes into its store as it is
    # accepted, beside the workers (``publish.BackgroundLoader``).
    base = previous if manifest is not None else None
    if base is None and tasks:
        attempt.staged = StagedRelease(config.out_dir, build_id, None, compact=config.compact)
        attempt.loader = attempt.staged.loader()
    loader = attempt.loader
    progress(f"build {len(tasks)} of {len(items)} document(s)")
    with _timed(report, "documents"):
        early = attempt.early.outcomes(ref_key, tasks) if attempt.early is not None else None
        if attempt.early is not None:
            attempt.early.close()
            report.publish["pages_built_early"] = len(early) if early is not None else 0
        outcomes = (
            (outcome for outcome in early)
            if early is not None
            else _run_tasks(
                tasks,
                config,
                reference.graph,
                reference_nt,
                ontology,
                shapes,
                iris,
                build_id,
                started,
                bars,
            )
        )
        with closing(outcomes):
            for task, outcome in zip(tasks, outcomes, strict=False):
                if isinstance(outcome, Failure):
                    error = _failure_error(outcome)
                    fail(
                        _Source(task.doc.path, task.source, task.doc.sha256), error, task.doc.doc_id
                    )
                    continue
                cache.put(outcome)
                graph = outcome.graph
                # read back when needed: bounded memory
                outcome.graph = outcome.dump = b""
                outcome.reasoning = None
                accept(outcome, new=True)
                if loader is not None and entries.get(outcome.doc_id) is outcome:
                    loader.add(str(iris.document_graph(outcome.doc_id)), graph)
    pause_point("built")
    if invalid and not config.keep_going:
        report.documents = [DocumentReport.from_dict(e.report) for e in entries.values()]
        attempt.validation = results_report(invalid)
        for r in invalid:
            report.validation.append(r.line())
        raise _validation_failed(invalid, config)

    # 5. Documents gone from the sources, or failing now: their previous version stays,
    #    unless --prune (gone) drops it.
    failed_ids = {d.doc_id for d in report.documents if d.status in ("failed", "invalid")}
    for doc_id, old in sorted(known.items()):
        if doc_id in entries:
            continue
        gone = doc_id not in ids and doc_id not in failed_ids
        if gone and config.prune:
            report.documents.append(DocumentReport(doc_id, old.source, "pruned"))
            continue
        kept = cache.get(old.key, graph=False)
        if kept is None:
            report.warnings.append(f"{old.source}: the previous version is not in the cache")
            continue
        entries[doc_id] = kept
        for failed in (d for d in report.documents if d.doc_id == doc_id):
            failed.warnings.append("the previous version stays published")
        if gone:
            report.documents.append(DocumentReport(doc_id, old.source, "kept"))
    for doc_id, entry in entries.items():
        if doc_id in ids and doc_id not in failed_ids:
            doc_report = DocumentReport.from_dict(entry.report)
            doc_report.status = "built" if doc_id in built else "cached"
            report.documents.append(doc_report)
    report.documents.sort(key=lambda d: d.source)

    # 6. Stage the release: from a checkpoint of the served store, replacing what changed.
    progress("stage the release")
    with _timed(report, "store"):
        if loader is not None:
            # From nothing the whole graph is reasoned over, from the cache: the closure's
            # process starts now, on the core that the bulk loader, finishing the pages the
            # workers made last (26 s at 10,000 pages), leaves free.
            assert attempt.staged is not None  # noqa: S101 - the loader writes into it
            attempt.ahead = _closure_ahead(
                attempt.staged, config, ontology, reference.graph, reference_nt, entries
            )
            loader.finish()
        staged = attempt.staged or StagedRelease(
            config.out_dir,
            build_id,
            base,
            compact=config.compact,
            compact_below_bytes=config.compact_below * 1_000_000,
        )
    loaded = loader.loaded if loader is not None else set()
    try:
        # After a few edits the process holds millions of long-lived objects (the documents'
        # cache entries) and the stages make little garbage with cycles: no full collections.
        few = manifest is not None and len(built) <= FEW_CHANGES
        with collector_paused(few):
            release = _publish(
                config,
                staged,
                report,
                attempt,
                iris,
                ontology,
                shapes,
                reference.graph,
                reference_nt,
                reference_hash,
                entries,
                manifest,
                fp,
                context,
                started,
                build_id,
                progress,
                {source.label: source.sha for source in sources},
                few,
                loaded,
            )
    except BaseException:
        staged.abandon()
        raise
    _write_report(config.out_dir, attempt, iris)
    keep = seen | {e.key for e in entries.values()} | {d.key for d in known.values()}
    cache.retain(keep)
    references.retain(ref_key)
    return release


def _publish(
    config: BuildConfig,
    staged: StagedRelease,
    report: BuildReport,
    attempt: _Attempt,
    iris: Iris,
    ontology: Graph,
    shapes: Graph,
    reference: Graph,
    reference_nt: bytes,
    reference_hash: str,
    entries: dict[str, Entry],
    manifest: Manifest | None,
    fp: str,
    context: str,
    started: datetime,
    build_id: str,
    progress: Callable[[str], None],
    shas: dict[str, str],
    few: bool,
    loaded: set[str],
) -> Release:
    """Stage and publish the release. ``loaded``: the graphs the store already holds (the
    pages loaded beside the documents stage, building from nothing). The whole graph's
    closure may have been started already (``attempt.ahead``)."""
    known = manifest.documents if manifest is not None else {}
    wanted = {str(iris.ontology_graph()), str(iris.reference_graph()), str(iris.inferred_graph())}
    wanted |= {str(iris.document_graph(doc_id)) for doc_id in entries}
    reference_changed = manifest is None or manifest.reference != reference_hash
    changed = [
        e for doc_id, e in entries.items() if doc_id not in known or known[doc_id].key != e.key
    ]
    if manifest is not None and manifest.fingerprint != fp:
        changed = list(entries.values())  # a new base IRI or code: every graph is rewritten
    with _timed(report, "store"):
        for name in staged.graph_names() - wanted:
            staged.drop(name)
        ontology_nt = _canonical_nt(ontology)  # for the store, then for the dumps
        graphs = [(str(iris.ontology_graph()), ontology_nt)]
        if reference_changed:
            graphs.append((str(iris.reference_graph()), reference_nt))
        cache = DocCache(config.out_dir)
        names = ((str(iris.document_graph(e.doc_id)), e) for e in changed)
        staged.replace_many(
            chain(graphs, ((name, cache.graph(e)) for name, e in names if name not in loaded))
        )
    pause_point("staged")
    _give_back_memory(collect=not few)

    # The whole graph's closure, when it will be needed, is computed from the cache in a
    # process of its own while the constraints across documents are checked (with --jobs
    # above 1: a second core). A withdrawn document (--keep-going) makes it stale: it is then
    # made again here.
    keys = [e.key for e in entries.values()] + [reference_hash]
    reused = manifest is not None and manifest.inferred_key == inferred_key(fp, keys)
    whole = manifest is None or not few or reference_changed
    ahead = attempt.ahead
    if ahead is None and whole and not (reused and not config.force):
        ahead = attempt.ahead = _closure_ahead(
            staged, config, ontology, reference, reference_nt, entries
        )

    def start_dumps() -> None:
        # read on the dumps' thread: what it reads is not changed again
        staged.start_dumps(
            _asserted_shares(
                iris,
                ontology_nt,
                reference_nt,
                dict(entries),
                cache,
                {} if config.force else known,
            ),
            partial(_inferred_shares, staged, str(iris.inferred_graph())),
        )

    try:  # the closure's process ends with the stage, whatever happens in it
        if not config.keep_going:
            # A violation across documents then fails the build and withdraws nothing: the
            # documents' dumps are written while they are checked, on a core the check and
            # the closure leave idle part of the time.
            start_dumps()
        withdrawn = _check_across_documents(
            staged,
            report,
            attempt,
            iris,
            ontology,
            shapes,
            reference,
            reference_nt,
            entries,
            changed,
            reference_changed,
            known,
            config,
        )
        if withdrawn and ahead is not None:
            ahead.discard()
            ahead = None
        if config.keep_going:
            # The documents are those of the release now: their dumps are written while the
            # inferences are made, and the inferences' after them.
            start_dumps()

        _give_back_memory(collect=not few)

        # The OWL 2 RL closure of the whole graph, recomputed when any graph changed.
        keys = [e.key for e in entries.values()] + [reference_hash]
        inferred_key_ = inferred_key(fp, keys)
        with _timed(report, "reason"):
            if manifest is not None and manifest.inferred_key == inferred_key_ and not config.force:
                report.reasoning = {
                    "engine": ENGINE_LABELS.get(config.reasoner, config.reasoner),
                    "reused": True,
                }
                staged.keep_inferred()
            else:
                progress("reason")
                axiomatic = any(e.axiomatic for e in entries.values())  # withdrawals change it
                if manifest is None:
                    local: dict[str, object] | str = "no previous release"
                elif not few:
                    local = f"more than {FEW_CHANGES} documents changed"
                elif axiomatic:
                    local = "a document may state an axiom"
                elif reference_changed:
                    local = "the reference data changed"
                else:
                    local = _local_inference(
                        staged, iris, ontology, reference, reference_nt, config, entries
                    )
                if isinstance(local, dict):
                    report.reasoning = local
                else:
                    _reason_over_everything(
                        staged,
                        report,
                        iris,
                        ontology,
                        reference,
                        reference_nt,
                        entries,
                        cache,
                        config,
                        axiomatic,
                        few,
                        ahead,
                    )
                    report.reasoning["not_around_the_change"] = local
                    rules = LocalRules.of(ontology)
                    if not rules.uncovered:  # for the next build's update around its change
                        edges = asserted_edges(staged.store, str(iris.inferred_graph()), rules)
                        staged.keep_edges(edges.to_json())
            staged.inferences_done()
    finally:
        if ahead is not None:
            ahead.discard()  # unused (reused, or reasoned around the change); else a no-op
    pause_point("reasoned")

    progress("publish")
    with _timed(report, "publish"):
        release = staged.finish(
            (),  # the dumps were started before the reasoning
            lambda store: describe(
                _statistics(staged, report, iris, entries, config),
                iris.relative("dataset"),
                title="OSCE knowledge graph",
                uri_space=iris.base,
                vocabulary=str(OSCE._NS),
                build=iris.build(build_id),
                modified=started,
            ),
        )
        t0 = time.perf_counter()
        write_ontology_docs(
            config.ontology, release.docs, staged.base.docs if staged.base is not None else None
        )
        seconds = {**staged.seconds, "ontology_docs": round(time.perf_counter() - t0, 2)}
        report.publish["seconds"] = seconds
        report.publish["dumps_copied_graphs"] = staged.dumps_copied
        report.publish["graphs_loaded_beside_documents"] = len(loaded)
        report.publish["store_compacted"] = staged.compacted
        new_manifest = Manifest(
            fingerprint=fp,
            context=context,
            reference=reference_hash,
            inferred_key=inferred_key_,
            documents={
                doc_id: ManifestDoc(
                    doc_id,
                    e.sha256,
                    e.source,
                    e.key,
                    _history(known.get(doc_id), e.sha256),
                )
                for doc_id, e in sorted(entries.items())
            },
            failed={
                d.source: {
                    "sha256": shas.get(d.source, ""),
                    "doc_id": d.doc_id,
                    "status": d.status,
                    "errors": d.errors,
                }
                for d in report.failed
            },
        )
        write_atomic(release.root / MANIFEST, new_manifest.to_json())
        report.status = "ok"
        if report.failed:  # --keep-going
            report.error = f"{len(report.failed)} source(s) failed; the others were published"
        final_name = staged.root.name.removesuffix(PARTIAL)
        report.release = str(config.out_dir / RELEASES / final_name)
        write_atomic(release.report_json, report.to_json())
        write_atomic(release.report_ttl, attempt.report_turtle(iris))
        write_atomic(release.root / REPORT_TXT, report.summary())
        pause_point("written")
        return promote(config.out_dir, release, config.keep_releases)


def _check_across_documents(
    staged: StagedRelease,
    report: BuildReport,
    attempt: _Attempt,
    iris: Iris,
    ontology: Graph,
    shapes: Graph,
    reference: Graph,
    reference_nt: bytes,
    entries: dict[str, Entry],
    changed: list[Entry],
    reference_changed: bool,
    known: dict[str, ManifestDoc],
    config: BuildConfig,
) -> bool:
    """The constraints that span documents: the entities described by more than one graph.
    Violations fail the build, or (``--keep-going``) withdraw the documents concerned:
    then ``True``."""
    with _timed(report, "validate_shared"):
        # Only what another graph also describes can break a constraint across documents.
        described = Counter(s for e in entries.values() for s in e.subjects)
        in_reference = {str(s) for s in reference.subjects() if isinstance(s, URIRef)}
        subjects = {s for e in changed for s in e.subjects if described[s] > 1 or s in in_reference}
        if reference_changed:
            subjects |= in_reference
        shared = _validate_shared(
            staged,
            subjects,
            iris,
            ontology,
            shapes,
            entries,
            reference_nt,
            reference_changed,
            config.shacl_engine,
        )
    if shared:
        attempt.validation = results_report(shared)
        report.validation = [r.line() for r in shared]
        if not config.keep_going:
            raise _validation_failed(shared, config)
        _withdraw(staged, shared, report, iris, entries, known, DocCache(config.out_dir))
    return bool(shared)


def _local_inference(
    staged: StagedRelease,
    iris: Iris,
    ontology: Graph,
    reference: Graph,
    reference_nt: bytes,
    config: BuildConfig,
    entries: dict[str, Entry],
) -> dict[str, object] | str:
    """The inferred graph brought up to date around the documents this build changed
    (``kg_builder.local_closure``), written to the staged store: the report's reasoning
    section; or why the whole graph must be reasoned over instead."""
    base = staged.base
    if base is None:
        return "no previous release"
    t0 = time.perf_counter()
    try:
        previous = base.inferred.read_bytes()
    except OSError:  # an older release without the file: reason over everything
        return "the previous release has no inferred.nt"
    own = {str(iris.ontology_graph()), str(iris.reference_graph()), str(iris.inferred_graph())}
    documents = sorted(staged.touched - own)
    if len(documents) > FEW_CHANGES:  # pruned or withdrawn ones count too
        return f"more than {FEW_CHANGES} documents changed"
    old = staged.base_store()
    if old is None:
        return "the previous release's store cannot be opened"
    lines, schema, schema_lines = _reasoning_schema(ontology, reference, reference_nt)
    try:
        edges = Edges.from_json(base.edges.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none kept (an older release): read from the store
        edges = None
    changed = [
        lines.split(staged.graph_nt(name, store))[0]
        for name in documents
        for store in (old, staged.store)
    ]
    t1 = time.perf_counter()
    update = local_update(
        staged.store,
        str(iris.inferred_graph()),
        previous,
        changed,
        LocalRules.of(ontology),
        lines,
        schema_lines,
        schema,
        staged.root,
        config.reasoner,
        graphs_of=partial(_graphs_describing, entries, iris),
        edges=edges,
    )
    if isinstance(update, str):
        return update
    t2 = time.perf_counter()
    staged.apply_lines(iris.inferred_graph(), update.gone, update.added)
    staged.keep_inferred(update.inferred)
    staged.keep_edges(update.edges.to_json())
    return {
        "engine": ENGINE_LABELS.get(config.reasoner, config.reasoner),
        "method": "around the change",
        "inconsistencies": 0,
        "documents": len(documents),
        "affected_nodes": update.affected_nodes,
        "input_triples": update.input_lines,
        "inferences_replaced": update.replaced_lines,
        "inferences_made": update.local_lines,
        "seconds": {
            "select_input": round(t1 - t0, 2),
            "engine": round(t2 - t1, 2),
            "store_inferences": round(time.perf_counter() - t2, 2),
        },
    }


def _reason_over_everything(
    staged: StagedRelease,
    report: BuildReport,
    iris: Iris,
    ontology: Graph,
    reference: Graph,
    reference_nt: bytes,
    entries: dict[str, Entry],
    cache: DocCache,
    config: BuildConfig,
    axiomatic: bool,
    few: bool,
    ahead: _ClosureAhead | None = None,
) -> None:
    """The OWL 2 RL closure of the whole graph, into the staged store's inferred graph:
    ``ahead``'s, when it was computed beforehand."""
    if ahead is not None:
        closure = ahead.result()
    elif axiomatic:  # the relevance may change: the input is read from the store
        given = staged.root / "reasoning-input.ttl"  # in the release being staged
        t0 = time.perf_counter()
        schema = _reasoning_input(staged, ontology, [str(iris.inferred_graph())], given)
        t1 = time.perf_counter()
        inference = reason_file(given, config.reasoner, schema=schema)
        given.unlink()
        closure = _Closure.of(inference, "store", t1 - t0, time.perf_counter() - t1)
        del schema
    else:
        closure = _closure_from_cache(
            staged.root,
            config.reasoner,
            _reasoning_schema(ontology, reference, reference_nt),
            entries.values(),
            cache,
        )
    _give_back_memory(collect=not few)
    t2 = time.perf_counter()
    if isinstance(closure.inferred, bytes):  # sorted N-Triples, made in another process
        staged.replace_inferred_nt(iris.inferred_graph(), closure.inferred)
    else:
        staged.replace_inferred(iris.inferred_graph(), closure.inferred)
    report.reasoning = {
        "engine": ENGINE_LABELS[closure.engine],
        "method": "whole graph",
        "inconsistencies": 0,
        "input_from": closure.source,  # the documents' cached lines, or a scan of the store
        "seconds": {  # what the reason stage's time went to
            "select_input": round(closure.select_seconds, 2),
            "engine": round(closure.engine_seconds, 2),
            "store_inferences": round(time.perf_counter() - t2, 2),
        },
    }
    if ahead is not None:
        report.reasoning["beside_validate_shared"] = True
    report.dropped = {
        "inferred_not_valid_rdf": closure.dropped_invalid,
        "inferred_trivial": closure.dropped_trivial,
    }


@dataclass
class _Closure:
    """The inferences of the whole graph (rdflib triples, or sorted N-Triples when they were
    made in another process), how its input was selected and the time taken."""

    inferred: set[tuple[Node, Node, Node]] | bytes
    dropped_invalid: int
    dropped_trivial: int
    engine: str
    source: str  # "cache" or "store"
    select_seconds: float
    engine_seconds: float

    @classmethod
    def of(cls, inference: Inference, source: str, select: float, engine: float) -> _Closure:
        return cls(
            inference.inferred,
            inference.dropped_invalid,
            inference.dropped_trivial,
            inference.engine,
            source,
            select,
            engine,
        )


def _closure_from_cache(
    root: Path,
    reasoner: str,
    schema_parts: tuple[LineFilter, Graph, bytes],
    entries: Iterable[Entry],
    cache: DocCache,
) -> _Closure:
    """The closure of the whole graph, its input made from the documents' cached lines
    (no document states an axiom), written for the engine under ``root``."""
    given = root / "reasoning-input.ttl"
    t0 = time.perf_counter()
    schema = _cached_reasoning_input(given, schema_parts, entries, cache)
    t1 = time.perf_counter()
    try:
        inference = reason_file(given, reasoner, schema=schema)
    finally:
        given.unlink(missing_ok=True)
    return _Closure.of(inference, "cache", t1 - t0, time.perf_counter() - t1)


def _closure_elsewhere(
    root: Path,
    reasoner: str,
    schema_parts: tuple[LineFilter, Graph, bytes],
    entries: list[Entry],
    out_dir: Path,
) -> _Closure:
    """``_closure_from_cache`` in a worker process: the inferences come back as sorted
    N-Triples (one string rather than 600,000 triples of rdflib terms to pickle)."""
    closure = _closure_from_cache(root, reasoner, schema_parts, entries, DocCache(out_dir))
    if not isinstance(closure.inferred, bytes):
        data = ox.serialize(ox_triples(closure.inferred), format=ox.RdfFormat.N_TRIPLES)
        closure.inferred = sorted_ntriples(data or b"")
    return closure


class _Child:
    """A function run in a process of its own (``method``: a ``multiprocessing`` start
    method), its return value, or the exception it raised, sent back through a pipe.
    :meth:`close` kills the process if it still runs. Starting raises ``OSError`` when the
    system gives no process."""

    def __init__(self, method: str, name: str, target: Callable[..., object], *args: object):
        context = mp.get_context(method)
        receiver, sender = context.Pipe(duplex=False)
        for stream in (sys.stdout, sys.stderr):  # else a forked child writes what waits again
            stream.flush()
        process = context.Process(  # type: ignore[attr-defined]
            target=_answer, args=(sender, target, *args), name=name
        )
        process.start()
        sender.close()  # the child's end: EOF here when the child dies
        self._process: mp.process.BaseProcess | None = process
        self._receiver: Connection | None = receiver

    def answer(self, timeout: float | None = None) -> object:
        """What the function returned or raised; ``None`` when the process died without an
        answer, or gave none within ``timeout`` seconds."""
        receiver = self._receiver
        if receiver is None:
            return None
        try:
            return receiver.recv() if receiver.poll(timeout) else None
        except (EOFError, OSError):
            return None

    def close(self) -> None:
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
            self._process.close()
            self._process = None
        if self._receiver is not None:
            self._receiver.close()
            self._receiver = None


def _answer(sender: Connection, target: Callable[..., object], *args: object) -> None:
    """The body of a ``_Child`` process."""
    try:
        answer = target(*args)
    except Exception as exc:  # handed to the parent, which decides
        answer = exc
    try:
        sender.send(answer)
    finally:
        sender.close()


def _closure_ahead(
    staged: StagedRelease,
    config: BuildConfig,
    ontology: Graph,
    reference: Graph,
    reference_nt: bytes,
    entries: dict[str, Entry],
) -> _ClosureAhead | None:
    """The whole graph's closure started in a process of its own, when there is a second
    core for it (``--jobs`` above 1) and no document may state an axiom (whose closure is
    then computed here); the caller has decided that the whole graph is reasoned over."""
    if config.jobs <= 1 or any(e.axiomatic for e in entries.values()):
        return None
    return _ClosureAhead(
        staged.root,
        config,
        _reasoning_schema(ontology, reference, reference_nt),
        list(entries.values()),
    )


class _ClosureAhead:
    """The whole graph's closure computed in a process of its own while the caller goes on
    (the cross-page check holds the interpreter's lock for much of its time, and so does
    reading the engine's input and output: on threads of one process the two took 52 s
    together at 10,000 pages).

    :meth:`result` waits for it; when the process fails (killed for memory, cannot start) the
    closure is computed here instead. :meth:`discard` ends the process at once (it writes
    under the staged release, which may be removed next); nothing to do once the result was
    taken."""

    def __init__(
        self,
        root: Path,
        config: BuildConfig,
        schema_parts: tuple[LineFilter, Graph, bytes],
        entries: list[Entry],
    ) -> None:
        self._args = (root, config.reasoner, schema_parts, entries, config.out_dir)
        light = [  # what the input is made of: the kept lines (or the cache), not the graph
            replace(e, graph=b"", dump=b"", subjects={}, own=None, report={}, results=[])
            for e in entries
        ]
        method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
        self._child: _Child | None
        try:
            self._child = _Child(
                method,
                "kg-build-closure",
                _closure_elsewhere,
                root,
                config.reasoner,
                schema_parts,
                light,
                config.out_dir,
            )
        except OSError:  # no process (no /dev/shm, a limit): computed here when asked
            self._child = None

    def result(self) -> _Closure:
        """The closure: the process's, or made here when it failed."""
        outcome = self._child.answer() if self._child is not None else None
        self.discard()
        if isinstance(outcome, BaseException):
            raise outcome
        if isinstance(outcome, _Closure):
            return outcome
        root, reasoner, schema_parts, entries, out_dir = self._args
        return _closure_from_cache(root, reasoner, schema_parts, entries, DocCache(out_dir))

    def discard(self) -> None:
        """End the process now; its result is not wanted."""
        if self._child is not None:
            self._child.close()
            self._child = None
            (self._args[0] / "reasoning-input.ttl").unlink(missing_ok=True)


def _statistics(
    staged: StagedRelease,
    report: BuildReport,
    iris: Iris,
    entries: dict[str, Entry],
    config: BuildConfig,
) -> Statistics:
    """The VoID numbers of the staged store, kept in the release (``void.json``): updated
    from the base release's by the graphs this build wrote when it has them and the change
    is small (``void.update``), else counted (``void.statistics``, on ``--jobs`` threads)."""
    stats = _updated_statistics(staged)
    report.publish["void"] = "updated" if stats is not None else "counted"
    if stats is None:
        # the documents' subjects are in their cache entries: no filtered scan for entities
        others = (iris.ontology_graph(), iris.reference_graph(), iris.inferred_graph())
        cache = DocCache(config.out_dir)
        iri_subjects = chain(
            chain.from_iterable(e.subjects for e in entries.values()),
            chain.from_iterable(
                cache.own_subjects(e, str(iris.document(e.doc_id))) for e in entries.values()
            ),
            staged.iri_subjects(str(n) for n in others),
        )
        stats = statistics(staged.store, iri_subjects=iri_subjects, threads=config.jobs)
    staged.release.void_statistics.write_text(stats.to_json(), encoding="utf-8")
    # the report's triple counts come from them too (a GROUP BY over the store: 4.7-7.2 s at 10M)
    per_graph = dict(stats.graph_triples)
    labels = {"ontology": iris.ontology_graph(), "reference": iris.reference_graph()}
    labels["inferred"] = iris.inferred_graph()
    report.triples = {label: per_graph.pop(str(name), 0) for label, name in labels.items()}
    report.triples["documents"] = sum(per_graph.values())
    return stats


def _updated_statistics(staged: StagedRelease) -> Statistics | None:
    """The base release's VoID numbers updated by the graphs this build wrote; ``None`` when
    there is no base, its numbers or its store cannot be read, or the change is too large
    (the caller then counts)."""
    base = staged.base
    if base is None:
        return None
    try:
        previous = Statistics.from_json(base.void_statistics.read_text(encoding="utf-8"))
    except OSError:  # no numbers (an older release)
        return None
    before = staged.base_store()
    if previous is None or before is None:
        return None
    known = {  # the inferred graph's difference: 600k quads not read twice
        name: list(ox.parse(data, ox.RdfFormat.N_TRIPLES))
        for name, data in staged.differences.items()
    }
    return update(previous, before, staged.store, staged.touched, differences=known)


def _asserted_shares(
    iris: Iris,
    ontology_nt: bytes,
    reference_nt: bytes,
    entries: dict[str, Entry],
    cache: DocCache,
    known: dict[str, ManifestDoc],
) -> Iterator[Share]:
    """The shares of the dumps of the release's asserted graphs, in the order of the dumps:
    the ontology, the reference data, the documents by id (their shares from the cache, or
    from the base release's dumps when their key is the one the base was built with). The
    inferences' (``_inferred_shares``) come after them."""
    for name, data in (
        (str(iris.ontology_graph()), ontology_nt),
        (str(iris.reference_graph()), reference_nt),
    ):
        yield Share(name, partial(GraphDump.of, name, data))
    for doc_id in sorted(entries):
        entry = entries[doc_id]
        name = str(iris.document_graph(doc_id))
        old = known.get(doc_id)
        reusable = old is not None and old.key == entry.key
        yield Share(name, partial(cache.dump, entry, name), reusable)


def _inferred_shares(staged: StagedRelease, graph: str) -> Iterator[Share]:
    """The inferred graph's shares of the dumps, one per run of its sorted lines
    (``dumpfile.runs_of_subjects``), cut where the base release's were: a run that no changed
    inference falls in is the base's, copied (making the share of 600,000 inferences took
    1.9 s at 10,000 pages, for the few an edit changes)."""
    data = staged.inferred_nt(graph)
    prefix = f"{graph} "
    index = PieceIndex.read(staged.base.nquads_gz) if staged.base is not None else None
    names = [n for n in index.names if n.startswith(prefix)] if index is not None else []
    keys = [n.removeprefix(prefix).encode() for n in names] or None
    changed: set[int] | None = None  # the runs that changed; None: any may have
    if keys is not None and keys[0] == b"":
        if graph not in staged.touched:  # the base's inferences, kept
            changed = set()
        elif graph in staged.differences:  # updated around the change
            changed = {run_of(keys, line) for line in staged.differences[graph].splitlines()}
    for number, (key, lines) in enumerate(runs_of_subjects(data, keys)):
        reusable = changed is not None and number not in changed
        yield Share(prefix + key.decode(), partial(GraphDump.of, graph, lines), reusable)


def _reasoning_input(
    staged: StagedRelease, ontology: Graph, exclude: list[str], path: Path
) -> Graph:
    """Write to ``path`` the asserted triples an OWL 2 RL rule can act on
    (``kg_builder.reason.Relevance``): those with a predicate, or typing with a class, that the
    ontology or the data's own axioms mention (every triple when ``owl:sameAs`` is used).
    Return the schema among them: the axioms and the RDF lists."""
    # The axioms and lists use the RDF, RDFS and OWL vocabularies, all of which are relevant:
    # read them first (few), widen by the data's own axioms, then write the rest.
    vocabulary = [str(t) for t in VOCABULARY]
    schema = Graph()
    for triple in staged.select(vocabulary, vocabulary, exclude):
        if is_schema(triple) or triple[1] in (RDF.first, RDF.rest):
            schema.add(triple)
    if staged.holds(str(OWL.sameAs), exclude):
        staged.write_triples(path, exclude)
        return schema
    relevance = Relevance.of(ontology).widen(t for t in schema if is_axiom(t))
    staged.write_triples(path, exclude, map(str, relevance.predicates), map(str, relevance.classes))
    return schema


def _reasoning_schema(
    ontology: Graph, reference: Graph, reference_nt: bytes
) -> tuple[LineFilter, Graph, bytes]:
    """When no document states an axiom: the relevance of documents' lines, the schema (the
    ontology's and the reference data's axioms and lists) and the relevant lines of the
    ontology and the reference data."""
    lines = LineFilter.of(documents_relevance(ontology, reference))
    schema = Graph()
    for graph in (ontology, reference):
        for triple in graph:
            if in_schema(triple):
                schema.add(triple)
    schema_lines = b"".join(
        lines.split(data)[0] for data in (_canonical_nt(ontology), reference_nt)
    )
    return lines, schema, schema_lines


def _cached_reasoning_input(
    path: Path,
    schema_parts: tuple[LineFilter, Graph, bytes],
    entries: Iterable[Entry],
    cache: DocCache,
) -> Graph:
    """What ``_reasoning_input`` writes and returns, when no document states an axiom: the
    schema is then the ontology's and the reference data's, and each document's relevant
    lines were kept in the cache by the worker that built it (a file copy per document
    rather than a scan of the store). ``tests/test_incremental.py`` shows both give the same
    triples."""
    lines, schema, schema_lines = schema_parts
    # Pages repeat what they say of shared entities (a State's type, its name): each line
    # once, as the store scan gives them (at 10,000 pages 1.9M lines are 0.9M distinct).
    seen: set[bytes] = set()
    try:
        with path.open("wb") as out:
            parts = chain([schema_lines], (cache.reasoning(entry, lines) for entry in entries))
            for part in parts:
                new = [line for line in part.splitlines(keepends=True) if line not in seen]
                seen.update(new)
                out.write(b"".join(new))
    except OSError as exc:
        raise PublishError(f"cannot write the release: {exc}", subject=str(path)) from exc
    return schema


def _withdraw(
    staged: StagedRelease,
    violations: list[Result],
    report: BuildReport,
    iris: Iris,
    entries: dict[str, Entry],
    known: dict[str, ManifestDoc],
    cache: DocCache,
) -> None:
    """``--keep-going`` after violations across documents: every document that describes an
    offending node is withdrawn (its previous version stays, if it had one), the rest is
    published."""
    reports = {d.doc_id: d for d in report.documents}
    for doc_id in sorted(entries):
        graph = f"(graph {iris.document_graph(doc_id)})"
        errors = [r.line() for r in violations if graph in r.graph]
        if not errors:
            continue
        doc_report = reports.get(doc_id)
        if doc_report is not None:
            doc_report.status = "invalid"
            doc_report.errors.extend(errors)
        old = known.get(doc_id)
        previous = (
            cache.get(old.key) if old is not None and old.key != entries[doc_id].key else None
        )
        if previous is not None:
            entries[doc_id] = previous
            staged.replace(iris.document_graph(doc_id), previous.graph)
            if doc_report is not None:
                doc_report.warnings.append("the previous version stays published")
        elif old is None or old.key != entries[doc_id].key:
            del entries[doc_id]
            staged.drop(iris.document_graph(doc_id))


def _history(old: ManifestDoc | None, sha256: str) -> list[str]:
    """The hashes of a document's earlier versions, newest first."""
    if old is None:
        return []
    return old.history if old.sha256 == sha256 else [old.sha256, *old.history]


def _validate_shared(
    staged: StagedRelease,
    subjects: set[str],
    iris: Iris,
    ontology: Graph,
    shapes: Graph,
    entries: dict[str, Entry],
    reference_nt: bytes,
    reference_changed: bool,
    engine: str,
) -> list[Result]:
    """SHACL over the entities that more than one graph describes (and the reference data
    when it changed), with everything every graph says of them: the constraints that one
    document alone cannot break, such as ``sh:maxCount`` on a person two pages name.

    A node every graph says the same of (the build, the software, a meeting type, an
    agreement every page restates) was validated whole with each document: only the nodes the
    graphs say different things of are validated again. Which they are is told by the digests
    of what each graph says of its subjects (``validate.descriptions``, kept with each cache
    entry), without reading the store: at 10,000 pages, reading the 367,654 quads of the 33
    shared subjects of one page took 3.1 s."""
    focus = described_unalike(subjects, entries, reference_nt, reference_changed)
    if not focus:
        return []
    ontology_graph = str(iris.ontology_graph())  # its subclass axioms are added below
    describers = _Describers(entries, iris, focus)
    graphs = {s: [g for g in describers.graphs(s) if g != ontology_graph] for s in focus}
    reference_graph = ox.NamedNode(str(iris.reference_graph()))
    subjects_by_graph: dict[str, set[str]] = {reference_graph.value: set()}
    objects: set[str] = set()

    def triples(quads: Iterable[ox.Quad], objects: set[str] | None) -> Iterator[ox.Triple]:
        """The quads' triples, noting on the way the IRIs they point at (``objects``) and
        the reference data's subjects. Streamed to the writer: at 10,000 pages a list of
        the quads held hundreds of MB while the closure's process was at its largest."""
        for quad in quads:
            if objects is not None and isinstance(quad.object, ox.NamedNode):
                objects.add(quad.object.value)
            if quad.graph_name == reference_graph and isinstance(quad.subject, ox.NamedNode):
                subjects_by_graph[reference_graph.value].add(quad.subject.value)
            yield quad.triple

    nt = ox.RdfFormat.N_TRIPLES
    described = ox.serialize(triples(staged.quads_in(graphs), objects), format=nt) or b""
    objects -= focus
    typed = _Describers(entries, iris, objects)
    typed_in = {o: [g for g in typed.graphs(o) if g != ontology_graph] for o in objects}
    types = ox.serialize(triples(staged.quads_in(typed_in, str(RDF.type)), None), format=nt)
    for subject in focus:  # every page that describes it, to name them in the results
        for name in describers.pages(subject):
            subjects_by_graph.setdefault(name, set()).add(subject)
    labels = {str(iris.document_graph(doc_id)): e.source for doc_id, e in entries.items()}
    labels[reference_graph.value] = "reference data"
    axioms = subclass_axioms(ontology).serialize(format="nt", encoding="utf-8")
    data = b"".join((described, types or b"", axioms))
    del described, types
    outcome = validate_ntriples(data, subjects_by_graph, shapes, labels, engine)
    return [r for r in outcome.violations if r.focus in focus]


class _Describers:
    """Which pages' graphs describe each of some subjects, grouped by what they say of it
    (the digests kept with the cache entries, ``validate.descriptions``): one graph of a
    group says all that the group says."""

    def __init__(self, entries: dict[str, Entry], iris: Iris, subjects: Iterable[str]):
        self.entries = entries
        self.iris = iris
        self.groups: dict[str, dict[str, list[str]]] = {s: {} for s in subjects}
        for doc_id, entry in entries.items():
            for subject, digest in entry.subjects.items():
                found = self.groups.get(subject)
                if found is not None:
                    found.setdefault(digest, []).append(doc_id)
        self._documents = str(iris.document(""))

    def graphs(self, subject: str) -> list[str]:
        """The named graphs that together hold all the store's asserted triples about
        ``subject``: the ontology, the reference data, one page of each group (every page
        whose digest is unknown), or the page whose own subject it is."""
        names = [str(self.iris.ontology_graph()), str(self.iris.reference_graph())]
        for digest, doc_ids in self.groups.get(subject, {}).items():
            for doc_id in doc_ids if digest == "" else doc_ids[:1]:
                names.append(str(self.iris.document_graph(doc_id)))
        owner = self._owner(subject)
        if owner is not None:
            names.append(str(self.iris.document_graph(owner)))
        return names

    def pages(self, subject: str) -> list[str]:
        """The graphs of every page that describes ``subject``."""
        doc_ids = [d for group in self.groups.get(subject, {}).values() for d in group]
        owner = self._owner(subject)
        doc_ids += [owner] if owner is not None else []
        return [str(self.iris.document_graph(doc_id)) for doc_id in doc_ids]

    def _owner(self, subject: str) -> str | None:
        """The page whose own subject ``subject`` is (under its document IRI and "/")."""
        if not subject.startswith(self._documents):
            return None
        owner, slash, _rest = subject.removeprefix(self._documents).partition("/")
        return owner if slash and owner in self.entries else None


def _graphs_describing(
    entries: dict[str, Entry], iris: Iris, subjects: list[str]
) -> dict[str, list[str]]:
    """``_Describers.graphs`` of each of ``subjects`` (``local_closure.GraphsOf``)."""
    describers = _Describers(entries, iris, subjects)
    return {subject: describers.graphs(subject) for subject in subjects}


def described_unalike(
    subjects: set[str], entries: dict[str, Entry], reference_nt: bytes, reference_changed: bool
) -> set[str]:
    """Of ``subjects``, those that the document graphs (``entries``) and the reference data
    do not all describe with the same triples, and, when the reference data changed, those
    it describes."""
    said: dict[str, set[str]] = {s: set() for s in subjects}
    for entry in entries.values():
        for subject, digest in entry.subjects.items():
            seen = said.get(subject)
            if seen is not None:
                seen.add(digest)
    in_reference = descriptions(reference_nt)
    unalike: set[str] = set()
    for subject, digests in said.items():
        reference = in_reference.get(subject)
        if reference is not None:
            if reference_changed:
                unalike.add(subject)
                continue
            digests.add(reference)
        if len(digests) > 1 or "" in digests:
            unalike.add(subject)
    return unalike


def _validation_failed(violations: list[Result], config: BuildConfig) -> ValidationFailed:
    listed = "\n  ".join(r.line() for r in violations[:MAX_LISTED_VIOLATIONS])
    more = len(violations) - MAX_LISTED_VIOLATIONS
    return ValidationFailed(
        f"{len(violations)} SHACL violation(s):\n  {listed}"
        + (f"\n  … and {more} more" if more > 0 else ""),
        subject="validation",
        hint=f"the full report is in {config.out_dir / 'report.ttl'}; "
        f"for reference, see {SHACL_SPEC}#validation-report",
    )


def _failure_error(failure: Failure) -> KgError:
    error_type = ValidationFailed if failure.exit_code == EXIT_INVALID else SourceError
    error = error_type(failure.message)
    return error


class _EarlyPages:
    """After one edit, the changed pages built in a process forked as soon as the sources are
    hashed, against the reference data the last build kept, while this process reads the
    10,000 cache entries of the others: the context (the gazetteer's patterns) and the pages
    are made beside that reading rather than after it. Used only when what they were built
    against is what the build then finds (the same reference data, the same page, id and
    history); else the pages are built as usual."""

    def __init__(self, key: str, child: _Child) -> None:
        self.key = key  # of the reference data they are built against
        self._child: _Child | None = child

    @classmethod
    def start(
        cls,
        config: BuildConfig,
        sources: list[_Source],
        known: dict[str, ManifestDoc],
        ontology: Graph,
        shapes: Graph,
        iris: Iris,
        build_id: str,
        started: datetime,
    ) -> _EarlyPages | None:
        """Fork the process, or ``None`` when there is nothing to do early: no changed page,
        more than a few, no kept reference data, or no ``fork`` on this system."""
        changed = [
            (s.path, s.label, _history(known.get(s.label), s.sha))
            for s in sources
            if s.sha and (known.get(s.label) is None or known[s.label].sha256 != s.sha)
        ]
        if not 0 < len(changed) <= FEW_TASKS or "fork" not in mp.get_all_start_methods():
            return None
        if threading.active_count() > 1:  # a fork copies no other thread, nor frees their locks
            return None
        kept = ReferenceCache(config.out_dir).only()
        if kept is None:
            return None
        key, reference_nt = kept
        context = (reference_nt, ontology, shapes, iris, build_id, started, config.shacl_engine)
        try:  # forked: the child has what this process read, with no copy
            return cls(key, _Child("fork", "kg-build-early", _early_pages, context, changed))
        except OSError:
            return None

    def outcomes(self, reference_key_: str, tasks: list[Task]) -> list[Entry | Failure] | None:
        """What the process made for ``tasks``, in their order, with their keys; ``None``
        when it does not fit them (other reference data, another page) or it failed. A page
        takes well under a second: past ``EARLY_WAIT``, it is built here instead."""
        if self._child is None or reference_key_ != self.key:
            return None
        made = self._child.answer(EARLY_WAIT)
        if not isinstance(made, dict):
            return None
        found: list[Entry | Failure] = []
        for task in tasks:
            got = made.get(task.source)
            if got is None or got[:3] != (task.doc.doc_id, task.doc.sha256, task.history):
                return None
            outcome = got[3]
            found.append(replace(outcome, key=task.key) if isinstance(outcome, Entry) else outcome)
        return found

    def close(self) -> None:
        if self._child is not None:
            self._child.close()
            self._child = None


def _early_pages(
    context: tuple[bytes, Graph, Graph, Iris, str, datetime, str],
    changed: list[tuple[Path, str, list[str]]],
) -> dict[str, tuple[object, ...]] | None:
    """The work of ``_EarlyPages``' process: by source, the page's id, hash and history with
    what ``process`` made of it; ``None`` when the kept reference data does not parse."""
    reference_nt, ontology, shapes, iris, build_id, started, engine = context
    kept = _kept_reference((reference_nt, []))
    if kept is None:
        return None
    set_context(
        Context.create(kept[0].graph, ontology, shapes, iris, build_id, started, engine),
        freeze=False,
    )
    made: dict[str, tuple[object, ...]] = {}
    for path, label, history in changed:
        t0 = time.perf_counter()
        doc = parse(path)
        task = Task(doc, label, "", tuple(history), time.perf_counter() - t0)
        made[label] = (doc.doc_id, doc.sha256, task.history, process(task))
    return made


def _run_tasks(
    tasks: list[Task],
    config: BuildConfig,
    reference: Graph,
    reference_nt: bytes,
    ontology: Graph,
    shapes: Graph,
    iris: Iris,
    build_id: str,
    started: datetime,
    bars: bool,
) -> Generator[Entry | Failure, None, None]:
    """``process`` over ``tasks`` in order: here, or in ``config.jobs`` worker processes
    that each build the gazetteer once."""
    if not tasks:
        return
    if config.jobs <= 1 or len(tasks) < 2:
        set_context(
            Context.create(
                reference, ontology, shapes, iris, build_id, started, config.shacl_engine
            ),
            freeze=len(tasks) > FEW_TASKS,
        )
        try:
            for task in _bar(tasks, "build", bars):
                yield process(task)
        finally:
            set_context(None)
        return
    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(
        max_workers=min(config.jobs, len(tasks)),
        mp_context=mp.get_context(method),
        initializer=init_worker,
        initargs=(
            reference_nt,
            config.ontology.resolve(),
            config.shapes.resolve(),
            config.base_iri,
            build_id,
            started,
            config.out_dir / CACHE,
            config.shacl_engine,
        ),
    ) as pool:
        chunk = max(1, min(16, len(tasks) // (config.jobs * 8)))
        try:
            yield from _bar(pool.map(process, tasks, chunksize=chunk), "build", bars, len(tasks))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _result(fields: dict[str, str]) -> Result:
    return Result(**fields)


def _bar(items: Iterable[T], stage: str, enabled: bool, total: int | None = None) -> Iterator[T]:
    """A progress bar with a rate on a terminal; the items alone otherwise."""
    if not enabled:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=f"kg-build: {stage}", unit="doc", total=total, leave=False)


@dataclass(frozen=True)
class _Source:
    path: Path
    label: str  # the path as recorded in the graph
    sha: str  # SHA-256 of the bytes ("" when unreadable: parse reports why)


@dataclass
class _Item:
    """A source that parsed (now, or in a build whose cache entry we have)."""

    source: _Source
    doc_id: str
    menu: dict[str, list[str]] | None
    doc: Document | None = None
    parse_seconds: float = 0.0
    history: list[str] = field(default_factory=list)

    def menu_holder(self) -> Document:
        """What ``build_reference`` reads of a page: its id and its menu."""
        menu = NavMenu({k: tuple(v) for k, v in self.menu.items()}) if self.menu else None
        return cast(Document, SimpleNamespace(doc_id=self.doc_id, menu=menu))


def _kept_reference(kept: tuple[bytes, list[str]] | None) -> tuple[ReferenceData, bytes] | None:
    """The reference data kept in the cache and its N-Triples, or None when there is none or
    its graph does not parse (a damaged file: the reference data is made again)."""
    if kept is None:
        return None
    graph = Graph()  # read by Oxigraph: 0.08 s where rdflib's parser took 0.16 s
    try:
        quads = rdflib_quads(ox.parse(kept[0], ox.RdfFormat.N_TRIPLES))
        graph.addN((s, p, o, graph) for _name, (s, p, o) in quads)
    except (SyntaxError, ValueError, TypeError):
        return None
    return ReferenceData(graph, kept[1]), kept[0]


def _canonical_nt(graph: Graph) -> bytes:
    """The graph as sorted N-Triples: equal graphs (without blank nodes) give equal bytes."""
    data = graph.serialize(format="nt", encoding="utf-8")
    return b"\n".join(sorted(line for line in data.splitlines() if line)) + b"\n"


def _unchanged(config: BuildConfig, fp: str, sources: list[_Source], manifest: Manifest) -> bool:
    """Nothing to do: same code and inputs, every source as it was, none to prune."""
    if config.force or manifest.fingerprint != fp:
        return False
    if manifest.failed and not config.keep_going:
        return False  # the failing sources must stop this build
    by_source = {d.source: d.sha256 for d in manifest.documents.values()}
    by_source.update({label: str(f["sha256"]) for label, f in manifest.failed.items()})
    if any(not s.sha or by_source.get(s.label) != s.sha for s in sources):
        return False
    given = {s.label for s in sources}
    return not (config.prune and any(label not in given for label in by_source))


def _with_sidecars(files: list[Path]) -> set[Path]:
    """The ``files`` that have a sidecar beside them (``kg_builder.sidecar``: pages fetched
    from the web): a listing per folder rather than an open per page."""
    texts = [os.fspath(path) for path in files]
    sidecars: set[str] = set()
    for folder in {os.path.dirname(text) for text in texts}:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        sidecars.update(os.path.join(folder, n) for n in names if n.endswith(SIDECAR_SUFFIX))
    return {
        path for path, text in zip(files, texts, strict=True) if text + SIDECAR_SUFFIX in sidecars
    }


def _display_paths() -> Callable[[Path], str]:
    """A source's path, resolved, relative to the working directory when it lies below it.
    Each folder is resolved once (``Path.resolve`` looks up every component of every path:
    0.68 s under cProfile for 10,000 pages; 0.05 s so), and the rest is string work; a file
    that is a link is resolved on its own."""
    cwd = os.path.join(os.getcwd(), "")
    folders: dict[str, str] = {}

    def display(path: Path) -> str:
        text = os.fspath(path)
        if os.path.islink(text):
            resolved = str(path.resolve())
        else:
            parent, name = os.path.split(text)
            folder = folders.get(parent)
            if folder is None:
                folder = folders[parent] = str(Path(parent or ".").resolve())
            resolved = os.path.join(folder, name)
        return resolved.removeprefix(cwd) if resolved.startswith(cwd) else resolved

    return display


def _write_report(out_dir: Path, attempt: _Attempt, iris: Iris | None) -> None:
    """The report of the latest build attempt, failed or not, beside the releases."""
    write_atomic(out_dir / "report.json", attempt.report.to_json())
    write_atomic(out_dir / REPORT_TXT, attempt.report.summary())
    if iris is not None:
        write_atomic(out_dir / "report.ttl", attempt.report_turtle(iris))


__all__ = ["BuildResult", "__version__", "collect_sources", "run"]
