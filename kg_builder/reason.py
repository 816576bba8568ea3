"""Reason stage: the OWL 2 RL closure (owlrl) of ontology + reference + documents.

Only the triples the reasoner adds are returned; the pipeline keeps them in their own named
graph so that analysts can query the asserted facts alone or with the inferences. Triples that
are not valid RDF (a literal as subject, which OWL-RL's datatype rules produce) are dropped.
Reflexive ``x owl:sameAs x`` triples (rule eq-ref, one per resource) carry no information and
would only duplicate query rows; they are not kept either. An inconsistency that the reasoner
reports is an ``InconsistentGraph`` error naming it.
"""

from __future__ import annotations

from dataclasses import dataclass

import owlrl
from rdflib import BNode, Graph, Literal, Namespace

from kg_builder.errors import InconsistentGraph
from kg_builder.namespaces import OWL, RDF

# owlrl records inconsistencies with this vocabulary (owlrl.Closure.ERRNS).
ERRNS = Namespace("http://www.daml.org/2002/03/agents/agent-ont#")


@dataclass(frozen=True)
class Inference:
    inferred: Graph
    dropped_invalid: int
    dropped_trivial: int


def reason(asserted: Graph) -> Inference:
    closure = Graph()
    for triple in asserted:
        closure.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closure)
    errors = sorted(
        str(m)
        for node in closure.subjects(RDF.type, ERRNS.ErrorMessage)
        for m in closure.objects(node, ERRNS.error)
    )
    if errors:
        raise InconsistentGraph(
            f"the OWL 2 RL reasoner found {len(errors)} inconsistenc"
            f"{'y' if len(errors) == 1 else 'ies'}: " + "; ".join(errors),
            subject="reasoning",
            hint="fix the facts or axioms named above",
        )
    inferred = Graph()
    invalid = trivial = 0
    for s, p, o in closure:
        if (s, p, o) in asserted:
            continue
        if isinstance(s, Literal) or isinstance(p, (Literal, BNode)):
            invalid += 1
        elif p == OWL.sameAs and s == o:
            trivial += 1
        else:
            inferred.add((s, p, o))
    return Inference(inferred, invalid, trivial)
