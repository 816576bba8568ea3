"""Every SHACL node shape with a class target has a conforming and a violating example.

For each such shape ``osces:X`` the folder ``tests/cases/shapes/`` holds ``X.valid.ttl``, data
that conforms to all the shapes, and ``X.invalid.ttl``, data that breaks shape X in one way
(named in a comment at the top of the file). Both are validated exactly as the builder does:
pySHACL with the ontology as ``ont_graph`` and no inference.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node

from kg_builder.validate import SHACL_ENGINES, Result, descriptions, validate_ntriples
from kg_builder.workers import subclass_axioms

ROOT = Path(__file__).resolve().parent.parent
SHAPES_FILE = ROOT / "shapes" / "osce-shapes.ttl"
ONTOLOGY_FILE = ROOT / "ontology" / "osce.ttl"
CASES = ROOT / "tests" / "cases" / "shapes"
KINDS = ("valid", "invalid")

SHAPES = Graph().parse(SHAPES_FILE, format="turtle")
ONTOLOGY = Graph().parse(ONTOLOGY_FILE, format="turtle")


def _local_name(iri: URIRef) -> str:
    return str(iri).rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _targeted_shapes() -> dict[str, URIRef]:
    """The node shapes that have an sh:targetClass, by local name."""
    shapes: dict[str, URIRef] = {}
    for shape in set(SHAPES.subjects(SH.targetClass, None)):
        assert isinstance(shape, URIRef), f"a targeted shape should be named: {shape!r}"
        name = _local_name(shape)
        assert name not in shapes, f"two targeted shapes are both named {name}"
        shapes[name] = shape
    return dict(sorted(shapes.items()))


TARGETED = _targeted_shapes()


def _example(name: str, kind: str) -> Path:
    return CASES / f"{name}.{kind}.ttl"


def _load(name: str, kind: str) -> Graph:
    path = _example(name, kind)
    if not path.is_file():
        pytest.fail(f"missing example {path.relative_to(ROOT)} for shape osces:{name}")
    return Graph().parse(path, format="turtle")


def _run(data: Graph) -> tuple[bool, Graph, str]:
    conforms, report, text = validate(
        data,
        shacl_graph=SHAPES,
        ont_graph=ONTOLOGY,
        inference="none",
        allow_warnings=True,
    )
    assert isinstance(report, Graph)
    return bool(conforms), report, str(text)


def _target_classes(shape: URIRef) -> set[Node]:
    """The shape's target classes and all their subclasses (as the ontology declares them)."""
    classes: set[Node] = set()
    for cls in SHAPES.objects(shape, SH.targetClass):
        classes.update(ONTOLOGY.transitive_subjects(RDFS.subClassOf, cls))
    return classes


def _focus_nodes(data: Graph, shape: URIRef) -> set[Node]:
    classes = _target_classes(shape)
    return {s for s, cls in data.subject_objects(RDF.type) if cls in classes}


def _is_attributable(report: Graph, result: Node, shape: URIRef, focus_nodes: set[Node]) -> bool:
    """Whether a validation result comes from ``shape`` or one of its property shapes.

    A blank-node property shape belongs to its node shape alone. A named property shape (such
    as osces:OneLabel) may be shared, so it counts only for a focus node of the shape's targets.
    """
    source = report.value(result, SH.sourceShape)
    if source == shape:
        return True
    if source is None or (shape, SH.property, source) not in SHAPES:
        return False
    if isinstance(source, BNode):
        return True
    return report.value(result, SH.focusNode) in focus_nodes


def _violations(report: Graph) -> list[Node]:
    """The report's own violations (sh:result), not the nested ones of sh:detail."""
    return [
        result
        for result in report.objects(None, SH.result)
        if report.value(result, SH.resultSeverity) == SH.Violation
    ]


def _describe(report: Graph, result: Node) -> str:
    def value(prop: URIRef) -> str:
        node = report.value(result, prop)
        return "" if node is None else node.n3(report.namespace_manager)

    return (
        f"focus {value(SH.focusNode)}, path {value(SH.resultPath)}, "
        f"message {value(SH.resultMessage)}, shape {value(SH.sourceShape)}"
    )


def test_every_targeted_shape_has_both_examples() -> None:
    assert TARGETED, f"no node shape with sh:targetClass found in {SHAPES_FILE}"
    missing = [
        str(_example(name, kind).relative_to(ROOT))
        for name in TARGETED
        for kind in KINDS
        if not _example(name, kind).is_file()
    ]
    assert not missing, "node shapes without examples:\n" + "\n".join(missing)


def test_no_example_without_a_shape() -> None:
    expected = {_example(name, kind).name for name in TARGETED for kind in KINDS}
    stray = sorted(path.name for path in CASES.glob("*.ttl") if path.name not in expected)
    assert not stray, f"examples for no targeted node shape in {CASES}: {stray}"


@pytest.mark.parametrize("name", list(TARGETED))
def test_valid_example_conforms(name: str) -> None:
    shape = TARGETED[name]
    data = _load(name, "valid")
    assert _focus_nodes(data, shape), f"{name}.valid.ttl has no node of a target class of {name}"
    conforms, _report, text = _run(data)
    assert conforms, f"{name}.valid.ttl does not conform:\n{text}"


@pytest.mark.parametrize("name", list(TARGETED))
def test_invalid_example_violates_its_shape(name: str) -> None:
    shape = TARGETED[name]
    data = _load(name, "invalid")
    focus_nodes = _focus_nodes(data, shape)
    assert focus_nodes, f"{name}.invalid.ttl has no node of a target class of {name}"
    conforms, report, text = _run(data)
    assert not conforms, f"{name}.invalid.ttl conforms, but should violate osces:{name}"
    violations = _violations(report)
    own = [r for r in violations if _is_attributable(report, r, shape, focus_nodes)]
    assert own, f"{name}.invalid.ttl violates no constraint of osces:{name}:\n{text}"
    others = [_describe(report, r) for r in violations if r not in own]
    assert not others, f"{name}.invalid.ttl also violates other shapes:\n" + "\n".join(others)


def _key(result: Result) -> tuple[str, str, str, str, str]:
    """What both engines must agree on; a path longer than one IRI is a blank node in
    pySHACL's report and SPARQL text in the other's: only its presence is compared."""
    path = result.path if result.path.startswith(("http://", "https://")) else bool(result.path)
    return (result.focus, result.shape, str(path), result.severity, result.message)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", list(TARGETED))
def test_the_fast_engine_gives_the_reference_engines_results(name: str, kind: str) -> None:
    data = _load(name, kind)
    subjects = {"urn:example": {str(s) for s in data.subjects()}}
    text = (data + subclass_axioms(ONTOLOGY)).serialize(format="nt", encoding="utf-8")
    keyed = {}
    for engine in SHACL_ENGINES:
        outcome = validate_ntriples(text, subjects, SHAPES, engine=engine)
        keyed[engine] = (outcome.conforms, sorted(map(_key, outcome.results)))
    assert keyed["shacl"] == keyed["pyshacl"]
    assert keyed["shacl"][0] == (kind == "valid")
    assert bool(keyed["shacl"][1]) == (kind == "invalid")


def test_a_results_path_is_a_shacl_path_in_the_report(caplog: pytest.LogCaptureFixture) -> None:
    """The fast engine writes an alternative path as ``(<a>|<b>)``: the report holds it as
    an ``sh:alternativePath`` list, not as an IRI made of that text."""
    from rdflib.collection import Collection

    from kg_builder.validate import results_report

    a, b = "https://w3id.org/osce-kg/ontology#postOf", "http://www.w3.org/ns/org#postIn"
    results = [
        Result("g", "https://e.org/post", "https://e.org/Shape", f"(<{a}>|<{b}>)", "Warning", "m"),
        Result("g", "https://e.org/x", "https://e.org/Shape", a, "Violation", "m"),
        Result("g", "https://e.org/y", "https://e.org/Shape", "^<weird path>", "Violation", "m"),
        Result(
            "g", "https://e.org/z", "https://e.org/Shape", "https://e.org/a(b)", "Violation", "m"
        ),
    ]
    with caplog.at_level("WARNING"):
        report = results_report(results)
    assert "does not look like a valid URI" not in caplog.text
    paths = {
        report.value(r, SH.focusNode): report.value(r, SH.resultPath)
        for r in report.subjects(RDF.type, SH.ValidationResult)
    }
    alternative = report.value(paths[URIRef("https://e.org/post")], SH.alternativePath)
    assert list(Collection(report, alternative)) == [URIRef(a), URIRef(b)]
    assert paths[URIRef("https://e.org/x")] == URIRef(a)
    assert paths[URIRef("https://e.org/y")] is None  # left out, not a false IRI
    assert paths[URIRef("https://e.org/z")] == URIRef("https://e.org/a(b)")  # an IRI may hold ()


def test_descriptions_digest_what_a_graph_says_of_each_subject() -> None:
    """Two graphs say the same of a subject when its digests are equal, whatever the order of
    the lines; only the subjects asked for are given, "" for one a graph does not describe."""
    a, b, p = "https://example.org/a", "https://example.org/b", "https://example.org/p"
    one = f'<{a}> <{p}> "x" .\n<{a}> <{p}> "y" .\n<{b}> <{p}> "1" .\n'.encode()
    two = f'<{b}> <{p}> "2" .\n<{a}> <{p}> "y" .\n<{a}> <{p}> "x" .\n'.encode()
    first, second = descriptions(one, [a, b, "https://example.org/c"]), descriptions(two, [a, b])
    assert set(first) == {a, b, "https://example.org/c"}
    assert first[a] == second[a]
    assert first[b] != second[b]
    assert first["https://example.org/c"] == ""
    assert descriptions(one) == {a: first[a], b: first[b]}


@pytest.mark.parametrize("engine", SHACL_ENGINES)
def test_a_result_names_every_graph_that_describes_its_focus_node(engine: str) -> None:
    """A focus node two graphs describe: the result names both, in the order given, by their
    labels; a focus node no graph is said to describe: "(no graph)"."""
    data = _load("Annotation", "invalid")
    text = (data + subclass_axioms(ONTOLOGY)).serialize(format="nt", encoding="utf-8")
    focuses = {r.focus for r in validate_ntriples(text, {}, SHAPES, engine=engine).results}
    assert focuses
    focus = sorted(focuses)[0]
    subjects = {"urn:g1": {focus}, "urn:g0": {focus, "urn:other"}, "urn:g2": {"urn:other"}}
    labels = {"urn:g1": "page one", "urn:g0": "page zero"}
    results = validate_ntriples(text, subjects, SHAPES, labels, engine=engine).results
    assert {r.graph for r in results if r.focus == focus} == {
        "page one (graph urn:g1), page zero (graph urn:g0)"
    }
    assert {r.graph for r in results if r.focus != focus} <= {"(no graph)"}
