"""Reason stage: the OWL 2 RL closure of ontology + reference + documents.

Two engines compute it: ``reasonable`` (Rust, the default: seconds at a million triples) and
``owlrl`` (pure Python on rdflib, the reference the other is compared with in
``tests/test_reasoners.py``). Whichever runs, the result has one shape:

- Only the triples the reasoner adds are returned; the pipeline keeps them in their own named
  graph so that analysts can query the asserted facts alone or with the inferences.
- Terms are compared in their RDF 1.1 form: ``"x"^^xsd:string`` *is* ``"x"``. ``reasonable``
  hands every plain literal back typed ``xsd:string``; such a triple is not new when the plain
  one is asserted, and an inferred one is kept in the plain form. Every other datatype is kept
  exactly; language tags come back lower-cased (the same tag: RDF 1.1 compares them without
  case, and Oxigraph stores them lower-cased).
- Triples that are not valid RDF (a literal as subject, which OWL-RL's datatype rules produce)
  are dropped, and so are triples that carry no information: reflexive ``x owl:sameAs x``
  (rule eq-ref, one per resource) and ``x rdf:type owl:Thing`` (true of every individual;
  ``reasonable`` states it for every resource, owlrl for some).
- Only the triples a rule can act on need to reach the engine (``Relevance``; the pipeline
  selects them from the store so): a triple whose predicate the ontology never mentions, or
  that types a node with a class the ontology never mentions, matches no OWL 2 RL rule but
  the ones that conclude nothing new (eq-ref and ``owl:Thing``) — unless ``owl:sameAs`` is in
  play, and then every triple goes in. On the project's data these are the Web Annotation
  triples of the mentions, most of the graph; ``tests/test_reasoners.py`` shows the closure is
  the same without them.
- An inconsistency is an ``InconsistentGraph`` error naming the offending resources. owlrl
  reports its own; ``reasonable`` reports none through its Python API, so the OWL 2 RL rules
  whose conclusion is ``false`` are checked here over its closure (``find_clashes``), and a graph
  using a construct whose rule is not checked is refused rather than passed unchecked.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any, TypeVar, get_args
from typing import Literal as Choice

import owlrl
import pyoxigraph as ox
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from kg_builder.errors import ConfigError, InconsistentGraph, ValidationFailed
from kg_builder.namespaces import OWL, RDF, RDFS, XSD
from kg_builder.publish import rdflib_quads

Engine = Choice["reasonable", "owlrl"]
ENGINES: tuple[str, ...] = get_args(Engine)
DEFAULT_ENGINE: Engine = "reasonable"
ENGINE_LABELS = {"reasonable": "reasonable (OWL 2 RL)", "owlrl": "owlrl (OWL 2 RL)"}

# owlrl records inconsistencies with this vocabulary (owlrl.Closure.ERRNS).
ERRNS = Namespace("http://www.daml.org/2002/03/agents/agent-ont#")
OWL2RL_RULES = (
    "https://www.w3.org/TR/owl2-profiles/#Reasoning_in_OWL_2_RL_and_RDF_Graphs_using_Rules"
)
MAX_LISTED = 10

Triple = tuple[Node, Node, Node]
T = TypeVar("T")


@dataclass(frozen=True)
class Inference:
    """The new triples; how many were dropped as not RDF or as saying nothing; which engine."""

    inferred: set[Triple]  # a set, not an rdflib graph: a graph's indexes took a gigabyte
    dropped_invalid: int
    dropped_trivial: int
    engine: str = DEFAULT_ENGINE


# The terms of the RDF, RDFS and OWL vocabularies (rdflib's closed namespaces list them).
VOCABULARY = frozenset(
    URIRef(str(ns) + name) for ns in (RDF, RDFS, OWL) for name in ns.__annotations__
)


@dataclass(frozen=True)
class Relevance:
    """What decides whether an asserted triple can take part in an OWL 2 RL rule."""

    predicates: frozenset[URIRef]  # a triple with one of these predicates goes in
    classes: frozenset[URIRef]  # and so does an ``rdf:type`` triple with one of these classes

    @classmethod
    def of(cls, schema: Iterable[Triple]) -> Relevance:
        """The terms ``schema`` (the ontology, and any schema triples of the data) mentions,
        plus the RDF, RDFS and OWL vocabularies themselves."""
        mentioned = {t for triple in schema for t in triple if isinstance(t, URIRef)}
        terms = frozenset(mentioned) | VOCABULARY
        return cls(terms, terms)

    def keeps(self, triple: Triple) -> bool:
        _s, p, o = triple
        if p == RDF.type:
            return o in self.classes
        return p in self.predicates

    def widen(self, schema: Iterable[Triple]) -> Relevance:
        """With the terms of more schema triples (the data's own axioms) added."""
        more = Relevance.of(schema)
        return Relevance(self.predicates | more.predicates, self.classes | more.classes)


def is_schema(triple: Triple) -> bool:
    """An axiom rather than a fact: an RDFS/OWL predicate other than ``rdf:type``, or a typing
    with an RDFS/OWL class (``p a owl:TransitiveProperty``)."""
    _s, p, o = triple
    axiomatic = (str(RDFS), str(OWL))
    if p == RDF.type:
        return isinstance(o, URIRef) and str(o).startswith(axiomatic)
    return str(p).startswith(axiomatic) and p != OWL.sameAs


def in_schema(triple: Triple) -> bool:
    """Whether the pipeline reads ``triple`` as schema (see ``pipeline._reasoning_input``): an
    axiom (``is_schema``) or a link of an RDF list, stated with the RDF, RDFS and OWL
    vocabularies."""
    _s, p, o = triple
    if (o if p == RDF.type else p) not in VOCABULARY:
        return False
    return is_schema(triple) or p in (RDF.first, RDF.rest)


# Annotation properties (OWL 2 RL has no rule that reads them): a label is not an axiom, and
# does not make the terms it labels relevant.
ANNOTATIONS = frozenset(
    {
        RDFS.label,
        RDFS.comment,
        RDFS.seeAlso,
        RDFS.isDefinedBy,
        OWL.versionInfo,
        OWL.deprecated,
        OWL.priorVersion,
        OWL.backwardCompatibleWith,
        OWL.incompatibleWith,
    }
)


def is_axiom(triple: Triple) -> bool:
    """A schema triple (``is_schema``) that is not an annotation: what widens ``Relevance``."""
    return is_schema(triple) and triple[1] not in ANNOTATIONS


def documents_relevance(ontology: Graph, reference: Iterable[Triple]) -> Relevance:
    """What ``pipeline._reasoning_input`` finds relevant when no document states an axiom:
    the ontology's terms, widened by the axioms of the reference data."""
    return Relevance.of(ontology).widen(t for t in reference if in_schema(t) and is_axiom(t))


_AXIOMATIC = tuple(f"<{ns}".encode() for ns in (RDFS, OWL)) + tuple(
    f"<{p}>".encode() for p in (RDF.first, RDF.rest)
)
_ANNOTATIONS = frozenset(f"<{p}>".encode() for p in ANNOTATIONS)
_TYPE = f"<{RDF.type}>".encode()


@dataclass(frozen=True)
class LineFilter:
    """``Relevance`` over N-Triples lines (as rdflib and Oxigraph write them, one space between
    terms): the predicate and a typing's class are read as bytes, with no RDF terms made."""

    predicates: frozenset[bytes]
    classes: frozenset[bytes]

    @classmethod
    def of(cls, relevance: Relevance) -> LineFilter:
        predicates = frozenset(f"<{p}>".encode() for p in relevance.predicates if p != RDF.type)
        return cls(predicates, frozenset(f"<{c}>".encode() for c in relevance.classes))

    def split(self, ntriples: bytes) -> tuple[bytes, bool]:
        """The lines of ``ntriples`` the relevance keeps, and whether any line may be an
        axiom, a list link or ``owl:sameAs`` (a predicate in the RDFS or OWL namespace that is
        not an annotation, or of an RDF list, or a typing with an RDFS or OWL class: a superset
        of what widens ``Relevance``). When one may, the caller must read the schema from all
        the data (the store) rather than rely on the lines kept here."""
        kept = []
        axiomatic = False
        for raw in ntriples.splitlines():
            line = raw + b"\n"
            parts = raw.split(b" ", 2)
            if len(parts) < 3:
                continue
            predicate = parts[1]
            if predicate == _TYPE:
                obj = parts[2].rstrip().removesuffix(b".").rstrip()
                axiomatic = axiomatic or obj.startswith(_AXIOMATIC)
                if obj in self.classes:
                    kept.append(line)
                continue
            if predicate.startswith(_AXIOMATIC) and predicate not in _ANNOTATIONS:
                axiomatic = True
            if predicate in self.predicates:
                kept.append(line)
        return b"".join(kept), axiomatic


def reason(
    asserted: Graph | set[Triple], engine: str = DEFAULT_ENGINE, schema: Graph | None = None
) -> Inference:
    """The triples the OWL 2 RL closure of ``asserted`` adds; raise ``InconsistentGraph``.

    ``asserted`` may be a set of triples (no rdflib store to fill: a million triples take a
    gigabyte there); its axioms (``is_schema``) and the RDF lists they use must then also be in
    ``schema``, where the inconsistency checks read them."""
    if schema is None:
        if not isinstance(asserted, Graph):
            raise TypeError("reason() needs the schema graph when given a set of triples")
        schema = asserted
    with collector_paused():
        return _reason(asserted, engine, schema)


@contextmanager
def collector_paused(paused: bool = True) -> Iterator[None]:
    """With ``paused``, no automatic garbage collection: millions of new objects with no
    cycles among them (RDF terms) would otherwise trigger full collections that walk every
    live object again and again, to free nothing."""
    enabled = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def reason_file(path: Path, engine: str = DEFAULT_ENGINE, *, schema: Graph) -> Inference:
    """``reason`` over the triples of the N-Triples file ``path``, which ``reasonable`` reads
    itself: no rdflib term is made for the input (at 10M triples the pipeline's hand-over of
    900k triples took a minute that way). ``schema`` holds its axioms and RDF lists, as for
    ``reason``; the file is named ``*.ttl`` (``reasonable`` reads Turtle, N-Triples is Turtle)."""
    _check_engine(engine)
    with collector_paused():
        if engine == "owlrl":
            base = _read_ntriples(path)
            return _inferences(_owlrl_closure(base), base, engine)
        reasoner = _reasonable_engine(lambda r: r.load_file(str(path)))
        closure = _reasonable_closure(reasoner, schema)
        del reasoner  # its memory back before the asserted triples are read again
        return _inferences(closure, _read_ntriples(path), engine)


def _read_ntriples(path: Path) -> set[Triple]:
    """The triples of an N-Triples file, read by Oxigraph, one rdflib object per term."""
    quads = ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)
    return {triple for _graph, triple in rdflib_quads(quads)}


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise ConfigError(
            f"unknown reasoner {engine!r}",
            subject="reasoning",
            hint=f"choose one of: {', '.join(ENGINES)}",
        )


def _reason(asserted: Graph | set[Triple], engine: str, schema: Graph) -> Inference:
    _check_engine(engine)
    # A set answers "asserted?" ten times faster than the rdflib store at a million triples.
    base: set[Triple] = asserted if isinstance(asserted, set) else set(asserted)
    if engine == "owlrl":
        closure: Iterable[Triple] = _owlrl_closure(base)
    else:
        closure = _reasonable_closure(_reasonable_engine(lambda r: r.from_graph(base)), schema)
    return _inferences(closure, base, engine)


def _inferences(closure: Iterable[Triple], base: set[Triple], engine: str) -> Inference:
    """The triples of ``closure`` that ``base`` does not hold, in RDF 1.1 terms."""
    inferred: set[Triple] = set()
    invalid = trivial = 0
    rdf_type, thing, same_as, string = RDF.type, OWL.Thing, OWL.sameAs, XSD.string
    for s, p, o in closure:
        if (s, p, o) in base:
            continue
        if isinstance(o, Literal) and o.language is None and o.datatype in (None, string):
            # "x" and "x"^^xsd:string are one RDF 1.1 term: compare and keep the plain form
            plain, typed = Literal(str(o)), Literal(str(o), datatype=string)
            if (s, p, plain) in base or (s, p, typed) in base:
                continue
            o = plain
        if isinstance(s, Literal) or not isinstance(p, URIRef):
            invalid += 1
        elif (p == rdf_type and o == thing) or (p == same_as and s == o):
            trivial += 1
        else:
            inferred.add((s, p, o))
    return Inference(inferred, invalid, trivial, engine)


def _fail(problems: list[str], engine: str, hint: str) -> None:
    if not problems:
        return
    listed = problems[:MAX_LISTED]
    more = len(problems) - len(listed)
    raise InconsistentGraph(
        f"the OWL 2 RL reasoner ({engine}) found {len(problems)} inconsistenc"
        f"{'y' if len(problems) == 1 else 'ies'}: "
        + "; ".join(listed)
        + (f"; … and {more} more" if more > 0 else ""),
        subject="reasoning",
        hint=hint,
    )


# --- owlrl, the reference ------------------------------------------------------------------


def _owlrl_closure(asserted: Iterable[Triple]) -> Graph:
    closure = Graph()
    for triple in asserted:
        closure.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closure)
    errors = sorted(
        str(m)
        for node in closure.subjects(RDF.type, ERRNS.ErrorMessage)
        for m in closure.objects(node, ERRNS.error)
    )
    _fail(errors, "owlrl", "fix the facts or axioms named above")
    return closure


# --- reasonable, the fast engine -------------------------------------------------------------


def _reasonable_engine(load: Callable[[Any], None]) -> Any:
    """A ``reasonable`` reasoner that ``load`` has given its triples."""
    import reasonable  # a compiled extension; imported when chosen

    reasoner = reasonable.PyReasoner()
    _unreadable(lambda: load(reasoner))
    return reasoner


def _reasonable_closure(reasoner: Any, schema: Graph) -> list[Triple]:
    closure: list[Triple] = _unreadable(reasoner.reason)
    _fail(
        find_clashes(closure, ClashRules.from_schema(schema)),
        "reasonable",
        f"fix the facts or axioms named above; for reference, see {OWL2RL_RULES}",
    )
    return closure


def _unreadable(call: Callable[[], T]) -> T:
    """``call``, with a Rust panic (a term that is not RDF 1.1) turned into our error."""
    try:
        return call()
    except BaseException as exc:  # a Rust panic (pyo3 PanicException) derives from BaseException
        if type(exc).__name__ != "PanicException":
            raise
        raise ValidationFailed(
            f"the reasonable engine cannot read the graph: {exc}",
            subject="reasoning",
            hint="a term is not valid RDF 1.1 (an IRI with a space or '<'?); fix it, or build "
            "with --reasoner owlrl to find it",
        ) from None


# Constructs whose OWL 2 RL rules conclude ``false`` but that ``find_clashes`` does not check.
UNCHECKED_TYPES = {
    OWL.AllDisjointProperties: "prp-adp",
    OWL.AllDifferent: "eq-diff2, eq-diff3",
    OWL.NegativePropertyAssertion: "prp-npa1, prp-npa2",
}
UNCHECKED_ZERO = {OWL.maxCardinality: "cls-maxc1", OWL.maxQualifiedCardinality: "cls-maxqc1/2"}


def unchecked_constructs(graph: Graph) -> list[str]:
    """The constructs in ``graph`` whose inconsistencies ``find_clashes`` would miss."""
    found = [
        f"{graph.namespace_manager.normalizeUri(cls)} (rule {rule})"
        for cls, rule in UNCHECKED_TYPES.items()
        if (None, RDF.type, cls) in graph
    ]
    for prop, rule in UNCHECKED_ZERO.items():
        if any(str(n).strip() == "0" for n in graph.objects(None, prop)):
            found.append(f"{graph.namespace_manager.normalizeUri(prop)} 0 (rule {rule})")
    return found


@dataclass
class ClashRules:
    """The axioms of a graph that make a closure inconsistent when their instances meet."""

    disjoint: list[tuple[Node, Node, str]] = field(default_factory=list)
    irreflexive: set[Node] = field(default_factory=set)
    asymmetric: set[Node] = field(default_factory=set)
    disjoint_properties: list[tuple[Node, Node]] = field(default_factory=list)

    @classmethod
    def from_schema(cls, graph: Graph) -> ClashRules:
        used = unchecked_constructs(graph)
        if used:
            raise ConfigError(
                "the graph uses " + ", ".join(used) + ", whose inconsistencies the "
                "reasonable engine does not check",
                subject="reasoning",
                hint="build with --reasoner owlrl, or add the rule to kg_builder/reason.py",
            )
        rules = cls()
        for a, b in graph.subject_objects(OWL.disjointWith):
            rules.disjoint.append((a, b, "cax-dw"))
        for a, b in graph.subject_objects(OWL.complementOf):
            rules.disjoint.append((a, b, "cls-com"))
        for axiom in graph.subjects(RDF.type, OWL.AllDisjointClasses):
            members = graph.value(axiom, OWL.members)
            if members is not None:
                for a, b in combinations(list(Collection(graph, members)), 2):
                    rules.disjoint.append((a, b, "cax-adc"))
        rules.irreflexive = set(graph.subjects(RDF.type, OWL.IrreflexiveProperty))
        rules.asymmetric = set(graph.subjects(RDF.type, OWL.AsymmetricProperty))
        rules.disjoint_properties = list(graph.subject_objects(OWL.propertyDisjointWith))
        return rules

    def classes(self) -> set[Node]:
        return {c for a, b, _rule in self.disjoint for c in (a, b)} | {OWL.Nothing}

    def properties(self) -> set[Node]:
        pairs = {p for a, b in self.disjoint_properties for p in (a, b)}
        return pairs | self.asymmetric | {OWL.sameAs, OWL.differentFrom}


def find_clashes(closure: Iterable[Triple], rules: ClashRules) -> list[str]:
    """What makes ``closure`` (asserted + inferred triples) inconsistent under OWL 2 RL.

    Checks rules cax-dw, cax-adc, cls-com, cls-nothing2, prp-irp, prp-asyp, prp-pdw, eq-diff1,
    eq-irp and dt-not-type in one pass; the closure must hold the materialised types and
    property assertions (subclasses and subproperties already applied).
    """
    classes, properties = rules.classes(), rules.properties()
    members: dict[Node, set[Node]] = defaultdict(set)
    pairs: dict[Node, set[tuple[Node, Node]]] = defaultdict(set)
    problems: list[str] = []
    rdf_type, irreflexive = RDF.type, rules.irreflexive
    for s, p, o in closure:
        if p == rdf_type:
            if o in classes:
                members[o].add(s)
            continue
        if p in properties:
            pairs[p].add((s, o))
        if s == o and p in irreflexive:
            problems.append(f"{s} {p} itself, and {p} is irreflexive (rule prp-irp)")
        if type(o) is Literal and o.ill_typed:
            problems.append(
                f"{s} {p} {o.n3()}: the value is not valid for its datatype (rule dt-not-type)"
            )
    problems.extend(f"{x} is of type owl:Nothing (rule cls-nothing2)" for x in members[OWL.Nothing])
    for a, b, rule in rules.disjoint:
        for x in sorted(members[a] & members[b], key=str):
            problems.append(f"{x} is both a {a} and a {b}, which are disjoint (rule {rule})")
    for p in rules.asymmetric:
        for x, y in sorted(pairs[p], key=str):
            if (y, x) in pairs[p] and str(x) < str(y):
                problems.append(f"{x} {p} {y} and back, and {p} is asymmetric (rule prp-asyp)")
    for p1, p2 in rules.disjoint_properties:
        for x, y in sorted(pairs[p1] & pairs[p2], key=str):
            problems.append(f"{x} {p1} and {p2} {y}, which are disjoint (rule prp-pdw)")
    same = pairs[OWL.sameAs]
    for x, y in sorted(pairs[OWL.differentFrom], key=str):
        if x == y:
            problems.append(f"{x} is owl:differentFrom itself (rule eq-irp)")
        elif (x, y) in same or (y, x) in same:
            problems.append(f"{x} is owl:sameAs and owl:differentFrom {y} (rule eq-diff1)")
    return problems


__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "ENGINE_LABELS",
    "VOCABULARY",
    "ClashRules",
    "Engine",
    "Inference",
    "LineFilter",
    "Relevance",
    "collector_paused",
    "documents_relevance",
    "find_clashes",
    "in_schema",
    "is_axiom",
    "is_schema",
    "reason",
    "reason_file",
]
