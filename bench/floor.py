"""How close a Python server can come to ``oxigraph serve`` on one workload query: kg-serve,
oxigraph and the bare servers of ``bench.floor_apps`` under gunicorn, measured in turns.

    .venv/bin/python -m bench.floor --out-dir /tmp/osce-kg-bench/build \\
        [--query q01] [--requests 700] [--runs 3] [--json bench/results/floor-1000.json]

Every server answers from the same build: kg-serve and the bare apps from its store,
oxigraph from its N-Quads dump loaded into a store of its own. The bare apps make the one
pyoxigraph call kg-serve makes for the query and nothing else, under gunicorn's threaded,
sync and ASGI workers (2 workers each, like kg-serve); a third answers a constant without
any query: what gunicorn alone costs. Their answers are checked against oxigraph's, then
each run sends the query to all servers in turns (one client, a fresh connection a request,
``queries.paired``), so that they share the machine's drift; each median is given with its
ratio to oxigraph's in the same run.

Then, in this process, the same pyoxigraph call on the store in a loop, after pauses of
0-10 ms: what a call costs when the process was idle before it, as a server's is between
two requests.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyoxigraph import Store

from bench import floor_apps
from bench.queries import (
    BIN,
    HOST,
    ROOT,
    Query,
    Server,
    free_port,
    load_workload,
    normalise,
    paired,
    request,
    start_servers,
    stop_servers,
    wait_ready,
)
from bench.run import machine

BARE = {  # name: (gunicorn worker class, app)
    "bare WSGI, gthread worker": ("gthread", "wsgi_query"),
    "bare WSGI, sync worker": ("sync", "wsgi_query"),
    "bare ASGI, asgi worker": ("asgi", "asgi_query"),
    "constant, no query, gthread worker": ("gthread", "wsgi_constant"),
}


def start_bare(out_dir: Path, work: Path, servers: dict[str, Server]) -> None:
    env = os.environ | {floor_apps.STORE_ENV: str((out_dir / "current" / "store").resolve())}
    for name, (worker, app) in BARE.items():
        port = free_port()
        log = work / f"{app}-{worker}.log"
        cmd = [
            str(BIN / "gunicorn"),
            "--workers=2",
            f"--worker-class={worker}",
            f"--bind={HOST}:{port}",
            "--no-control-socket",
            f"bench.floor_apps:{app}",
        ]
        with log.open("wb") as handle:
            process = subprocess.Popen(  # noqa: S603 (gunicorn from the venv)
                cmd, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT, env=env
            )
        servers[name] = Server(name, port, process, log)
    for name in BARE:
        wait_ready(servers[name], 60)


def check_answers(servers: dict[str, Server], query: Query, timeout: float) -> dict[str, int]:
    """Each server's rows for the query, which must be oxigraph's (the constant aside)."""
    rows: dict[str, list[str]] = {}
    for name, server in servers.items():
        if name.startswith("constant"):
            continue
        status, media_type, body = request(server.port, server.path, query, timeout)
        if status != 200:
            raise SystemExit(f"bench.floor: {name} answered {query.name} with HTTP {status}")
        rows[name] = normalise(query, media_type, body)
    for name, found in rows.items():
        if found != rows["oxigraph"]:
            raise SystemExit(
                f"bench.floor: {name} gave {len(found)} rows for {query.name}, "
                f"oxigraph {len(rows['oxigraph'])}: not the same answer"
            )
    return {name: len(found) for name, found in rows.items()}


def measure(
    servers: dict[str, Server], query: Query, runs: int, requests: int, timeout: float
) -> list[dict[str, dict[str, float | None]]]:
    targets = {"oxigraph": servers["oxigraph"]} | {
        name: server for name, server in servers.items() if name != "oxigraph"
    }
    ports = {name: (server.port, server.path) for name, server in targets.items()}
    paired(ports, query, 30, math.inf, timeout)  # warm-up, not counted
    results = []
    for _ in range(runs):
        cells = paired(ports, query, requests, math.inf, timeout)
        base = cells["oxigraph"].summary()["median_ms"]
        run: dict[str, dict[str, float | None]] = {}
        for name, cell in cells.items():
            summary = cell.summary()
            median = summary["median_ms"]
            run[name] = {
                "median_ms": median,
                "ratio": round(median / base, 2) if median and base else None,
                "errors": summary["errors"],
            }
        results.append(run)
    return results


PAUSES_MS = (0.0, 0.5, 2.0, 10.0)


def after_pauses(store_dir: Path, query: Query, calls: int = 300) -> dict[str, float]:
    """Median ms of the pyoxigraph call (query and SPARQL JSON) after each pause."""
    store = Store.read_only(str(store_dir))
    medians = {}
    for pause in PAUSES_MS:
        took = []
        for _ in range(calls):
            if pause:
                time.sleep(pause / 1000)
            started = time.perf_counter()
            floor_apps.sparql_json(store, query.text)
            took.append(time.perf_counter() - started)
        medians[f"{pause:g}"] = round(statistics.median(took) * 1000, 3)
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, required=True, help="a kg-build output directory")
    parser.add_argument("--query", default="q01", help="a workload query's name or its prefix")
    parser.add_argument("--requests", type=int, default=700, help="rounds a run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--calls", type=int, default=300, help="in-process calls a pause")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    if not (args.out_dir / "current" / "store").is_dir():
        parser.error(f"--out-dir {args.out_dir}: no published store (run kg-build first)")
    found = [q for q in load_workload() if q.name.startswith(args.query)]
    if len(found) != 1:
        names = ", ".join(q.name for q in found) or "none"
        parser.error(f"--query {args.query!r} must name one workload query; it matches {names}")
    query = found[0]
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    servers: dict[str, Server] = {}
    with tempfile.TemporaryDirectory(prefix="osce-kg-floor-") as tmp:
        work = Path(tmp)
        try:
            start_servers(args.out_dir, work, ("kg-serve", "oxigraph"), 600, servers)
            start_bare(args.out_dir, work, servers)
            rows = check_answers(servers, query, args.timeout)
            runs = measure(servers, query, args.runs, args.requests, args.timeout)
        finally:
            stop_servers(servers)
    for run in runs:
        for name, cell in run.items():
            if cell["errors"] or cell["median_ms"] is None:
                raise SystemExit(f"bench.floor: {name}: {cell['errors']} requests failed")
    pauses = after_pauses(args.out_dir / "current" / "store", query, args.calls)
    width = max(len(name) for name in runs[0])
    print(f"{query.name}, {args.requests} rounds a run; median ms (ratio to oxigraph)")
    for name in runs[0]:
        cells = "  ".join(f"{r[name]['median_ms']:.3f} ({r[name]['ratio']:.2f}x)" for r in runs)
        print(f"{name:<{width}}  {cells}")
    print("the pyoxigraph call in process, median ms after a pause of")
    print("  ".join(f"{pause} ms: {ms:.3f}" for pause, ms in pauses.items()))
    if args.json:
        result: dict[str, Any] = {
            "date": date,
            "machine": machine(),
            "command": "python -m bench.floor " + shlex.join(sys.argv[1:]),
            "query": query.name,
            "rows": rows,
            "requests_per_run": args.requests,
            "runs": runs,
            "in_process_ms_after_pause_ms": pauses,
        }
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
