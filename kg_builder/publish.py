"""Publish stage: a persistent pyoxigraph store and the dumps, swapped in atomically.

Everything is written under ``releases/<build id>.partial``; the directory is renamed to its
final name only once complete, then the ``current`` symlink is replaced with one ``rename``.
A build that fails or is killed before that leaves the served release untouched; leftover
``.partial`` directories are removed by the next run.
"""

from __future__ import annotations

import gzip
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef

from kg_builder.errors import PublishError
from kg_builder.layout import CURRENT, GZIP, RELEASES, Release, current_release
from kg_builder.namespaces import DCTERMS, OA, ORG, OSCE, OWL, PROV, RDF, RDFS, SCHEMA, SKOS, XSD

PARTIAL = ".partial"
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
}


def clean_partials(out_dir: Path) -> list[Path]:
    """Remove releases a killed build left half-written."""
    removed = []
    for path in sorted((out_dir / RELEASES).glob(f"*{PARTIAL}")):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def stage_release(
    out_dir: Path,
    build_id: str,
    graphs: dict[URIRef, Graph],
    describe: Callable[[ox.Store], Graph] | None = None,
) -> Release:
    """Write the store, the dumps (plain and gzip) and the VoID statistics (``describe``) of a
    new release, not yet served."""
    root = out_dir / RELEASES / f"{build_id}{PARTIAL}"
    release = Release(root)
    if (out_dir / RELEASES / build_id).exists():
        raise PublishError(f"a release with id {build_id} exists already", subject=str(out_dir))
    try:
        release.dumps.mkdir(parents=True)
        store = ox.Store(str(release.store))
        for name, graph in graphs.items():
            data = graph.serialize(format="nt", encoding="utf-8")
            store.bulk_load(data, ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(str(name)))
        store.flush()
        store.optimize()
        store.dump(str(release.nquads_dump), ox.RdfFormat.N_QUADS)
        merged = store.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert isinstance(merged, ox.QueryTriples)  # noqa: S101 - a CONSTRUCT gives triples
        ox.serialize(merged, str(release.turtle_dump), ox.RdfFormat.TURTLE, prefixes=PREFIXES)
        for dump in (release.nquads_dump, release.turtle_dump):
            _gzip(dump)
        if describe is not None:
            release.void.write_text(describe(store).serialize(format="turtle"), encoding="utf-8")
        del store
    except OSError as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise PublishError(f"cannot write the release: {exc}", subject=str(root)) from exc
    return release


def _gzip(path: Path) -> None:
    """``path.gz`` beside ``path``, reproducible (no name or time in the gzip header)."""
    with (
        path.open("rb") as source,
        (path.parent / (path.name + GZIP)).open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed,
    ):
        shutil.copyfileobj(source, packed, 1 << 20)


def promote(out_dir: Path, staged: Release, keep: int) -> Release:
    """Make a staged release the served one: rename it, then swap the ``current`` link."""
    final = staged.root.with_name(staged.root.name.removesuffix(PARTIAL))
    _fsync_tree(staged.root)  # the data is on disk before any name points at it
    os.replace(staged.root, final)
    _fsync_dir(final.parent)
    link = out_dir / CURRENT
    tmp_link = out_dir / f".{CURRENT}.tmp"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    os.symlink(Path(RELEASES) / final.name, tmp_link)
    os.replace(tmp_link, link)
    _fsync_dir(out_dir)
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


def _fsync_tree(root: Path) -> None:
    for folder, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(Path(folder) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(folder))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["clean_partials", "current_release", "promote", "stage_release"]
