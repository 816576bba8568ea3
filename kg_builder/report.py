"""The build report: per document its status, warnings, errors and counts; per stage timings.

Written as JSON for programs and as Turtle (PROV-O plus the SHACL validation report) for the
graph's own consumers.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rdflib import Graph, Literal, URIRef

from kg_builder import __version__
from kg_builder.namespaces import PROV, RDF, RDFS, XSD


@dataclass
class DocumentReport:
    doc_id: str
    source: str
    status: str = "ok"
    layout: str | None = None
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    mentions: dict[str, int] = field(default_factory=dict)
    triples: int = 0


@dataclass
class BuildReport:
    build_id: str
    started: str
    version: str = __version__
    status: str = "running"
    error: str | None = None
    documents: list[DocumentReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    triples: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    reasoning: dict[str, object] = field(default_factory=dict)
    release: str | None = None
    validation: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"

    def to_graph(self, activity: URIRef, validation_report: Graph | None) -> Graph:
        g = Graph()
        g.add((activity, RDF.type, PROV.Activity))
        g.add((activity, PROV.startedAtTime, Literal(self.started, datatype=XSD.dateTime)))
        g.add((activity, RDFS.label, Literal(f"osce-kg {self.version} build {self.build_id}")))
        g.add((activity, RDFS.comment, Literal(f"status: {self.status}")))
        if self.error:
            g.add((activity, RDFS.comment, Literal(f"error: {self.error}")))
        for doc in self.documents:
            g.add((activity, PROV.used, Literal(doc.source)))
            for warning in doc.warnings:
                g.add((activity, RDFS.comment, Literal(f"{doc.source}: warning: {warning}")))
        for warning in self.warnings:
            g.add((activity, RDFS.comment, Literal(f"warning: {warning}")))
        if validation_report is not None:
            g += validation_report
        return g


def write_atomic(path: Path, data: str) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
