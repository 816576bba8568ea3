"""A document's triples (``kg_builder.triples``), added as rdflib's or as Oxigraph's terms."""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF, XSD

from kg_builder.triples import Triples

EX = "https://example.org/"


def mixed() -> Triples:
    triples = Triples()
    triples.add((URIRef(EX + "doc"), RDF.type, URIRef(EX + "Statement")))
    triples.add_oxigraph(
        ox.Triple(
            ox.NamedNode(EX + "ann"),
            ox.NamedNode(EX + "start"),
            ox.Literal("7", datatype=ox.NamedNode(str(XSD.integer))),
        )
    )
    triples.add((BNode("b1"), URIRef(EX + "about"), URIRef(EX + "austria")))
    triples.add_oxigraph(
        ox.Triple(ox.NamedNode(EX + "ann"), ox.NamedNode(EX + "exact"), ox.Literal("Vienna"))
    )
    return triples


def test_both_kinds_are_written_in_the_order_added() -> None:
    assert mixed().ntriples().decode().splitlines() == [
        f"<{EX}doc> <{RDF.type}> <{EX}Statement> .",
        f'<{EX}ann> <{EX}start> "7"^^<{XSD.integer}> .',
        f"_:b1 <{EX}about> <{EX}austria> .",
        f'<{EX}ann> <{EX}exact> "Vienna" .',
    ]


def test_iterating_gives_rdflib_terms_the_parser_would_give() -> None:
    triples = mixed()
    listed = list(triples)
    assert listed[1] == (URIRef(EX + "ann"), URIRef(EX + "start"), Literal(7))
    assert listed[3] == (URIRef(EX + "ann"), URIRef(EX + "exact"), Literal("Vienna"))
    assert len(triples) == 4
    assert set(triples.graph()) == set(listed)


def test_membership_of_either_kind() -> None:
    triples = mixed()
    assert (URIRef(EX + "ann"), URIRef(EX + "exact"), Literal("Vienna")) in triples
    assert (URIRef(EX + "doc"), RDF.type, URIRef(EX + "Statement")) in triples
    assert (URIRef(EX + "ann"), URIRef(EX + "exact"), Literal("Wien")) not in triples
    assert (URIRef(EX + "ann"), None, None) not in triples  # a pattern is no triple
    assert (URIRef(EX + "ann"), URIRef(EX + "exact")) not in triples
    assert "Vienna" not in triples


def test_subjects_and_iris_without_rdflib_terms() -> None:
    nodes = mixed().nodes()
    assert nodes.subject_iris == {EX + "doc", EX + "ann"}
    assert nodes.subjects == {EX + "doc", EX + "ann", "b1"}
    assert nodes.iris == {EX + "doc", EX + "Statement", EX + "ann", EX + "austria"}
    assert all(type(value) is str for value in nodes.subjects | nodes.iris)
