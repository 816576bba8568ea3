"""VoID statistics after a one-document rebuild: ``void.update`` against a full ``statistics``.

    .venv/bin/python -m bench.void_update [--quads 1000000] [--graph-size 1000] [--repeat 5]

Builds a synthetic release store in a temporary directory: ``--quads`` quads in named graphs
of about ``--graph-size`` triples each, shaped like the documents' graphs (a document node,
mentions of entities drawn from a shared pool whose type and label triples many graphs repeat,
blank-node quotes with literal text), and an inferences graph of 6% of that size (592k quads
at 10M in the 10,000-document build). A copy of it (a RocksDB backup, as a new release starts
from the previous one) then gets one document graph's content replaced (a third of its
mentions and all its quotes changed) and 10 inferences added and 10 removed. Timed:

- ``statistics`` of the old store (the previous release's numbers) and of the new one;
- ``update`` from the old numbers, the two stores and the changed graphs (median of
  ``--repeat`` runs), each checked equal to ``statistics`` of the new store: the document
  graph alone (its store changed in that graph only), then the document graph read and the
  inferences given by their difference (``differences``), then both read (``None`` when
  they are past the default limit).

Machines here are shared and noisy: report the machine and the spread with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics as stats
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox

from kg_builder.namespaces import RDF, RDFS
from kg_builder.void import Statistics, statistics, update

EX = "https://example.org/"
TYPE = ox.NamedNode(str(RDF.type))
LABEL = ox.NamedNode(str(RDFS.label))
MENTIONS = ox.NamedNode(EX + "mentions")
QUOTE = ox.NamedNode(EX + "quote")
TEXT = ox.NamedNode(EX + "text")
SPEAKER = ox.NamedNode(EX + "speaker")
DATE = ox.NamedNode(EX + "date")
CLASSES = [ox.NamedNode(f"{EX}{c}") for c in ("Person", "Place", "Organisation", "Event")]
# per mention: the mention, the entity's type and label, and one quote in four (4 triples)
TRIPLES_PER_MENTION = 4


def _graph(number: int, size: int, entities: int, edit: int = 0) -> Iterator[ox.Triple]:
    """The triples of document ``number``; ``edit`` > 0 changes a third of its mentions."""
    rng = random.Random(number)  # noqa: S311 - synthetic data, not secrets
    doc = ox.NamedNode(f"{EX}doc/{number}")
    yield ox.Triple(doc, TYPE, ox.NamedNode(EX + "Document"))
    yield ox.Triple(doc, LABEL, ox.Literal(f"Document {number}"))
    yield ox.Triple(doc, DATE, ox.Literal(f"2025-01-{number % 28 + 1:02d}"))
    for j in range((size - 3) // TRIPLES_PER_MENTION):
        pick = rng.randrange(entities)
        if edit and j % 3 == 0:
            pick = (pick + edit * 7919) % entities
        entity = ox.NamedNode(f"{EX}entity/{pick}")
        yield ox.Triple(doc, MENTIONS, entity)
        yield ox.Triple(entity, TYPE, CLASSES[pick % len(CLASSES)])
        yield ox.Triple(entity, LABEL, ox.Literal(f"Entity {pick}"))
        if j % 4 == 0:
            quote = ox.BlankNode(f"q{number}x{j}x{edit}")
            yield ox.Triple(doc, QUOTE, quote)
            yield ox.Triple(quote, SPEAKER, entity)
            yield ox.Triple(quote, TEXT, ox.Literal(f"Said {j} in {number} ({edit})"))
            yield ox.Triple(quote, TYPE, ox.NamedNode(EX + "Quote"))


def _name(number: int) -> ox.NamedNode:
    return ox.NamedNode(f"{EX}graph/document/{number}")


INFERRED = ox.NamedNode(EX + "graph/inferred")


def _inferred(entities: int, size: int, first: int = 0) -> Iterator[ox.Triple]:
    """Inferences: entities typed with a superclass, then ``related`` links between them."""
    for i in range(first, first + size):
        entity = ox.NamedNode(f"{EX}entity/{i % entities}")
        if i < entities:
            yield ox.Triple(entity, TYPE, ox.NamedNode(EX + "Agent"))
        else:
            other = ox.NamedNode(f"{EX}entity/{i * 7919 % entities}")
            yield ox.Triple(entity, ox.NamedNode(EX + "related"), other)


def _timed(call: Callable[[], Statistics | None], repeat: int) -> tuple[Statistics | None, dict]:
    samples = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        samples.append(time.perf_counter() - start)
    ms = sorted(s * 1000 for s in samples)
    spread = {"median": round(stats.median(ms), 1), "min": round(ms[0], 1), "max": round(ms[-1], 1)}
    return result, spread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quads", type=int, default=1_000_000, help="size of the store")
    parser.add_argument("--graph-size", type=int, default=1000, help="triples per graph")
    parser.add_argument("--repeat", type=int, default=5, help="timed update runs")
    args = parser.parse_args()
    graphs = max(1, args.quads // args.graph_size)
    entities = max(10, args.quads // 20)
    inferences = args.quads * 6 // 100
    with tempfile.TemporaryDirectory(prefix="void-bench-") as tmp:
        started = time.perf_counter()
        before = ox.Store(str(Path(tmp) / "before"))
        before.bulk_extend(
            ox.Quad(t.subject, t.predicate, t.object, _name(n))
            for n in range(graphs)
            for t in _graph(n, args.graph_size, entities)
        )
        before.bulk_extend(
            ox.Quad(t.subject, t.predicate, t.object, INFERRED)
            for t in _inferred(entities, inferences)
        )
        before.flush()
        before.optimize()
        stores = {}
        for variant in ("document", "both"):
            before.backup(str(Path(tmp) / variant))
            stores[variant] = ox.Store(str(Path(tmp) / variant))
        changed = _name(graphs // 2)
        old_quads = len(list(before.quads_for_pattern(None, None, None, changed)))
        for store in stores.values():
            store.remove_graph(changed)
            store.extend(
                ox.Quad(t.subject, t.predicate, t.object, changed)
                for t in _graph(graphs // 2, args.graph_size, entities, edit=1)
            )
        both = stores["both"]
        new_quads = len(list(both.quads_for_pattern(None, None, None, changed)))
        gone = list(_inferred(entities, 10, first=inferences - 10))
        added = list(_inferred(entities, 10, first=inferences))
        for t in gone:
            both.remove(ox.Quad(t.subject, t.predicate, t.object, INFERRED))
        both.extend(ox.Quad(t.subject, t.predicate, t.object, INFERRED) for t in added)
        for store in stores.values():
            store.flush()
        built = time.perf_counter() - started

        t0 = time.perf_counter()
        previous = statistics(before)
        t1 = time.perf_counter()
        full = {variant: statistics(store) for variant, store in stores.items()}
        t2 = time.perf_counter()
        names = [changed.value]
        document, document_ms = _timed(
            lambda: update(previous, before, stores["document"], names), args.repeat
        )
        differences = {INFERRED.value: gone + added}
        given, given_ms = _timed(
            lambda: update(previous, before, both, names, differences=differences), args.repeat
        )
        read, read_ms = _timed(
            lambda: update(previous, before, both, [*names, INFERRED.value]), args.repeat
        )
        if document != full["document"] or given != full["both"]:
            raise SystemExit("update and statistics disagree")
        if read is not None and read != full["both"]:
            raise SystemExit("update and statistics disagree")
        report = {
            "machine": f"{platform.machine()}, {os.cpu_count()} cpus, {platform.python_version()}",
            "pyoxigraph": ox.__version__,
            "quads": len(before),
            "document_graphs": graphs,
            "changed_document_quads": {"before": old_quads, "after": new_quads},
            "inferred_quads": inferences,
            "distinct_triples": previous.triples,
            "build_stores_s": round(built, 1),
            "statistics_before_s": round(t1 - t0, 2),
            "statistics_after_s": round((t2 - t1) / len(stores), 2),
            "update_ms": {
                "one_document": document_ms,
                "one_document_and_inferences_by_difference": given_ms,
                "one_document_and_inferences_read": read_ms if read is not None else None,
            },
            "update_equals_statistics": True,
        }
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
