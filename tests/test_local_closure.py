"""The closure updated around a change (``kg_builder.local_closure``) against the closure of
the whole graph, on random documents over an ontology with a transitive property, a
sub-property and an inverse of it, domains and ranges, and a functional property."""

from __future__ import annotations

import random
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from kg_builder.dumpfile import first_line_at_or_after
from kg_builder.local_closure import (
    Edges,
    LocalRules,
    _edges_after,
    _within,
    asserted_edges,
    local_update,
    nodes,
    splice,
)
from kg_builder.publish import ox_triples
from kg_builder.reason import LineFilter, Relevance, in_schema, reason_file

EX = "http://example.org/"
INFERRED = EX + "inferred"
ONTOLOGY = f"""
@prefix ex: <{EX}> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:in a owl:ObjectProperty , owl:TransitiveProperty ; rdfs:range ex:Place .
ex:part rdfs:subPropertyOf ex:in ; rdfs:domain ex:Part .
ex:has owl:inverseOf ex:part .
ex:knows a owl:ObjectProperty ; rdfs:domain ex:Agent ; rdfs:range ex:Agent .
ex:cap a owl:ObjectProperty , owl:FunctionalProperty .
ex:near a owl:SymmetricProperty ; rdfs:range ex:Place .
ex:holds owl:inverseOf ex:heldBy .
ex:heldBy rdfs:domain ex:Post ; rdfs:range ex:Agent .
ex:Part rdfs:subClassOf ex:Place .
ex:Agent owl:disjointWith ex:Rock .
ex:Thing a owl:Class .
"""
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
PREDICATES = ("in", "part", "has", "knows", "cap", "other", "near", "holds", "heldBy")


def _schema() -> tuple[Graph, bytes, LineFilter]:
    ontology = Graph().parse(data=ONTOLOGY, format="turtle")
    lines = LineFilter.of(Relevance.of(ontology))
    nt = ontology.serialize(format="nt", encoding="utf-8")
    return ontology, lines.split(nt)[0], lines


def _document(rng: random.Random) -> bytes:
    triples = []
    for _ in range(rng.randint(0, 4)):
        s, o = rng.sample(range(14), 2)
        p = rng.choice(PREDICATES)
        triples.append(f"<{EX}n{s}> <{EX}{p}> <{EX}n{o}> .\n")
    if rng.random() < 0.3:
        triples.append(f"<{EX}n{rng.randrange(14)}> <{RDF_TYPE}> <{EX}Thing> .\n")
    return "".join(triples).encode()


def _closure(documents: dict[str, bytes], schema_lines: bytes, schema: Graph, tmp: Path) -> bytes:
    lines = LineFilter.of(Relevance.of(schema))
    path = tmp / "whole.ttl"
    path.write_bytes(schema_lines + b"".join(lines.split(d)[0] for d in documents.values()))
    inferred = reason_file(path, schema=schema).inferred
    data = ox.serialize(ox_triples(inferred), format=ox.RdfFormat.N_TRIPLES) or b""
    return b"".join(sorted(data.splitlines(True)))


def _store(documents: dict[str, bytes], inferred: bytes) -> ox.Store:
    store = ox.Store()
    for name, data in {**documents, INFERRED: inferred}.items():
        store.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(name))
    return store


def test_random_edits_give_the_closure_of_the_whole_graph(tmp_path: Path) -> None:
    ontology, schema_lines, lines = _schema()
    schema = Graph()
    for triple in ontology:
        if in_schema(triple):
            schema.add(triple)
    rules = LocalRules.of(ontology)
    assert rules.along == {EX + "in", EX + "part"} and rules.against == {EX + "has"}
    local = declined = kept_edges = 0
    for seed in range(12):
        rng = random.Random(seed)
        documents = {f"{EX}doc{i}": _document(rng) for i in range(6)}
        inferred = _closure(documents, schema_lines, schema, tmp_path)
        # the edges kept from round to round (as a release keeps them), else read anew
        edges = asserted_edges(_store(documents, inferred), INFERRED, rules) if seed % 2 else None
        for _ in range(15):
            name = rng.choice(sorted(documents))
            old = documents[name]
            documents[name] = _document(rng) if rng.random() < 0.8 else b""
            expected = _closure(documents, schema_lines, schema, tmp_path)
            store = _store(documents, inferred)
            update = local_update(
                store,
                INFERRED,
                inferred,
                [lines.split(old)[0], lines.split(documents[name])[0]],
                rules,
                lines,
                schema_lines,
                schema,
                tmp_path,
                edges=edges,
            )
            if isinstance(update, str):  # only a functional property's sameAs declines here
                assert "owl:sameAs" in update, (seed, update)
                declined += 1
                edges = asserted_edges(store, INFERRED, rules) if seed % 2 else None
            else:
                assert update.inferred == expected, (seed, old, documents[name])
                before, after = set(inferred.splitlines(True)), set(expected.splitlines(True))
                assert sorted(before - after) == update.gone
                assert sorted(after - before) == update.added
                assert update.edges == asserted_edges(store, INFERRED, rules)
                kept_edges += edges is not None
                edges = update.edges if seed % 2 else None
                local += 1
            inferred = expected
    assert local >= 100 and declined >= 5  # both paths taken, most rounds updated locally
    assert kept_edges >= 50


def test_kept_edges_lose_only_what_no_graph_asserts_any_more() -> None:
    """An edge a changed document no longer states stays while another graph states it;
    a new one is added; and the record reads back as it was written."""
    ontology, _schema_lines, _lines = _schema()
    rules = LocalRules.of(ontology)
    a_b = f"<{EX}a> <{EX}in> <{EX}b> .\n".encode()
    c_d = f"<{EX}c> <{EX}in> <{EX}d> .\n".encode()
    e_f = f"<{EX}e> <{EX}cap> <{EX}f> .\n".encode()
    other = f"<{EX}e> <{EX}knows> <{EX}f> .\n".encode()  # not an edge's predicate
    before = {f"{EX}doc1": a_b + c_d, f"{EX}doc2": a_b}
    edges = asserted_edges(_store(before, b""), INFERRED, rules)
    assert edges.lines == {a_b, c_d}
    after = {f"{EX}doc1": e_f + other, f"{EX}doc2": a_b}
    changed = before[f"{EX}doc1"] + after[f"{EX}doc1"]
    kept = _edges_after(edges, _store(after, b""), ox.NamedNode(INFERRED), changed)
    assert kept.lines == {a_b, e_f}
    assert kept == asserted_edges(_store(after, b""), INFERRED, rules)
    assert Edges.from_json(kept.to_json()) == kept
    for damaged in ("", "[]", '{"predicates": [1], "edges": []}', '{"edges": ["x"]}'):
        assert Edges.from_json(damaged) is None


def test_affected_nodes_leave_out_classes_and_literals() -> None:
    lines = (
        f"<{EX}a> <{EX}in> <{EX}b> .\n"
        f"<{EX}a> <{RDF_TYPE}> <{EX}Place> .\n"
        f'<{EX}c> <{EX}label> "<{EX}d>" .\n'
    ).encode()
    assert nodes(lines) == {f"<{EX}a>".encode(), f"<{EX}b>".encode(), f"<{EX}c>".encode()}


def test_an_ontology_with_a_joining_construct_declines(tmp_path: Path) -> None:
    ontology = Graph().parse(
        data=ONTOLOGY + "ex:Hub owl:intersectionOf ( ex:Place ex:Agent ) .\n",
        format="turtle",
    )
    rules = LocalRules.of(ontology)
    assert rules.uncovered == ("http://www.w3.org/2002/07/owl#intersectionOf",)
    update = local_update(
        ox.Store(),
        INFERRED,
        b"",
        [b""],
        rules,
        LineFilter.of(Relevance.of(ontology)),
        b"",
        ontology,
        tmp_path,
    )
    assert update == "the ontology uses http://www.w3.org/2002/07/owl#intersectionOf"


def test_first_line_at_or_after_is_bisect_over_the_lines() -> None:
    rng = random.Random(5)
    for _round in range(200):
        lines = sorted(
            f"<{rng.choice('abcde')}{rng.randint(0, 30)}> x .\n".encode()
            for _ in range(rng.randint(0, 12))
        )
        data = b"".join(lines)
        for key in [b"", b"<a", b"<c1", b"<e9> x .\n", b"<z", *lines]:
            expected = sum(len(line) for line in lines if line < key)
            assert first_line_at_or_after(data, key) == expected, (lines, key)


def test_splice_is_filter_and_sort_of_the_lines() -> None:
    """What local_update did before it spliced: split the previous inferences into lines,
    drop the affected subjects' lines among affected nodes, add the local ones, sort."""
    rng = random.Random(11)
    names = [f"<https://e.org/n{i}>".encode() for i in range(12)]
    constants = frozenset({b"<https://e.org/Class>"})
    objects = [*names, *constants]
    for _round in range(300):

        def line() -> bytes:
            return b"%s <https://e.org/p%d> %s .\n" % (
                rng.choice(names),
                rng.randint(0, 2),
                rng.choice(objects),
            )

        previous = b"".join(sorted({line() for _ in range(rng.randint(0, 40))}))
        affected = set(rng.sample(names, rng.randint(0, 5)))
        local = sorted({line() for _ in range(rng.randint(0, 6))})
        local = [x for x in local if _within(x, affected, constants)]
        kept, taken = [], []
        for x in previous.splitlines(True):
            subject = x.split(b" ", 1)[0]
            (taken if subject in affected and _within(x, affected, constants) else kept).append(x)
        spliced, removed = splice(previous, affected, constants, local)
        assert spliced == b"".join(sorted(kept + local))
        assert sorted(removed) == sorted(taken)
