"""Build settings, declared once as data: the CLI options and the README are made from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("base_iri", "https://w3id.org/osce-kg/", "Base IRI under which entities are minted."),
    Setting("out_dir", "build", "Directory for releases, the 'current' link and reports."),
    Setting("reference_dir", "data/reference", "Directory of the curated reference data."),
    Setting("ontology", "ontology/osce.ttl", "The OWL ontology (Turtle)."),
    Setting("shapes", "shapes", "Directory of SHACL shapes (*.ttl)."),
    Setting("keep_releases", "2", "How many published releases to keep on disk."),
)

DEFAULTS = {s.name: s.default for s in SETTINGS}


@dataclass(frozen=True)
class BuildConfig:
    """Resolved settings of one build."""

    base_iri: str = DEFAULTS["base_iri"]
    out_dir: Path = Path(DEFAULTS["out_dir"])
    reference_dir: Path = Path(DEFAULTS["reference_dir"])
    ontology: Path = Path(DEFAULTS["ontology"])
    shapes: Path = Path(DEFAULTS["shapes"])
    keep_releases: int = int(DEFAULTS["keep_releases"])
    sources: tuple[Path, ...] = field(default_factory=tuple)
