"""Per-document work: extract → build → validate one parsed page, in this process or a worker.

``--jobs N`` runs ``process`` in N worker processes (``ProcessPoolExecutor`` with the
``forkserver`` start method: no fork of a parent that holds a RocksDB store and threads).
Each worker builds the gazetteer once, in ``init_worker``, from the reference graph sent as
N-Triples; a task sends a parsed ``Document`` and gets back a cache ``Entry`` (the graph as
N-Triples bytes, the report entry, the SHACL results) or a ``Failure``. Graph objects never
cross the process boundary: bytes are cheaper to pickle than rdflib graphs.

**Validation per document.** pySHACL over a million triples takes half a minute, and a changed
page would pay it again; so each document graph is validated alone, with the part of the
reference graph it points at (the triples of every reference node the document names, which
carry the ``rdf:type`` that ``sh:class`` needs) and the ontology for subclass reasoning.
Only results about nodes the document itself describes are kept: a reference node seen
through one hop is incomplete here and is validated with the reference graph. The constraints
that span documents (``sh:maxCount`` on an entity two pages describe) are checked afterwards
over the shared entities only (``pipeline._validate_shared``).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from kg_builder import places
from kg_builder.cache import Entry
from kg_builder.dumpfile import GraphDump
from kg_builder.errors import KgError
from kg_builder.gazetteer import Gazetteer, build_gazetteer
from kg_builder.iris import Iris
from kg_builder.namespaces import OSCE, PROV, RDF, RDFS
from kg_builder.parse import Document
from kg_builder.publish import ox_triples
from kg_builder.reason import LineFilter, documents_relevance
from kg_builder.report import DocumentReport
from kg_builder.triples import Nodes, TripleSink
from kg_builder.validate import (
    DEFAULT_SHACL_ENGINE,
    Result,
    descriptions,
    load_shapes,
    own_and_shared,
    validate_ntriples,
)


@dataclass(frozen=True)
class Task:
    doc: Document
    source: str  # the path as recorded in the graph
    key: str  # the cache key
    history: tuple[str, ...]  # hashes of the earlier versions, newest first
    parse_seconds: float = 0.0


@dataclass(frozen=True)
class Failure:
    source: str
    doc_id: str | None
    message: str
    exit_code: int


@dataclass
class Context:
    """What every document is built against."""

    iris: Iris
    ontology: Graph
    classes: Graph  # the ontology's rdfs:subClassOf triples: all that the shapes need of it
    shapes: Graph
    gazetteer: Gazetteer
    reference: dict[Node, list[tuple[Node, Node, Node]]]  # reference triples by subject
    reference_name: URIRef
    build_id: str
    started: datetime
    lines: LineFilter  # what of a graph reasoning reads (the same for every document)
    shacl_engine: str = DEFAULT_SHACL_ENGINE
    # the reference triples by subject IRI and the subclass axioms, as N-Triples (shacl's
    # input)
    reference_nt: dict[str, bytes] = field(default_factory=dict)
    classes_nt: bytes = b""

    @classmethod
    def create(
        cls,
        reference: Graph,
        ontology: Graph,
        shapes: Graph,
        iris: Iris,
        build_id: str,
        started: datetime,
        shacl_engine: str = DEFAULT_SHACL_ENGINE,
    ) -> Context:
        by_subject: dict[Node, list[tuple[Node, Node, Node]]] = {}
        for triple in reference:
            by_subject.setdefault(triple[0], []).append(triple)
        lines = LineFilter.of(documents_relevance(ontology, reference))
        classes = subclass_axioms(ontology)
        return cls(
            iris,
            ontology,
            classes,
            shapes,
            build_gazetteer(reference, ontology, iris),
            by_subject,
            iris.reference_graph(),
            build_id,
            started,
            lines,
            shacl_engine,
            {
                str(node): _ntriples(triples)
                for node, triples in by_subject.items()
                if isinstance(node, URIRef)
            },
            _ntriples(classes),
        )


_CONTEXT: Context | None = None


def init_worker(
    reference_nt: bytes,
    ontology: Path,
    shapes: Path,
    base_iri: str,
    build_id: str,
    started: datetime,
    tables: Path | None = None,
    shacl_engine: str = DEFAULT_SHACL_ENGINE,
) -> None:
    """A worker's initializer: the context, once per process; ``tables``, where the GeoNames
    indexes are kept (``places.keep_tables_in``)."""
    global _CONTEXT
    places.keep_tables_in(tables)
    reference = Graph().parse(data=reference_nt, format="nt")
    _CONTEXT = Context.create(
        reference,
        Graph().parse(ontology, format="turtle"),
        load_shapes(shapes),
        Iris(base_iri),
        build_id,
        started,
        shacl_engine,
    )
    _freeze()


def _freeze() -> None:
    """Exempt the context (a million long-lived objects: the reference graph, the gazetteer)
    from the cycle collector: otherwise each full collection walks all of it again, a third
    of the time spent per document."""
    gc.collect()
    gc.freeze()


def _ntriples(triples: Iterable[tuple[Node, Node, Node]]) -> bytes:
    """Triples as N-Triples, written by Oxigraph."""
    return ox.serialize(ox_triples(triples), format=ox.RdfFormat.N_TRIPLES) or b""


def subclass_axioms(ontology: Graph) -> Graph:
    """What pySHACL needs of the ontology for ``sh:targetClass`` and ``sh:class`` (subclass
    instances): its ``rdfs:subClassOf`` triples. Mixing in these alone, not the whole
    ontology, makes validating a document 40% faster, with the same results."""
    axioms = Graph()
    for triple in ontology.triples((None, RDFS.subClassOf, None)):
        axioms.add(triple)
    return axioms


def set_context(context: Context | None, *, freeze: bool = True) -> None:
    """Run ``process`` in this process against ``context`` (``--jobs 1``); ``None`` when done.
    With ``freeze``, the context (and all else alive) is moved out of the cycle collector's
    sight (``_freeze``); not for a few documents, where the full collection that starts it
    (0.22 s under py-spy once 10,000 cache entries are read) would cost more than it saves.
    What is frozen stays so until the build ends (``pipeline.run`` gives it back to the
    collector), so that what the build froze before is not thawed here."""
    global _CONTEXT
    _CONTEXT = context
    if context is not None and freeze:
        _freeze()


def process(task: Task) -> Entry | Failure:
    """Extract, build and validate one document."""
    ctx = _CONTEXT
    if ctx is None:
        raise RuntimeError("worker used before init_worker")
    # imported here: a build that takes its pages from the cache (or builds them in a
    # process of its own, ``pipeline._EarlyPages``) does not load the extractors (0.07 s)
    from kg_builder.build import BuildInfo, build_document
    from kg_builder.extract import extract

    doc = task.doc
    timings = {"parse": round(task.parse_seconds, 4)}
    try:
        t0 = time.perf_counter()
        extraction = extract(doc, ctx.gazetteer, ctx.iris)
        t1 = time.perf_counter()
        info = BuildInfo(ctx.build_id, ctx.started, {doc.doc_id: task.source})
        built = build_document(extraction, ctx.iris, info)
        add_revisions(built.triples, ctx.iris, doc.doc_id, task.history)
        graph = built.triples.ntriples()
        triples = len(built.triples)
        nodes = built.triples.nodes()
        own, shared = own_and_shared(
            sorted(nodes.subject_iris),
            str(ctx.iris.document(doc.doc_id)),
        )
        subjects = descriptions(graph, shared)
        t2 = time.perf_counter()
        results = validate_document(nodes, graph, built.name, task.source, ctx)
        t3 = time.perf_counter()
        # in parallel here, not in the publish and reason stages
        dump = GraphDump.of(str(built.name), graph).to_bytes()
        reasoning, axiomatic = ctx.lines.split(graph)
        t4 = time.perf_counter()
    except KgError as exc:
        return Failure(task.source, doc.doc_id, str(exc), exc.exit_code)
    timings.update(
        extract=round(t1 - t0, 4),
        build=round(t2 - t1, 4),
        validate=round(t3 - t2, 4),
        dump=round(t4 - t3, 4),
    )
    report = DocumentReport(
        doc.doc_id,
        task.source,
        layout=doc.layout,
        media_type=doc.media_type,
        warnings=[*doc.warnings, *extraction.warnings],
        triples=triples,
        timings=timings,
    )
    for mention in extraction.mentions:
        report.mentions[mention.kind] = report.mentions.get(mention.kind, 0) + 1
    report.errors = [r.line() for r in results if r.severity == "Violation"]
    if report.errors:
        report.status = "invalid"
    menu = {k: list(v) for k, v in doc.menu.sections.items()} if doc.menu is not None else None
    return Entry(
        key=task.key,
        doc_id=doc.doc_id,
        sha256=doc.sha256,
        source=task.source,
        menu=menu,
        report=asdict(report),
        results=[asdict(r) for r in results],
        subjects=subjects,
        own=own,
        axiomatic=axiomatic,
        graph=graph,
        dump=dump,
        reasoning=reasoning,
    )


def add_revisions(graph: TripleSink, iris: Iris, doc_id: str, history: tuple[str, ...]) -> None:
    """An edited page keeps its history: the source as read now ``prov:wasRevisionOf`` the
    version read before it (named by its hash), and so on back to the first one seen."""
    newer = iris.source(doc_id)
    for sha in history:
        older = iris.source_version(doc_id, sha)
        graph.add((newer, PROV.wasRevisionOf, older))
        graph.add((older, RDF.type, PROV.Entity))
        graph.add((older, OSCE.sha256, Literal(sha)))
        newer = older


def validate_document(
    nodes: Nodes, graph_nt: bytes, name: URIRef, label: str, ctx: Context
) -> list[Result]:
    """The SHACL results about the subjects of a document's graph (``graph_nt``, whose
    ``nodes`` are given), with the reference nodes it points at in view, and the ontology's
    subclass axioms."""
    pointed = sorted(nodes.iris & ctx.reference_nt.keys())
    described = nodes.subjects
    data = b"".join([graph_nt, *(ctx.reference_nt[node] for node in pointed), ctx.classes_nt])
    outcome = validate_ntriples(
        data,
        {str(name): described, str(ctx.reference_name): set(pointed)},
        ctx.shapes,
        {str(name): label, str(ctx.reference_name): "reference data"},
        ctx.shacl_engine,
    )
    return [r for r in outcome.results if r.focus in described]


__all__ = [
    "Context",
    "Failure",
    "Task",
    "add_revisions",
    "init_worker",
    "process",
    "set_context",
    "subclass_axioms",
]
