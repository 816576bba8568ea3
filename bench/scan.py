"""The endpoint's safety scan (``server.analysis``) against rdflib's SPARQL parser, per query.

    .venv/bin/python -m bench.scan [--rounds 200] [--json FILE]

For each workload query (``bench/workload``): the median time of ``analyse_query``'s scan with
nothing remembered (every request of a query not seen before pays it), of a remembered answer
(the same text again), and of ``rdflib.plugins.sparql.parser.parseQuery``, the alternative the
scan replaces. The machine is shared and noisy: medians of ``--rounds`` calls (of a tenth as
many for rdflib's parser, a thousand times slower), in one process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from rdflib.plugins.sparql.parser import parseQuery

from bench.queries import load_workload, positive_int
from server import analysis

ENDPOINT = "http://127.0.0.1:5000/sparql"


def median_us(call: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1e6, 1)


def run(rounds: int) -> dict[str, dict[str, float]]:
    return {query.name: measure(query.text, rounds) for query in load_workload()}


def measure(text: str, rounds: int) -> dict[str, float]:
    analysis.analyse_query(text, ENDPOINT)  # remembered from here on
    return {
        "scan_us": median_us(partial(analysis._analysis, text, ENDPOINT, frozenset()), rounds),
        "remembered_us": median_us(partial(analysis.analyse_query, text, ENDPOINT), rounds),
        "rdflib_parse_us": median_us(partial(parseQuery, text), max(1, rounds // 10)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=positive_int, default=200)
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    results = run(args.rounds)
    print(f"{'query':<28} {'scan µs':>9} {'remembered µs':>14} {'rdflib parse µs':>16}")
    for name, row in results.items():
        print(
            f"{name:<28} {row['scan_us']:>9.1f} {row['remembered_us']:>14.1f} "
            f"{row['rdflib_parse_us']:>16.1f}"
        )
    if args.json is not None:
        record: dict[str, Any] = {"rounds": args.rounds, "queries": results}
        args.json.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
