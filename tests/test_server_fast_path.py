"""``server.sparql.QueryFastPath``: GET /sparql answered without Flask's request machinery,
exactly as the Flask view answers it."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask, Response
from werkzeug.test import Client, EnvironBuilder, TestResponse

from kg_builder.pipeline import BuildResult
from server import create_app, sparql
from server.sparql import QueryFastPath

_BLANK = re.compile(rb"_:[A-Za-z0-9]+")  # blank node labels differ from answer to answer
OSCE = "https://w3id.org/osce-kg/ontology#"
STATES = f"SELECT ?s WHERE {{ ?s a <{OSCE}ParticipatingState> }} ORDER BY ?s"
INFERRED = "https://w3id.org/osce-kg/graph/inferred"

# (query parameters, headers): successes, and failures of every stage the fast path runs
REQUESTS: list[tuple[dict[str, Any], dict[str, str]]] = [
    ({"query": STATES}, {}),
    ({"query": STATES}, {"Accept": "text/csv"}),
    ({"query": STATES}, {"Accept": "text/tab-separated-values;q=0.9, application/json;q=0.2"}),
    ({"query": STATES, "format": "xml"}, {}),
    ({"query": "ASK { ?s ?p ?o }"}, {"Accept": "application/sparql-results+xml"}),
    ({"query": "CONSTRUCT WHERE { ?s a ?t } LIMIT 5"}, {"Accept": "application/n-triples"}),
    ({"query": "DESCRIBE <https://w3id.org/osce-kg/state/france>"}, {}),
    ({"query": STATES, "default-graph-uri": INFERRED}, {}),
    ({"query": STATES, "default-graph-uri": "http://example.org/nope"}, {}),  # Warning header
    ({"query": f"SELECT * FROM <{INFERRED}> WHERE {{ ?s ?p ?o }} LIMIT 3"}, {}),
    ({"query": "BASE <http://example.org/> SELECT * WHERE { <a> ?p ?o }"}, {}),
    ({"query": 'SELECT (IRI("rel") AS ?i) {}'}, {}),  # the base IRI is the endpoint's URL
    ({"query": 'SELECT (IRI("rel") AS ?i) {}'}, {"Host": "sparql.example.org:8080"}),
    ({"query": STATES, "format": "ttl"}, {}),  # 406: a graph format for solutions
    ({"query": STATES}, {"Accept": "image/png"}),  # 406
    ({"query": "SELECT * WHERE { ?s ?p }"}, {}),  # 400 from the engine, explained by rdflib
    ({"query": "SELECT * WHERE { ?s ex:p ?o }"}, {}),  # undeclared prefix
    ({"query": "SELECT * WHERE { SERVICE <http://example.org/> { ?s ?p ?o } }"}, {}),
    ({"query": "  "}, {}),  # empty
    ({"query": [STATES, STATES]}, {}),  # twice
    ({"query": STATES, "update": "CLEAR ALL"}, {}),
    ({"update": "CLEAR ALL"}, {}),  # 403
    ({"query": "SELECT " + "x" * 200_000}, {}),  # 413
    ({"query": 'SELECT (<urn:f>("x") AS ?y) WHERE {}'}, {}),  # unsupported function
    ({}, {}),  # the service description
    ({"format": "nt"}, {}),
]


@pytest.fixture
def app(seed_build: BuildResult) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "KG_OUT_DIR": seed_build.release.root.parent.parent})
    yield app
    app.extensions["osce_kg_executor"].close()


def _fast(app: Flask) -> QueryFastPath:
    assert isinstance(app.wsgi_app, QueryFastPath)
    return app.wsgi_app


def _get(wsgi: Any, params: dict[str, Any], headers: dict[str, str]) -> TestResponse:
    response = Client(wsgi, TestResponse).get(
        "/sparql?" + urlencode(params, doseq=True), headers=headers
    )
    response.close()
    return response


def test_the_fast_path_serves_the_app_as_created(app: Flask) -> None:
    assert _fast(app).applies()


@pytest.mark.parametrize(("params", "headers"), REQUESTS)
def test_answers_as_the_view_does(
    app: Flask, params: dict[str, Any], headers: dict[str, str]
) -> None:
    fast = _get(app.wsgi_app, params, headers)
    view = _get(_fast(app).flask, params, headers)
    assert fast.status == view.status
    assert _headers(fast) == _headers(view)
    assert _BLANK.sub(b"_:b", fast.data) == _BLANK.sub(b"_:b", view.data)


@pytest.mark.parametrize(("params", "headers"), REQUESTS)
def test_a_request_read_before_is_answered_as_the_view_answers_it(
    app: Flask, params: dict[str, Any], headers: dict[str, str]
) -> None:
    _get(app.wsgi_app, params, headers)
    again = _get(app.wsgi_app, params, headers)
    view = _get(_fast(app).flask, params, headers)
    assert again.status == view.status
    assert _headers(again) == _headers(view)
    assert _BLANK.sub(b"_:b", again.data) == _BLANK.sub(b"_:b", view.data)


def test_the_fast_path_reads_a_query_string_once(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A short query string is read (decoded, checked) once, up to REMEMBERED_READS of them;
    a long one, and one the view refuses, every time."""
    reads: list[str] = []
    parse = sparql.parse_request

    def counting(*args: Any, **kwargs: Any) -> Any:
        reads.append(args[2].get("query"))
        return parse(*args, **kwargs)

    monkeypatch.setattr(sparql, "parse_request", counting)
    sparql._remembered_read.cache_clear()
    asks = [f"ASK {{ ?s ?p {n} }}" for n in range(2)]

    def ask(query: str) -> int:
        return _get(app.wsgi_app, {"query": query}, {}).status_code

    assert [ask(asks[0]), ask(asks[0]), ask(asks[1]), ask(asks[0])] == [200] * 4
    assert reads == asks
    reads.clear()
    long = "ASK { ?s ?p ?o } #" + "x" * sparql.REMEMBERED_QUERY_STRING
    assert [ask(long), ask(long)] == [200, 200]
    assert [ask("  "), ask("  ")] == [400, 400]  # an empty query: refused each time
    assert reads == [long, long, "  ", "  "]
    assert sparql._remembered_read.cache_info().maxsize == sparql.REMEMBERED_READS


def test_an_app_with_its_own_request_class_is_left_to_flask(seed_build: BuildResult) -> None:
    app = create_app({"TESTING": True, "KG_OUT_DIR": seed_build.release.root.parent.parent})
    app.request_class = type("OwnRequest", (app.request_class,), {})
    try:
        assert not _fast(app).applies()
    finally:
        app.extensions["osce_kg_executor"].close()


def _headers(response: TestResponse) -> list[tuple[str, str]]:
    """The headers in order, the length checked apart (blank node labels vary in length)."""
    assert response.headers["Content-Length"] == str(len(response.data))
    return [(k, "" if k == "Content-Length" else v) for k, v in response.headers.to_wsgi_list()]


def test_successes_do_not_enter_flask_and_failures_do(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _fast(app)
    entered: list[str] = []
    flask = fast.flask

    def counting(environ: dict[str, Any], start_response: Any) -> Any:
        entered.append(environ["QUERY_STRING"])
        return flask(environ, start_response)

    monkeypatch.setattr(fast, "flask", counting)
    assert _get(app.wsgi_app, {"query": STATES}, {}).status_code == 200
    assert entered == []
    assert _get(app.wsgi_app, {"query": "SELECT * WHERE { ?s ?p }"}, {}).status_code == 400
    assert len(entered) == 1
    for path in ("/sparql/", "/health"):
        Client(app.wsgi_app, TestResponse).get(path).close()
    response = Client(app.wsgi_app, TestResponse).post("/sparql", data={"query": STATES})
    assert response.status_code == 200 and len(entered) == 4


def test_an_app_with_another_hook_is_left_to_flask(seed_build: BuildResult) -> None:
    """A hook the fast path does not stand in for (CORS headers, say) must not be skipped."""
    app = create_app({"TESTING": True, "KG_OUT_DIR": seed_build.release.root.parent.parent})

    @app.after_request
    def cors(response: Response) -> Response:
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    try:
        assert not _fast(app).applies()
        response = _get(app.wsgi_app, {"query": STATES}, {})
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    finally:
        app.extensions["osce_kg_executor"].close()


def test_update_mode_is_left_to_flask(seed_build: BuildResult, tmp_path: Any) -> None:
    app = create_app(
        {
            "TESTING": True,
            "KG_OUT_DIR": seed_build.release.root.parent.parent,
            "KG_STORE_PATH": str(tmp_path / "store"),
            "SPARQL_UPDATE_TOKEN": "secret",
        }
    )
    assert not _fast(app).applies()


def test_headers_and_body_leave_together_under_gunicorn(app: Flask) -> None:
    """gunicorn writes the headers and the body of a response apart: the client's socket is
    corked until the body is written, so that they leave in one segment."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        served, _ = listener.accept()
        with client, served:
            environ = EnvironBuilder("/sparql", query_string={"query": "ASK {}"}).get_environ()
            environ["gunicorn.socket"] = served
            body = app.wsgi_app(environ, lambda *_: None)
            assert served.getsockopt(socket.IPPROTO_TCP, socket.TCP_CORK) == 1
            assert b"".join(body) == b'{"head":{},"boolean":true}'
            assert served.getsockopt(socket.IPPROTO_TCP, socket.TCP_CORK) == 0
            body.close()  # type: ignore[attr-defined]
