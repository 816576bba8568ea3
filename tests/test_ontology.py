"""The ontology drives the code: generated namespaces, shapes and ontology agree."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyshacl import validate
from pyshacl.errors import ReportableRuntimeError
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH

from kg_builder import gen_namespaces
from kg_builder.namespaces import OSCE

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "ontology" / "osce.ttl"
NS = gen_namespaces.ONTOLOGY_NS


def ontology() -> Graph:
    return Graph().parse(ONTOLOGY, format="turtle")


def test_generated_namespaces_have_not_drifted() -> None:
    committed = (ROOT / "kg_builder" / "namespaces.py").read_text(encoding="utf-8")
    assert gen_namespaces.render(ONTOLOGY) == committed, "run: python -m kg_builder.gen_namespaces"


def test_unknown_term_fails() -> None:
    try:
        OSCE.NoSuchTerm  # noqa: B018
    except AttributeError:
        return
    raise AssertionError("OSCE namespace accepted an undefined term")


def test_every_ontology_term_has_label_and_comment() -> None:
    g = ontology()
    terms = {s for s in g.subjects() if isinstance(s, URIRef) and str(s).startswith(NS)}
    assert len(terms) > 40
    missing = sorted(
        str(t) for t in terms if (t, RDFS.label, None) not in g or (t, RDFS.comment, None) not in g
    )
    assert missing == []


def test_every_term_is_declared_with_a_type() -> None:
    g = ontology()
    kinds = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty}
    terms = {s for s in g.subjects() if isinstance(s, URIRef) and str(s).startswith(NS)}
    untyped = sorted(str(t) for t in terms if not set(g.objects(t, RDF.type)) & kinds)
    assert untyped == []


def test_every_ontology_term_used_in_shapes_exists() -> None:
    defined = {s for s in ontology().subjects() if isinstance(s, URIRef)}
    shapes = Graph()
    for path in (ROOT / "shapes").glob("*.ttl"):
        shapes.parse(path, format="turtle")
    used = {
        node
        for triple in shapes
        for node in triple
        if isinstance(node, URIRef) and str(node).startswith(NS)
    }
    assert used, "the shapes use no ontology term"
    assert sorted(str(u) for u in used - defined) == []


def shapes_graph() -> Graph:
    shapes = Graph()
    for path in (ROOT / "shapes").glob("*.ttl"):
        shapes.parse(path, format="turtle")
    return shapes


def test_every_node_shape_targets_a_class_or_is_reused() -> None:
    shapes = shapes_graph()
    node_shapes = set(shapes.subjects(RDF.type, SH.NodeShape))
    assert node_shapes
    reused = set(shapes.objects(None, SH.node))
    assert (
        sorted(
            str(s)
            for s in node_shapes
            if (s, SH.targetClass, None) not in shapes and s not in reused
        )
        == []
    )


def test_shapes_conform_to_shacl_for_shacl() -> None:
    """The shapes graph is valid SHACL (meta-validation with the W3C SHACL-SHACL shapes)."""
    conforms, _report, text = validate(Graph(), shacl_graph=shapes_graph(), meta_shacl=True)
    assert conforms, text


def test_shacl_for_shacl_catches_a_broken_shape() -> None:
    broken = shapes_graph()
    broken.add((URIRef("https://w3id.org/osce-kg/shapes#Broken"), RDF.type, SH.NodeShape))
    broken.add((URIRef("https://w3id.org/osce-kg/shapes#Broken"), SH.minCount, URIRef("urn:x")))
    broken.add((URIRef("https://w3id.org/osce-kg/shapes#Broken"), SH.targetClass, OSCE.State))
    with pytest.raises(ReportableRuntimeError):
        validate(Graph(), shacl_graph=broken, meta_shacl=True)


def test_ontology_diagram_has_not_drifted() -> None:
    from kg_builder import diagram

    committed = (ROOT / "docs" / "ontology.dot").read_text(encoding="utf-8")
    assert diagram.render(ONTOLOGY) == committed, "run: make docs"


def test_every_ontology_term_used_in_code_exists() -> None:
    import re

    defined = {str(s)[len(NS) :] for s in ontology().subjects() if str(s).startswith(NS)}
    used: set[str] = set()
    for path in [*(ROOT / "kg_builder").glob("*.py"), *(ROOT / "server").glob("*.py")]:
        used |= set(re.findall(r"\bOSCE\.([A-Za-z]\w*)", path.read_text(encoding="utf-8")))
    used -= {"_NS"}
    assert used, "the code uses no ontology term"
    assert sorted(used - defined) == []


def test_every_ontology_term_in_curated_data_exists() -> None:
    defined = {s for s in ontology().subjects() if isinstance(s, URIRef)}
    data = Graph().parse(ROOT / "data" / "reference" / "structures.ttl", publicID="https://x.org/")
    used = {n for t in data for n in t if isinstance(n, URIRef) and str(n).startswith(NS)}
    assert used and sorted(str(u) for u in used - defined) == []
