"""VoID statistics and gzip dumps written with a release."""

from __future__ import annotations

import gzip
import json
import random
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from kg_builder.namespaces import RDF, RDFS, SKOS, VOID
from kg_builder.pipeline import BuildResult
from kg_builder.publish import stage_release
from kg_builder.void import Statistics, describe, statistics, update

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
            statistics(store, iri_subjects),
            DATASET,
            title="test",
            uri_space=EX,
            vocabulary=EX + "ontology#",
            build=URIRef(EX + "build/1"),
            modified=datetime(2026, 1, 1, tzinfo=UTC),
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
    (dataset,) = {s for s in g.subjects(RDF.type, VOID.Dataset) if (None, VOID.subset, s) not in g}
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


def test_gzip_dumps_are_reproducible(tmp_path: Path) -> None:
    first = stage_release(tmp_path / "one", "b1", graphs())
    second = stage_release(tmp_path / "two", "b1", graphs())
    for packed in (first.nquads_gz, first.turtle_gz):
        assert gzip.decompress(packed.read_bytes())
        twin = second.dumps / packed.name
        assert twin.read_bytes() == packed.read_bytes()
    assert not first.void.exists()  # no VoID asked for


# Incremental statistics: update(statistics(before), before, after, changed) must be exactly
# statistics(after), field for field.

TYPE = ox.NamedNode(str(RDF.type))
LABEL = ox.NamedNode(str(RDFS.label))

Triple = tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, ox.NamedNode | ox.BlankNode | ox.Literal]
Graphs = Mapping[str, Iterable[Triple]]


def iri(local: str) -> ox.NamedNode:
    return ox.NamedNode(EX + local)


def graph(local: str) -> str:
    return f"{EX}graph/{local}"


def store_of(graphs: Graphs, default: Iterable[Triple] = ()) -> ox.Store:
    store = ox.Store()
    store.extend(ox.Quad(*t, ox.NamedNode(name)) for name, ts in graphs.items() for t in ts)
    store.extend(ox.Quad(*t, ox.DefaultGraph()) for t in default)
    return store


def changed_names(before: Graphs, after: Graphs) -> list[str]:
    return sorted(
        name for name in {*before, *after} if set(before.get(name, ())) != set(after.get(name, ()))
    )


def updated(before: Graphs, after: Graphs) -> tuple[Statistics, Statistics]:
    """The statistics of ``before``, then of ``after``, checked against a full count."""
    old, new = store_of(before), store_of(after)
    previous = statistics(old)
    stats = update(previous, old, new, changed_names(before, after))
    assert stats == statistics(new)
    return previous, stats


STATES = {
    graph("a"): [
        (iri("s0"), TYPE, iri("State")),
        (iri("s0"), LABEL, ox.Literal("State 0")),
        (iri("s1"), TYPE, iri("State")),
        (iri("s1"), LABEL, ox.Literal("State 1")),
        (iri("s1"), iri("borders"), iri("s0")),
    ],
    graph("b"): [
        (iri("s0"), TYPE, iri("State")),
        (iri("p"), TYPE, iri("Person")),
        (iri("p"), LABEL, ox.Literal("P")),
        (iri("p"), iri("citizenOf"), iri("s1")),
    ],
}


def test_update_when_a_graph_content_is_replaced() -> None:
    after = {
        **STATES,
        graph("a"): [
            (iri("s2"), TYPE, iri("State")),
            (iri("s2"), LABEL, ox.Literal("State 2")),
            (iri("s1"), LABEL, ox.Literal("State 1")),
        ],
    }
    _, stats = updated(STATES, after)
    assert stats.class_entities[EX + "State"] == 2  # s0 (graph b) and s2
    assert stats.graph_triples[graph("a")] == 3
    assert EX + "borders" not in stats.triples_by_property


def test_update_when_a_graph_is_added() -> None:
    after = {**STATES, graph("c"): [(iri("o"), TYPE, iri("Organisation"))]}
    previous, stats = updated(STATES, after)
    assert stats.graph_triples == {**previous.graph_triples, graph("c"): 1}
    assert stats.classes == previous.classes + 1


def test_update_when_a_graph_is_dropped() -> None:
    after = {graph("a"): STATES[graph("a")]}
    _, stats = updated(STATES, after)
    assert graph("b") not in stats.graph_triples
    assert EX + "Person" not in stats.class_entities
    assert stats.class_entities[EX + "State"] == 2  # s0 is still a State in graph a


def test_update_when_a_triple_another_graph_holds_is_removed() -> None:
    after = {**STATES, graph("b"): STATES[graph("b")][1:]}  # s0 a State: still in graph a
    previous, stats = updated(STATES, after)
    assert stats.triples_by_property == previous.triples_by_property
    assert stats.class_entities == previous.class_entities
    assert stats.graph_triples[graph("b")] == previous.graph_triples[graph("b")] - 1
    assert stats.distinct_subjects == previous.distinct_subjects
    assert stats.distinct_objects == previous.distinct_objects


def test_update_when_a_class_loses_its_last_instance() -> None:
    after = {**STATES, graph("b"): [t for t in STATES[graph("b")] if t[2] != iri("Person")]}
    previous, stats = updated(STATES, after)
    assert stats.classes == previous.classes - 1
    assert EX + "Person" not in stats.class_entities
    assert stats.triples_by_property[str(RDF.type)] == 2


def test_update_when_a_subject_and_an_object_leave_the_union() -> None:
    after = {**STATES, graph("a"): STATES[graph("a")][:4]}  # s1 borders s0: the only one
    previous, stats = updated(STATES, after)
    assert stats.distinct_subjects == previous.distinct_subjects  # s1 has other triples
    assert stats.distinct_objects == previous.distinct_objects - 1  # s0 as an object
    after = {graph("a"): STATES[graph("a")], graph("b"): STATES[graph("b")][:1]}  # p is gone
    previous, stats = updated(STATES, after)
    assert stats.distinct_subjects == previous.distinct_subjects - 1
    assert stats.entities == previous.entities - 1
    assert stats.distinct_objects == previous.distinct_objects - 3  # Person, "P" and s1


def test_update_with_a_literal_object_and_a_blank_node_subject() -> None:
    node = ox.BlankNode("n1")
    before = {graph("a"): [(node, LABEL, ox.Literal("x")), (iri("s"), LABEL, ox.Literal("x"))]}
    after = {graph("a"): [(node, LABEL, ox.Literal("y")), (iri("s"), LABEL, ox.Literal("x"))]}
    previous, stats = updated(before, after)
    assert (previous.distinct_objects, stats.distinct_objects) == (1, 2)  # "x" still held by s
    assert (stats.entities, stats.distinct_subjects) == (1, 2)  # the blank node is no entity
    after = {graph("a"): [(iri("s"), LABEL, ox.Literal("x"))]}
    _, stats = updated(before, after)
    assert (stats.entities, stats.distinct_subjects) == (1, 1)
    assert stats.distinct_objects == 1


def test_update_when_a_predicate_disappears() -> None:
    after = {**STATES, graph("b"): STATES[graph("b")][:3]}  # the only citizenOf
    previous, stats = updated(STATES, after)
    assert stats.properties == previous.properties - 1
    assert EX + "citizenOf" not in stats.triples_by_property
    assert stats.triples == previous.triples - 1


def test_update_when_several_graphs_change_at_once() -> None:
    after = {
        graph("a"): [(iri("p"), TYPE, iri("Person"))],  # held by b before, moved here
        graph("c"): [(iri("s0"), TYPE, iri("State")), (iri("s0"), LABEL, ox.Literal("S"))],
    }
    _, stats = updated(STATES, after)
    assert stats.graph_triples == {graph("a"): 1, graph("c"): 2}
    assert stats.class_entities == {EX + "Person": 1, EX + "State": 1}


def test_update_of_classes_that_are_no_iri() -> None:
    node = ox.BlankNode("anonymous_class")
    before = {graph("a"): [(iri("x"), TYPE, node)], graph("b"): [(iri("y"), TYPE, node)]}
    after = {graph("a"): [(iri("x"), TYPE, iri("Thing"))], graph("b"): []}
    previous, stats = updated(before, after)
    assert (previous.classes, previous.class_entities) == (1, {})  # counted, not partitioned
    assert (stats.classes, stats.class_entities) == (1, {EX + "Thing": 1})


def test_update_leaves_the_default_graph_out_as_statistics_does() -> None:
    default = [(iri("d"), iri("only_in_default"), iri("State")), (iri("s0"), TYPE, iri("Dog"))]
    before, after = store_of(STATES, default), store_of({graph("a"): STATES[graph("a")]}, default)
    stats = update(statistics(before), before, after, [graph("b")])
    assert stats == statistics(after)
    assert EX + "only_in_default" not in stats.triples_by_property


def test_update_from_known_differences_reads_no_graph() -> None:
    inferred = graph("inferred")
    big = [(iri(f"e{i}"), TYPE, iri("Thing")) for i in range(50)]
    before = {**STATES, inferred: big}
    after = {
        **STATES,
        inferred: [*big[1:], (iri("s0"), TYPE, iri("Thing")), (iri("p"), LABEL, ox.Literal("P"))],
    }
    old, new = store_of(before), store_of(after)
    gone, added = set(before[inferred]) - set(after[inferred]), set(after[inferred]) - set(big)
    unchanged, never = big[5], (iri("nobody"), LABEL, ox.Literal("none"))
    differences = {inferred: [ox.Triple(*t) for t in [*gone, *added, unchanged, never]]}
    stats = update(statistics(old), old, new, [inferred], limit=5, differences=differences)
    assert stats == statistics(new)  # within the limit: the 50 quads were not read
    assert stats.graph_triples[inferred] == 51
    assert update(statistics(old), old, new, [], limit=4, differences=differences) is None


def test_update_from_known_differences_of_added_and_dropped_graphs() -> None:
    after = {graph("a"): STATES[graph("a")], graph("c"): [(iri("c"), LABEL, ox.Literal("C"))]}
    old, new = store_of(STATES), store_of(after)
    differences = {
        graph("b"): [ox.Triple(*t) for t in STATES[graph("b")]],
        graph("c"): [ox.Triple(*t) for t in after[graph("c")]],
    }
    stats = update(statistics(old), old, new, [], differences=differences)
    assert stats == statistics(new)
    assert set(stats.graph_triples) == {graph("a"), graph("c")}


def test_update_declines_past_the_limit() -> None:
    after = {**STATES, graph("a"): STATES[graph("a")][:2]}  # 5 quads before, 2 after
    old, new = store_of(STATES), store_of(after)
    assert update(statistics(old), old, new, [graph("a")], limit=6) is None
    assert update(statistics(old), old, new, [graph("a")], limit=7) == statistics(new)


def test_update_chained_over_random_edits() -> None:
    """Random edits of a few small graphs whose terms collide often (triples held by several
    graphs, classes and objects shared): each round's update, made from the previous round's
    update, is the full count. Some changed graphs are read, some given by their
    difference."""
    rng = random.Random(20260101)
    subjects: list[ox.NamedNode | ox.BlankNode] = [iri(f"s{i}") for i in range(5)]
    subjects += [ox.BlankNode(f"b{i}") for i in range(2)]
    classes: list[ox.NamedNode | ox.BlankNode] = [iri("A"), iri("B"), ox.BlankNode("c")]
    literals = [ox.Literal("x"), ox.Literal("1", datatype=ox.NamedNode(EX + "n"))]
    predicates = [LABEL, iri("p"), iri("q")]

    def triple() -> Triple:
        subject = rng.choice(subjects)
        if rng.random() < 0.3:
            return (subject, TYPE, rng.choice(classes))
        return (subject, rng.choice(predicates), rng.choice([*subjects, *literals]))

    names = [graph(str(i)) for i in range(5)]
    current: dict[str, set[Triple]] = {n: {triple() for _ in range(4)} for n in names[:3]}
    default = [(iri("s0"), TYPE, iri("Default"))]
    store = store_of(current, default)
    stats = statistics(store)
    for _round in range(40):
        edited = {n: set(ts) for n, ts in current.items()}
        for name in rng.sample(names, rng.randint(1, 3)):
            held = edited.setdefault(name, set())
            action = rng.choice(["replace", "add", "remove", "drop"])
            if action == "replace":
                edited[name] = {triple() for _ in range(rng.randint(1, 6))}
            elif action == "add":
                held.update(triple() for _ in range(rng.randint(1, 3)))
            elif action == "remove" and held:
                held.difference_update(rng.sample(sorted(held, key=str), rng.randint(1, len(held))))
            else:
                del edited[name]
        edited = {n: ts for n, ts in edited.items() if ts}
        after = store_of(edited, default)
        read, differences = [], {}
        for name in changed_names(current, edited):
            if rng.random() < 0.5:  # read whole
                read.append(name)
            else:  # the difference, with a triple that did not change and one never held
                old, new = current.get(name, set()), edited.get(name, set())
                noise = [*sorted(old & new, key=str)[:1], triple()]
                differences[name] = [ox.Triple(*t) for t in [*(old ^ new), *noise]]
        updated_stats = update(stats, store, after, read, differences=differences)
        assert updated_stats == statistics(after), _round
        current, store, stats = edited, after, updated_stats


@pytest.mark.parametrize("threads", [1, 2, 5])
def test_statistics_on_threads_are_the_count_one_query_after_another(threads: int) -> None:
    """The queries of a count run side by side: the numbers are right whatever their number."""
    rng = random.Random(threads)
    terms = [iri(f"s{i}") for i in range(20)]
    classes = [iri("A"), iri("B"), ox.BlankNode("c")]
    contents = {
        graph(str(g)): {
            (rng.choice(terms), TYPE, rng.choice(classes))
            if rng.random() < 0.4
            else (rng.choice(terms), rng.choice([LABEL, iri("p")]), rng.choice(terms))
            for _ in range(30)
        }
        for g in range(6)
    }
    store = store_of(contents, [])
    union: set[Triple] = set().union(*contents.values())
    counted = statistics(store, threads=threads)
    # each number against one made here, field by field (not only against another count)
    assert counted.graph_triples == {g: len(ts) for g, ts in contents.items()}
    assert counted.triples_by_property == {
        p.value: n for p, n in Counter(p for _s, p, _o in union).items()
    }
    assert counted.class_entities == {
        c.value: n
        for c, n in Counter(o for _s, p, o in union if p == TYPE).items()
        if isinstance(c, ox.NamedNode)
    }
    assert counted.distinct_subjects == len({s for s, _p, _o in union})
    assert counted.distinct_objects == len({o for _s, _p, o in union})
    assert counted == statistics(store, threads=1)


def test_statistics_json_round_trip() -> None:
    stats = statistics(store_of(STATES))
    assert Statistics.from_json(stats.to_json()) == stats
    assert stats.triples == 8 and stats.properties == 4


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        "null",
        "{}",
        "[" * 100_000,
        '{"format": 1}',
    ],
)
def test_malformed_statistics_json_is_none(text: str) -> None:
    assert Statistics.from_json(text) is None


@pytest.mark.parametrize(
    ("key", "bad"),
    [
        ("format", 2),
        ("format", True),
        ("entities", "4"),
        ("entities", -1),
        ("entities", 1.0),
        ("entities", 1000),  # more IRI subjects than subjects
        ("classes", None),
        ("distinct_subjects", False),
        ("triples_by_property", []),
        ("triples_by_property", {EX + "p": 0}),
        ("class_entities", {EX + "A": "1"}),
        ("graph_triples", {EX + "g": 2.5}),
        ("unknown", 1),
    ],
)
def test_statistics_json_with_a_wrong_value_is_none(key: str, bad: object) -> None:
    data = json.loads(statistics(store_of(STATES)).to_json())
    assert Statistics.from_json(json.dumps({**data, key: bad})) is None
    del data[key if key in data else "entities"]
    assert Statistics.from_json(json.dumps(data)) is None  # a key missing
