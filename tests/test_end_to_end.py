"""The served graph: ``kg-serve`` as a real process (gunicorn) on a free port, queried over
HTTP by ``requests`` and by rdflib's SPARQL client; the dumps read by an independent parser."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rdflib import Graph, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore

from kg_builder.pipeline import BuildResult
from tests.conftest import in_ci, read_plain

STATES = """PREFIX osce: <https://w3id.org/osce-kg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?name WHERE { ?s a osce:ParticipatingState ; skos:prefLabel ?name } ORDER BY ?name"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(seed_build: BuildResult) -> Iterator[str]:
    out_dir = seed_build.release.root.parent.parent
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("kg-serve")),
            "--out-dir",
            str(out_dir),
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                requests.get(f"{base}/sparql", timeout=5)
                break
            except requests.ConnectionError:
                if process.poll() is not None:
                    raise RuntimeError(
                        process.stderr.read().decode() if process.stderr else ""
                    ) from None
                if time.monotonic() > deadline:
                    raise RuntimeError("kg-serve did not start within 30 s") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
        if process.stderr:
            process.stderr.close()


@pytest.mark.slow
def test_get_query_returns_the_57_participating_states(server: str) -> None:
    response = requests.get(
        f"{server}/sparql",
        params={"query": STATES},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/sparql-results+json")
    names = [b["name"]["value"] for b in response.json()["results"]["bindings"]]
    assert len(names) == 57
    assert names[0] == "Albania" and "Finland" in names and "Russian Federation" in names


@pytest.mark.slow
def test_rdflib_sparql_client_reads_persons_and_posts(server: str) -> None:
    client = SPARQLStore(query_endpoint=f"{server}/sparql", returnFormat="json")
    rows = client.query((Path(__file__).parent / "competency" / "06-persons-posts.rq").read_text())
    got = sorted((str(r[0]), str(r[1]), str(r[2])) for r in rows)  # type: ignore[index]
    assert got == [
        ("Harlem Désir", "State Secretary for European Affairs", "France"),
        ("John Kerry", "Secretary of State", "United States of America"),
        ("Sergey Lavrov", "Foreign Minister", "Russian Federation"),
    ]


@pytest.mark.slow
def test_sparqlwrapper_client(server: str) -> None:
    from SPARQLWrapper import JSON, POST, SPARQLWrapper

    client = SPARQLWrapper(f"{server}/sparql")
    client.setQuery(STATES)
    client.setReturnFormat(JSON)
    client.setMethod(POST)
    result = client.queryAndConvert()
    assert isinstance(result, dict)
    names = [b["name"]["value"] for b in result["results"]["bindings"]]
    assert len(names) == 57 and names[-1] == "Uzbekistan"
    client.setQuery("ASK { ?s a <https://w3id.org/osce-kg/ontology#ParticipatingState> }")
    client.setMethod("GET")
    assert client.queryAndConvert()["boolean"] is True  # type: ignore[index]


@pytest.mark.slow
def test_construct_as_turtle_over_post(server: str) -> None:
    query = """PREFIX osce: <https://w3id.org/osce-kg/ontology#>
    CONSTRUCT { ?c osce:party ?p } WHERE { ?c osce:party ?p }"""
    response = requests.post(
        f"{server}/sparql",
        data=query.encode(),
        headers={"Content-Type": "application/sparql-query", "Accept": "text/turtle"},
        timeout=30,
    )
    assert response.status_code == 200
    graph = Graph().parse(data=response.text, format="turtle")
    curated = Graph().parse(
        Path(__file__).parent.parent / "data" / "reference" / "structures.ttl",
        publicID="https://w3id.org/osce-kg/",
    )
    party = URIRef("https://w3id.org/osce-kg/ontology#party")
    assert set(graph) == set(curated.triples((None, party, None)))
    assert len(graph) >= 2


@pytest.mark.slow
def test_service_clause_refused(server: str) -> None:
    query = "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"
    response = requests.get(f"{server}/sparql", params={"query": query}, timeout=30)
    assert response.status_code == 400
    assert "SERVICE" in json.dumps(response.json())


@pytest.mark.slow
def test_dumps_are_downloadable(server: str, seed_build: BuildResult) -> None:
    plain = read_plain(seed_build.release.nquads_gz)
    # decompressed by the server, and as gzip for the client to decompress
    for encoding in ("identity", "gzip"):
        response = requests.get(
            f"{server}/dumps/osce-kg.nq", headers={"Accept-Encoding": encoding}, timeout=30
        )
        assert response.status_code == 200
        assert response.headers.get("Content-Encoding") == (
            None if encoding == "identity" else "gzip"
        )
        assert response.content == plain
    middle = len(plain) // 2
    part = requests.get(
        f"{server}/dumps/osce-kg.nq",
        headers={"Accept-Encoding": "identity", "Range": f"bytes={middle}-{middle + 99}"},
        timeout=30,
    )
    assert part.status_code == 206 and part.content == plain[middle : middle + 100]
    assert part.headers["Content-Range"] == f"bytes {middle}-{middle + 99}/{len(plain)}"


def rapper() -> str:
    found = shutil.which("rapper")
    if found is None:
        message = "rapper (Debian raptor2-utils) is not installed; 'make test' installs it"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.mark.parametrize(("dump", "syntax"), [("turtle_gz", "turtle"), ("nquads_gz", "nquads")])
def test_dumps_parse_with_raptor(
    seed_build: BuildResult, dump: str, syntax: str, tmp_path: Path
) -> None:
    path = tmp_path / "dump"
    path.write_bytes(read_plain(getattr(seed_build.release, dump)))
    done = subprocess.run(
        [rapper(), "-c", "-i", syntax, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    counted = int(done.stderr.split("returned ")[1].split()[0])
    assert counted > 1000
