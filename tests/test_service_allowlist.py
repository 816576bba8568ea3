"""SERVICE to an operator's allow-list (``SPARQL_SERVICE_ALLOWLIST``, ``--allow-service``): only
the full IRI, written exactly as listed, passes the check; everything else is refused before the
engine sees it, and a refused SERVICE opens no connection. With the allow-list set, federation
works: against the local store (pyoxigraph asks the endpoint from the query worker), in update
mode, and through ``--endpoint`` (the external store asks it)."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from werkzeug import Request

from server import create_app
from server.analysis import _parsed_info, analyse_query, analyse_update, service_allowlist
from server.cli import main as kg_serve
from server.protocol import ProtocolError, QueryForm
from tests.test_end_to_end import free_port
from tests.test_push import oxigraph_binary
from tests.test_remote_store import _wait_for
from tests.test_server_app import TOKEN, UPDATE, assert_error, bindings, get
from tests.test_server_app import out_dir as out_dir  # the tiny published release (fixture)

ENDPOINT = "http://e/sparql"
REMOTE = "http://remote.example/sparql"
ALLOWED = frozenset({REMOTE})
SPARQL_JSON = "application/sparql-results+json"


def refusal(query: str, services: frozenset[str] = ALLOWED) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        analyse_query(query, ENDPOINT, services)
    assert info.value.status == 400
    return info.value


# --- the check -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        f"SELECT * {{ SERVICE <{REMOTE}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ SERVICE SILENT <{REMOTE}> {{ ?s ?p ?o }} }}",
        f"select * {{ service silent <{REMOTE}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ SeRvIcE <{REMOTE}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ ?s ?p ?o .SERVICE<{REMOTE}>{{ ?s ?p ?o }} }}",
        f"SELECT * {{ SERVICE # a comment\n <{REMOTE}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ SERVICE <{REMOTE}> {{ ?s ?p ?o }} SERVICE SILENT <{REMOTE}> {{ ?o ?p ?s }}}}",
        # an escaped keyword reads as SERVICE: the IRI after it is still written out in full
        rf"SELECT * {{ \u0053ERVICE <{REMOTE}> {{ ?s ?p ?o }} }}",
    ],
)
def test_allowed_endpoint_written_in_full_passes(query: str) -> None:
    assert analyse_query(query, ENDPOINT, ALLOWED).form is QueryForm.SELECT


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("SELECT * { SERVICE <http://other.example/sparql> { ?s ?p ?o } }", "lists"),
        ("select * { service <http://other.example/sparql> { ?s ?p ?o } }", "lists"),
        ("SELECT * { SeRvIcE SiLeNt <http://other.example/sparql> { ?s ?p ?o } }", "lists"),
        (f"SELECT * {{ SERVICE <{REMOTE}/> {{ ?s ?p ?o }} }}", "lists"),  # not the same IRI
        ("SELECT * { SERVICE <HTTP://remote.example/sparql> { ?s ?p ?o } }", "lists"),
        ("SELECT * { SERVICE <http://REMOTE.example/sparql> { ?s ?p ?o } }", "lists"),
        (f"SELECT * {{ SERVICE <{REMOTE}> {{ }} SERVICE <http://x/> {{ }} }}", "lists"),
        ("SELECT * { SERVICE ?where { ?s ?p ?o } }", "variable"),
        ("SELECT * { service silent ?where { ?s ?p ?o } }", "variable"),
        (
            "PREFIX r: <http://remote.example/> SELECT * { SERVICE r:sparql { ?s ?p ?o } }",
            "prefixed name",
        ),
        ("BASE <http://remote.example/> SELECT * { SERVICE <sparql> { ?s ?p ?o } }", "relative"),
        (r"SELECT * { SERVICE <http://remote.example/spar\u0071l> { } }", "escapes"),
        (r"SELECT * { SERVICE <\u0068ttp://remote.example/sparql> { } }", "escapes"),
        (rf"SELECT * {{ SERVICE \u003C{REMOTE}> {{ }} }}", "full iri"),  # the < itself escaped
        (f"SELECT * {{ SERVICE . <{REMOTE}> {{ }} }}", "full iri"),
        ("SELECT * { SERVICE SILENT }", "full iri"),
        ("SELECT * { SERVICE", "full iri"),
        # the text as sent shows a SERVICE that the expanded text hides in a string, and the
        # other way round: both are refused
        (r"SELECT * { ?s ?p \u0022 SERVICE <http://x/> {} \u0022 }", "lists"),
        (r"SELECT * { ?s ?p '\u0027 SERVICE <http://x/> {} ' }", "lists"),
    ],
)
def test_anything_but_the_listed_iri_in_full_is_refused(query: str, why: str) -> None:
    error = refusal(query)
    assert error.title == "Federated query not allowed"
    assert why in error.message.lower()
    assert f"<{REMOTE}>" in error.hint  # what to write instead


def test_empty_allowlist_refuses_as_before() -> None:
    error = refusal(f"SELECT * {{ SERVICE <{REMOTE}> {{ ?s ?p ?o }} }}", frozenset())
    assert error.title == "Federated query disabled"
    assert error.message == (
        f"SERVICE <{REMOTE}> is not allowed: federated queries are disabled on this endpoint."
    )


def test_the_cache_keys_on_the_allowlist() -> None:
    query = f"SELECT * {{ SERVICE <{REMOTE}> {{ ?s ?p ?o }} }} # cache test"
    other = frozenset({"http://other.example/sparql"})
    for _ in range(2):
        assert analyse_query(query, ENDPOINT, ALLOWED).form is QueryForm.SELECT
        refusal(query, frozenset())
        refusal(query, other)
        assert analyse_query(query, ENDPOINT, ALLOWED | other).form is QueryForm.SELECT


def test_rdflib_fallback_applies_the_same_list() -> None:
    assert _parsed_info(f"SELECT * {{ SERVICE <{REMOTE}> {{ }} }}", ENDPOINT, ALLOWED)
    for query in (
        "SELECT * { SERVICE <http://x/> { } }",
        "SELECT * { SERVICE ?s { } }",
        "PREFIX r: <http://remote.example/> SELECT * { SERVICE r:sparql { } }",
    ):
        with pytest.raises(ProtocolError, match="not allowed"):
            _parsed_info(query, ENDPOINT, ALLOWED)
    with pytest.raises(ProtocolError, match="disabled"):
        _parsed_info(f"SELECT * {{ SERVICE <{REMOTE}> {{ }} }}", ENDPOINT)


def test_updates_still_refuse_service() -> None:
    with pytest.raises(ProtocolError, match="SERVICE"):
        analyse_update(f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{REMOTE}> {{ ?s ?p ?o }} }}")


# --- the setting -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, set()),
        ((), set()),
        ("", set()),
        ([REMOTE, "https://q.example/sparql"], {REMOTE, "https://q.example/sparql"}),
        (f"{REMOTE}  https://q.example/sparql,http://[::1]:7878/query", None),
    ],
)
def test_setting_values(value: object, expected: set[str] | None) -> None:
    if expected is None:
        expected = {REMOTE, "https://q.example/sparql", "http://[::1]:7878/query"}
    assert service_allowlist(value) == frozenset(expected)


@pytest.mark.parametrize(
    "value",
    [
        ["sparql"],
        ["/sparql"],
        ["ftp://remote.example/sparql"],
        ["file:///etc/passwd"],
        ["http://"],
        ["http:///sparql"],
        ["http://a b/sparql"],
        ["http://a/<b>"],
        ["http://a/\\u0062"],
        ["http://[::1/sparql"],
        [1],
        42,
    ],
)
def test_setting_refuses_what_is_not_an_absolute_http_iri(value: object) -> None:
    with pytest.raises(ValueError, match="SPARQL_SERVICE_ALLOWLIST"):
        service_allowlist(value)


def test_create_app_checks_the_setting(out_dir: Path) -> None:
    with pytest.raises(ValueError, match="absolute http"):
        create_app({"KG_OUT_DIR": out_dir, "SPARQL_SERVICE_ALLOWLIST": ["localhost:7878"]})
    app = create_app({"KG_OUT_DIR": out_dir})
    assert app.config["SPARQL_SERVICE_ALLOWLIST"] == frozenset()


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--allow-service", "localhost:7878/query"], {}),
        (["--allow-service", REMOTE, "--allow-service", "sparql"], {}),
        ([], {"KG_SERVE_ALLOW_SERVICE": f"{REMOTE} ftp://x/"}),
    ],
)
def test_kg_serve_refuses_a_bad_allowlist_with_exit_2(
    out_dir: Path, args: list[str], env: dict[str, str]
) -> None:
    result = CliRunner().invoke(kg_serve, ["--out-dir", str(out_dir), *args], env=env)
    assert result.exit_code == 2
    assert "Invalid value for '--allow-service'" in result.output
    assert "is not an absolute http(s) IRI" in result.output


def test_kg_serve_passes_the_allowlist_on(
    out_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From flags, the environment (spaces between IRIs) or the TOML file (a list, or one)."""
    seen: list[dict[str, Any]] = []

    class Gunicorn:
        def __init__(self, app_config: dict[str, Any], _options: dict[str, Any]):
            seen.append(app_config)

        def run(self) -> None:
            pass

    monkeypatch.setattr("server.cli.GunicornApp", Gunicorn)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # kg-serve sets it; restored after
    one, many = tmp_path / "one.toml", tmp_path / "many.toml"
    one.write_text(f'allow-service = "{REMOTE}"\n', encoding="utf-8")
    many.write_text(f'allow_service = ["{REMOTE}", "https://q.example/s"]\n', encoding="utf-8")
    unset: dict[str, str | None] = {"KG_SERVE_ALLOW_SERVICE": None}
    for args, env in (
        ([], unset),
        (["--allow-service", REMOTE, "--allow-service", "https://q.example/s"], unset),
        ([], {"KG_SERVE_ALLOW_SERVICE": f"https://q.example/s {REMOTE}"}),
        (["--config", str(one)], unset),
        (["--config", str(many)], unset),
    ):
        result = CliRunner().invoke(kg_serve, ["--out-dir", str(out_dir), *args], env=env)
        assert result.exit_code == 0, result.output
    assert [c["SPARQL_SERVICE_ALLOWLIST"] for c in seen] == [
        [],
        [REMOTE, "https://q.example/s"],  # sorted
        [REMOTE, "https://q.example/s"],
        [REMOTE],
        [REMOTE, "https://q.example/s"],
    ]


# --- federation through the app ------------------------------------------------------------

ROWS = {
    "head": {"vars": ["s", "p", "o"]},
    "results": {
        "bindings": [
            {
                "s": {"type": "uri", "value": "http://remote.example/a"},
                "p": {"type": "uri", "value": "http://remote.example/p"},
                "o": {"type": "literal", "value": "from afar"},
            }
        ]
    },
}
EXPECTED = [{"s": "http://remote.example/a", "p": "http://remote.example/p", "o": "from afar"}]


@pytest.fixture
def remote_endpoint(httpserver: HTTPServer) -> HTTPServer:
    """A SPARQL endpoint as pyoxigraph (and ``oxigraph serve``) calls it for SERVICE: a POST of
    the pattern as ``application/sparql-query``, asking for SPARQL JSON (or XML)."""
    httpserver.expect_request(
        "/sparql", method="POST", headers={"Content-Type": "application/sparql-query"}
    ).respond_with_json(ROWS, content_type=SPARQL_JSON)
    return httpserver


def sent(server: HTTPServer) -> list[Request]:
    return [request for request, _ in server.log]


def test_allowed_service_answers_from_the_local_store(
    out_dir: Path, remote_endpoint: HTTPServer
) -> None:
    url = remote_endpoint.url_for("/sparql")
    client = create_app({"KG_OUT_DIR": out_dir, "SPARQL_SERVICE_ALLOWLIST": [url]}).test_client()
    query = f"SELECT ?s ?p ?o WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"
    assert bindings(get(client, query, SPARQL_JSON)) == EXPECTED
    (request,) = sent(remote_endpoint)
    assert request.method == "POST"
    assert SPARQL_JSON in request.headers["Accept"]
    assert "?s ?p ?o" in request.get_data(as_text=True)


def test_allowed_service_in_update_mode(
    out_dir: Path, tmp_path: Path, remote_endpoint: HTTPServer
) -> None:
    """Queries run in the web process there; updates still refuse SERVICE, listed or not."""
    url = remote_endpoint.url_for("/sparql")
    client = create_app(
        {
            "KG_OUT_DIR": out_dir,
            "KG_STORE_PATH": str(tmp_path / "writable"),
            "SPARQL_UPDATE_TOKEN": TOKEN,
            "SPARQL_SERVICE_ALLOWLIST": [url],
        }
    ).test_client()
    query = f"SELECT ?s ?p ?o WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"
    assert bindings(get(client, query, SPARQL_JSON)) == EXPECTED
    update = f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"
    response = client.post(
        "/sparql", data=update, content_type=UPDATE, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert_error(response, 400, "SERVICE")
    assert len(sent(remote_endpoint)) == 1  # the query's, not the update's


@pytest.fixture
def listener() -> Iterator[tuple[str, list[int]]]:
    """A bare TCP listener on a local port that counts the connections it accepts (and closes
    them at once); its URL and the count."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.05)
    count = [0]
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            count[0] += 1
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/sparql", count
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def test_refused_service_makes_no_connection(
    out_dir: Path, listener: tuple[str, list[int]]
) -> None:
    url, count = listener
    host = url.removesuffix("/sparql")
    refused = [
        f"SELECT * {{ SERVICE SILENT <{url}/other> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ SERVICE SILENT <{url.upper()}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ BIND(<{url}> AS ?e) SERVICE SILENT ?e {{ ?s ?p ?o }} }}",
        f"PREFIX h: <{host}/> SELECT * {{ SERVICE SILENT h:sparql {{ ?s ?p ?o }} }}",
        f"BASE <{host}/> SELECT * {{ SERVICE SILENT <sparql> {{ ?s ?p ?o }} }}",
        rf"SELECT * {{ SERVICE SILENT <{host}/spar\u0071l> {{ ?s ?p ?o }} }}",
    ]
    exact = f"SELECT * {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}"
    for allowlist, queries in (([], [exact, *refused]), ([url], refused)):
        settings = {"KG_OUT_DIR": out_dir, "SPARQL_SERVICE_ALLOWLIST": allowlist}
        client = create_app(settings).test_client()
        for query in queries:
            assert_error(get(client, query), 400, "SERVICE")
    assert count[0] == 0
    # the control: written as listed, the same SERVICE does reach the listener
    client = create_app({"KG_OUT_DIR": out_dir, "SPARQL_SERVICE_ALLOWLIST": [url]}).test_client()
    response = get(client, exact, SPARQL_JSON)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert count[0] >= 1


def test_from_and_load_fetch_nothing(
    out_dir: Path, listener: tuple[str, list[int]], tmp_path: Path
) -> None:
    """FROM and FROM NAMED name graphs of the store and nothing else: a URL or a file there is
    read as an empty graph, which the answer's Warning says, and is neither fetched nor read;
    LOAD is refused, on the read-only endpoint (403) and in update mode (400)."""
    url, count = listener
    secret = tmp_path / "secret.nt"
    secret.write_text('<http://example.org/s> <http://example.org/p> "read from disk" .\n')
    client = create_app({"KG_OUT_DIR": out_dir}).test_client()
    writable = create_app(
        {"KG_OUT_DIR": out_dir, "KG_STORE_PATH": tmp_path / "store", "SPARQL_UPDATE_TOKEN": TOKEN}
    ).test_client()
    for iri in (url, secret.as_uri()):
        for query in (
            f"SELECT * FROM <{iri}> WHERE {{ ?s ?p ?o }}",
            f"SELECT * FROM NAMED <{iri}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
            f"SELECT * WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}",
        ):
            response = get(client, query, SPARQL_JSON)
            assert bindings(response) == [], query
            if "FROM" in query:
                assert f"<{iri}>" in response.headers["Warning"], query
        for load in (f"LOAD <{iri}>", f"LOAD SILENT <{iri}> INTO GRAPH <http://example.org/g>"):
            assert_error(client.post("/sparql", data={"update": load}), 403, "read-only")
            headers = {"Authorization": f"Bearer {TOKEN}"}
            response = writable.post("/sparql", data={"update": load}, headers=headers)
            assert_error(response, 400, "LOAD")
    assert count[0] == 0


# --- through --endpoint: the external store runs the SERVICE ---------------------------------


def _remote_client(tmp_path: Path, store: str, allowlist: list[str]) -> FlaskClient:
    return create_app(
        {
            "TESTING": True,
            "KG_OUT_DIR": tmp_path / "no-build",
            "SPARQL_BACKEND_URL": store,
            "SPARQL_SERVICE_ALLOWLIST": allowlist,
        }
    ).test_client()


def test_endpoint_mode_forwards_only_the_allowed_service(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """A stand-in store records what it is sent: the allowed SERVICE query, nothing else."""
    httpserver.expect_request("/query").respond_with_json(ROWS, content_type=SPARQL_JSON)
    service = "http://remote.example/sparql"
    client = _remote_client(tmp_path, httpserver.url_for("/query"), [service])
    for query in (
        "SELECT * { SERVICE <http://other.example/sparql> { ?s ?p ?o } }",
        "SELECT * { SERVICE ?e { ?s ?p ?o } }",
        "PREFIX r: <http://remote.example/> SELECT * { SERVICE r:sparql { ?s ?p ?o } }",
    ):
        assert_error(client.get("/sparql", query_string={"query": query}), 400, "SERVICE")
    assert httpserver.log == []
    query = f"SELECT ?s ?p ?o WHERE {{ SERVICE <{service}> {{ ?s ?p ?o }} }}"
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": SPARQL_JSON})
    assert bindings(response) == EXPECTED
    ((request, _),) = httpserver.log
    forwarded = request.values.get("query") or request.get_data(as_text=True)
    assert f"SERVICE <{service}>" in forwarded


@pytest.mark.slow
def test_endpoint_mode_with_oxigraph_serve(tmp_path: Path, remote_endpoint: HTTPServer) -> None:
    """A real ``oxigraph serve`` (empty) behind kg-serve runs the allowed SERVICE itself."""
    binary = oxigraph_binary()
    if binary is None:
        pytest.skip("the oxigraph CLI is not installed (pip install 'oxigraph>=0.5', test extra)")
    port = free_port()
    store = subprocess.Popen(
        [binary, "serve", "--location", str(tmp_path / "db"), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        store_url = f"http://127.0.0.1:{port}/query"
        _wait_for(f"{store_url}?query=ASK%7B%7D", store, "oxigraph serve")
        service = remote_endpoint.url_for("/sparql")
        client = _remote_client(tmp_path, store_url, [service])
        query = f"SELECT ?s ?p ?o WHERE {{ SERVICE <{service}> {{ ?s ?p ?o }} }}"
        response = client.get(
            "/sparql", query_string={"query": query}, headers={"Accept": SPARQL_JSON}
        )
        assert bindings(response) == EXPECTED
        assert len(sent(remote_endpoint)) == 1
    finally:
        store.terminate()
        store.wait(timeout=10)
