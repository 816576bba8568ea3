"""The web app through Flask's test client, over a tiny store published as kg-build lays it out."""

from __future__ import annotations

import csv
import gc
import io
import json
import socket
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import rdflib
import requests
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Store, parse, serialize

from kg_builder.layout import CURRENT, RELEASES, Release
from server import create_app
from server.cli import GunicornApp
from server.cli import main as kg_serve

EX = "http://example.org/"
G1 = EX + "graph/doc1"
G2 = EX + "graph/doc2"
STATES = EX + "ParticipatingState"
RDF_TYPE = str(rdflib.RDF.type)
LABEL = str(rdflib.RDFS.label)
SELECT_STATES = f"SELECT ?s ?name WHERE {{ ?s <{LABEL}> ?name }} ORDER BY ?name"
CONSTRUCT_ALL = "CONSTRUCT WHERE { ?s ?p ?o }"
SPARQL_JSON = "application/sparql-results+json"


def _quads() -> list[Quad]:
    def n(iri: str) -> NamedNode:
        return NamedNode(iri)

    return [
        Quad(n(EX + "austria"), n(RDF_TYPE), n(STATES), n(G1)),
        Quad(n(EX + "austria"), n(LABEL), Literal("Austria"), n(G1)),
        Quad(n(EX + "france"), n(RDF_TYPE), n(STATES), n(G2)),
        Quad(n(EX + "france"), n(LABEL), Literal("France"), n(G2)),
    ]


@pytest.fixture(scope="session")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``<out>/releases/r1/{store,dumps}`` and ``<out>/current -> releases/r1``."""
    out = tmp_path_factory.mktemp("build")
    release = Release(out / RELEASES / "r1")
    release.root.mkdir(parents=True)
    store = Store(str(release.store))
    store.extend(_quads())
    store.flush()
    del store
    gc.collect()  # closes the read-write RocksDB instance
    release.dumps.mkdir()
    # plain files, as a release may hold (served as they are)
    serialize(_quads(), str(release.dumps / "osce-kg.nq"), RdfFormat.N_QUADS)
    serialize([q.triple for q in _quads()], str(release.dumps / "osce-kg.ttl"), RdfFormat.TURTLE)
    (out / CURRENT).symlink_to(Path(RELEASES) / "r1")
    return out


@pytest.fixture
def app(out_dir: Path) -> Flask:
    return create_app({"TESTING": True, "KG_OUT_DIR": out_dir})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def get(client: FlaskClient, query: str, accept: str | None = None, **params: Any) -> Any:
    headers = {"Accept": accept} if accept else {}
    return client.get("/sparql", query_string={"query": query, **params}, headers=headers)


def bindings(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == SPARQL_JSON
    doc = json.loads(response.get_data(as_text=True))
    return [{k: v["value"] for k, v in row.items()} for row in doc["results"]["bindings"]]


def names(response: Any) -> list[str]:
    return [row["name"] for row in bindings(response)]


def assert_error(response: Any, status: int, *words: str) -> dict[str, Any]:
    """Every error has the same JSON shape; ``words`` must appear in its message or hint."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = json.loads(response.get_data(as_text=True))["error"]
    assert set(error) == {"status", "title", "message", "hint"}
    assert error["status"] == status
    assert error["title"] and error["message"]
    text = (error["message"] + " " + error["hint"]).lower()
    for word in words:
        assert word.lower() in text
    return error


# ---- the query operation ----------------------------------------------------------------------


def test_query_get_json(client: FlaskClient) -> None:
    response = get(client, SELECT_STATES)
    assert bindings(response) == [
        {"s": EX + "austria", "name": "Austria"},
        {"s": EX + "france", "name": "France"},
    ]


def test_query_post_form(client: FlaskClient) -> None:
    response = client.post("/sparql", data={"query": SELECT_STATES})
    assert names(response) == ["Austria", "France"]


def test_query_post_direct(client: FlaskClient) -> None:
    response = client.post(
        "/sparql",
        data=SELECT_STATES.encode(),
        content_type="application/sparql-query; charset=utf-8",
    )
    assert names(response) == ["Austria", "France"]


def test_ask_query(client: FlaskClient) -> None:
    response = get(client, f"ASK {{ ?s a <{STATES}> }}")
    assert json.loads(response.get_data(as_text=True))["boolean"] is True


def test_query_in_url_and_body_400(client: FlaskClient) -> None:
    response = client.post("/sparql?query=ASK%7B%7D", data={"query": SELECT_STATES})
    assert_error(response, 400, "twice")


def test_query_twice_in_url_400(client: FlaskClient) -> None:
    response = client.get("/sparql?query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D")
    assert_error(response, 400, "2 query parameters")


def test_query_and_update_400(client: FlaskClient) -> None:
    response = client.post("/sparql", data={"query": SELECT_STATES, "update": "CLEAR ALL"})
    assert_error(response, 400, "both a query and an update")


def test_update_refused(client: FlaskClient) -> None:
    update = f"INSERT DATA {{ <{EX}x> <{EX}p> 1 }}"
    assert_error(client.post("/sparql", data={"update": update}), 403, "read-only")
    direct = client.post("/sparql", data=update, content_type="application/sparql-update")
    assert_error(direct, 403, "read-only")
    assert names(get(client, SELECT_STATES)) == ["Austria", "France"]


def test_unsupported_content_type_415(client: FlaskClient) -> None:
    response = client.post("/sparql", data=SELECT_STATES, content_type="text/plain")
    assert_error(response, 415, "application/sparql-query")


def test_non_utf8_body_415(client: FlaskClient) -> None:
    response = client.post(
        "/sparql",
        data="ASK {}".encode("utf-16"),
        content_type="application/sparql-query; charset=UTF-16",
    )
    assert_error(response, 415, "UTF-8")


def test_method_not_allowed_405(client: FlaskClient) -> None:
    response = client.put("/sparql?query=ASK%7B%7D")
    assert_error(response, 405)
    assert set(response.allow) == {"GET", "POST", "HEAD", "OPTIONS"}


def test_query_missing_400(client: FlaskClient) -> None:
    assert_error(client.post("/sparql", data={"default-graph-uri": G1}), 400, "no query")


def test_query_too_large_413(out_dir: Path) -> None:
    client = create_app({"KG_OUT_DIR": out_dir, "SPARQL_MAX_QUERY_BYTES": 100}).test_client()
    query = SELECT_STATES + " #" + "x" * 100
    assert_error(client.post("/sparql", data={"query": query}), 413, "limit is 100")
    huge = client.post("/sparql", data="#" * 10_000, content_type="application/sparql-query")
    assert_error(huge, 413)  # refused by MAX_CONTENT_LENGTH before the body is read


def test_syntax_error_400_message(client: FlaskClient) -> None:
    error = assert_error(get(client, "SELEC ?s WHERE { ?s ?p ?o }"), 400, "SELEC", "line 1")
    assert error["title"] == "Query syntax error"


def test_engine_syntax_error_400_says_where(client: FlaskClient) -> None:
    """The lexical check passes it, the engine refuses it: a 400 with rdflib's line and column."""
    error = assert_error(get(client, "SELECT * WHERE {\n  ?s ?p \n}"), 400, "line 2")
    assert error["title"] == "Query syntax error"


def test_deep_nesting_400_not_a_dead_worker(client: FlaskClient) -> None:
    query = "ASK " + "{" * 5000 + "}" * 5000
    assert_error(get(client, query), 400, "nested too deeply")


def test_undeclared_prefix_400(client: FlaskClient) -> None:
    assert_error(get(client, "SELECT * { ?s ex:p ?o }"), 400, "'ex:'", "PREFIX ex:")


def test_service_refused(client: FlaskClient) -> None:
    query = "SELECT * { ?s ?p ?o SERVICE <http://localhost:1/sparql> { ?s ?p ?o } }"
    error = assert_error(get(client, query), 400, "SERVICE <http://localhost:1/sparql>")
    assert error["title"] == "Federated query disabled"


def test_service_escaped_refused(client: FlaskClient) -> None:
    query = r"SELECT * { \u0053ERVICE <http://localhost:1/sparql> { ?s ?p ?o } }"
    assert_error(get(client, query), 400, "federated")


def test_service_in_string_literal_allowed(client: FlaskClient) -> None:
    query = f'SELECT ?name WHERE {{ ?s <{LABEL}> ?name FILTER(?name != "SERVICE <x> {{ }}") }}'
    assert sorted(names(get(client, query))) == ["Austria", "France"]


def test_query_timeout_503(out_dir: Path) -> None:
    client = create_app({"KG_OUT_DIR": out_dir, "SPARQL_TIMEOUT_SECONDS": 0}).test_client()
    assert_error(get(client, SELECT_STATES), 503, "longer than 0 s", "LIMIT")


# ---- content negotiation ----------------------------------------------------------------------


def test_accept_csv(client: FlaskClient) -> None:
    response = get(client, SELECT_STATES, "text/csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["name"] for r in rows] == ["Austria", "France"]
    assert rows[0]["s"] == EX + "austria"


def test_accept_tsv(client: FlaskClient) -> None:
    response = get(client, SELECT_STATES, "text/tab-separated-values")
    assert response.mimetype == "text/tab-separated-values"
    text = io.StringIO(response.get_data(as_text=True))
    rows = list(csv.reader(text, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert rows[0] == ["?s", "?name"]
    assert rows[1] == [f"<{EX}austria>", '"Austria"']


def test_accept_xml(client: FlaskClient) -> None:
    response = get(client, SELECT_STATES, "application/sparql-results+xml")
    assert response.mimetype == "application/sparql-results+xml"
    result = rdflib.query.Result.parse(io.BytesIO(response.data), format="xml")
    assert sorted(str(row.name) for row in result) == ["Austria", "France"]  # type: ignore[union-attr]


def test_accept_application_json_alias(client: FlaskClient) -> None:
    assert names(get(client, SELECT_STATES, "application/json")) == ["Austria", "France"]


def test_construct_turtle(client: FlaskClient) -> None:
    response = get(client, CONSTRUCT_ALL)
    assert response.status_code == 200
    assert response.mimetype == "text/turtle"
    graph = rdflib.Graph().parse(data=response.get_data(as_text=True), format="turtle")
    assert len(graph) == 4
    assert (rdflib.URIRef(EX + "france"), rdflib.RDFS.label, rdflib.Literal("France")) in graph


def test_construct_ntriples(client: FlaskClient) -> None:
    response = get(client, CONSTRUCT_ALL, "application/n-triples")
    assert response.mimetype == "application/n-triples"
    graph = rdflib.Graph().parse(data=response.get_data(as_text=True), format="nt")
    assert len(graph) == 4


@pytest.mark.parametrize(
    ("accept", "syntax"),
    [
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("application/trig", "trig"),
        ("application/n-quads", "nquads"),
    ],
)
def test_construct_in_every_rdf_format(client: FlaskClient, accept: str, syntax: str) -> None:
    response = get(client, CONSTRUCT_ALL, accept)
    assert response.status_code == 200 and response.mimetype == accept
    data = response.get_data(as_text=True)
    graph = rdflib.Dataset().parse(data=data, format=syntax)
    triples = {(s, p, o) for s, p, o, _g in graph.quads()}
    assert len(triples) == 4
    assert (rdflib.URIRef(EX + "france"), rdflib.RDFS.label, rdflib.Literal("France")) in triples


def test_describe_turtle(client: FlaskClient) -> None:
    response = get(client, f"DESCRIBE <{EX}austria>")
    graph = rdflib.Graph().parse(data=response.get_data(as_text=True), format="turtle")
    assert set(graph.subjects()) == {rdflib.URIRef(EX + "austria")}


def test_unsupported_accept_406(client: FlaskClient) -> None:
    assert_error(get(client, SELECT_STATES, "text/turtle"), 406, "format=json")
    assert_error(get(client, CONSTRUCT_ALL, "text/csv"), 406, "text/turtle")
    assert_error(get(client, SELECT_STATES, "application/sparql-results+json;q=0"), 406)


def test_q_values(client: FlaskClient) -> None:
    accept = "application/sparql-results+json;q=0.5, text/csv;q=0.9, */*;q=0.1"
    assert get(client, SELECT_STATES, accept).mimetype == "text/csv"
    accept = "text/*;q=0.8, text/csv;q=0.2"  # the more specific range wins for text/csv
    assert get(client, SELECT_STATES, accept).mimetype == "text/tab-separated-values"
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # a browser
    assert get(client, SELECT_STATES, accept).mimetype == SPARQL_JSON
    assert get(client, CONSTRUCT_ALL, accept).mimetype == "text/turtle"


def test_format_param(client: FlaskClient) -> None:
    assert get(client, SELECT_STATES, SPARQL_JSON, format="csv").mimetype == "text/csv"
    assert get(client, SELECT_STATES, format="tsv").mimetype == "text/tab-separated-values"
    assert get(client, SELECT_STATES, format="xml").mimetype == "application/sparql-results+xml"
    assert get(client, CONSTRUCT_ALL, format="nt").mimetype == "application/n-triples"
    assert get(client, CONSTRUCT_ALL, format="turtle").mimetype == "text/turtle"
    assert_error(get(client, CONSTRUCT_ALL, format="csv"), 406, "format=ttl")
    posted = client.post("/sparql", data={"query": SELECT_STATES, "format": "csv"})
    assert posted.mimetype == "text/csv"


def test_vary_accept(client: FlaskClient) -> None:
    assert "Accept" in get(client, SELECT_STATES).vary
    assert "Accept" in get(client, "SELEC").vary
    assert "Accept" in client.get("/sparql").vary


# ---- the dataset ------------------------------------------------------------------------------


def test_default_graph_is_union(client: FlaskClient) -> None:
    assert names(get(client, SELECT_STATES)) == ["Austria", "France"]


def test_default_graph_uri_param(client: FlaskClient) -> None:
    assert names(get(client, SELECT_STATES, **{"default-graph-uri": G2})) == ["France"]
    posted = client.post("/sparql", data={"query": SELECT_STATES, "default-graph-uri": G1})
    assert names(posted) == ["Austria"]


def test_named_graph_uri_param(client: FlaskClient) -> None:
    query = "SELECT ?g ?name WHERE { GRAPH ?g { ?s ?p ?name FILTER isLiteral(?name) } }"
    response = get(client, query, **{"named-graph-uri": G1})
    assert bindings(response) == [{"g": G1, "name": "Austria"}]
    # with only named graphs given, the default graph is empty
    assert names(get(client, SELECT_STATES, **{"named-graph-uri": G1})) == []


def test_protocol_dataset_overrides_from(client: FlaskClient) -> None:
    query = f"SELECT ?name FROM <{G1}> WHERE {{ ?s <{LABEL}> ?name }}"
    assert names(get(client, query)) == ["Austria"]
    assert names(get(client, query, **{"default-graph-uri": G2})) == ["France"]


def test_from_named(client: FlaskClient) -> None:
    query = f"SELECT ?g FROM NAMED <{G2}> WHERE {{ GRAPH ?g {{ }} }}"
    assert [row["g"] for row in bindings(get(client, query))] == [G2]


def test_unknown_graph_empty_with_warning(client: FlaskClient) -> None:
    response = get(client, SELECT_STATES, **{"default-graph-uri": EX + "nope"})
    assert response.status_code == 200
    assert bindings(response) == []
    assert f"<{EX}nope>" in response.headers["Warning"]
    assert response.headers["Warning"].startswith('299 osce-kg "')
    response = get(client, f"SELECT * FROM <{EX}nope> FROM <{G1}> WHERE {{ ?s ?p ?o }}")
    assert response.status_code == 200
    assert len(bindings(response)) == 2
    assert response.headers.getlist("Warning") == [
        f'299 osce-kg "There is no graph <{EX}nope> in this store; it was read as empty."'
    ]


def test_known_graphs_no_warning(client: FlaskClient) -> None:
    assert "Warning" not in get(client, SELECT_STATES, **{"default-graph-uri": G1}).headers


def test_store_path_setting(out_dir: Path, tmp_path: Path) -> None:
    app = create_app(
        {"KG_OUT_DIR": str(tmp_path / "none"), "KG_STORE_PATH": str(out_dir / CURRENT / "store")}
    )
    response = get(app.test_client(), SELECT_STATES)
    assert [row["name"] for row in bindings(response)] == ["Austria", "France"]
    missing = create_app({"KG_OUT_DIR": str(out_dir), "KG_STORE_PATH": str(tmp_path / "x")})
    assert_error(get(missing.test_client(), SELECT_STATES), 503, "KG_STORE_PATH")


def test_own_default_graph_setting(out_dir: Path) -> None:
    app = create_app({"KG_OUT_DIR": str(out_dir), "SPARQL_UNION_DEFAULT_GRAPH": False})
    assert bindings(get(app.test_client(), SELECT_STATES)) == []  # all data is in named graphs


def test_service_description(client: FlaskClient) -> None:
    response = client.get("/sparql")
    assert response.mimetype == "text/turtle"
    graph = rdflib.Graph().parse(data=response.get_data(as_text=True), format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert (None, sd.endpoint, rdflib.URIRef("http://localhost/sparql")) in graph
    assert (None, sd.feature, sd.UnionDefaultGraph) in graph


def test_no_release_503(tmp_path: Path) -> None:
    client = create_app({"KG_OUT_DIR": tmp_path}).test_client()
    assert_error(get(client, SELECT_STATES), 503, "kg-build")
    assert_error(client.get("/dumps/"), 503, "kg-build")


# ---- dumps and the page -----------------------------------------------------------------------


def test_dumps_listing(client: FlaskClient, out_dir: Path) -> None:
    response = client.get("/dumps/")
    assert response.mimetype == "application/json"
    listing = json.loads(response.get_data(as_text=True))
    assert listing["release"] == "r1"
    files = {f["name"]: f for f in listing["dumps"]}
    assert set(files) == {"osce-kg.nq", "osce-kg.ttl"}
    ttl = files["osce-kg.ttl"]
    assert ttl["media_type"] == "text/turtle"
    assert ttl["url"] == "http://localhost/dumps/osce-kg.ttl"
    assert ttl["bytes"] == (out_dir / "current" / "dumps" / "osce-kg.ttl").stat().st_size
    html = client.get("/dumps/", headers={"Accept": "text/html"})
    assert html.mimetype == "text/html"
    assert 'href="http://localhost/dumps/osce-kg.nq"' in html.get_data(as_text=True)


def test_dump_download_etag_304(client: FlaskClient) -> None:
    with client.get("/dumps/osce-kg.nq") as response:
        assert response.status_code == 200
        assert response.mimetype == "application/n-quads"
        quads = list(parse(response.data, RdfFormat.N_QUADS))
        etag = response.headers["ETag"]
    assert set(quads) == set(_quads())
    with client.get("/dumps/osce-kg.nq", headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304
        assert again.data == b""


def test_dump_outside_folder_404(client: FlaskClient) -> None:
    assert_error(client.get("/dumps/..%2Fstore%2FCURRENT"), 404)
    assert_error(client.get("/dumps/missing.ttl"), 404)


def test_index_page_form(client: FlaskClient) -> None:
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<form method="get" action="/sparql">' in page
    assert '<textarea name="query"' in page
    assert "osce:ParticipatingState" in page
    assert "&lt;https://w3id.org/osce-kg/ontology#&gt;" in page  # escaped, not markup


# ---- configuration and command line -----------------------------------------------------------


def test_config_from_env(monkeypatch: pytest.MonkeyPatch, out_dir: Path) -> None:
    monkeypatch.setenv("FLASK_KG_OUT_DIR", str(out_dir))
    monkeypatch.setenv("FLASK_SPARQL_MAX_QUERY_BYTES", "1234")
    app = create_app()
    assert app.config["KG_OUT_DIR"] == out_dir
    assert app.config["SPARQL_MAX_QUERY_BYTES"] == 1234
    assert create_app({"SPARQL_MAX_QUERY_BYTES": 99}).config["SPARQL_MAX_QUERY_BYTES"] == 99


def test_kg_serve_help() -> None:
    (script,) = entry_points(group="console_scripts", name="kg-serve")
    result = CliRunner().invoke(script.load(), ["--help"])
    assert result.exit_code == 0
    for option in ("--out-dir", "--host", "--port", "--workers", "--timeout"):
        assert option in result.output


def test_kg_serve_no_release_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(kg_serve, ["--out-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output == (f"kg-serve: {tmp_path}: no published graph — run 'kg-build' first\n")


def test_kg_serve_gunicorn_config(out_dir: Path) -> None:
    server = GunicornApp({"KG_OUT_DIR": str(out_dir)}, {"bind": "127.0.0.1:0", "workers": 3})
    assert server.cfg.workers == 3
    assert server.cfg.bind == ["127.0.0.1:0"]
    app = server.load()
    assert isinstance(app, Flask)
    assert app.config["KG_OUT_DIR"] == out_dir


@pytest.mark.slow
def test_kg_serve_end_to_end(out_dir: Path) -> None:
    """gunicorn forks workers that each open the store read-only and answer queries."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = Path(sys.executable).with_name("kg-serve")
    process = subprocess.Popen(
        [str(script), "--out-dir", str(out_dir), "--port", str(port), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}/sparql"
        deadline = time.monotonic() + 20
        while True:
            try:
                response = requests.post(
                    url, data={"query": SELECT_STATES}, headers={"Accept": "text/csv"}, timeout=5
                )
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "kg-serve did not start"
                time.sleep(0.1)
        assert response.status_code == 200
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [r["name"] for r in rows] == ["Austria", "France"]
    finally:
        process.terminate()
        try:  # gunicorn's graceful stop; slower on a loaded machine (over 10 s seen once)
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError("kg-serve did not stop within 30 s of SIGTERM") from None
        finally:
            if process.stderr:
                process.stderr.close()


# ---- update mode (off by default) -----------------------------------------------------------

TOKEN = "secret-test-token"  # noqa: S105 - a test app's token
UPDATE = "application/sparql-update"


@pytest.fixture
def update_client(out_dir: Path, tmp_path: Path) -> FlaskClient:
    app = create_app(
        {
            "KG_OUT_DIR": str(out_dir),
            "KG_STORE_PATH": str(tmp_path / "writable"),
            "SPARQL_UPDATE_TOKEN": TOKEN,
        }
    )
    return app.test_client()


def post_update(client: FlaskClient, update: str, token: str | None = TOKEN, **params: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(
        "/sparql", data=update, content_type=UPDATE, headers=headers, query_string=params
    )


def test_update_mode_runs_updates_with_token(update_client: FlaskClient) -> None:
    response = post_update(
        update_client, f'INSERT DATA {{ GRAPH <{G1}> {{ <{EX}x> <{LABEL}> "X" }} }}'
    )
    assert response.status_code == 204, response.get_data(as_text=True)
    assert names(get(update_client, SELECT_STATES)) == ["X"]


def test_update_mode_without_token_401(update_client: FlaskClient) -> None:
    response = post_update(update_client, "CLEAR ALL", token=None)
    assert_error(response, 401, "authorization: bearer")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_update_mode_wrong_token_403(update_client: FlaskClient) -> None:
    wrong = "guess"
    assert_error(post_update(update_client, "CLEAR ALL", token=wrong), 403, "token")


def test_update_mode_load_refused(update_client: FlaskClient) -> None:
    assert_error(post_update(update_client, "LOAD <file:///etc/passwd>"), 400, "load")


def test_update_mode_failure_400_names_silent(update_client: FlaskClient) -> None:
    assert_error(post_update(update_client, f"DROP GRAPH <{EX}absent>"), 400, "silent")


def test_update_mode_using_graph_uri(update_client: FlaskClient) -> None:
    post_update(update_client, f'INSERT DATA {{ GRAPH <{G1}> {{ <{EX}a> <{LABEL}> "A" }} }}')
    copy = f"INSERT {{ GRAPH <{G2}> {{ ?s <{LABEL}> ?n }} }} WHERE {{ ?s <{LABEL}> ?n }}"
    assert post_update(update_client, copy, **{"using-graph-uri": G1}).status_code == 204
    assert names(get(update_client, SELECT_STATES, **{"default-graph-uri": G2})) == ["A"]
    conflict = f"WITH <{G1}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}"
    assert_error(post_update(update_client, conflict, **{"using-graph-uri": G1}), 400, "twice")


def test_update_mode_service_description(update_client: FlaskClient) -> None:
    text = update_client.get("/sparql", headers={"Accept": "application/n-triples"}).get_data(
        as_text=True
    )
    assert "SPARQL11Update" in text


def test_update_mode_needs_its_own_store(out_dir: Path) -> None:
    with pytest.raises(ValueError, match="KG_STORE_PATH"):
        create_app({"KG_OUT_DIR": str(out_dir), "SPARQL_UPDATE_TOKEN": TOKEN})


def test_read_only_by_default_even_with_store_path(out_dir: Path) -> None:
    app = create_app(
        {"KG_OUT_DIR": str(out_dir), "KG_STORE_PATH": str(out_dir / CURRENT / "store")}
    )
    assert_error(post_update(app.test_client(), "CLEAR ALL"), 403, "read-only")


def test_unknown_function_400_names_it(client: FlaskClient) -> None:
    """Regression: an extension function pyoxigraph does not know answered 500."""
    query = "PREFIX f: <http://example.org/fn#> SELECT (f:shout(1) AS ?x) {}"
    assert_error(get(client, query), 400, "http://example.org/fn#shout", "built-in functions")
