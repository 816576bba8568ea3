"""Generate ``kg_builder/namespaces.py`` from the ontology: ``python -m kg_builder.gen_namespaces``.

The output is sorted and has no timestamp, so a test can regenerate it and fail on drift.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rdflib import Graph, URIRef

ONTOLOGY_NS = "https://w3id.org/osce-kg/ontology#"
ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(__file__).resolve().parent / "namespaces.py"

HEADER = '''"""Namespaces of the project. GENERATED from ontology/osce.ttl by
``python -m kg_builder.gen_namespaces``; do not edit by hand."""

from rdflib import Namespace, URIRef
from rdflib.namespace import (
    DCTERMS,
    ORG,
    OWL,
    PROV,
    RDF,
    RDFS,
    SDO,
    SH,
    SKOS,
    TIME,
    VOID,
    XSD,
    DefinedNamespace,
)

OA = Namespace("http://www.w3.org/ns/oa#")
SKOSXL = Namespace("http://www.w3.org/2008/05/skos-xl#")
SCHEMA = SDO

__all__ = [
    "DCTERMS",
    "OA",
    "ORG",
    "OSCE",
    "OWL",
    "PROV",
    "RDF",
    "RDFS",
    "SCHEMA",
    "SH",
    "SKOS",
    "SKOSXL",
    "TIME",
    "VOID",
    "XSD",
]


class OSCE(DefinedNamespace):
    """Terms of the OSCE ontology."""

    _fail = True
    _NS = Namespace("{ns}")

'''


def ontology_terms(ontology: Path) -> list[str]:
    graph = Graph().parse(ontology, format="turtle")
    names = {
        str(s)[len(ONTOLOGY_NS) :]
        for s in graph.subjects()
        if isinstance(s, URIRef) and str(s).startswith(ONTOLOGY_NS)
    }
    return sorted(n for n in names if n)


def render(ontology: Path) -> str:
    lines = [HEADER.replace("{ns}", ONTOLOGY_NS)]
    lines += [f"    {name}: URIRef\n" for name in ontology_terms(ontology)]
    return "".join(lines)


def main() -> int:
    TARGET.write_text(render(ROOT / "ontology" / "osce.ttl"), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
