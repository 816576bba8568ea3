"""The pipeline: parse → extract → build → validate → reason → publish.

``run`` composes the stages; each stage is a plain function in its own module.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.exceptions import ParserError

from kg_builder import __version__
from kg_builder.build import BuildInfo, DocumentGraph, build_document
from kg_builder.config import BuildConfig
from kg_builder.docs import write_ontology_docs
from kg_builder.errors import BuildLocked, ConfigError, KgError, SourceError, ValidationFailed
from kg_builder.extract import extract
from kg_builder.gazetteer import build_gazetteer
from kg_builder.iris import Iris
from kg_builder.layout import RELEASES, Release
from kg_builder.namespaces import OSCE
from kg_builder.parse import Document, parse
from kg_builder.publish import PARTIAL, clean_partials, promote, stage_release
from kg_builder.reason import reason
from kg_builder.reference import build_reference
from kg_builder.report import BuildReport, DocumentReport, write_atomic
from kg_builder.validate import SHACL_SPEC, load_shapes, validate
from kg_builder.void import describe

SOURCE_SUFFIXES = (".txt", ".html", ".htm")
MAX_LISTED_VIOLATIONS = 5


@dataclass(frozen=True)
class BuildResult:
    release: Release
    report: BuildReport


def collect_sources(paths: tuple[Path, ...]) -> list[Path]:
    """The files to build: given files as they are, folders' pages (``*.txt``, ``*.html``,
    ``*.htm``, in any case) in name order."""
    if not paths:
        raise SourceError("no sources given", hint="pass files or folders, e.g. data/sources")
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir() if p.suffix.lower() in SOURCE_SUFFIXES and p.is_file()
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
) -> BuildResult:
    """Build the graph from ``config.sources`` and publish it; raise ``KgError`` on bad input."""
    started = now or datetime.now(UTC)
    build_id = new_build_id(started)
    attempt = _Attempt(BuildReport(build_id=build_id, started=started.isoformat()))
    _prepare_out_dir(config.out_dir)
    with lock_out_dir(config.out_dir):
        try:
            release = _run(config, started, build_id, attempt, progress)
        except KgError as exc:
            attempt.report.status = "failed"
            attempt.report.error = str(exc)
            iris = Iris(config.base_iri) if _valid_base(config) else None
            _write_report(config.out_dir, attempt.report, attempt.validation, iris)
            raise
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


def _run(
    config: BuildConfig,
    started: datetime,
    build_id: str,
    attempt: _Attempt,
    progress: Callable[[str], None],
) -> Release:
    report = attempt.report
    iris = Iris(config.base_iri)
    for leftover in clean_partials(config.out_dir):
        report.warnings.append(
            f"removed a half-written release left by an interrupted build: {leftover}"
        )
    ontology = load_ontology(config.ontology)
    shapes = load_shapes(config.shapes)
    files = collect_sources(config.sources)

    documents: list[Document] = []
    with _timed(report, "parse"):
        for path in files:
            progress(f"parse {path}")
            doc = parse(path)
            clash = next((d for d in documents if d.doc_id == doc.doc_id), None)
            if clash is not None:
                raise SourceError(
                    f"document id {doc.doc_id!r} is also the id of {clash.path}",
                    subject=str(path),
                    hint="rename one of the files",
                )
            documents.append(doc)
            report.documents.append(
                DocumentReport(doc.doc_id, str(path), layout=doc.layout, warnings=[*doc.warnings])
            )

    with _timed(report, "reference"):
        reference = build_reference(config.reference_dir, documents, iris)
        report.warnings.extend(reference.warnings)
        gazetteer = build_gazetteer(reference.graph, ontology, iris)

    info = BuildInfo(build_id, started, {d.doc_id: _display_path(d.path) for d in documents})
    doc_graphs: list[DocumentGraph] = []
    for doc, doc_report in zip(documents, report.documents, strict=True):
        progress(f"extract {doc.path}")
        with _timed(report, "extract"):
            extraction = extract(doc, gazetteer, iris)
        with _timed(report, "build"):
            built = build_document(extraction, iris, info)
        doc_graphs.append(built)
        doc_report.warnings.extend(extraction.warnings)
        doc_report.triples = len(built.graph)
        for mention in extraction.mentions:
            doc_report.mentions[mention.kind] = doc_report.mentions.get(mention.kind, 0) + 1

    asserted: dict[URIRef, Graph] = {iris.reference_graph(): reference.graph}
    asserted.update({d.name: d.graph for d in doc_graphs})
    progress("validate")
    with _timed(report, "validate"):
        labels = {iris.document_graph(d.doc_id): str(d.path) for d in documents}
        labels[iris.reference_graph()] = f"reference data ({config.reference_dir})"
        outcome = validate(asserted, ontology, shapes, labels)
    report.validation = [r.line() for r in outcome.results]
    attempt.validation = outcome.report
    if outcome.violations:
        for doc_report in report.documents:
            graph = f"(graph {iris.document_graph(doc_report.doc_id)})"
            doc_report.errors = [r.line() for r in outcome.violations if graph in r.graph]
            doc_report.status = "invalid" if doc_report.errors else doc_report.status
        listed = "\n  ".join(r.line() for r in outcome.violations[:MAX_LISTED_VIOLATIONS])
        more = len(outcome.violations) - MAX_LISTED_VIOLATIONS
        raise ValidationFailed(
            f"{len(outcome.violations)} SHACL violation(s):\n  {listed}"
            + (f"\n  … and {more} more" if more > 0 else ""),
            subject="validation",
            hint=f"the full report is in {config.out_dir / 'report.ttl'}; "
            f"for reference, see {SHACL_SPEC}#validation-report",
        )

    progress("reason")
    with _timed(report, "reason"):
        union = Graph()
        union += ontology
        for part in asserted.values():
            union += part
        inference = reason(union)

    graphs: dict[URIRef, Graph] = {iris.ontology_graph(): ontology, **asserted}
    graphs[iris.inferred_graph()] = inference.inferred
    report.triples = {"ontology": len(ontology), "reference": len(reference.graph)}
    report.triples["documents"] = sum(len(d.graph) for d in doc_graphs)
    report.triples["inferred"] = len(inference.inferred)
    report.reasoning = {"engine": "owlrl (OWL 2 RL)", "inconsistencies": 0}
    report.dropped = {
        "inferred_not_valid_rdf": inference.dropped_invalid,
        "inferred_reflexive_sameas": inference.dropped_trivial,
    }

    progress("publish")
    with _timed(report, "publish"):
        staged = stage_release(
            config.out_dir,
            build_id,
            graphs,
            lambda store: describe(
                store,
                iris.relative("dataset"),
                title="OSCE knowledge graph",
                uri_space=iris.base,
                vocabulary=str(OSCE._NS),
                build=iris.build(build_id),
                modified=started,
            ),
        )
        write_ontology_docs(config.ontology, staged.docs)
        report.status = "ok"
        final_name = staged.root.name.removesuffix(PARTIAL)
        report.release = str(config.out_dir / RELEASES / final_name)
        report_graph = report.to_graph(iris.build(build_id), outcome.report)
        write_atomic(staged.report_json, report.to_json())
        write_atomic(staged.report_ttl, report_graph.serialize(format="turtle"))
        release = promote(config.out_dir, staged, config.keep_releases)
    _write_report(config.out_dir, report, outcome.report, iris)
    return release


def _display_path(path: Path) -> str:
    """A source's path relative to the working directory when it lies below it."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        return str(resolved)


def _write_report(
    out_dir: Path, report: BuildReport, validation: Graph | None, iris: Iris | None
) -> None:
    """The report of the latest build attempt, failed or not, beside the releases."""
    write_atomic(out_dir / "report.json", report.to_json())
    if iris is not None:
        graph = report.to_graph(iris.build(report.build_id), validation)
        write_atomic(out_dir / "report.ttl", graph.serialize(format="turtle"))


__all__ = ["BuildResult", "__version__", "collect_sources", "run"]
