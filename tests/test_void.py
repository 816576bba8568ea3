"""VoID statistics and gzip dumps written with a release."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from kg_builder.namespaces import RDF, RDFS, SKOS, VOID
from kg_builder.pipeline import BuildResult
from kg_builder.publish import stage_release
from kg_builder.void import describe

EX = "https://example.org/"
DATASET = URIRef(EX + "dataset")


def graphs() -> dict[URIRef, Graph]:
    a, b = Graph(), Graph()
    for i in range(3):
        a.add((URIRef(f"{EX}s{i}"), RDF.type, URIRef(EX + "State")))
        a.add((URIRef(f"{EX}s{i}"), SKOS.prefLabel, Literal(f"State {i}")))
    b.add((URIRef(EX + "s0"), RDF.type, URIRef(EX + "State")))  # also in graph a
    b.add((URIRef(EX + "p"), RDF.type, URIRef(EX + "Person")))
    b.add((URIRef(EX + "p"), RDFS.label, Literal("P")))
    return {URIRef(EX + "graph/a"): a, URIRef(EX + "graph/b"): b}


def void_of(tmp_path: Path, iri_subjects: list[str] | None = None) -> Graph:
    def describe_store(store: ox.Store) -> Graph:
        return describe(
            store,
            DATASET,
            title="test",
            uri_space=EX,
            vocabulary=EX + "ontology#",
            build=URIRef(EX + "build/1"),
            modified=datetime(2026, 1, 1, tzinfo=UTC),
            iri_subjects=iri_subjects,
        )

    release = stage_release(tmp_path, "b1", graphs(), describe_store)
    return Graph().parse(release.void)


def value(g: Graph, subject: URIRef, prop: URIRef) -> int:
    found = g.value(subject, prop)
    assert found is not None, prop
    return int(found)


def test_void_counts_distinct_triples_of_the_union(tmp_path: Path) -> None:
    g = void_of(tmp_path)
    assert value(g, DATASET, VOID.triples) == 8  # 9 quads, one triple in both graphs
    assert value(g, DATASET, VOID.entities) == 4
    assert value(g, DATASET, VOID.classes) == 2
    assert value(g, DATASET, VOID.properties) == 3
    assert value(g, URIRef(EX + "graph/a"), VOID.triples) == 6
    assert value(g, URIRef(EX + "graph/b"), VOID.triples) == 3


def test_entities_from_the_callers_subjects_are_the_store_count(tmp_path: Path) -> None:
    subjects = [str(s) for g in graphs().values() for s in g.subjects()]  # s0 in both graphs
    counted = void_of(tmp_path / "counted")
    given = void_of(tmp_path / "given", subjects)
    assert value(given, DATASET, VOID.entities) == value(counted, DATASET, VOID.entities) == 4
    assert isomorphic(given, counted)


def test_a_builds_void_counts_what_its_store_holds(seed_build: BuildResult) -> None:
    """The pipeline gives VoID the subjects from its cache entries: the counts must be the
    store's own."""
    g = Graph().parse(seed_build.release.void)
    dataset = next(g.subjects(RDF.type, VOID.Dataset))
    store = ox.Store.read_only(str(seed_build.release.store))

    def count(query: str) -> int:
        (row,) = store.query(query)  # type: ignore[misc]
        return int(row[0].value)

    quad = "GRAPH ?g { ?s ?p ?o }"
    assert value(g, dataset, VOID.entities) == count(
        f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {quad} FILTER isIRI(?s) }}"
    )
    assert value(g, dataset, VOID.triples) == count(
        f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?s ?p ?o WHERE {{ {quad} }} }}"
    )
    assert value(g, dataset, VOID.distinctObjects) == count(
        f"SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE {{ {quad} }}"
    )
    assert value(g, dataset, VOID.distinctSubjects) == count(
        f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {quad} }}"
    )


def test_void_partitions(tmp_path: Path) -> None:
    g = void_of(tmp_path)
    classes = {
        str(g.value(p, VOID["class"])): int(g.value(p, VOID.entities))  # type: ignore[arg-type]
        for p in g.objects(DATASET, VOID.classPartition)
    }
    assert classes == {EX + "State": 3, EX + "Person": 1}
    properties = {
        str(g.value(p, VOID.property)): int(g.value(p, VOID.triples))  # type: ignore[arg-type]
        for p in g.objects(DATASET, VOID.propertyPartition)
    }
    assert properties == {str(RDF.type): 4, str(SKOS.prefLabel): 3, str(RDFS.label): 1}


def test_gzip_dumps_hold_the_same_bytes_and_are_reproducible(tmp_path: Path) -> None:
    first = stage_release(tmp_path / "one", "b1", graphs())
    second = stage_release(tmp_path / "two", "b1", graphs())
    for dump in (first.nquads_dump, first.turtle_dump):
        packed = dump.with_name(dump.name + ".gz")
        assert gzip.decompress(packed.read_bytes()) == dump.read_bytes()
        twin = second.dumps / packed.name
        assert twin.read_bytes() == packed.read_bytes()
    assert not first.void.exists()  # no VoID asked for
