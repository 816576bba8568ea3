"""Where a published build lives on disk, shared by the builder and the server.

An output directory holds every release and a ``current`` symlink to the one being served::

    build/
      current -> releases/20261128T174000Z-1a2b3c
      releases/<id>/store/             pyoxigraph (RocksDB) store, all named graphs
      releases/<id>/dumps/osce-kg.ttl.gz  asserted + inferred triples of every graph, merged
      releases/<id>/dumps/osce-kg.nq.gz   every named graph, as N-Quads
      releases/<id>/dumps/.*.pieces    where each graph's piece of a dump starts (the server
                                       serves the plain osce-kg.ttl and osce-kg.nq from them)
      releases/<id>/void.ttl           VoID statistics of the release (void.json: the numbers)
      releases/<id>/report.ttl         the build report (also report.json)
      releases/<id>/docs/ontology.html the ontology's documentation (and ontology.ttl)
      releases/<id>/manifest.json      the documents of the release, their hashes, failures
      releases/<id>/inferred.nt, edges.json  the inferred graph, sorted, and the asserted
                                       edges of transitive and functional properties (read
                                       by the next build's update of the inferences)
      report.json, report.ttl, report.txt   the last build attempt, failed or not
      pushed.json                      per --push URL, the digest of each graph it holds
      cache/docs/                      per-document graphs and results (incremental builds)
      cache/http.sqlite                fetched pages, revalidated with ETag/Last-Modified
      sources/<host>/                  fetched pages with their URL and headers (.json)

The symlink is replaced with one atomic ``rename``, so a reader sees the old release or the new
one, never a half-written one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CURRENT = "current"
RELEASES = "releases"
STORE = "store"
DUMPS = "dumps"
TURTLE_DUMP = "osce-kg.ttl"
NQUADS_DUMP = "osce-kg.nq"
REPORT_TTL = "report.ttl"
REPORT_JSON = "report.json"
DOCS = "docs"
ONTOLOGY_HTML = "ontology.html"
ONTOLOGY_TTL = "ontology.ttl"
VOID = "void.ttl"
VOID_STATISTICS = "void.json"
INFERRED_NT = "inferred.nt"
EDGES = "edges.json"
PUSHED = "pushed.json"
GZIP = ".gz"


@dataclass(frozen=True)
class Release:
    """The files of one published build."""

    root: Path

    @property
    def store(self) -> Path:
        return self.root / STORE

    @property
    def dumps(self) -> Path:
        return self.root / DUMPS

    @property
    def turtle_gz(self) -> Path:
        """The Turtle dump, gzip-compressed (the plain one is served from it)."""
        return self.dumps / (TURTLE_DUMP + GZIP)

    @property
    def nquads_gz(self) -> Path:
        """The N-Quads dump, gzip-compressed (the plain one is served from it)."""
        return self.dumps / (NQUADS_DUMP + GZIP)

    @property
    def docs(self) -> Path:
        return self.root / DOCS

    @property
    def ontology_html(self) -> Path:
        return self.docs / ONTOLOGY_HTML

    @property
    def ontology_ttl(self) -> Path:
        return self.docs / ONTOLOGY_TTL

    @property
    def void(self) -> Path:
        return self.root / VOID

    @property
    def void_statistics(self) -> Path:
        """The numbers of ``void.ttl``, which the next build updates rather than recounts."""
        return self.root / VOID_STATISTICS

    @property
    def inferred(self) -> Path:
        """The inferred graph as sorted N-Triples, as the store holds it."""
        return self.root / INFERRED_NT

    @property
    def edges(self) -> Path:
        """The asserted edges the next local update of the inferences reads
        (``local_closure.Edges``)."""
        return self.root / EDGES

    @property
    def report_ttl(self) -> Path:
        return self.root / REPORT_TTL

    @property
    def report_json(self) -> Path:
        return self.root / REPORT_JSON


def current_release(out_dir: Path) -> Release | None:
    """The release ``out_dir/current`` points to, or None when nothing was published yet."""
    link = out_dir / CURRENT
    if not link.exists():
        return None
    return Release(link.resolve())
