"""Run W3C SPARQL tests over HTTP against the real server.

``LiveServer`` serves ``create_app`` with werkzeug's HTTP server in a thread (single-threaded:
rdflib's parser must not run in two threads at once) over a scratch output directory laid out as
kg-build publishes one (``<out>/current -> releases/<n>``, ``releases/<n>/store``).
``publish`` loads a test's dataset into a new release and moves ``current`` to it; the server
reopens the store on its next request, as it does after a rebuild. ``run_query_test`` sends the
test's query and compares the answer with the expected results as the W3C does.
"""

from __future__ import annotations

import csv
import io
import os
import re
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from email.parser import BytesParser
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urljoin, urlsplit

import pyoxigraph as ox
import requests
from rdflib import BNode, Graph, Namespace
from rdflib.compare import isomorphic
from werkzeug.serving import make_server

from kg_builder.layout import CURRENT, RELEASES, Release
from server import create_app
from tests.w3c_manifest import HttpRequest, HttpTest, QueryTest, UpdateTest, local_path

RS = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/result-set#")
ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"
_FROM = re.compile(r"\bFROM\s+(?:NAMED\s+)?<([^>]*)>", re.IGNORECASE)
_ORDER_BY = re.compile(r"\bORDER\s+BY\b", re.IGNORECASE)


class LiveServer:
    """The app behind a real HTTP server on a free local port, over a scratch output folder."""

    def __init__(self, out_dir: Path, **config: Any):
        self.out_dir = out_dir
        (out_dir / RELEASES).mkdir(parents=True, exist_ok=True)
        self._releases = 0
        self._published: dict[Any, Path] = {}
        app = create_app({"KG_OUT_DIR": str(out_dir), "TESTING": True, **config})
        self._server = make_server("127.0.0.1", 0, app, threaded=False)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.session = requests.Session()

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join()
        self.session.close()

    def publish(self, quads_from: Sequence[tuple[str, str | None]]) -> None:
        """Serve a new release holding each file (IRI) in the named graph given, or in the
        default graph for None; a dataset published before is served again, not rebuilt."""
        key = tuple(sorted(quads_from, key=lambda x: (x[0], x[1] or "")))
        root = self._published.get(key)
        if root is None:
            root = self._new_release()
            store = ox.Store(str(Release(root).store))
            for file_iri, graph in key:
                path = local_path(file_iri)
                store.load(
                    path=str(path),
                    format=ox.RdfFormat.from_extension(path.suffix[1:]),
                    base_iri=file_iri,
                    to_graph=ox.NamedNode(graph) if graph else ox.DefaultGraph(),
                )
            store.flush()
            del store
            self._published[key] = root
        self._switch(root)

    def publish_quads(self, quads: Sequence[ox.Quad]) -> None:
        """Serve a new release holding exactly ``quads``."""
        root = self._new_release()
        store = ox.Store(str(Release(root).store))
        store.extend(quads)
        store.flush()
        del store
        self._switch(root)

    def _new_release(self) -> Path:
        self._releases += 1
        root = self.out_dir / RELEASES / str(self._releases)
        root.mkdir()
        return root

    def _switch(self, root: Path) -> None:
        """Move ``current`` to ``root`` with one atomic rename, as kg-build publishes."""
        tmp = self.out_dir / f"{CURRENT}.tmp"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(root.relative_to(self.out_dir), target_is_directory=True)
        os.replace(tmp, self.out_dir / CURRENT)


# ---- query tests ---------------------------------------------------------------------------


def dataset(test: QueryTest, query: str) -> list[tuple[str, str | None]]:
    """The files the test reads: qt:data into the default graph, qt:graphData and the query's
    FROM / FROM NAMED files into graphs named by their IRIs."""
    files: list[tuple[str, str | None]] = [(d, None) for d in test.data]
    files += [(file, name) for name, file in test.graph_data]
    for iri in _FROM.findall(query):
        resolved = _resolve(test.query, iri)
        if local_path(resolved).is_file() and (resolved, resolved) not in files:
            files.append((resolved, resolved))
    return files


def _resolve(base: str, iri: str) -> str:
    return urljoin(base, iri)


def query_text(test: QueryTest) -> str:
    return local_path(test.query).read_text(encoding="utf-8")


def run_query_test(server: LiveServer, test: QueryTest) -> None:
    """Publish the test's dataset, send the query, and assert the W3C outcome."""
    query = query_text(test)
    syntax_only = test.kind in ("PositiveSyntaxTest11", "NegativeSyntaxTest11")
    server.publish([] if syntax_only else dataset(test, query))
    text = f"BASE <{test.query}>\n{query}"  # relative IRIs resolve as in the test suite
    accept = "text/csv" if test.kind == "CSVResultFormatTest" else ACCEPT
    response = server.session.post(
        server.url + "/sparql",
        data=text.encode("utf-8"),
        headers={"Content-Type": "application/sparql-query", "Accept": accept},
        timeout=60,
    )
    if test.kind == "NegativeSyntaxTest11":
        assert response.status_code == 400, f"{response.status_code}: {response.text[:300]}"
        return
    if test.kind == "PositiveSyntaxTest11":
        assert_parsed(response, 200)
        return
    assert response.status_code == 200, f"{response.status_code}: {response.text[:500]}"
    assert test.result is not None
    expected_path = local_path(test.result)
    ordered = bool(_ORDER_BY.search(query))
    if test.kind == "CSVResultFormatTest":
        assert_same_rows(
            _csv_rows(expected_path.read_text(encoding="utf-8")),
            _csv_rows(response.text),
            ordered,
        )
        return
    media_type = response.headers["Content-Type"].split(";")[0].strip()
    if media_type == "application/n-triples":
        actual = Graph().parse(data=response.text, format="nt")
        expected = Graph().parse(expected_path, publicID=test.result)
        assert isomorphic(actual, expected), _graph_diff(expected, actual)
        return
    actual_results = _results(response.content, ox.QueryResultsFormat.JSON)
    expected_results = _expected_results(expected_path, test.result)
    if isinstance(expected_results, bool):
        assert actual_results == expected_results, f"expected {expected_results}"
        return
    assert isinstance(actual_results, list), "expected solutions, got a boolean"
    assert_same_rows(expected_results, actual_results, ordered)


Row = dict[str, str]  # variable -> N-Triples term ("_:" for blank nodes)


def assert_parsed(response: requests.Response, success: int) -> None:
    """A positive syntax test passes when the operation was accepted by the parser: it ran
    (``success``), or it was refused for what it does, not how it is written (a 400 whose
    title is not a syntax error: LOAD disabled, DROP of an absent graph, an unknown function)."""
    if response.status_code == success:
        return
    assert response.status_code == 400, f"{response.status_code}: {response.text[:500]}"
    title = response.json()["error"]["title"]
    assert "syntax" not in title.lower(), response.text[:500]


def _rows(solutions: ox.QuerySolutions) -> list[Row]:
    names = [v.value for v in solutions.variables]
    rows = []
    for solution in solutions:
        row = {}
        for name in names:
            value = solution[name]
            if value is not None:
                row[name] = str(value)
        rows.append(row)
    return rows


def _results(data: bytes, fmt: ox.QueryResultsFormat) -> list[Row] | bool:
    """Parsed at once into plain values: pyoxigraph result objects must not outlive this
    thread's frame (the server thread's garbage collector would drop them, and pyoxigraph
    refuses that)."""
    parsed = ox.parse_query_results(data, fmt)
    out = bool(parsed) if isinstance(parsed, ox.QueryBoolean) else _rows(parsed)
    del parsed
    return out


def _expected_results(path: Path, iri: str) -> list[Row] | bool:
    formats = {
        ".srx": ox.QueryResultsFormat.XML,
        ".srj": ox.QueryResultsFormat.JSON,
        ".tsv": ox.QueryResultsFormat.TSV,
    }
    fmt = formats.get(path.suffix.lower())
    if fmt is not None:
        return _results(path.read_bytes(), fmt)
    return _result_set(Graph().parse(path, publicID=iri))


def _result_set(graph: Graph) -> list[Row] | bool:
    """Rows of a DAWG result set described in RDF (``rs:ResultSet``)."""
    result_set = next(graph.subjects(predicate=RS.resultVariable), None) or next(
        graph.subjects(predicate=RS.boolean), None
    )
    if result_set is None:
        return []
    boolean = graph.value(result_set, RS.boolean)
    if boolean is not None:
        return bool(boolean.toPython())  # type: ignore[attr-defined]
    solutions = []
    for solution in graph.objects(result_set, RS.solution):
        row = {}
        for binding in graph.objects(solution, RS.binding):
            value = graph.value(binding, RS.value)
            assert value is not None
            row[str(graph.value(binding, RS.variable))] = (
                "_:" + str(value) if isinstance(value, BNode) else value.n3()
            )
        index = graph.value(solution, RS["index"])
        solutions.append((int(str(index)) if index is not None else 0, row))
    solutions.sort(key=lambda x: x[0])
    return [row for _, row in solutions]


def _csv_rows(text: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    return [
        {
            name: ("_:" + v[2:] if v.startswith("_:") else v)
            for name, v in zip(header, row, strict=True)
            if v
        }
        for row in reader
    ]


_NUMERIC = re.compile(
    r'^"([^"]*)"\^\^<http://www\.w3\.org/2001/XMLSchema#(integer|decimal|double|float)>$'
)


def _canonical(value: str) -> str:
    """A term's N-Triples form with an implicit xsd:string dropped, and numbers and booleans
    in canonical form: the store keeps values, not lexical forms, so it writes the xsd:double
    ``3.0E4`` as ``30000`` and the xsd:boolean ``"0"`` as ``"false"`` (the same value of the
    same datatype). The datatype still has to match."""
    value = value.removesuffix("^^<http://www.w3.org/2001/XMLSchema#string>")
    if value in (
        '"1"^^<http://www.w3.org/2001/XMLSchema#boolean>',
        '"0"^^<http://www.w3.org/2001/XMLSchema#boolean>',
    ):
        return "true^^boolean" if value[1] == "1" else "false^^boolean"
    if value in (
        '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>',
        '"false"^^<http://www.w3.org/2001/XMLSchema#boolean>',
    ):
        return value[1:].split('"')[0] + "^^boolean"
    match = _NUMERIC.match(value)
    if match is None:
        return value
    lexical, datatype = match.groups()
    try:
        if datatype in ("double", "float"):
            number = repr(float(lexical))
        else:
            number = str(Decimal(lexical).normalize())
    except (ValueError, ArithmeticError):
        return value
    return f"{number}^^{datatype}"


def assert_same_rows(expected: list[Row], actual: list[Row], ordered: bool) -> None:
    """Equal as multisets of rows (as lists when ``ordered``), blank nodes up to renaming."""
    exp = [{k: _canonical(v) for k, v in r.items()} for r in expected]
    act = [{k: _canonical(v) for k, v in r.items()} for r in actual]
    assert len(exp) == len(act), f"expected {len(exp)} rows, got {len(act)}:\n{_show(exp, act)}"
    if not any(v.startswith("_:") for r in exp + act for v in r.values()):
        if ordered:
            assert exp == act, _show(exp, act)
        else:
            assert _counter(exp) == _counter(act), _show(exp, act)
        return
    assert _match(exp, act, ordered, {}), _show(exp, act)


def _counter(rows: list[Row]) -> Counter[tuple[tuple[str, str], ...]]:
    return Counter(tuple(sorted(r.items())) for r in rows)


def _match(exp: list[Row], act: list[Row], ordered: bool, mapping: dict[str, str]) -> bool:
    """Backtracking search for a blank node bijection that maps ``exp`` onto ``act``."""
    if not exp:
        return True
    first, rest = exp[0], exp[1:]
    candidates = [0] if ordered else range(len(act))
    for i in candidates:
        extended = _unify(first, act[i], mapping)
        if extended is not None and _match(rest, act[:i] + act[i + 1 :], ordered, extended):
            return True
    return False


def _unify(exp: Row, act: Row, mapping: dict[str, str]) -> dict[str, str] | None:
    if exp.keys() != act.keys():
        return None
    new = dict(mapping)
    used = set(new.values())
    for key, value in exp.items():
        other = act[key]
        if value.startswith("_:") and other.startswith("_:"):
            if value in new:
                if new[value] != other:
                    return None
            elif other in used:
                return None
            else:
                new[value] = other
                used.add(other)
        elif value != other:
            return None
    return new


def _show(exp: list[Row], act: list[Row]) -> str:
    lines = (
        ["expected:"] + [f"  {r}" for r in exp[:20]] + ["actual:"] + [f"  {r}" for r in act[:20]]
    )
    return "\n".join(lines)


def _graph_diff(expected: Graph, actual: Graph) -> str:
    return (
        f"graphs differ: expected {len(expected)} triples, got {len(actual)}:\n"
        + actual.serialize(format="nt")[:2000]
    )


@contextmanager
def live_server(out_dir: Path, **config: Any) -> Iterator[LiveServer]:
    with LiveServer(out_dir, **config) as server:
        yield server


# ---- protocol tests ------------------------------------------------------------------------

STATUS_CODES = {"OK": 200, "Created": 201, "NoContent": 204, "NotFound": 404}
SOLUTION_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
}
TABULAR_TYPES = {*SOLUTION_TYPES, "text/csv", "text/tab-separated-values"}
RDF_TYPES = {
    "text/turtle",
    "application/n-triples",
    "application/rdf+xml",
    "application/ld+json",
    "application/trig",
    "application/n-quads",
}


def send(
    server: LiveServer, request: HttpRequest, path: str, extra_headers: dict[str, str]
) -> requests.Response:
    """Replay one ht:Request: method, path, headers and body as the manifest gives them."""
    headers = dict(request.headers)
    headers.update(extra_headers)
    return requests.request(
        request.method,
        server.url + path,
        headers=headers,
        data=request.body,
        timeout=30,
        allow_redirects=False,
    )


def check_response(request: HttpRequest, response: requests.Response) -> None:
    """The status class or code, result format and boolean the manifest expects."""
    status = response.status_code
    allowed = []
    for name in request.expected_status:
        if name.startswith("StatusCode"):
            allowed.append(f"{name[-3]}xx")
            if int(name[-3]) == status // 100:
                return _check_body(request, response)
        else:
            allowed.append(str(STATUS_CODES[name]))
            if STATUS_CODES[name] == status:
                return _check_body(request, response)
    raise AssertionError(f"status {status}, expected {' or '.join(allowed)}: {response.text[:300]}")


def _check_body(request: HttpRequest, response: requests.Response) -> None:
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if request.expected_format == "boolean" or request.expected_boolean is not None:
        assert media_type in SOLUTION_TYPES, f"{media_type} cannot carry a boolean"
        value = _results(response.content, SOLUTION_TYPES[media_type])
        assert isinstance(value, bool), "expected a boolean result"
        if request.expected_boolean is not None:
            assert value == request.expected_boolean
    elif request.expected_format == "tabular":
        assert media_type in TABULAR_TYPES, f"{media_type} is not a SPARQL results format"
    elif request.expected_format == "RDF":
        assert media_type in RDF_TYPES, f"{media_type} is not an RDF format"
    if request.expected_content_type:
        expected = request.expected_content_type.split(";")[0].strip().lower()
        assert media_type == expected, f"Content-Type {media_type}, expected {expected}"
    if request.expected_body is not None and request.method != "HEAD":
        fmt = {"text/turtle": "turtle", "application/n-triples": "nt"}[media_type]
        actual = Graph().parse(data=response.text, format=fmt)
        expected_graph = Graph().parse(data=request.expected_body, format="turtle")
        assert isomorphic(actual, expected_graph), _graph_diff(expected_graph, actual)


# ---- update tests (update mode) ------------------------------------------------------------

DUMP_QUERY = "SELECT ?s ?p ?o ?g WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"


def _insert_data(files: Sequence[tuple[str, str | None]]) -> str:
    """An INSERT DATA holding each file's triples in the graph given (None: default graph)."""
    blocks = []
    for file_iri, graph in files:
        path = local_path(file_iri)
        triples = ox.parse(
            path=str(path), format=ox.RdfFormat.from_extension(path.suffix[1:]), base_iri=file_iri
        )
        lines = "\n".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples)
        blocks.append(f"GRAPH <{graph}> {{ {lines} }}" if graph else lines)
    return "INSERT DATA { " + "\n".join(blocks) + " }"


def post_update(server: LiveServer, update: str, token: str) -> requests.Response:
    return server.session.post(
        server.url + "/sparql",
        data=update.encode("utf-8"),
        headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {token}"},
        timeout=60,
    )


def _dataset_graphs(server: LiveServer) -> dict[str, Graph]:
    """Every non-empty graph of the served store (key "" for the default graph), read back
    over HTTP with one SELECT."""
    response = server.session.post(
        server.url + "/sparql",
        data=DUMP_QUERY.encode(),
        headers={"Content-Type": "application/sparql-query", "Accept": ACCEPT},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    rows = _results(response.content, ox.QueryResultsFormat.JSON)
    assert isinstance(rows, list)
    lines: dict[str, list[str]] = {}
    for row in rows:
        name = row.get("g", "<>")[1:-1]  # an IRI in N-Triples form, or "" for the default
        lines.setdefault(name, []).append(f"{row['s']} {row['p']} {row['o']} .")
    return {g: Graph().parse(data="\n".join(ls), format="nt") for g, ls in lines.items()}


def _expected_graphs(files: Sequence[tuple[str, str | None]]) -> dict[str, Graph]:
    graphs: dict[str, Graph] = {}
    for file_iri, graph in files:
        path = local_path(file_iri)
        parsed = graphs.setdefault(graph or "", Graph())
        parsed.parse(path, format="turtle" if path.suffix == ".ttl" else None, publicID=file_iri)
    return {g: parsed for g, parsed in graphs.items() if len(parsed)}


def run_update_test(server: LiveServer, test: UpdateTest, token: str) -> None:
    """Load the test's dataset, run its update over HTTP, compare the store with the result."""
    before = [(d, None) for d in test.data] + [(f, g) for g, f in test.graph_data]
    reset = post_update(server, "DROP SILENT ALL", token)
    assert reset.status_code == 204, reset.text
    if before:
        loaded = post_update(server, _insert_data(before), token)
        assert loaded.status_code == 204, loaded.text
    text = local_path(test.request).read_text(encoding="utf-8")
    response = post_update(server, f"BASE <{test.request}>\n{text}", token)
    if not test.positive:
        assert response.status_code == 400, f"{response.status_code}: {response.text[:300]}"
        return
    if test.kind != "UpdateEvaluationTest":
        assert_parsed(response, 204)
        return
    assert response.status_code == 204, f"{response.status_code}: {response.text[:500]}"
    after = [(d, None) for d in test.result_data] + [(f, g) for g, f in test.result_graph_data]
    expected = _expected_graphs(after)
    actual = _dataset_graphs(server)
    assert sorted(actual) == sorted(expected), (
        f"graphs {sorted(actual)}, expected {sorted(expected)}"
    )
    for name, graph in expected.items():
        assert isomorphic(actual[name], graph), f"graph <{name}>: " + _graph_diff(
            graph, actual[name]
        )


# ---- graph store protocol: the read requests -----------------------------------------------


def run_gsp_read_test(server: LiveServer, test: HttpTest, path: str = "/store") -> None:
    """Replay the GET and HEAD requests of a Graph Store Protocol test against the read-only
    graph store at ``path``. Its writes (PUT, POST, DELETE) are applied by the harness to a
    local copy of the dataset, which is published as a new release before each read."""
    state = ox.Store()
    for request in test.requests:
        target = urlsplit(request.path)
        assert target.path == "/gsp", f"direct graph identification: {request.path}"
        params = parse_qs(target.query, keep_blank_values=True)
        graph: ox.NamedNode | ox.DefaultGraph = (
            ox.NamedNode(params["graph"][0]) if "graph" in params else ox.DefaultGraph()
        )
        if request.method in ("GET", "HEAD"):
            server.publish_quads(list(state))
            check_response(request, send(server, request, f"{path}?{target.query}", {}))
            continue
        if request.method in ("PUT", "DELETE"):
            state.remove_graph(graph) if isinstance(graph, ox.NamedNode) else state.clear_graph(
                graph
            )
        if request.method in ("PUT", "POST"):
            for body in _bodies(request):
                base = graph.value if isinstance(graph, ox.NamedNode) else None
                state.load(body, format=ox.RdfFormat.TURTLE, base_iri=base, to_graph=graph)


def _bodies(request: HttpRequest) -> list[bytes]:
    """The RDF payloads of a write: the body, or each part of a multipart/form-data body."""
    assert request.body is not None
    content_type = dict((k.lower(), v) for k, v in request.headers).get("content-type", "")
    if not content_type.startswith("multipart/"):
        return [request.body]
    message = BytesParser().parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + request.body
    )
    return [
        cast(bytes, part.get_payload(decode=True))
        for part in message.walk()
        if not part.is_multipart()
    ]
