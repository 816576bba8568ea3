"""Validate stage: SHACL over the asserted graphs, each result traced to its graph.

The union of the reference graph and the document graphs is validated once, with the
ontology's subclass axioms mixed in so that class targets and ``sh:class`` follow
``rdfs:subClassOf``. Each result is then attributed to the named graph(s) whose triples
describe its focus node.

Two engines: ``shacl`` (a SHACL Core validator in Rust, the default: 2.3 ms a page where
pySHACL took 42-46 ms, measured on 1,000 generated pages) and pySHACL, the reference, which
``--shacl-engine pyshacl`` selects. ``tests/test_shapes.py`` checks that both give the same
results (focus, path, shape, severity, message) on the devset pages and on pages broken on
purpose, one for each kind of constraint the shapes use.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import shacl
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.exceptions import ParserError
from rdflib.term import Node

from kg_builder.errors import ConfigError
from kg_builder.namespaces import RDF, SH

if TYPE_CHECKING:  # pySHACL is imported where it runs: 0.12 s that the fast engine need not pay
    from pyshacl.shapes_graph import ShapesGraph

SHACL_SPEC = "https://www.w3.org/TR/shacl/"
SHACL_ENGINES = ("shacl", "pyshacl")
DEFAULT_SHACL_ENGINE = "shacl"
SHACL_ENGINE_LABELS = {"shacl": f"shacl {shacl.__version__} (Rust)", "pyshacl": "pySHACL"}


@dataclass(frozen=True)
class Result:
    graph: str  # the document (or the reference data) the focus node belongs to
    focus: str
    shape: str
    path: str
    severity: str
    message: str

    def line(self) -> str:
        where = f" (path {self.path})" if self.path else ""
        return f"{self.graph}: node {self.focus}{where}: {self.message} [shape {self.shape}]"


@dataclass(frozen=True)
class ValidationOutcome:
    conforms: bool
    results: tuple[Result, ...]

    @property
    def violations(self) -> tuple[Result, ...]:
        return tuple(r for r in self.results if r.severity == "Violation")


def own_and_shared(subjects: Iterable[str], document_iri: str) -> tuple[list[str], list[str]]:
    """``subjects`` of a document's graph split in two: its own, the IRIs under its document's
    IRI and "/" (its mentions: minted from the document's id, which no other document of a
    build shares, so no other graph describes them), written after that prefix; and the
    others, which other graphs may describe too."""
    prefix = document_iri + "/"
    own: list[str] = []
    shared: list[str] = []
    for subject in subjects:
        if subject.startswith(prefix):
            own.append(subject[len(prefix) :])
        else:
            shared.append(subject)
    return own, shared


def descriptions(ntriples: bytes, subjects: list[str] | set[str] | None = None) -> dict[str, str]:
    """What an N-Triples graph (one triple a line, as rdflib writes it) says of each IRI
    subject, as a digest of its predicate-object lines, sorted: two graphs say the same of a
    subject when their digests are equal. With ``subjects``, those subjects (the digest is
    "" for one whose IRI the lines escape, which then never compares equal)."""
    wanted = None if subjects is None else {s.encode("utf-8") for s in subjects}
    lines: dict[bytes, list[bytes]] = {}
    for line in ntriples.splitlines():
        if line.startswith(b"<"):
            end = line.find(b"> ")
            subject = line[1:end]
            if wanted is None or subject in wanted:  # a page's annotations are not asked for
                lines.setdefault(subject, []).append(line[end + 2 :].rstrip())
    digests = {
        subject.decode("utf-8", "replace"): hashlib.blake2b(
            b"\n".join(sorted(said)), digest_size=12
        ).hexdigest()
        for subject, said in lines.items()
        if b"\\" not in subject
    }
    if subjects is None:
        return digests
    return {subject: digests.get(subject, "") for subject in subjects}


def load_shapes(directory: Path) -> Graph:
    files = sorted(directory.glob("*.ttl")) if directory.is_dir() else []
    if not files:
        raise ConfigError("no SHACL shapes (*.ttl) found", subject=str(directory))
    shapes = Graph()
    for path in files:
        try:
            shapes.parse(path, format="turtle")
        except (ParserError, SyntaxError) as exc:
            raise ConfigError(f"shapes do not parse: {exc}", subject=str(path)) from exc
    return shapes


def validate_ntriples(
    data: bytes,
    subjects: dict[str, set[str]],
    shapes: Graph,
    labels: dict[str, str] | None = None,
    engine: str = DEFAULT_SHACL_ENGINE,
) -> ValidationOutcome:
    """Validate the N-Triples ``data``, the union of named graphs whose subjects are
    ``subjects`` (graph name → IRIs and blank node ids), with the ontology's axioms it needs
    already in it: the shacl engine reads the text itself, pySHACL a graph parsed from it."""
    if engine == "pyshacl":
        conforms, found = _pyshacl_results(Graph().parse(data=data, format="nt"), shapes)
    else:
        conforms, found = _shacl_results(data, shapes)
    return _outcome(conforms, found, subjects, labels or {})


# A result as an engine gives it: focus, shape, path, severity, message.
_Found = tuple[str, str, str, str, str]


def _outcome(
    conforms: bool, found: list[_Found], subjects: dict[str, set[str]], labels: dict[str, str]
) -> ValidationOutcome:
    # The graphs describing each focus node, in the order of ``subjects``: looked up from
    # the focus nodes, not graph by graph for each result (at 10,000 pages, the check across
    # documents spent 12.8 s so, under py-spy).
    focuses = {f[0] for f in found}
    owners: dict[str, list[str]] = {}
    for name, described in subjects.items():
        for focus in focuses & described:
            owners.setdefault(focus, []).append(
                f"{labels[name]} (graph {name})" if name in labels else name
            )
    results = []
    for focus, shape, path, severity, message in found:
        graphs = ", ".join(owners.get(focus, ())) or "(no graph)"
        results.append(Result(graphs, focus, shape, path, severity, message))
    results.sort(key=lambda r: (r.graph, r.focus, r.path, r.message))
    return ValidationOutcome(conforms, tuple(results))


def _pyshacl_results(data: Graph, shapes: Graph) -> tuple[bool, list[_Found]]:
    conforms, report = _run_shacl(data, shapes)
    found = []
    for node in report.objects(None, SH.result):  # top-level results, not nested sh:detail
        found.append(
            (
                str(report.value(node, SH.focusNode)),
                _shape_name(shapes, report.value(node, SH.sourceShape)),
                str(report.value(node, SH.resultPath) or ""),
                str(report.value(node, SH.resultSeverity)).rsplit("#", 1)[-1],
                str(report.value(node, SH.resultMessage) or "does not conform"),
            )
        )
    return conforms, found


# The shapes compiled by the shacl engine, kept per shapes graph as pySHACL's are (_SHAPES).
_COMPILED: dict[int, tuple[Graph, int, shacl.Shapes]] = {}


def _shacl_results(data: bytes, shapes: Graph) -> tuple[bool, list[_Found]]:
    known = _COMPILED.get(id(shapes))
    if known is None or known[0] is not shapes or known[1] != len(shapes):
        if len(_COMPILED) > 8:
            _COMPILED.clear()
        text = shapes.serialize(format="nt", encoding="utf-8").decode("utf-8")
        try:
            compiled = shacl.Shapes.from_text(text, format="ntriples")
        except ValueError as exc:
            raise ConfigError(f"the SHACL shapes do not compile: {exc}", subject="shapes") from exc
        known = (shapes, len(shapes), compiled)
        _COMPILED[id(shapes)] = known
    try:
        report = known[2].validate_text(
            data.decode("utf-8"), format="ntriples", allow_warnings=True
        )
    except ValueError as exc:
        raise ConfigError(f"SHACL validation could not run: {exc}", subject="shapes") from exc
    found = [
        (
            _plain(r.focus_node),
            _plain(r.root_shape or r.source_shape or "None"),
            _plain(r.path or ""),
            r.severity,
            r.message or "does not conform",
        )
        for r in report.results
    ]
    return bool(report.conforms), found


def _plain(term: str) -> str:
    """An N-Triples term as rdflib's ``str`` gives it: an IRI without its brackets, a blank
    node's id; a path that is more than one IRI stays in the SPARQL syntax the engine gives."""
    if term.startswith("<") and term.endswith(">") and term.count("<") == 1:
        return term[1:-1]
    if term.startswith("_:"):
        return term[2:]
    return term


# pySHACL reads the shapes out of the shapes graph on every run (7 ms a document here); the
# shapes it finds depend on that graph alone, so they are kept per shapes graph (its id, with
# the graph itself held so that the id is not reused, and its size as a guard against edits).
_SHAPES: dict[int, tuple[Graph, int, ShapesGraph]] = {}


def _run_shacl(data: Graph, shapes: Graph) -> tuple[bool, Graph]:
    """What ``pyshacl.validate(data, shacl_graph=shapes, inplace=True, allow_warnings=True)``
    does, with the shapes graph's shapes read once."""
    from pyshacl import Validator
    from pyshacl.errors import ValidationFailure
    from pyshacl.graph_abstraction import DataGraph
    from pyshacl.shapes_graph import ShapesGraph

    validator = Validator(
        DataGraph.from_rdflib(data),
        shacl_graph=Graph(),  # replaced below
        options={"inference": "none", "allow_warnings": True, "inplace": True},
    )
    known = _SHAPES.get(id(shapes))
    if known is None or known[0] is not shapes or known[1] != len(shapes):
        if len(_SHAPES) > 8:
            _SHAPES.clear()
        known = (shapes, len(shapes), ShapesGraph(shapes, False, validator.logger))
        _SHAPES[id(shapes)] = known
    validator.shacl_graph = known[2]
    try:
        conforms, report, _text = validator.run()
    except ValidationFailure as exc:
        raise ConfigError(f"SHACL validation could not run: {exc}", subject="shapes") from exc
    return bool(conforms), report


def results_report(results: list[Result]) -> Graph:
    """A SHACL validation report holding ``results`` (for results kept per document)."""
    report = Graph()
    node = BNode()
    report.add((node, RDF.type, SH.ValidationReport))
    conforms = not any(r.severity == "Violation" for r in results)
    report.add((node, SH.conforms, Literal(conforms)))
    for r in results:
        result = BNode()
        report.add((node, SH.result, result))
        report.add((result, RDF.type, SH.ValidationResult))
        report.add((result, SH.focusNode, URIRef(r.focus)))
        report.add((result, SH.resultSeverity, SH[r.severity]))
        report.add((result, SH.resultMessage, Literal(r.message)))
        path = _path_node(report, r.path)
        if path is not None:
            report.add((result, SH.resultPath, path))
        if r.shape.startswith(("http://", "https://")):
            report.add((result, SH.sourceShape, URIRef(r.shape)))
    return report


_ALTERNATIVES = re.compile(r"\((<[^<>\s]+>)(?:\|(<[^<>\s]+>))+\)")


def _path_node(report: Graph, path: str) -> Node | None:
    """A result's path as a SHACL path node in ``report``: an IRI, or an alternative path
    (``(<a>|<b>)``, as the engine writes one) as a list under ``sh:alternativePath``; ``None``
    for a path of another form, which is left out rather than made into a false IRI."""
    if not path:
        return None
    if _ALTERNATIVES.fullmatch(path):
        node = BNode()
        members: list[Node] = [URIRef(i[1:-1]) for i in re.findall(r"<[^<>\s]+>", path)]
        Collection(report, list_node := BNode(), members)
        report.add((node, SH.alternativePath, list_node))
        return node
    if re.fullmatch(r"[a-zA-Z][\w+.-]*:[^\s<>\"{}|\\^`]+", path):  # an IRI, as rdflib gives it
        return URIRef(path)
    return None


def _shape_name(shapes: Graph, shape: Node | None) -> str:
    """The node shape a result comes from; a property shape is a blank node inside one."""
    if shape is None or isinstance(shape, URIRef):
        return str(shape)
    parent = next(shapes.subjects(SH.property, shape), None)
    return str(parent) if isinstance(parent, URIRef) else str(shape)
