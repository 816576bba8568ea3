"""An A/B of median latency: SPARQL servers already running on local ports, one workload
query, the servers in turns request by request (fresh connections, ``queries.paired``), so
that they share the machine's drift.

    .venv/bin/python -m bench.ab --server ox=5102/query --server kg=5101/sparql \\
        --query q01 [--requests 600]

Prints each server's median in ms and its ratio to the first server named.
"""

from __future__ import annotations

import argparse
import math

from bench.queries import find_query, paired, positive_int


def _target(spec: str) -> tuple[str, tuple[int, str]]:
    name, _, where = spec.partition("=")
    port, _, path = where.partition("/")
    if not name or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{spec!r}: give NAME=PORT/PATH, e.g. ox=7878/query")
    return name, (int(port), "/" + path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", type=_target, action="append", required=True)
    parser.add_argument("--query", required=True, help="a workload query's name or its prefix")
    parser.add_argument("--requests", type=positive_int, default=600)
    parser.add_argument("--warm-up", type=int, default=20, help="rounds not measured")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    ports = dict(args.server)
    try:
        query = find_query(args.query)
    except ValueError as exc:
        parser.error(f"--query {exc}")
    paired(ports, query, args.warm_up, math.inf, args.timeout)
    cells = paired(ports, query, args.requests, math.inf, args.timeout)
    first = None
    for name, cell in cells.items():
        summary = cell.summary()
        median = summary["median_ms"]
        if cell.errors or median is None:
            parser.exit(1, f"{name}: {cell.errors} of {args.requests} requests failed\n")
        first = first or median
        print(f"{query.name} {name}: {median:.3f} ms, {median / first:.2f}x")


if __name__ == "__main__":
    main()
