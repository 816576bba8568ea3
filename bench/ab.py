"""An A/B of median latency: SPARQL servers already running on local ports, one query, the
servers in turns request by request (fresh connections), so that they share the machine's
drift.

    .venv/bin/python -m bench.ab --server ox=5102/query --server kg=5101/sparql \\
        --query q01 [--requests 600]

Prints each server's median in ms and its ratio to the first server named.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.queries import HOST, load_workload, request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", action="append", required=True, help="NAME=PORT/PATH")
    parser.add_argument("--query", required=True, help="a workload query's name or its prefix")
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--warm-up", type=int, default=20)
    args = parser.parse_args()
    servers: dict[str, tuple[int, str]] = {}
    for spec in args.server:
        name, _, where = spec.partition("=")
        port, _, path = where.partition("/")
        servers[name] = (int(port), "/" + path)
    (query,) = [q for q in load_workload() if q.name.startswith(args.query)]
    times: dict[str, list[float]] = {name: [] for name in servers}
    names = list(servers)
    for turn in range(args.warm_up + args.requests):
        for name in names[turn % len(names) :] + names[: turn % len(names)]:
            port, path = servers[name]
            started = time.perf_counter()
            status, _type, _body = request(port, path, query, 30.0)
            took = time.perf_counter() - started
            if status != 200:
                raise SystemExit(f"{name}: HTTP {status} from {HOST}:{port}{path}")
            if turn >= args.warm_up:
                times[name].append(took)
    medians = {name: statistics.median(t) * 1000 for name, t in times.items()}
    first = next(iter(medians.values()))
    for name, median in medians.items():
        print(f"{query.name} {name}: {median:.3f} ms, {median / first:.2f}x")


if __name__ == "__main__":
    main()
