"""Reason stage: OWL 2 RL entailments go apart; inconsistencies are errors that name the facts."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, Namespace, URIRef

from kg_builder.errors import EXIT_INVALID, InconsistentGraph
from kg_builder.namespaces import ORG, OSCE, OWL, RDF, RDFS
from kg_builder.reason import reason

EX = Namespace("https://example.org/")


def test_inverse_transitive_and_subclass_entailments() -> None:
    g = Graph()
    g.add((OSCE.PressRelease, RDFS.subClassOf, OSCE.Statement))
    g.add((ORG.holds, OWL.inverseOf, ORG.heldBy))
    g.add((ORG.subOrganizationOf, RDFS.subPropertyOf, ORG.transitiveSubOrganizationOf))
    g.add((ORG.transitiveSubOrganizationOf, RDF.type, OWL.TransitiveProperty))
    g.add((EX.doc, RDF.type, OSCE.PressRelease))
    g.add((EX.lavrov, ORG.holds, EX.post))
    g.add((EX.cpc, ORG.subOrganizationOf, EX.secretariat))
    g.add((EX.secretariat, ORG.subOrganizationOf, EX.osce))
    inferred = reason(g).inferred
    assert (EX.doc, RDF.type, OSCE.Statement) in inferred
    assert (EX.post, ORG.heldBy, EX.lavrov) in inferred
    assert (EX.cpc, ORG.transitiveSubOrganizationOf, EX.osce) in inferred
    assert not set(g) & set(inferred), "asserted triples must not be repeated as inferred"


def test_no_literal_subjects_and_no_reflexive_sameas() -> None:
    g = Graph()
    g.add((EX.a, RDFS.label, Literal("A")))
    g.add((EX.a, RDF.type, EX.Thing))
    outcome = reason(g)
    assert all(not isinstance(s, Literal) for s, _p, _o in outcome.inferred)
    assert (EX.a, OWL.sameAs, EX.a) not in outcome.inferred
    assert outcome.dropped_trivial >= 1


def test_inconsistency_is_an_error_naming_the_offending_resources() -> None:
    g = Graph()
    g.add((OSCE.State, OWL.disjointWith, ORG.Organization))
    g.add((EX.confused, RDF.type, OSCE.State))
    g.add((EX.confused, RDF.type, ORG.Organization))
    with pytest.raises(InconsistentGraph) as caught:
        reason(g)
    assert caught.value.exit_code == EXIT_INVALID
    assert "https://example.org/confused" in str(caught.value)


def test_ontology_and_reference_data_are_consistent() -> None:
    """The merged ontology + reference graph is consistent under OWL 2 RL."""
    from pathlib import Path

    from kg_builder.iris import Iris
    from kg_builder.reference import build_reference

    root = Path(__file__).resolve().parent.parent
    merged = Graph().parse(root / "ontology" / "osce.ttl")
    merged += build_reference(
        root / "data" / "reference", [], Iris("https://w3id.org/osce-kg/")
    ).graph
    inferred = reason(merged).inferred  # raises InconsistentGraph otherwise
    assert (
        URIRef("https://w3id.org/osce-kg/structure/odihr"),
        RDF.type,
        ORG.Organization,
    ) in inferred
