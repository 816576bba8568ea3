"""Does pySHACL cost per run or per triple? Validate sampled pages one at a time and in runs.

    .venv/bin/python -m bench.shacl_batch --corpus /tmp/c10k/corpus [--every 33] [--count 300]

Builds every ``--every``-th page of the corpus (up to ``--count``) with ``--jobs 1``, keeping
each document graph as the build validated it, then times ``workers.validate_document`` on
each graph alone and on graphs merged in runs of 10, 30 and 100 (the merge copies included;
the single runs are given without and with a copy of the graph, which validation uses up).
A cost per run would show as a lower cost per page in longer runs.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import tempfile
import time
from pathlib import Path

from rdflib import Graph, URIRef

from kg_builder import workers
from kg_builder.cli import main as kg_build

ROOT = Path(__file__).resolve().parent.parent


def _copy(graph: Graph) -> Graph:
    copy = Graph()
    for triple in graph:
        copy.add(triple)
    return copy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--every", type=int, default=33)
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        parser.error(f"--corpus {args.corpus}: not a folder of pages")
    captured: list[tuple[Graph, URIRef, str]] = []
    contexts: list[workers.Context] = []
    validate = workers.validate_document

    def keep(graph: Graph, name: URIRef, label: str, ctx: workers.Context) -> list[object]:
        captured.append((_copy(graph), name, label))
        contexts[:] = [ctx]
        return list(validate(graph, name, label, ctx))

    workers.validate_document = keep  # type: ignore[assignment]
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
    workers.validate_document = validate  # type: ignore[assignment]
    if not captured:
        parser.exit(1, f"shacl_batch: no page of {args.corpus} was built and validated\n")
    ctx = contexts[0]
    gc.collect()
    gc.freeze()
    triples = sum(len(g) for g, _, _ in captured) / len(captured)
    print(f"{len(captured)} pages, {triples:.0f} triples a page")
    started = time.perf_counter()
    copies = [_copy(g) for g, _, _ in captured]
    copying = time.perf_counter() - started
    started = time.perf_counter()
    for copy, (_, name, label) in zip(copies, captured, strict=True):
        validate(copy, name, label, ctx)
    alone = time.perf_counter() - started
    per = 1000 / len(captured)
    print(f"one at a time: {alone * per:.1f} ms a page, {(alone + copying) * per:.1f} with a copy")
    for size in (10, 30, 100):
        started = time.perf_counter()
        for i in range(0, len(captured), size):
            run = captured[i : i + size]
            merged = Graph()
            for graph, _, _ in run:
                for triple in graph:
                    merged.add(triple)
            validate(merged, run[0][1], "merged", ctx)
        print(f"runs of {size}: {(time.perf_counter() - started) * per:.1f} ms a page")


if __name__ == "__main__":
    main()
