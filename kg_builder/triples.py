"""A document's triples as the build makes them: a set of rdflib terms in the order added,
written as N-Triples by Oxigraph.

An rdflib ``Graph`` indexes every triple three ways as it is added; a page's graph is only
added to, then written once. Under cProfile, adding a page's ~770 Web Annotation triples to a
``Graph`` took 22 of the 33 ms ``build_document`` took, and rdflib's N-Triples writer another
9 ms; a dict and Oxigraph's writer do both for a fraction. ``graph()`` gives an rdflib
``Graph`` where one is wanted (tests).

Triples may also be added as Oxigraph's already (``add_oxigraph``): the Web Annotations, three
quarters of a page's triples (755 of 1,011 on average over 400 generated pages), whose rdflib
terms were made only to be converted to Oxigraph's for the writer. At 10,000 pages py-spy
counted 2,138 samples in ``_annotations`` and 1,870 in ``ox_triples`` of the 15,359 the
workers spent in ``workers.process`` (50 samples a second); building a page and writing its
N-Triples then took 4.5 ms, and 2.1 ms since.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple, Protocol

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.term import Node

from kg_builder.publish import OxTerm, ox_triples, rdflib_triple

Triple = tuple[Node, Node, Node]


class Nodes(NamedTuple):
    """Of a document's triples: the subjects that are IRIs, all the subjects (IRIs and blank
    node labels) and the IRIs in subject or object position, as strings."""

    subject_iris: set[str]
    subjects: set[str]
    iris: set[str]


class TripleSink(Protocol):
    """What the build adds triples to: ``Triples`` or an rdflib ``Graph``."""

    def add(self, triple: Triple, /) -> object: ...


class Triples:
    """A set of triples, in the order added (``add``, as on an rdflib ``Graph``, or
    ``add_oxigraph``). Iterating gives rdflib triples, whichever way they were added."""

    def __init__(self) -> None:
        self._triples: dict[Triple | ox.Triple, None] = {}

    def add(self, triple: Triple) -> Triples:
        self._triples[triple] = None
        return self

    def add_oxigraph(self, triple: ox.Triple) -> None:
        """Add a triple made of Oxigraph's terms. The caller makes sure that it was not added
        as rdflib terms too (it would be written twice): the annotations' subjects are their
        own."""
        self._triples[triple] = None

    def __iter__(self) -> Iterator[Triple]:
        terms: dict[OxTerm, Node] = {}
        for triple in self._triples:
            yield rdflib_triple(triple, terms) if isinstance(triple, ox.Triple) else triple

    def __len__(self) -> int:
        return len(self._triples)

    def __contains__(self, triple: object) -> bool:
        if triple in self._triples:
            return True
        try:  # as Oxigraph's terms, as added by ``add_oxigraph``
            return next(ox_triples([triple])) in self._triples  # type: ignore[list-item]
        except (TypeError, ValueError):  # not a triple of RDF terms
            return False

    def nodes(self) -> Nodes:
        """The subjects and the IRIs, in one pass, without making rdflib terms."""
        subject_iris: set[str] = set()
        blank: set[str] = set()
        iris: set[str] = set()
        for t in self._triples:
            if isinstance(t, ox.Triple):
                subject, object_ = t.subject, t.object
                named = isinstance(subject, ox.NamedNode)
                value = subject.value  # type: ignore[union-attr]  # no RDF-star here
                if isinstance(object_, ox.NamedNode):
                    iris.add(object_.value)
            else:
                named = isinstance(t[0], URIRef)
                value = str(t[0])
                if isinstance(t[2], URIRef):
                    iris.add(str(t[2]))
            (subject_iris if named else blank).add(value)
        return Nodes(subject_iris, subject_iris | blank, iris | subject_iris)

    def ntriples(self) -> bytes:
        """The triples as N-Triples, one a line, written by Oxigraph."""
        return ox.serialize(ox_triples(self._triples), format=ox.RdfFormat.N_TRIPLES) or b""

    def graph(self) -> Graph:
        """The triples in an rdflib ``Graph``."""
        graph = Graph()
        for triple in self:
            graph.add(triple)
        return graph


__all__ = ["Nodes", "Triple", "TripleSink", "Triples"]
