"""``kg-serve --endpoint URL``: /sparql in front of an external store (a real ``oxigraph serve``
loaded with the seed build's dump), with the local endpoint's checks, limits and errors; a
pytest-httpserver stands in for stores that are slow, down, odd, or must not be asked."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from werkzeug import Request
from werkzeug import Response as WerkzeugResponse

from kg_builder.pipeline import BuildResult
from server import create_app
from tests.test_end_to_end import free_port
from tests.test_push import oxigraph_binary
from tests.test_server_operations import KG_SERVE, metric

OSCE = "https://w3id.org/osce-kg/ontology#"
STATES = f"PREFIX osce: <{OSCE}> SELECT ?s WHERE {{ ?s a osce:ParticipatingState }} ORDER BY ?s"
PERSONS = (Path(__file__).parent / "competency" / "06-persons-posts.rq").read_text()
ASK = f"ASK {{ ?s a <{OSCE}ParticipatingState> }}"
CONSTRUCT = (
    f"CONSTRUCT {{ ?s a <{OSCE}ParticipatingState> }} WHERE {{ ?s a <{OSCE}ParticipatingState> }}"
)
SPARQL_JSON = "application/sparql-results+json"


def _wait_for(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.1)


@pytest.fixture(scope="module")
def oxigraph_query(
    seed_build: BuildResult, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``oxigraph serve`` (union default graph, like kg-serve) over the seed build's N-Quads
    dump, bulk-loaded with ``oxigraph load``; its query endpoint's URL."""
    binary = oxigraph_binary()
    if binary is None:
        pytest.skip("the oxigraph CLI is not installed (pip install 'oxigraph>=0.5', test extra)")
    folder = tmp_path_factory.mktemp("oxigraph")
    subprocess.run(
        [
            binary,
            "load",
            "--location",
            str(folder / "db"),
            "--file",
            str(seed_build.release.nquads_gz),  # oxigraph reads gzip itself
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [
            binary,
            "serve",
            "--location",
            str(folder / "db"),
            "--bind",
            f"127.0.0.1:{port}",
            "--union-default-graph",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/query"
    try:
        _wait_for(f"{url}?query=ASK%7B%7D", server, "oxigraph serve")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _client(tmp_path: Path, url: str, **config: object) -> FlaskClient:
    settings = {
        "TESTING": True,
        "KG_OUT_DIR": tmp_path / "no-build",  # nothing published here: all from the store
        "SPARQL_BACKEND_URL": url,
        **config,
    }
    return create_app(settings).test_client()


@pytest.fixture
def client(tmp_path: Path, oxigraph_query: str) -> FlaskClient:
    return _client(tmp_path, oxigraph_query)


def _direct(url: str, query: str, accept: str) -> requests.Response:
    response = requests.post(url, data={"query": query}, headers={"Accept": accept}, timeout=30)
    assert response.status_code == 200, response.text
    return response


# --- answers equal the store's own ----------------------------------------------------------


@pytest.mark.parametrize("query", [STATES, PERSONS])
@pytest.mark.parametrize("accept", [SPARQL_JSON, "text/csv", "application/sparql-results+xml"])
def test_select_answers_as_the_store_does(
    client: FlaskClient, oxigraph_query: str, query: str, accept: str
) -> None:
    ours = client.post("/sparql", data={"query": query}, headers={"Accept": accept})
    assert ours.status_code == 200, ours.get_data(as_text=True)
    assert ours.mimetype == accept
    theirs = _direct(oxigraph_query, query, accept)
    assert ours.get_data() == theirs.content
    if accept == SPARQL_JSON and query == STATES:
        assert len(json.loads(ours.get_data())["results"]["bindings"]) == 57


def test_ask_and_construct_answer_as_the_store_does(
    client: FlaskClient, oxigraph_query: str
) -> None:
    ask = client.get("/sparql", query_string={"query": ASK}, headers={"Accept": SPARQL_JSON})
    assert ask.status_code == 200 and ask.json == {"head": {}, "boolean": True}
    for accept, fmt in (
        ("text/turtle", ox.RdfFormat.TURTLE),
        ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    ):
        ours = client.get("/sparql", query_string={"query": CONSTRUCT}, headers={"Accept": accept})
        assert ours.status_code == 200 and ours.mimetype == accept
        theirs = _direct(oxigraph_query, CONSTRUCT, accept)
        got = set(ox.parse(ours.get_data(), format=fmt))
        assert got == set(ox.parse(theirs.content, format=fmt)) and len(got) == 57


def test_from_clause_and_protocol_dataset(client: FlaskClient) -> None:
    graph = "https://w3id.org/osce-kg/graph/reference"
    in_graph = client.get(
        "/sparql",
        query_string={"query": f"SELECT (COUNT(*) AS ?n) FROM <{graph}> WHERE {{ ?s ?p ?o }}"},
        headers={"Accept": "text/csv"},
    )
    by_protocol = client.get(
        "/sparql",
        query_string={
            "query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
            "default-graph-uri": graph,
        },
        headers={"Accept": "text/csv"},
    )
    everything = client.get(
        "/sparql",
        query_string={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
        headers={"Accept": "text/csv"},
    )
    assert in_graph.get_data() == by_protocol.get_data()
    assert 0 < int(in_graph.get_data().split()[1]) < int(everything.get_data().split()[1])


def test_log_line_and_metrics(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="osce_kg.query"):
        response = client.get(
            "/sparql",
            query_string={"query": STATES},
            headers={"Accept": "text/tab-separated-values"},
        )
    assert response.status_code == 200
    (record,) = [r for r in caplog.records if r.name == "osce_kg.query"]
    assert "results=57" in record.getMessage() and "status=200" in record.getMessage()
    metrics = client.get("/metrics").get_data(as_text=True)
    assert (
        metric(
            metrics, "osce_kg_http_requests_total", endpoint="/sparql", method="GET", status="200"
        )
        >= 1
    )


def test_entity_page_and_health(client: FlaskClient, oxigraph_query: str) -> None:
    page = client.get("/state/armenia", headers={"Accept": "text/html"})
    assert page.status_code == 200, page.get_data(as_text=True)
    assert "Armenia" in page.get_data(as_text=True)
    turtle = client.get("/state/armenia.ttl")
    assert turtle.status_code == 200 and turtle.mimetype == "text/turtle"
    triples = list(ox.parse(turtle.get_data(), format=ox.RdfFormat.TURTLE))
    assert any(t.subject.value == "https://w3id.org/osce-kg/state/armenia" for t in triples)
    assert client.get("/state/no-such-state").status_code == 404
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json["status"] == "ok" and health.json["store"] == oxigraph_query


# --- what the local endpoint refuses, this one refuses too, before asking the store -----------


@pytest.fixture
def counting_store(httpserver: HTTPServer) -> HTTPServer:
    """A store that answers every query with one SPARQL JSON solution, and counts them."""
    answer = {
        "head": {"vars": ["s"]},
        "results": {"bindings": [{"s": {"type": "uri", "value": "http://example.org/a"}}]},
    }
    httpserver.expect_request("/query").respond_with_json(answer, content_type=SPARQL_JSON)
    return httpserver


def test_service_is_refused_and_the_store_never_asked(
    tmp_path: Path, counting_store: HTTPServer
) -> None:
    client = _client(tmp_path, counting_store.url_for("/query"))
    service = counting_store.url_for("/federated")
    for query in (
        f"SELECT * WHERE {{ SERVICE <{service}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SeRvIcE SILENT <{service}> {{ ?s ?p ?o }} }}",
    ):
        response = client.get("/sparql", query_string={"query": query})
        assert response.status_code == 400
        assert "SERVICE" in response.json["error"]["message"]
    update = client.post("/sparql", data={"update": f"LOAD <{service}>"})
    assert update.status_code == 403
    assert counting_store.log == []  # neither the store nor the SERVICE IRI got a request


def test_dataset_goes_as_protocol_parameters(tmp_path: Path, counting_store: HTTPServer) -> None:
    client = _client(tmp_path, counting_store.url_for("/query"))
    query = "BASE <http://example.org/> SELECT * FROM <g1> FROM NAMED <g2> WHERE { ?s ?p ?o }"
    assert client.get("/sparql", query_string={"query": query}).status_code == 200
    ((sent, _),) = counting_store.log
    assert sent.form.getlist("default-graph-uri") == ["http://example.org/g1"]
    assert sent.form.getlist("named-graph-uri") == ["http://example.org/g2"]
    assert sent.form["query"].startswith(
        "BASE <http://localhost/sparql> BASE <http://example.org/>"
    )


def test_other_formats_are_reserialized(tmp_path: Path, counting_store: HTTPServer) -> None:
    """The store speaks only SPARQL JSON: kg-serve writes the CSV and XML itself."""
    client = _client(tmp_path, counting_store.url_for("/query"))
    csv = client.get(
        "/sparql",
        query_string={"query": "SELECT ?s WHERE { ?s ?p ?o }"},
        headers={"Accept": "text/csv"},
    )
    assert csv.status_code == 200 and csv.get_data() == b"s\r\nhttp://example.org/a\r\n"
    sent = counting_store.log[0][0]
    assert sent.headers["Accept"].startswith("text/csv, application/sparql-results+json;q=0.9")


def test_result_limit_is_413(tmp_path: Path, counting_store: HTTPServer) -> None:
    client = _client(tmp_path, counting_store.url_for("/query"), SPARQL_MAX_RESULT_BYTES=50)
    response = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert response.status_code == 413 and response.json["error"]["title"] == "Result too large"


def test_graph_store_and_dumps_without_a_local_release(
    tmp_path: Path, counting_store: HTTPServer
) -> None:
    client = _client(tmp_path, counting_store.url_for("/query"))
    store = client.get("/store?default")
    assert store.status_code == 501 and "fronts the SPARQL store" in store.json["error"]["message"]
    for path in ("/dumps/", "/.well-known/void"):
        response = client.get(path)
        assert (
            response.status_code == 404 and "no local release" in response.json["error"]["message"]
        )
    assert counting_store.log == []


# --- the store's failures -------------------------------------------------------------------


def test_store_syntax_error_is_400(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s ?p }"})
    assert response.status_code == 400
    error = response.json["error"]
    assert error["message"].startswith(
        "The SPARQL store rejected the query: HTTP 400 Bad Request: "
    )
    assert error["title"] == "Query syntax error"


def test_slow_store_is_503_within_the_timeout(tmp_path: Path, httpserver: HTTPServer) -> None:
    def slow(_request: Request) -> WerkzeugResponse:
        time.sleep(3)
        return WerkzeugResponse("{}", content_type=SPARQL_JSON)

    def trickle(_request: Request) -> WerkzeugResponse:
        def body() -> Iterator[bytes]:
            for _ in range(30):
                yield b" "
                time.sleep(0.1)

        return WerkzeugResponse(body(), content_type=SPARQL_JSON)

    httpserver.expect_request("/slow").respond_with_handler(slow)
    httpserver.expect_request("/trickle").respond_with_handler(trickle)
    for path in ("/slow", "/trickle"):  # late headers; headers at once, then a byte at a time
        client = _client(tmp_path, httpserver.url_for(path), SPARQL_TIMEOUT_SECONDS=1)
        started = time.monotonic()
        response = client.get("/sparql", query_string={"query": "ASK {}"})
        assert time.monotonic() - started < 2
        assert response.status_code == 503
        error = response.json["error"]
        assert error["title"] == "Query timeout"
        assert f"at the SPARQL store {httpserver.url_for(path)}" in error["message"]


def test_store_down_is_502_naming_it(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/query"  # nothing listens there
    client = _client(tmp_path, url)
    response = client.get("/sparql", query_string={"query": "ASK {}"})
    assert response.status_code == 502
    assert response.json["error"]["title"] == "Store unreachable"
    assert url in response.json["error"]["message"]
    health = client.get("/health")
    assert health.status_code == 503 and url in health.json["error"]


@pytest.mark.parametrize(
    ("status", "ours", "title"),
    [(500, 502, "Store failed"), (503, 503, "Store busy"), (404, 502, "Store misconfigured")],
)
def test_store_errors_name_the_store(
    tmp_path: Path, httpserver: HTTPServer, status: int, ours: int, title: str
) -> None:
    httpserver.expect_request("/query").respond_with_data("out of memory", status=status)
    client = _client(tmp_path, httpserver.url_for("/query"))
    response = client.get("/sparql", query_string={"query": "ASK {}"})
    assert response.status_code == ours
    error = response.json["error"]
    assert error["title"] == title
    assert httpserver.url_for("/query") in error["message"] and "out of memory" in error["message"]


def test_update_token_and_endpoint_do_not_go_together(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="read-only"):
        create_app(
            {
                "KG_OUT_DIR": tmp_path,
                "SPARQL_BACKEND_URL": "http://localhost:1/query",
                "SPARQL_UPDATE_TOKEN": "t",
                "KG_STORE_PATH": str(tmp_path),
            }
        )


# --- the real kg-serve ----------------------------------------------------------------------


@pytest.mark.slow
def test_kg_serve_endpoint_fronts_the_store(tmp_path: Path, oxigraph_query: str) -> None:
    port = free_port()
    process = subprocess.Popen(
        [KG_SERVE, "--out-dir", str(tmp_path / "nothing"), "--port", str(port), "--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "KG_SERVE_ENDPOINT": oxigraph_query},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/health", process, "kg-serve")
        assert requests.get(f"{base}/health", timeout=10).json()["status"] == "ok"
        ours = requests.get(
            f"{base}/sparql", params={"query": STATES}, headers={"Accept": "text/csv"}, timeout=30
        )
        assert ours.status_code == 200
        assert ours.content == _direct(oxigraph_query, STATES, "text/csv").content
        refused = requests.post(f"{base}/sparql", data={"update": "CLEAR ALL"}, timeout=30)
        assert refused.status_code == 403
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_endpoint_must_be_a_url(tmp_path: Path) -> None:
    done = subprocess.run(
        [KG_SERVE, "--out-dir", str(tmp_path), "--endpoint", "localhost:7878"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "not an http(s) URL" in done.stderr


def test_entity_page_is_the_local_one(
    client: FlaskClient, seed_build: BuildResult, tmp_path: Path
) -> None:
    local = create_app(
        {"TESTING": True, "KG_OUT_DIR": seed_build.release.root.parent.parent}
    ).test_client()
    for path in ("/state/armenia", "/person/harlem-desir"):
        ours = client.get(path, headers={"Accept": "text/html"})
        theirs = local.get(path, headers={"Accept": "text/html"})
        assert theirs.status_code == 200
        assert ours.get_data(as_text=True) == theirs.get_data(as_text=True)
    assert client.get("/ontology").status_code == 404
