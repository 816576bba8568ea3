"""Resident memory of ``kg-serve`` (production mode, default settings) over a built release:
idle, then after every workload query (``bench/workload``) has run ``--rounds`` times, one
client. Memory is summed over the server's process tree (gunicorn and its workers, which run the
queries in their threads).

    .venv/bin/python -m bench.serve_memory --out-dir /tmp/bench/build
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from bench.queries import WORKLOAD, rss_mib

KG_SERVE = Path(sys.executable).parent / "kg-serve"
ACCEPT = "application/sparql-results+json, text/turtle;q=0.9"


def ask(port: int, query: str, timeout: float) -> str:
    url = f"http://127.0.0.1:{port}/sparql?" + urllib.parse.urlencode({"query": query})
    request = urllib.request.Request(url, headers={"Accept": ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
            return str(response.status)
    except urllib.error.HTTPError as exc:
        return str(exc.code)


def measure(out_dir: Path, port: int, rounds: int, timeout: float) -> dict[str, object]:
    server = subprocess.Popen(  # noqa: S603 (the project's own command)
        [str(KG_SERVE), "--out-dir", str(out_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                time.sleep(1)
        idle = rss_mib(server.pid)
        queries: dict[str, list[tuple[str, float]]] = {}  # (HTTP status, seconds) per round
        for _round in range(rounds):
            for path in sorted(WORKLOAD.glob("*.rq")):
                started = time.perf_counter()
                status = ask(port, path.read_text(encoding="utf-8"), timeout)
                seconds = round(time.perf_counter() - started, 2)
                queries.setdefault(path.stem, []).append((status, seconds))
        return {"idle_mib": idle, "after_mib": rss_mib(server.pid), "queries": queries}
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, required=True, help="kg-build's output folder")
    parser.add_argument("--port", type=int, default=5077)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    print(json.dumps(measure(args.out_dir, args.port, args.rounds, args.timeout), indent=1))


if __name__ == "__main__":
    main()
