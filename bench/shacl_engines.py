"""The two SHACL engines on the same pages: time per page and whether the results agree.

    .venv/bin/python -m bench.shacl_engines --corpus /tmp/c10k/corpus [--every 10] [--count 1000]

Builds every ``--every``-th page of the corpus (up to ``--count``) with ``--jobs 1``, keeping
each document graph as the build validated it, then runs ``workers.validate_document`` on
every page with each engine (``shacl``, the default, and ``pyshacl``, the reference), in
turns page by page, and compares their results page by page (focus, shape, path, severity,
message; a path longer than one IRI by its presence only). Prints the median and total time
per engine and the pages whose results differ; exits 1 if any does.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from rdflib import URIRef

from kg_builder import workers
from kg_builder.cli import main as kg_build
from kg_builder.triples import Nodes
from kg_builder.validate import SHACL_ENGINES, Result

ROOT = Path(__file__).resolve().parent.parent


def _key(result: Result) -> tuple[str, ...]:
    path = result.path if result.path.startswith(("http://", "https://")) else bool(result.path)
    return (result.focus, result.shape, str(path), result.severity, result.message)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        parser.error(f"--corpus {args.corpus}: not a folder of pages")
    captured: list[tuple[Nodes, bytes, URIRef, str]] = []
    contexts: list[workers.Context] = []
    validate = workers.validate_document

    def keep(
        nodes: Nodes, graph_nt: bytes, name: URIRef, label: str, ctx: workers.Context
    ) -> list[Result]:
        captured.append((nodes, graph_nt, name, label))
        contexts[:] = [ctx]
        return validate(nodes, graph_nt, name, label, ctx)

    workers.validate_document = keep
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        pages = sorted(args.corpus.iterdir())[args.every - 1 :: args.every][: args.count]
        for page in pages:
            shutil.copy(page, corpus / page.name)
        argv = [str(corpus), "--out-dir", str(Path(tmp) / "build"), "-q", "--jobs", "1"]
        argv += ["--reference-dir", str(ROOT / "data" / "reference")]
        argv += [
            "--ontology",
            str(ROOT / "ontology" / "osce.ttl"),
            "--shapes",
            str(ROOT / "shapes"),
        ]
        kg_build(argv, standalone_mode=False)
    workers.validate_document = validate
    if not captured:
        parser.exit(1, f"shacl_engines: no page of {args.corpus} was built and validated\n")
    contexts_by_engine = {e: replace(contexts[0], shacl_engine=e) for e in SHACL_ENGINES}
    gc.collect()
    gc.freeze()
    triples = sum(nt.count(b"\n") for _, nt, _, _ in captured) / len(captured)
    print(f"{len(captured)} pages, {triples:.0f} triples a page")
    seconds: dict[str, list[float]] = {e: [] for e in SHACL_ENGINES}
    differing = []
    results = 0
    for nodes, graph_nt, name, label in captured:
        found = {}
        for engine, ctx in contexts_by_engine.items():
            started = time.perf_counter()
            found[engine] = sorted(map(_key, validate(nodes, graph_nt, name, label, ctx)))
            seconds[engine].append(time.perf_counter() - started)
        results += len(found["pyshacl"])
        if len({tuple(f) for f in found.values()}) > 1:
            differing.append(label)
    for engine, times in seconds.items():
        print(
            f"{engine}: median {statistics.median(times) * 1000:.2f} ms a page, "
            f"total {sum(times):.1f} s"
        )
    print(f"results (pyshacl): {results}; pages whose results differ: {len(differing)}")
    for label in differing[:20]:
        print(f"  {label}")
    if differing:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
