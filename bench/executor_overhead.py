"""Query worker pool: per-query overhead against a direct ``Store.query``, and stop time.

    .venv/bin/python bench/executor_overhead.py [--queries 500] [--runaways 3] [--limit 2]

On a generated store (``--triples`` triples in a temporary directory) it measures, for a small
SELECT serialized as SPARQL JSON:

- the median latency of ``Store.query`` + serialize in this process (direct),
- the median latency of ``QueryExecutor.run`` on a warm pool (the difference is the overhead:
  encoding the job, two pipe hops, the copy of the result),
- the time until a runaway cross product is stopped with a ``--limit`` s timeout, and until
  the replacement worker has answered its first query,
- the latency of a small ASK while a runaway query occupies the other worker.

Machines here are shared and noisy: report medians, the spread and the machine with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad, Store

from bench.floor_apps import sparql_json
from server.executor import QueryExecutor, QueryTimeout

EX = "http://example.org/"
SMALL = "SELECT ?s ?o WHERE { ?s <http://example.org/p> ?o } LIMIT 10"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
JSON = "application/sparql-results+json"


def _make_store(path: Path, triples: int) -> None:
    store = Store(str(path))
    store.bulk_extend(
        Quad(NamedNode(f"{EX}s{i}"), NamedNode(EX + "p"), Literal(f"v{i}"), NamedNode(EX + "g"))
        for i in range(triples)
    )
    store.flush()


def _median_ms(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    return {
        "median_ms": round(statistics.median(ms), 3),
        "p10_ms": round(ms[len(ms) // 10], 3),
        "p90_ms": round(ms[len(ms) * 9 // 10], 3),
    }


def _time(call: Callable[[], object], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=500, help="timed small queries per mode")
    parser.add_argument("--runaways", type=int, default=3, help="runaway queries to stop")
    parser.add_argument("--limit", type=float, default=2.0, help="timeout for runaways, seconds")
    parser.add_argument("--triples", type=int, default=3000)
    parser.add_argument("--start-method", default="forkserver", choices=["forkserver", "spawn"])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="executor-bench-") as tmp:
        path = Path(tmp) / "store"
        _make_store(path, args.triples)
        direct_store = Store.read_only(str(path))

        def direct() -> bytes:
            return sparql_json(direct_store, SMALL)

        pool = QueryExecutor(path, workers=2, start_method=args.start_method)
        started = time.perf_counter()
        pool.start()
        pool.run("ASK {}", JSON)
        cold_start = time.perf_counter() - started

        def pooled() -> bytes:
            return pool.run(SMALL, JSON, use_default_graph_as_union=True).body

        if json.loads(direct()) != json.loads(pooled()):
            raise SystemExit("the pool and the store disagree on the benchmark query")
        _time(direct, 20)  # warm-up
        _time(pooled, 20)
        direct_samples = _time(direct, args.queries)
        pooled_samples = _time(pooled, args.queries)

        stops, ready_again, during = [], [], []
        for _ in range(args.runaways):
            outcome: list[float] = []

            def runaway(outcome: list[float] = outcome) -> None:
                start = time.perf_counter()
                try:
                    pool.run(RUNAWAY, JSON, use_default_graph_as_union=True, timeout=args.limit)
                except QueryTimeout:
                    outcome.append(time.perf_counter() - start)

            caller = threading.Thread(target=runaway)
            caller.start()
            while pool.busy() == 0:
                time.sleep(0.001)
            time.sleep(0.2)  # the runaway is computing in its worker now
            during += _time(lambda: pool.run("ASK { ?s ?p ?o }", JSON), 20)
            caller.join()
            stops += outcome
            start = time.perf_counter()
            for _ in range(2):  # one of the two workers is the replacement
                pool.run("ASK {}", JSON)
            ready_again.append(time.perf_counter() - start)
        pool.close()

    direct_ms = _median_ms(direct_samples)
    pooled_ms = _median_ms(pooled_samples)
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, {platform.python_version()}",
        "start_method": args.start_method,
        "queries": args.queries,
        "pool_cold_start_ms": round(cold_start * 1000, 1),
        "direct": direct_ms,
        "pool": pooled_ms,
        "overhead_median_ms": round(pooled_ms["median_ms"] - direct_ms["median_ms"], 3),
        "runaway_limit_s": args.limit,
        "runaway_stopped_after_s": [round(s, 3) for s in stops],
        "replacement_ready_ms": [round(s * 1000, 1) for s in ready_again],
        "ask_while_runaway_runs": _median_ms(during),
    }
    print(json.dumps(report, indent=2))
    if len(stops) != args.runaways:
        raise SystemExit("a runaway query was not stopped by its timeout")


if __name__ == "__main__":
    main()
