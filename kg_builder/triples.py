"""A document's triples as the build makes them: a set of rdflib terms in the order added,
written as N-Triples by Oxigraph.

An rdflib ``Graph`` indexes every triple three ways as it is added; a page's graph is only
added to, then written once. Under cProfile, adding a page's ~770 Web Annotation triples to a
``Graph`` took 22 of the 33 ms ``build_document`` took, and rdflib's N-Triples writer another
9 ms; a dict and Oxigraph's writer do both for a fraction. ``graph()`` gives an rdflib
``Graph`` where one is wanted (tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import pyoxigraph as ox
from rdflib import Graph
from rdflib.term import Node

from kg_builder.publish import ox_triples

Triple = tuple[Node, Node, Node]


class TripleSink(Protocol):
    """What the build adds triples to: ``Triples`` or an rdflib ``Graph``."""

    def add(self, triple: Triple, /) -> object: ...


class Triples:
    """A set of triples, in the order added (``add``, as on an rdflib ``Graph``)."""

    def __init__(self) -> None:
        self._triples: dict[Triple, None] = {}

    def add(self, triple: Triple) -> Triples:
        self._triples[triple] = None
        return self

    def __iter__(self) -> Iterator[Triple]:
        return iter(self._triples)

    def __len__(self) -> int:
        return len(self._triples)

    def __contains__(self, triple: object) -> bool:
        return triple in self._triples

    def subjects(self) -> Iterator[Node]:
        """The subject of each triple (repeated, as ``Graph.subjects`` gives them)."""
        return (triple[0] for triple in self._triples)

    def ntriples(self) -> bytes:
        """The triples as N-Triples, one a line, written by Oxigraph."""
        return ox.serialize(ox_triples(self._triples), format=ox.RdfFormat.N_TRIPLES) or b""

    def graph(self) -> Graph:
        """The triples in an rdflib ``Graph``."""
        graph = Graph()
        for triple in self._triples:
            graph.add(triple)
        return graph


__all__ = ["Triple", "TripleSink", "Triples"]
