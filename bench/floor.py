"""How close a Python server can come to ``oxigraph serve`` on one workload query: kg-serve
and the bare servers of ``bench.floor_apps`` under gunicorn, each measured against oxigraph.

    .venv/bin/python -m bench.floor --out-dir /tmp/osce-kg-bench/build \\
        [--query q01] [--requests 700] [--runs 3] [--json bench/results/floor-q01-1000.json]

Every server answers from the same build. Oxigraph serves its N-Quads dump, loaded into a
store of its own, as in the query benchmark. kg-serve serves the build's store. The bare
apps make the one pyoxigraph call that kg-serve makes for a query, and nothing else: no
protocol checks, no negotiation, no timeout, no size cap, no metrics, no log. They run under
kg-serve's own worker (``server.worker``) and gunicorn's threaded, sync and ASGI workers, with
2 workers each, like kg-serve (all but the sync ones with kg-serve's 4 threads). gunicorn's
threaded and sync ones run twice: on the build's store, and on oxigraph's own store, so that
the store's layout is told apart from the server.
A last app answers a constant and makes no query: what gunicorn alone costs.

The answers are first checked against oxigraph's. Then each run measures every server paired
with oxigraph alone: one client, a fresh connection a request, the two in turns request by
request (``queries.paired``, the method of the query benchmark at one client). Each median
is given with its ratio to oxigraph's in the same pair.

Finally, in this process, the same pyoxigraph call on the build's store runs in a loop after
pauses of 0-10 ms: what a call costs when the process was idle before it, as a server's is
between two requests.
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
from importlib.metadata import version
from pathlib import Path
from typing import Any

from pyoxigraph import Store

from bench import floor_apps
from bench.queries import (
    BIN,
    HOST,
    Query,
    Server,
    find_query,
    free_port,
    normalise,
    paired,
    positive_int,
    request,
    servers_stopped_on_sigterm,
    spawn,
    start_servers,
    stop_servers,
    wait_ready,
)
from bench.run import machine
from server.worker import SyncThreadsWorker

OURS, OXIGRAPHS = "build", "oxigraph"  # the two stores the bare apps read
CONSTANT = "constant, no query, gthread worker"  # the one server whose answer is not checked
OUR_WORKER = f"{SyncThreadsWorker.__module__}.{SyncThreadsWorker.__qualname__}"  # kg-serve's
BARE = {  # name: (gunicorn worker class, app, store)
    "bare WSGI, kg-serve's worker": (OUR_WORKER, "wsgi_query", OURS),
    "bare WSGI, gthread worker": ("gthread", "wsgi_query", OURS),
    "bare WSGI, sync worker": ("sync", "wsgi_query", OURS),
    "bare ASGI, asgi worker": ("asgi", "asgi_query", OURS),
    "bare WSGI, gthread worker, oxigraph's store": ("gthread", "wsgi_query", OXIGRAPHS),
    "bare WSGI, sync worker, oxigraph's store": ("sync", "wsgi_query", OXIGRAPHS),
    CONSTANT: ("gthread", "wsgi_constant", OURS),
}
WORKERS, THREADS = 2, 4  # kg-serve's defaults (server/cli.py)
PAUSES_MS = (0.0, 0.5, 2.0, 10.0)


def start_bare(stores: dict[str, Path], work: Path, servers: dict[str, Server]) -> None:
    """The bare apps under gunicorn, into ``servers`` as they start."""
    for number, (name, (worker, app, store)) in enumerate(BARE.items()):
        port = free_port()
        log = work / f"bare-{number}.log"
        cmd = [
            str(BIN / "gunicorn"),
            f"--workers={WORKERS}",
            # gunicorn runs its threaded worker for a sync one given more than one thread
            f"--threads={1 if worker == 'sync' else THREADS}",
            f"--worker-class={worker}",
            f"--bind={HOST}:{port}",
            "--no-control-socket",
            f"bench.floor_apps:{app}",
        ]
        env = os.environ | {floor_apps.STORE_ENV: str(stores[store])}
        servers[name] = spawn(name, port, cmd, log, env)
    for name in BARE:
        wait_ready(servers[name], 60)


def check_answers(servers: dict[str, Server], query: Query, timeout: float) -> dict[str, int]:
    """Each server's rows for the query, which must be oxigraph's (the constant aside)."""
    rows: dict[str, list[str]] = {}
    for name, server in servers.items():
        if name == CONSTANT:
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
    servers: dict[str, Server], query: Query, requests: int, timeout: float
) -> dict[str, dict[str, Any]]:
    """One run: every server in turns with oxigraph, its median against oxigraph's."""
    oxigraph = (servers["oxigraph"].port, servers["oxigraph"].path)
    run: dict[str, dict[str, Any]] = {}
    for name, server in servers.items():
        if name == "oxigraph":
            continue
        ports = {"oxigraph": oxigraph, name: (server.port, server.path)}
        paired(ports, query, 30, math.inf, timeout)  # warm-up, not counted
        cells = paired(ports, query, requests, math.inf, timeout)
        ours, theirs = cells[name].summary(), cells["oxigraph"].summary()
        mine, base = ours["median_ms"], theirs["median_ms"]
        run[name] = {
            "median_ms": mine,
            "p99_ms": ours["p99_ms"],
            "requests": ours["requests"],
            "errors": ours["errors"],
            "oxigraph_median_ms": base,
            "oxigraph_errors": theirs["errors"],
            "ratio": round(mine / base, 2) if mine and base else None,
        }
    return run


def after_pauses(store_dir: Path, query: Query, calls: int) -> dict[str, float]:
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


def _versions() -> dict[str, str]:
    found = {name: version(name) for name in ("gunicorn", "pyoxigraph", "oxigraph")}
    cli = subprocess.run(  # noqa: S603 (the venv's oxigraph)
        [str(BIN / "oxigraph"), "--version"], capture_output=True, text=True, check=False
    )
    found["oxigraph serve"] = cli.stdout.strip()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, required=True, help="a kg-build output directory")
    parser.add_argument("--query", default="q01", help="a workload query's name or its prefix")
    parser.add_argument("--requests", type=positive_int, default=700, help="rounds a pair")
    parser.add_argument("--runs", type=positive_int, default=3)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--calls", type=positive_int, default=300, help="in-process calls a pause")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    current = args.out_dir / "current"
    if not (current / "store").is_dir():
        parser.error(f"--out-dir {args.out_dir}: no published store (run kg-build first)")
    try:
        query = find_query(args.query)
    except ValueError as exc:
        parser.error(f"--query {exc}")
    if query.form not in ("SELECT", "ASK"):
        parser.error(
            f"--query {query.name}: a {query.form} query; the bare apps answer SPARQL "
            "JSON, so give a SELECT or ASK query"
        )
    if args.json and not args.json.parent.is_dir():
        parser.error(f"--json {args.json}: no folder {args.json.parent}")
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    servers: dict[str, Server] = {}
    with servers_stopped_on_sigterm(), tempfile.TemporaryDirectory(prefix="osce-kg-floor-") as tmp:
        work = Path(tmp)
        try:
            start_servers(args.out_dir, work, ("kg-serve", "oxigraph"), 600, servers)
            stores = {OURS: (current / "store").resolve(), OXIGRAPHS: work / "oxigraph-store"}
            start_bare(stores, work, servers)
            rows = check_answers(servers, query, args.timeout)
            runs = [measure(servers, query, args.requests, args.timeout) for _ in range(args.runs)]
        finally:
            stop_servers(servers)
    pauses = after_pauses(current / "store", query, args.calls)
    width = max(len(name) for name in runs[0])
    print(
        f"{query.name}, {args.requests} rounds a pair: median ms "
        "(its ratio to oxigraph's median in the pair, of oxigraph's ms)"
    )
    for name in runs[0]:
        cells = "  ".join(
            f"{r[name]['median_ms']} ({r[name]['ratio']}x of {r[name]['oxigraph_median_ms']})"
            for r in runs
        )
        print(f"{name:<{width}}  {cells}")
    print("the pyoxigraph call in process, median ms after a pause of")
    print("  ".join(f"{pause} ms: {ms:.3f}" for pause, ms in pauses.items()))
    failed = [
        f"{name}: {cell['errors']} failed, oxigraph beside it {cell['oxigraph_errors']}"
        for run in runs
        for name, cell in run.items()
        if cell["errors"] or cell["oxigraph_errors"] or cell["ratio"] is None
    ]
    if args.json:
        result: dict[str, Any] = {
            "date": date,
            "machine": machine(),
            "versions": _versions(),
            "command": "python -m bench.floor " + shlex.join(sys.argv[1:]),
            "release": os.readlink(current) if current.is_symlink() else str(current.resolve()),
            "query": query.name,
            "rows": rows,
            "method": "each server paired with oxigraph alone, in turns, one client, a fresh "
            f"connection a request; {args.requests} rounds a pair after 30 not counted",
            "gunicorn": {"workers": WORKERS, "threads (all but sync)": THREADS},
            "requests_per_pair": args.requests,
            "runs": runs,
            "in_process_ms_after_pause_ms": pauses,
            "failed": failed,
        }
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    if failed:
        raise SystemExit("bench.floor: requests failed:\n" + "\n".join(failed))


if __name__ == "__main__":
    main()
