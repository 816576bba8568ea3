"""What the store says about one entity, for its linked-data page: labels and types, facts
from it and to it (each with the graphs that state it, asserted or inferred), and the
quotations of the source documents that mention it.

Plain functions over a pyoxigraph store; the ``resources`` blueprint renders their results.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg_builder.publish import PREFIXES

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABELS = (
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://purl.org/dc/terms/title",
)
MAX_FACTS = 2000  # per direction; a page lists no more, and says so
MAX_QUOTES = 200
SENTENCE_ENDS = (". ", "! ", "? ", "\n")


@dataclass(frozen=True)
class Term:
    """An RDF term as a page shows it."""

    value: str
    kind: str  # "iri", "literal" or "bnode"
    language: str | None = None
    datatype: str | None = None

    @classmethod
    def of(cls, term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> Term:
        if isinstance(term, ox.NamedNode):
            return cls(term.value, "iri")
        if isinstance(term, ox.BlankNode):
            return cls(term.value, "bnode")
        if isinstance(term, ox.Literal):
            datatype = term.datatype.value if term.language is None else None
            return cls(term.value, "literal", term.language, datatype)
        return cls(str(term), "literal")


@dataclass
class Fact:
    """One triple around the entity, with every graph that states it."""

    predicate: Term
    other: Term  # the object of an outgoing fact, the subject of an incoming one
    graphs: list[str] = field(default_factory=list)

    def inferred_only(self, inferred_graph: str) -> bool:
        return all(g == inferred_graph for g in self.graphs)


@dataclass(frozen=True)
class Quote:
    """Where a source document mentions the entity: the sentence around the exact words."""

    document: str
    title: str | None
    date: str | None
    before: str
    exact: str
    after: str
    start: int
    end: int


@dataclass
class Description:
    iri: str
    labels: list[Term]
    types: list[Term]
    outgoing: list[Fact]
    incoming: list[Fact]
    quotes: list[Quote]
    truncated: bool
    names: dict[str, str]  # labels of the IRIs the page links to

    def label(self) -> str:
        return self.labels[0].value if self.labels else self.iri.rstrip("/").rsplit("/", 1)[-1]


# namespace -> prefix, from the prefixes the dumps are written with
NAMESPACES = {namespace: prefix for prefix, namespace in PREFIXES.items()}


def curie(iri: str) -> str:
    """``skos:prefLabel`` for a well-known namespace, else the IRI."""
    for namespace, prefix in NAMESPACES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def exists(store: ox.Store, iri: str) -> bool:
    """Whether the graph names ``iri``; False for a string that is no IRI ("/a b")."""
    try:
        node = ox.NamedNode(iri)
    except ValueError:
        return False
    for _ in store.quads_for_pattern(node, None, None, None):
        return True
    for _ in store.quads_for_pattern(None, None, node, None):
        return True
    return False


def describe(store: ox.Store, iri: str) -> Description:
    node = ox.NamedNode(iri)
    outgoing = _facts(
        (q.predicate, q.object, q.graph_name) for q in store.quads_for_pattern(node, None, None)
    )
    incoming = _facts(
        (q.predicate, q.subject, q.graph_name) for q in store.quads_for_pattern(None, None, node)
    )
    truncated = len(outgoing) > MAX_FACTS or len(incoming) > MAX_FACTS
    outgoing, incoming = outgoing[:MAX_FACTS], incoming[:MAX_FACTS]
    labelled = [f for f in outgoing if f.predicate.value in LABELS]
    labels = [f.other for f in sorted(labelled, key=lambda f: LABELS.index(f.predicate.value))]
    types = [f.other for f in outgoing if f.predicate.value == RDF_TYPE]
    linked = {f.other.value for f in (*outgoing, *incoming) if f.other.kind == "iri"}
    linked |= {f.predicate.value for f in (*outgoing, *incoming)}
    return Description(
        iri=iri,
        labels=labels,
        types=types,
        outgoing=outgoing,
        incoming=[f for f in incoming if not _is_annotation_body(f)],
        quotes=quotes(store, iri),
        truncated=truncated,
        names=names(store, linked),
    )


def _facts(
    rows: Iterable[
        tuple[
            ox.NamedNode,
            ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple,
            ox.NamedNode | ox.BlankNode | ox.DefaultGraph,
        ]
    ],
) -> list[Fact]:
    grouped: dict[tuple[Term, Term], Fact] = {}
    for predicate, other, graph in rows:
        key = (Term.of(predicate), Term.of(other))
        fact = grouped.get(key)
        if fact is None:
            fact = grouped[key] = Fact(*key)
        if isinstance(graph, ox.NamedNode):
            fact.graphs.append(graph.value)
    return sorted(grouped.values(), key=lambda f: (f.predicate.value, f.other.value))


def _is_annotation_body(fact: Fact) -> bool:
    """Annotations point at the entity with oa:hasBody; the page shows them as quotations."""
    return fact.predicate.value == "http://www.w3.org/ns/oa#hasBody"


_QUOTES = """
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?doc ?title ?date ?prefix ?exact ?suffix ?start ?end WHERE {
  VALUES ?entity { ENTITY }
  GRAPH ?g {
    ?annotation oa:hasBody ?entity ; oa:hasTarget ?target .
    ?target oa:hasSource ?source ; oa:hasSelector ?quote, ?position .
    ?quote oa:exact ?exact .
    OPTIONAL { ?quote oa:prefix ?prefix }
    OPTIONAL { ?quote oa:suffix ?suffix }
    ?position oa:start ?start ; oa:end ?end .
    OPTIONAL { ?doc prov:wasDerivedFrom ?source . FILTER (?doc != ?g)
               OPTIONAL { ?doc dcterms:title ?title } OPTIONAL { ?doc dcterms:date ?date } }
  }
}
ORDER BY DESC(?date) ?doc ?start
"""


def quotes(store: ox.Store, iri: str) -> list[Quote]:
    # the IRI is written by pyoxigraph's NamedNode, which validates and escapes it
    result = store.query(_QUOTES.replace("ENTITY", str(ox.NamedNode(iri))))
    assert isinstance(result, ox.QuerySolutions)  # noqa: S101 - a SELECT gives solutions
    found: list[Quote] = []
    for row in result:
        if len(found) == MAX_QUOTES:
            break
        prefix = _value(row["prefix"]) or ""
        suffix = _value(row["suffix"]) or ""
        found.append(
            Quote(
                document=_value(row["doc"]) or "",
                title=_value(row["title"]),
                date=_value(row["date"]),
                before=_sentence_start(prefix),
                exact=_value(row["exact"]) or "",
                after=_sentence_end(suffix),
                start=int(_value(row["start"]) or 0),
                end=int(_value(row["end"]) or 0),
            )
        )
    return found


def _value(term: object) -> str | None:
    return getattr(term, "value", None) if term is not None else None


def _sentence_start(prefix: str) -> str:
    cut = max(prefix.rfind(end) + len(end) if end in prefix else 0 for end in SENTENCE_ENDS)
    return prefix[cut:]


def _sentence_end(suffix: str) -> str:
    cuts = [suffix.find(end) + 1 for end in SENTENCE_ENDS if end in suffix]
    return suffix[: min(cuts)] if cuts else suffix


def names(store: ox.Store, iris: set[str]) -> dict[str, str]:
    """A label for each IRI the page links to (the first one found)."""
    found: dict[str, str] = {}
    for iri in sorted(iris):
        node = ox.NamedNode(iri)
        for prop in LABELS:
            for quad in store.quads_for_pattern(node, ox.NamedNode(prop), None):
                if isinstance(quad.object, ox.Literal):
                    found[iri] = quad.object.value
                    break
            if iri in found:
                break
    return found


def triples(store: ox.Store, iri: str) -> list[ox.Triple]:
    """The RDF answer for the entity: every triple from it and to it, over all graphs."""
    node = ox.NamedNode(iri)
    seen: dict[tuple[str, str, str], ox.Triple] = {}
    outgoing = store.quads_for_pattern(node, None, None)
    incoming = store.quads_for_pattern(None, None, node)
    for quad in (*outgoing, *incoming):
        triple = ox.Triple(quad.subject, quad.predicate, quad.object)
        seen.setdefault((str(quad.subject), str(quad.predicate), str(quad.object)), triple)
    return list(seen.values())
