"""Reasoning at scale: seconds, peak memory and inferred triples per engine and graph size.

    .venv/bin/python bench/reasoning.py [--sizes 10000 100000 1000000] [--owlrl-max 100000]
                                        [--timeout 600]
                                        [--release build/current/dumps/osce-kg.nq.gz]

Builds the seed page and the devset (or reads ``--release``), then makes synthetic graphs of
the requested sizes in the project's vocabulary: the ontology, the reference graph and the
document graphs copied with renamed IRIs (every IRI a document mints and the reference data
does not define gets a copy suffix; blank nodes too), as ``kg-build`` would reason over for a
large corpus. Each (engine, size) runs in its own process: it parses the graph, then times
``kg_builder.reason.reason`` (closure, normalisation and the inconsistency checks; wall and CPU
seconds, the latter steadier on a shared machine) and reports the peak resident memory of the
whole process (its high-water mark, ``VmHWM``), which includes the rdflib graph the pipeline holds
anyway. owlrl runs only up to ``--owlrl-max`` triples (``--timeout`` bounds every run).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, cast

import pyoxigraph as ox
from rdflib import Graph

from kg_builder.iris import Iris
from kg_builder.reason import ENGINES, reason

ROOT = Path(__file__).resolve().parent.parent
SOURCES = (ROOT / "data" / "sources", ROOT / "tests" / "fixtures" / "devset")


def seed_release(out: Path, sources: tuple[Path, ...]) -> Path:
    # imported here: the measured child processes need only the reasoner, not the extractors
    from kg_builder.config import BuildConfig
    from kg_builder.pipeline import run

    config = BuildConfig(
        out_dir=out,
        reference_dir=ROOT / "data" / "reference",
        ontology=ROOT / "ontology" / "osce.ttl",
        shapes=ROOT / "shapes",
        sources=sources,
    )
    return run(config).release.nquads_gz


Term = ox.NamedNode | ox.BlankNode | ox.Literal
OxTriple = tuple[Term, Term, Term]


def split_dump(nquads: Path, iris: Iris) -> tuple[list[OxTriple], list[list[OxTriple]]]:
    """The shared triples (ontology + reference) and each document's triples."""
    shared: list[OxTriple] = []
    documents: dict[str, list[OxTriple]] = {}
    keep = {str(iris.ontology_graph()), str(iris.reference_graph())}
    inferred = str(iris.inferred_graph())
    with gzip.open(nquads) as handle:
        for quad in ox.parse(cast(IO[bytes], handle), format=ox.RdfFormat.N_QUADS):
            graph = quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else ""
            triple = (quad.subject, quad.predicate, quad.object)
            if graph in keep:
                shared.append(triple)
            elif graph != inferred:
                documents.setdefault(graph, []).append(triple)
    return shared, [documents[g] for g in sorted(documents)]


def synthesise(target: int, path: Path, release: Path, iris: Iris) -> int:
    """Write a graph of about ``target`` triples as N-Triples; return its size.

    IRIs under the base that documents mint and the ontology and reference data do not define
    (documents, mentions, new persons, meetings...) are renamed per copy, blank nodes too;
    shared entities (States, structures, known office holders) stay shared.
    """
    shared, documents = split_dump(release, iris)
    defined = {s for s, _p, _o in shared}
    written = 0
    with path.open("w", encoding="utf-8") as out:
        for s, p, o in shared:
            out.write(f"{s} {p} {o} .\n")
            written += 1
        copy = 0
        while written < target:

            def rename(term: Term, k: int = copy) -> Term:
                if isinstance(term, ox.BlankNode):
                    return ox.BlankNode(f"{term.value}c{k}")
                if (
                    isinstance(term, ox.NamedNode)
                    and term.value.startswith(iris.base)
                    and term not in defined
                ):
                    return ox.NamedNode(f"{term.value}-c{k}")
                return term

            for triples in documents:
                for s, p, o in triples:
                    out.write(f"{rename(s)} {p} {rename(o)} .\n")
                written += len(triples)
                if written >= target:
                    break
            copy += 1
    return written


def high_water_mib() -> int:
    """This process's peak resident memory since it started its program, from ``VmHWM``.
    (``getrusage``'s ``ru_maxrss`` survives ``exec``: a child of a large parent would report
    the parent's size.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    raise RuntimeError("no VmHWM in /proc/self/status")


def measure(engine: str, path: Path) -> dict[str, object]:
    """Run in a child process: parse, reason, report."""
    t0 = time.perf_counter()
    graph = Graph().parse(path, format="nt")
    loaded = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss_loaded, cpu = high_water_mib(), usage.ru_utime + usage.ru_stime
    inference = reason(graph, engine)
    done = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "engine": engine,
        "triples": len(graph),
        "parse_s": round(loaded - t0, 1),
        "reason_s": round(done - loaded, 2),
        "reason_cpu_s": round(usage.ru_utime + usage.ru_stime - cpu, 2),
        "inferred": len(inference.inferred),
        "dropped_trivial": inference.dropped_trivial,
        "dropped_invalid": inference.dropped_invalid,
        "rss_after_parse_mib": rss_loaded,
        "peak_rss_mib": high_water_mib(),
    }


def compare(
    sizes: list[int],
    engines: list[str],
    owlrl_max: int,
    timeout: int,
    release: Path | None = None,
    base_iri: str = "https://w3id.org/osce-kg/",
) -> list[dict[str, object]]:
    """Each engine on each size of synthetic graph, a child process each (see the module)."""
    iris = Iris(base_iri)
    results: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="bench-reasoning-") as tmp:
        source = release or seed_release(Path(tmp) / "build", SOURCES)
        for size in sizes:
            path = Path(tmp) / f"graph-{size}.nt"
            written = synthesise(size, path, source, iris)
            print(f"# {written:,} triples in {path.name}", file=sys.stderr)
            for engine in engines:
                if engine == "owlrl" and size > owlrl_max:
                    results.append({"engine": engine, "triples": written, "over": owlrl_max})
                    continue
                cmd = [sys.executable, __file__, "--child", engine, str(path)]
                try:
                    done = subprocess.run(  # noqa: S603 - this script, our own arguments
                        cmd, capture_output=True, text=True, timeout=timeout, check=True
                    )
                    row = json.loads(done.stdout.strip().splitlines()[-1])
                except subprocess.TimeoutExpired:
                    row = {"engine": engine, "triples": written, "timeout_s": timeout}
                except subprocess.CalledProcessError as exc:
                    row = {"engine": engine, "triples": written, "error": exc.stderr[-500:]}
                print(json.dumps(row), file=sys.stderr)
                results.append(row)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--owlrl-max", type=int, default=100_000)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per run")
    parser.add_argument(
        "--release", type=Path, help="a gzip N-Quads dump (osce-kg.nq.gz) to copy documents from"
    )
    parser.add_argument("--base-iri", default="https://w3id.org/osce-kg/")
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "NT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], Path(args.child[1]))))
        return

    results = compare(
        args.sizes, args.engines, args.owlrl_max, args.timeout, args.release, args.base_iri
    )
    print(
        json.dumps(
            {"python": platform.python_version(), "cpus": os.cpu_count(), "runs": results},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
