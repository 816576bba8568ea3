"""``bench.floor``'s bare servers answer as the endpoint does, and its command names bad input."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from pyoxigraph import NamedNode, Quad, Store

from bench import floor_apps
from bench.queries import load_workload

ROOT = Path(__file__).resolve().parent.parent
QUERY = "SELECT ?p ?o WHERE { <https://w3id.org/osce-kg/state/austria> ?p ?o }"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    location = tmp_path / "store"
    writable = Store(str(location))
    austria = NamedNode("https://w3id.org/osce-kg/state/austria")
    name = NamedNode("https://schema.org/name")
    for graph in ("https://w3id.org/osce-kg/doc/a", "https://w3id.org/osce-kg/doc/b"):
        writable.add(Quad(austria, name, NamedNode(f"{graph}#x"), NamedNode(graph)))
    writable.flush()
    del writable
    monkeypatch.setenv(floor_apps.STORE_ENV, str(location))
    monkeypatch.setattr(floor_apps, "_store", None)
    return location


def _rows(body: bytes) -> list[str]:
    return sorted(b["o"]["value"] for b in json.loads(body)["results"]["bindings"])


def test_the_bare_apps_read_the_union_of_the_named_graphs(store: Path) -> None:
    started: list[Any] = []
    environ = {"QUERY_STRING": urllib.parse.urlencode({"query": QUERY})}
    body = b"".join(floor_apps.wsgi_query(environ, lambda *a: started.append(a)))
    assert started[0][0] == "200 OK"
    assert ("Content-Length", str(len(body))) in started[0][1]
    assert _rows(body) == ["https://w3id.org/osce-kg/doc/a#x", "https://w3id.org/osce-kg/doc/b#x"]

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        raise AssertionError("an HTTP GET needs no body")

    scope = {"type": "http", "query_string": environ["QUERY_STRING"].encode()}
    asyncio.run(floor_apps.asgi_query(scope, receive, send))
    assert sent[0]["status"] == 200 and sent[1]["body"] == body


def test_the_constant_app_makes_no_query(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(floor_apps.STORE_ENV, raising=False)  # no store to open
    started: list[Any] = []
    body = b"".join(floor_apps.wsgi_constant({}, lambda *a: started.append(a)))
    assert json.loads(body) == {"head": {}, "boolean": True}
    assert started[0][0] == "200 OK"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out-dir", "{tmp}"], "no published store (run kg-build first)"),
        (["--out-dir", "{store}", "--query", "q99"], "must name one workload query"),
        (["--out-dir", "{store}", "--query", "q06"], "a DESCRIBE query"),
        (["--out-dir", "{store}", "--runs", "0"], "at least 1"),
        (["--out-dir", "{store}", "--json", "{tmp}/no/such.json"], "no folder"),
    ],
)
def test_floor_names_a_bad_argument(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "built" / "current" / "store").mkdir(parents=True)
    argv = [a.format(tmp=tmp_path, store=tmp_path / "built") for a in args]
    done = subprocess.run(
        [sys.executable, "-m", "bench.floor", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 2
    assert message in done.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["bench.ab", "--server", "ox=7878/query", "--query", "q01", "--requests", "0"],
        ["bench.run", "--engine-sizes", "0", "--doc-only"],
        ["bench.run", "--max-requests", "many", "--doc-only"],
        ["bench.queries", "--out-dir", "build", "--max-requests", "0"],
        ["bench.queries", "--out-dir", "build", "--clients", "1", "0"],
        ["bench.scan", "--rounds", "0"],
    ],
)
def test_the_other_harnesses_refuse_a_count_below_one(argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", *argv], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 2
    assert "give a whole number of at least 1" in done.stderr


def test_the_scan_benchmark_measures_every_workload_query(tmp_path: Path) -> None:
    out = tmp_path / "scan.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.scan", "--rounds", "3", "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    queries = json.loads(out.read_text())["queries"]
    assert sorted(queries) == sorted(q.name for q in load_workload())
    for row in queries.values():
        assert row["scan_us"] > row["remembered_us"] >= 0 and row["rdflib_parse_us"] > 0
