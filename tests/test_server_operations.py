"""Operations: /health, Prometheus /metrics summed over gunicorn workers, the per-query log
line, and kg-serve's configuration from flags, environment and a TOML file."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from kg_builder.pipeline import BuildResult
from server import create_app
from tests.test_end_to_end import free_port

KG_SERVE = str(Path(sys.executable).with_name("kg-serve"))


@pytest.fixture
def client(seed_build: BuildResult) -> FlaskClient:
    app = create_app({"TESTING": True, "KG_OUT_DIR": seed_build.release.root.parent.parent})
    return app.test_client()


def test_health_reports_the_release(client: FlaskClient, seed_build: BuildResult) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["release"] == seed_build.release.root.name
    assert body["built"].startswith("2026-01-01T12:00:00")
    assert body["triples"] > 1000


def test_health_is_503_without_a_release(tmp_path: Path) -> None:
    client = create_app({"TESTING": True, "KG_OUT_DIR": tmp_path}).test_client()
    response = client.get("/health")
    assert response.status_code == 503 and response.get_json()["status"] == "unavailable"


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            head = line.split(" ")[0]
            if head == name or head.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_and_errors(client: FlaskClient) -> None:
    before = client.get("/metrics").get_data(as_text=True)
    # closed, as a server closes what it sent: the fast path counts an answer once it is sent
    client.get("/sparql", query_string={"query": "ASK {}"}).close()
    client.get("/sparql", query_string={"query": "SELEKT"}).close()
    after = client.get("/metrics").get_data(as_text=True)
    name = "osce_kg_http_requests_total"
    ok = {"endpoint": "/sparql", "method": "GET", "status": "200"}
    bad = {"endpoint": "/sparql", "method": "GET", "status": "400"}
    assert metric(after, name, **ok) == metric(before, name, **ok) + 1
    assert metric(after, name, **bad) == metric(before, name, **bad) + 1
    assert metric(after, "osce_kg_http_request_duration_seconds_count", endpoint="/sparql") >= 2
    assert "osce_kg_http_errors_total" in after


@pytest.fixture(scope="module")
def configured_server(
    seed_build: BuildResult, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """kg-serve with its port from a TOML file and its worker count from the environment."""
    port = free_port()
    config = tmp_path_factory.mktemp("config") / "kg-serve.toml"
    out_dir = seed_build.release.root.parent.parent
    config.write_text(f'[kg-serve]\nout-dir = "{out_dir}"\nport = {port}\nworkers = 1\n')
    env = {**os.environ, "KG_SERVE_WORKERS": "3"}  # the environment beats the file
    process = subprocess.Popen(
        [KG_SERVE, "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                requests.get(f"{base}/health", timeout=5)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("kg-serve did not start") from None
                time.sleep(0.1)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=15)
        if process.stderr:
            process.stderr.close()


@pytest.mark.slow
def test_config_file_and_environment(
    configured_server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base, process = configured_server
    assert requests.get(f"{base}/health", timeout=10).json()["status"] == "ok"
    children: list[str] = []
    deadline = time.monotonic() + 30  # the workers boot one after another
    while len(children) < 3 and time.monotonic() < deadline:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        time.sleep(0.2)
    assert len(children) == 3  # KG_SERVE_WORKERS=3 over workers = 1 in the file


@pytest.mark.slow
def test_metrics_add_up_over_workers(
    configured_server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base, _process = configured_server
    name = "osce_kg_http_requests_total"
    labels = {"endpoint": "/health", "method": "GET", "status": "200"}
    before = metric(requests.get(f"{base}/metrics", timeout=10).text, name, **labels)
    for _ in range(30):  # a new connection each time: the requests spread over the workers
        requests.get(f"{base}/health", timeout=10)
    after = metric(requests.get(f"{base}/metrics", timeout=10).text, name, **labels)
    assert after == before + 30


@pytest.mark.parametrize(
    ("content", "message"),
    [("port = [", "not valid TOML"), ("colour = 'red'", "unknown setting(s) colour")],
)
def test_bad_config_file_is_a_usage_error(tmp_path: Path, content: str, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(content)
    done = subprocess.run(
        [KG_SERVE, "--config", str(config)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert message in done.stderr and str(config) in done.stderr and "Traceback" not in done.stderr


RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def _children(pid: int) -> set[int]:
    """The processes ``pid`` started: gunicorn's workers (Linux /proc)."""
    with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
        return {int(child) for child in handle.read().split()}


@pytest.fixture(scope="module")
def short_timeout_server(seed_build: BuildResult) -> Iterator[tuple[str, int]]:
    port = free_port()
    out_dir = seed_build.release.root.parent.parent
    process = subprocess.Popen(
        [KG_SERVE, "--out-dir", str(out_dir), "--port", str(port), "--timeout", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                requests.get(f"{base}/health", timeout=5)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("kg-serve did not start") from None
                time.sleep(0.1)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["GET", "POST"])  # the fast path, and the Flask view
def test_runaway_query_is_stopped_with_503_and_others_still_answer(
    short_timeout_server: tuple[str, int], method: str
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    base, server_pid = short_timeout_server
    deadline = time.monotonic() + 20
    while len(workers := _children(server_pid)) != 2:  # kg-serve's default: two workers
        assert time.monotonic() < deadline, workers
        time.sleep(0.1)
    before = requests.get(f"{base}/metrics", timeout=10).text
    where = "params" if method == "GET" else "data"
    with ThreadPoolExecutor(max_workers=2) as pool:
        slow = pool.submit(
            requests.request, method, f"{base}/sparql", **{where: {"query": RUNAWAY}}, timeout=60
        )
        time.sleep(0.5)  # the runaway is running
        quick = requests.get(f"{base}/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
        assert quick.status_code == 200 and quick.json()["boolean"] is True
        assert not slow.done(), "the fast query was answered while the slow one still ran"
        stopped = slow.result()
    answered = time.monotonic()
    # the 503 the view gives a timeout, with the endpoint's headers, and the connection closed
    assert stopped.status_code == 503
    assert stopped.json()["error"]["title"] == "Query timeout"
    assert stopped.headers["Content-Type"] == "application/json"
    assert stopped.headers["Connection"] == "close"
    assert stopped.headers["Vary"] == "Accept"
    assert stopped.headers["Access-Control-Allow-Origin"] == "*"
    assert stopped.elapsed.total_seconds() < 4  # at the 2 s deadline, not when the query ends
    after = requests.get(f"{base}/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
    assert after.status_code == 200
    # The worker that ran the runaway stopped (so did the query) as soon as it had no other
    # request, well before gunicorn's graceful timeout (7 s here), and gunicorn replaced it.
    while len(workers & _children(server_pid)) != 1:
        assert time.monotonic() < answered + 5, (workers, _children(server_pid))
        time.sleep(0.1)
    while len(_children(server_pid)) != 2:
        assert time.monotonic() < answered + 20, (workers, _children(server_pid))
        time.sleep(0.1)
    metrics = requests.get(f"{base}/metrics", timeout=10).text
    for name, labels in (
        ("osce_kg_query_timeouts_total", {}),
        ("osce_kg_http_errors_total", {"kind": "Query timeout"}),
        ("osce_kg_http_requests_total", {"endpoint": "/sparql", "method": method, "status": "503"}),
    ):
        assert metric(metrics, name, **labels) == metric(before, name, **labels) + 1, name


def _query_log_lines(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, method: str, **kwargs: Any
) -> tuple[int, list[str]]:
    """The status of one request and the query log lines written for it. For a GET answered
    by the fast path the line is written when the server closes the response, after sending it
    (the results are counted then)."""
    caplog.clear()
    with caplog.at_level("INFO", logger="osce_kg.query"):
        response = client.open("/sparql", method=method, **kwargs)
        status = response.status_code
        response.close()
    return status, [r.getMessage() for r in caplog.records if r.name == "osce_kg.query"]


def _digest(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()[:16]


def test_each_query_gets_one_log_line(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    query = "SELECT ?s WHERE { ?s a <https://w3id.org/osce-kg/ontology#ParticipatingState> }"
    status, (line,) = _query_log_lines(
        client,
        caplog,
        "GET",
        query_string={"query": query},
        headers={"Accept": "text/tab-separated-values"},
    )
    assert status == 200
    assert f"query={_digest(query)}" in line
    assert "results=57" in line and "status=200" in line and " ms=" in line
    assert query not in line  # the text itself is not logged


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_json_results_are_counted_in_the_log_line(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, method: str
) -> None:
    query = "SELECT ?s WHERE { ?s a <https://w3id.org/osce-kg/ontology#ParticipatingState> }"
    where = "query_string" if method == "GET" else "data"
    status, (line,) = _query_log_lines(
        client,
        caplog,
        method,
        **{where: {"query": query}},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert status == 200 and "results=57" in line


def test_failed_queries_are_logged_with_their_status(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    for query, status in (
        ("SELECT * WHERE { ?s ?p }", 400),  # the engine's syntax error
        ("SELECT * WHERE { SERVICE <http://example.org/> { ?s ?p ?o } }", 400),  # refused
    ):
        got, (line,) = _query_log_lines(client, caplog, "GET", query_string={"query": query})
        assert got == status
        assert f"query={_digest(query)}" in line and f"status={status}" in line
        assert "results=-" in line


@pytest.mark.parametrize(
    ("method", "kwargs", "logged"),
    [
        ("GET", {"query_string": {"query": "ASK {}"}}, True),  # the fast path
        ("POST", {"data": {"query": "ASK {}"}}, True),  # the Flask view
        ("GET", {"query_string": {"query": "ASK {"}}, True),  # a failure has its line too
        ("GET", {}, False),  # the service description
    ],
)
def test_requests_with_a_query_line_leave_the_access_log(
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    kwargs: dict[str, Any],
    logged: bool,
) -> None:
    from gunicorn import glogging
    from gunicorn.config import Config
    from werkzeug.test import EnvironBuilder

    from server.cli import AccessLogger
    from server.observability import QUERY_LOGGED

    environ = EnvironBuilder("/sparql", method=method, **kwargs).get_environ()
    client.application.wsgi_app(environ, lambda *_: None)
    assert bool(environ.get(QUERY_LOGGED)) is logged
    written: list[object] = []
    monkeypatch.setattr(glogging.Logger, "access", lambda *args: written.append(args))
    AccessLogger(Config()).access(None, None, environ, timedelta(milliseconds=1))
    assert len(written) == (0 if logged else 1)
