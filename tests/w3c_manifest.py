"""Read the W3C SPARQL 1.1 test manifests (``mf:``/``qt:``/``ut:``/``ht:``) into plain records.

Manifests are parsed with rdflib against the IRIs the W3C publishes them under
(``http://www.w3.org/2009/sparql/docs/tests/data-sparql11/<dir>/``), so test, data and graph IRIs
are the ones the expected results use; ``local_path`` maps them back to the files in
``../shared/conformance/w3c-sparql11/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import RDF, RDFS, BNode, Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT.parent / "shared" / "conformance" / "w3c-sparql11"
W3C_BASE = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/"

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")

# Directories of the suite that test entailment regimes or federation (SERVICE): not ours.
EXCLUDED_DIRS = frozenset({"entailment", "service", "syntax-fed"})


def suite_available() -> bool:
    return (SUITE / "manifest-all.ttl").is_file()


def local_path(iri: str) -> Path:
    """The suite file an IRI under ``W3C_BASE`` names."""
    if not iri.startswith(W3C_BASE):
        raise ValueError(f"{iri} is not in the W3C test suite")
    return SUITE / iri[len(W3C_BASE) :]


@dataclass(frozen=True)
class QueryTest:
    """A query evaluation, result format or syntax test."""

    iri: str
    kind: str  # the local name of its rdf:type, e.g. QueryEvaluationTest
    name: str
    query: str  # IRI of the .rq file
    data: tuple[str, ...] = ()  # files merged into the default graph
    graph_data: tuple[tuple[str, str], ...] = ()  # (graph name, file IRI)
    result: str | None = None  # IRI of the expected results

    @property
    def id(self) -> str:
        return self.iri[len(W3C_BASE) :].replace("/manifest#", "/")


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    expected_status: tuple[str, ...]  # hts: local names, e.g. StatusCode2xx, OK, NotFound
    expected_format: str | None = None  # "boolean", "tabular" or "RDF"
    expected_boolean: bool | None = None
    expected_content_type: str | None = None
    expected_body: str | None = None


@dataclass(frozen=True)
class HttpTest:
    """A protocol or graph store protocol test: requests replayed in order."""

    iri: str
    kind: str
    name: str
    requests: tuple[HttpRequest, ...] = field(default_factory=tuple)
    requires: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.iri[len(W3C_BASE) :].replace("/manifest#", "/")


def _parse(manifest: Path) -> Graph:
    base = W3C_BASE + str(manifest.relative_to(SUITE))
    return Graph().parse(manifest, format="turtle", publicID=base)


def _entries(graph: Graph) -> list[Node]:
    out: list[Node] = []
    for head in graph.objects(None, MF.entries):
        out.extend(Collection(graph, head))
    return out


def _kind(graph: Graph, test: Node) -> str:
    types = sorted(str(t) for t in graph.objects(test, RDF.type) if str(t).startswith(str(MF)))
    return types[0][len(str(MF)) :] if types else ""


def _graph_data(graph: Graph, node: Node | None, prop: URIRef) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    if node is None:
        return ()
    for value in graph.objects(node, prop):
        if isinstance(value, BNode):  # [ ut:graph <file> ; rdfs:label "name" ]
            file = graph.value(value, UT.graph) or graph.value(value, QT.graph)
            label = graph.value(value, RDFS.label)
            pairs.append((str(label or file), str(file)))
        else:  # the file's IRI names the graph
            pairs.append((str(value), str(value)))
    return tuple(sorted(pairs))


def query_tests(directories: list[str] | None = None) -> list[QueryTest]:
    """Query evaluation, CSV/TSV result format and query syntax tests of the suite, in manifest
    order, leaving out ``EXCLUDED_DIRS`` and update tests."""
    tests = []
    dirs = directories or sorted(p.parent.name for p in SUITE.glob("*/manifest.ttl"))
    for name in dirs:
        if name in EXCLUDED_DIRS:
            continue
        graph = _parse(SUITE / name / "manifest.ttl")
        for test in _entries(graph):
            kind = _kind(graph, test)
            title = str(graph.value(test, MF.name) or test)
            action = graph.value(test, MF.action)
            result = graph.value(test, MF.result)
            if kind in ("QueryEvaluationTest", "CSVResultFormatTest"):
                tests.append(
                    QueryTest(
                        str(test),
                        kind,
                        title,
                        str(graph.value(action, QT.query)),
                        tuple(sorted(str(d) for d in graph.objects(action, QT.data))),
                        _graph_data(graph, action, QT.graphData),
                        str(result) if result is not None else None,
                    )
                )
            elif kind in ("PositiveSyntaxTest11", "NegativeSyntaxTest11") and not str(
                action
            ).endswith(".ru"):  # some update syntax tests are typed as query syntax tests
                tests.append(QueryTest(str(test), kind, title, str(action)))
    return tests


@dataclass(frozen=True)
class UpdateTest:
    """An update evaluation or update syntax test."""

    iri: str
    kind: str
    name: str
    request: str  # IRI of the .ru file
    data: tuple[str, ...] = ()
    graph_data: tuple[tuple[str, str], ...] = ()
    result_data: tuple[str, ...] = ()
    result_graph_data: tuple[tuple[str, str], ...] = ()

    @property
    def id(self) -> str:
        return self.iri[len(W3C_BASE) :].replace("/manifest#", "/")

    @property
    def positive(self) -> bool:
        return "Negative" not in self.kind


def update_tests() -> list[UpdateTest]:
    """Update evaluation and update syntax tests of the suite, in manifest order."""
    tests = []
    for name in sorted(p.parent.name for p in SUITE.glob("*/manifest.ttl")):
        if name in EXCLUDED_DIRS:
            continue
        graph = _parse(SUITE / name / "manifest.ttl")
        for test in _entries(graph):
            kind = _kind(graph, test)
            title = str(graph.value(test, MF.name) or test)
            action = graph.value(test, MF.action)
            if kind == "UpdateEvaluationTest":
                result = graph.value(test, MF.result)
                tests.append(
                    UpdateTest(
                        str(test),
                        kind,
                        title,
                        str(graph.value(action, UT.request)),
                        tuple(sorted(str(d) for d in graph.objects(action, UT.data))),
                        _graph_data(graph, action, UT.graphData),
                        tuple(sorted(str(d) for d in graph.objects(result, UT.data))),
                        _graph_data(graph, result, UT.graphData),
                    )
                )
            elif "UpdateSyntax" in kind or ("Syntax" in kind and str(action).endswith(".ru")):
                tests.append(UpdateTest(str(test), kind, title, str(action)))
    return tests


def _headers(graph: Graph, node: Node | None) -> tuple[tuple[str, str], ...]:
    head = graph.value(node, HT.headers) if node is not None else None
    if head is None:
        return ()
    return tuple(
        (str(graph.value(h, HT.fieldName)), str(graph.value(h, HT.fieldValue)))
        for h in Collection(graph, head)
    )


def _body(graph: Graph, node: Node) -> bytes | None:
    body = graph.value(node, HT.body)
    if body is None:
        return None
    encoding = str(graph.value(body, CNT.characterEncoding) or "UTF-8")
    return str(graph.value(body, CNT.chars)).encode(encoding)


def _request(graph: Graph, node: Node) -> HttpRequest:
    resp = graph.value(node, HT.resp)
    response_headers = dict(_headers(graph, resp))
    body = graph.value(resp, HT.body)
    boolean = graph.value(resp, MF.expectedBoolean)
    fmt = graph.value(resp, MF.expectedFormat)
    return HttpRequest(
        str(graph.value(node, HT.methodName)),
        str(graph.value(node, HT.absolutePath)),
        _headers(graph, node),
        _body(graph, node),
        tuple(sorted(str(s).rsplit("#", 1)[-1] for s in graph.objects(resp, MF.expectedStatus))),
        str(fmt) if fmt is not None else None,
        bool(boolean.toPython()) if boolean is not None else None,  # type: ignore[attr-defined]
        response_headers.get("content-type"),
        str(graph.value(body, CNT.chars)) if body is not None else None,
    )


def http_tests(manifest: Path) -> list[HttpTest]:
    """The tests of a protocol or graph store protocol manifest, with their requests."""
    graph = _parse(manifest)
    tests = []
    for test in _entries(graph):
        connection = graph.value(test, MF.action)
        head = graph.value(connection, HT.requests) if connection is not None else None
        requests: list[Node] = list(Collection(graph, head)) if head is not None else []
        tests.append(
            HttpTest(
                str(test),
                _kind(graph, test),
                str(graph.value(test, MF.name) or test),
                tuple(_request(graph, r) for r in requests),
                tuple(sorted(str(r).rsplit("#", 1)[-1] for r in graph.objects(test, MF.requires))),
            )
        )
    return tests
