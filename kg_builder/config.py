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
    Setting(
        "reasoner",
        "reasonable",
        "OWL 2 RL engine: reasonable (fast, Rust) or owlrl (the reference, slow).",
    ),
    Setting(
        "shacl_engine",
        "shacl",
        "SHACL engine: shacl (fast, Rust) or pyshacl (the reference, slow).",
    ),
    # --- builds (kg_builder.pipeline, issue 6) ---
    Setting(
        "jobs",
        "1",
        "Worker processes that extract, build and validate documents; also the threads that "
        "count the VoID statistics, and above 1, a process that computes the OWL 2 RL closure "
        "while the pages are checked against each other.",
    ),
    Setting(
        "keep_going",
        "false",
        "Build and publish the good sources when some fail; each failure is reported, the "
        "previous version of a failed document stays published, and the exit code is 1.",
    ),
    Setting(
        "prune",
        "false",
        "Remove the graphs of documents whose source is no longer given (kept otherwise).",
    ),
    Setting(
        "force",
        "false",
        "Rebuild every document and publish a new release even when nothing changed.",
    ),
    Setting(
        "compact",
        "false",
        "Compact the published store even after a small change, and publish a compacted "
        "release when nothing changed, without rebuilding any document. A small change is "
        "written to new files of the store that every query also searches until a build "
        "compacts it (at 10,000 pages, six edits made some queries 1.3x slower; kg-build "
        "--compact then took 23 s).",
    ),
    Setting(
        "compact_below",
        "512",
        "After a small change, compact the store all the same when the published one takes at "
        "most this many MB on disk (0: never). That spares every query the change's new files "
        "(after six edits at 1,000 pages some queries took 1.4x as long) at the cost of "
        "writing the store whole, about 2 s for 350 MB, and of sharing no files with the "
        "previous release on disk.",
    ),
    # --- end builds ---
    # --- web sources (kg_builder.fetch) ---
    Setting(
        "fetch_interval",
        "1.0",
        "Minimum seconds between two requests to one host (more if robots.txt asks).",
    ),
    Setting("fetch_timeout", "30", "Seconds to wait for a site to connect or send data."),
    Setting("max_pages", "100", "At most this many article pages per --crawl listing."),
    # --- end web sources ---
    # --- push to an external store (kg_builder.push) ---
    Setting(
        "push",
        "",
        "After publishing, load the release into the SPARQL 1.1 Graph Store at URL (e.g. "
        "http://localhost:7878/store): one PUT per named graph that changed since the last push "
        "there; with --prune, also DELETE the graphs an earlier push sent that are gone.",
    ),
    Setting(
        "push_all",
        "false",
        "With --push, send every graph, also those unchanged since the last push to URL (after "
        "the store was emptied or edited by hand).",
    ),
    Setting(
        "push_token",
        "",
        "Bearer token for --push (better from the environment: KG_PUSH_TOKEN).",
    ),
    Setting(
        "push_user",
        "",
        "USER:PASSWORD for HTTP Basic authentication with --push (better from the environment: "
        "KG_PUSH_USER).",
    ),
    Setting("push_timeout", "120", "Seconds to wait for the store's answer to one graph."),
    # --- end push ---
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
    reasoner: str = DEFAULTS["reasoner"]
    shacl_engine: str = DEFAULTS["shacl_engine"]
    sources: tuple[Path, ...] = field(default_factory=tuple)
    # --- builds (kg_builder.pipeline, issue 6) ---
    jobs: int = int(DEFAULTS["jobs"])
    keep_going: bool = DEFAULTS["keep_going"] == "true"
    prune: bool = DEFAULTS["prune"] == "true"
    force: bool = DEFAULTS["force"] == "true"
    compact: bool = DEFAULTS["compact"] == "true"
    compact_below: int = int(DEFAULTS["compact_below"])  # MB
    # --- end builds ---
    # --- web sources (kg_builder.fetch) ---
    urls: tuple[str, ...] = ()  # pages to fetch
    crawl: tuple[str, ...] = ()  # listing pages to crawl
    max_pages: int = int(DEFAULTS["max_pages"])
    fetch_interval: float = float(DEFAULTS["fetch_interval"])
    fetch_timeout: float = float(DEFAULTS["fetch_timeout"])
    # --- end web sources ---
