"""VoID description of a release: its size, classes, properties and named graphs, written
beside the store at publish time so that the server answers ``/.well-known/void`` without
counting anything. The server adds what depends on where it runs (the SPARQL endpoint and the
dump URLs).

Counts are over the union of the named graphs, which is the default graph the endpoint
queries: ``void:triples`` counts distinct triples, a class partition the distinct instances of
the class, a property partition the distinct triples with that predicate; each named graph is
a ``void:subset`` with its own triple count.
"""

from __future__ import annotations

from datetime import datetime

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef

from kg_builder.namespaces import DCTERMS, PROV, RDF, VOID, XSD

_DISTINCT_TRIPLES = "SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"
QUERIES = {
    "entities": (
        "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER isIRI(?s) }"
    ),
    "distinctSubjects": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
    "distinctObjects": "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
    "classes": "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { GRAPH ?g { ?s a ?c } }",
}
CLASS_PARTITIONS = (
    "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?c } FILTER isIRI(?c) } "
    "GROUP BY ?c ORDER BY ?c"
)
PROPERTY_PARTITIONS = (
    f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ {_DISTINCT_TRIPLES} }} GROUP BY ?p ORDER BY ?p"
)
GRAPHS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"


def describe(
    store: ox.Store,
    dataset: URIRef,
    *,
    title: str,
    uri_space: str,
    vocabulary: str,
    build: URIRef,
    modified: datetime,
) -> Graph:
    """The VoID graph of everything in ``store``."""
    g = Graph()
    g.bind("void", VOID)
    g.add((dataset, RDF.type, VOID.Dataset))
    g.add((dataset, DCTERMS.title, Literal(title, lang="en")))
    g.add((dataset, DCTERMS.modified, Literal(modified.isoformat(), datatype=XSD.dateTime)))
    g.add((dataset, VOID.uriSpace, Literal(uri_space)))
    g.add((dataset, VOID.vocabulary, URIRef(vocabulary)))
    g.add((dataset, PROV.wasGeneratedBy, build))
    # the property partitions give the distinct triples and properties too: one scan less
    properties = [
        (row["p"].value, int(row["n"].value)) for row in _rows(store, PROPERTY_PARTITIONS)
    ]
    g.add((dataset, VOID.triples, Literal(sum(n for _p, n in properties))))
    for name, query in QUERIES.items():
        g.add((dataset, VOID[name], _count(store, query)))
    g.add((dataset, VOID.properties, Literal(len(properties))))
    for row in _rows(store, CLASS_PARTITIONS):
        part = BNode()
        g.add((dataset, VOID.classPartition, part))
        g.add((part, VOID["class"], URIRef(row["c"].value)))
        g.add((part, VOID.entities, Literal(int(row["n"].value))))
    for prop, n in properties:
        part = BNode()
        g.add((dataset, VOID.propertyPartition, part))
        g.add((part, VOID.property, URIRef(prop)))
        g.add((part, VOID.triples, Literal(n)))
    for row in _rows(store, GRAPHS):
        graph = URIRef(row["g"].value)
        g.add((dataset, VOID.subset, graph))
        g.add((graph, RDF.type, VOID.Dataset))
        g.add((graph, VOID.triples, Literal(int(row["n"].value))))
    return g


def _rows(store: ox.Store, query: str) -> list[ox.QuerySolution]:
    result = store.query(query)
    assert isinstance(result, ox.QuerySolutions)  # noqa: S101 - a SELECT gives solutions
    return list(result)


def _count(store: ox.Store, query: str) -> Literal:
    (row,) = _rows(store, query)
    return Literal(int(row["n"].value))
