"""Linked data, VoID, the read-only Graph Store and the dumps, through the Flask test client
over the seed build."""

from __future__ import annotations

import gzip

import pytest
from flask.testing import FlaskClient
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, SKOS, VOID
from rdflib.namespace import SDO as SCHEMA

from kg_builder.pipeline import BuildResult
from server import create_app
from tests.conftest import read_plain

BASE = "https://w3id.org/osce-kg/"
ARMENIA = URIRef(BASE + "state/armenia")


@pytest.fixture
def client(seed_build: BuildResult) -> FlaskClient:
    app = create_app({"TESTING": True, "KG_OUT_DIR": seed_build.release.root.parent.parent})
    return app.test_client()


# ---- entity IRIs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "media", "syntax"),
    [
        ("text/turtle", "text/turtle", "turtle"),
        ("application/ld+json", "application/ld+json", "json-ld"),
        ("application/n-triples", "application/n-triples", "nt"),
        ("application/rdf+xml;q=0.9, text/html;q=0.1", "application/rdf+xml", "xml"),
    ],
)
def test_entity_negotiates_rdf(client: FlaskClient, accept: str, media: str, syntax: str) -> None:
    response = client.get("/state/armenia", headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == media
    assert "Accept" in response.vary
    graph = Graph().parse(data=response.get_data(as_text=True), format=syntax)
    assert (ARMENIA, SKOS.prefLabel, Literal("Armenia", lang="en")) in graph
    assert response.headers["Link"] == f'<{ARMENIA}>; rel="canonical"'


@pytest.mark.parametrize(
    ("suffix", "syntax"), [("ttl", "turtle"), ("jsonld", "json-ld"), ("nt", "nt")]
)
def test_entity_suffix_chooses_the_format(client: FlaskClient, suffix: str, syntax: str) -> None:
    response = client.get(f"/state/armenia.{suffix}", headers={"Accept": "text/html"})
    assert response.status_code == 200
    graph = Graph().parse(data=response.get_data(as_text=True), format=syntax)
    assert (ARMENIA, SKOS.prefLabel, Literal("Armenia", lang="en")) in graph


def test_entity_page_for_browsers(client: FlaskClient) -> None:
    response = client.get(
        "/person/harlem-desir", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<h1>Harlem Désir</h1>" in page  # the preferred label, not the seed's spelling
    assert 'class="inferred"' in page and "graph/reference" in page  # both kinds of fact
    assert "<mark>Harlem Desir</mark>" in page  # the quoted mention in its sentence
    assert "Joint Statement by the Heads of Delegation" in page  # the source document
    assert 'href="/post/france/state-secretary-for-european-affairs"' in page  # links stay local


def test_unknown_entity_is_404(client: FlaskClient) -> None:
    response = client.get("/state/atlantis", headers={"Accept": "text/turtle"})
    assert response.status_code == 404
    assert "state/atlantis" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("path", ["/state/a b", "/state/<x>", "/state/%7Bx%7D"])
def test_a_path_that_is_no_iri_is_404_not_500(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 404
    assert response.get_json()["error"]["title"] == "Not found"


def test_entity_in_no_acceptable_format_is_406(client: FlaskClient) -> None:
    response = client.get("/state/armenia", headers={"Accept": "image/png"})
    assert response.status_code == 406


# ---- VoID ----------------------------------------------------------------------------------


def test_void_describes_the_release(client: FlaskClient, seed_build: BuildResult) -> None:
    response = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    g = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    dataset = URIRef(BASE + "dataset")
    assert g.value(dataset, VOID.sparqlEndpoint) == URIRef("http://localhost/sparql")
    dumps = {str(d) for d in g.objects(dataset, VOID.dataDump)}
    assert dumps == {
        f"http://localhost/dumps/{name}"
        for name in ("osce-kg.nq", "osce-kg.nq.gz", "osce-kg.ttl", "osce-kg.ttl.gz")
    }
    triples = g.value(dataset, VOID.triples)
    assert triples is not None and int(triples) > 1000
    classes = {g.value(p, VOID["class"]) for p in g.objects(dataset, VOID.classPartition)}
    assert URIRef("https://w3id.org/osce-kg/ontology#ParticipatingState") in classes
    build = g.value(dataset, URIRef("http://www.w3.org/ns/prov#wasGeneratedBy"))
    assert build is not None and (build, None, None) in g  # the build activity is described


# ---- Graph Store Protocol (read) -----------------------------------------------------------


def test_gsp_get_named_graph(client: FlaskClient) -> None:
    graph = BASE + "graph/reference"
    response = client.get(
        "/store", query_string={"graph": graph}, headers={"Accept": "text/turtle"}
    )
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    g = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    assert (ARMENIA, SKOS.prefLabel, Literal("Armenia", lang="en")) in g
    again = client.get(
        "/store",
        query_string={"graph": graph},
        headers={"Accept": "text/turtle", "If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304


def test_gsp_head_has_headers_without_body(client: FlaskClient) -> None:
    response = client.head("/store", query_string={"default": ""})
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    assert response.data == b""


def test_gsp_default_graph_is_the_union(client: FlaskClient) -> None:
    response = client.get(
        "/store", query_string={"default": ""}, headers={"Accept": "application/n-triples"}
    )
    g = Graph().parse(data=response.get_data(as_text=True), format="nt")
    assert (ARMENIA, SKOS.prefLabel, Literal("Armenia", lang="en")) in g  # reference graph
    seed = URIRef(BASE + "document/000_9fd24956cc425f56")
    assert (seed, SCHEMA.mentions, ARMENIA) in g  # a document graph
    assert (seed, RDF.type, PROV.Entity) in g  # inferred: a Statement is a prov:Entity
    assert len(set(g)) == len(g)  # each triple once, though several graphs state it


def test_gsp_whole_dataset_as_nquads(client: FlaskClient) -> None:
    response = client.get("/store", headers={"Accept": "application/n-quads"})
    assert response.status_code == 200
    lines = response.get_data(as_text=True).splitlines()
    assert any(line.endswith(f"<{BASE}graph/inferred> .") for line in lines)


@pytest.mark.parametrize(
    ("query", "method", "status"),
    [
        ({"graph": BASE + "graph/nowhere"}, "GET", 404),
        ({"graph": [BASE + "graph/reference", BASE + "graph/inferred"]}, "GET", 400),
        ({"graph": BASE + "graph/reference", "default": ""}, "GET", 400),
        ({"default": ""}, "PUT", 405),
        ({"default": ""}, "DELETE", 405),
    ],
)
def test_gsp_refuses(
    client: FlaskClient, query: dict[str, object], method: str, status: int
) -> None:
    response = client.open("/store", method=method, query_string=query)
    assert response.status_code == status
    assert response.get_json()["error"]["message"]


# ---- dumps ---------------------------------------------------------------------------------


def test_dump_gzip_variant_for_clients_that_accept_it(client: FlaskClient) -> None:
    with (
        client.get("/dumps/osce-kg.nq") as plain,
        client.get("/dumps/osce-kg.nq", headers={"Accept-Encoding": "gzip, br"}) as packed,
    ):
        assert plain.headers.get("Content-Encoding") is None
        assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.vary
        assert packed.mimetype == "application/n-quads"
        assert gzip.decompress(packed.data) == plain.data
        assert packed.headers["ETag"] != plain.headers["ETag"]


def test_dump_range_and_conditional_requests(client: FlaskClient) -> None:
    with client.get("/dumps/osce-kg.ttl") as full:
        assert full.headers["Last-Modified"] and full.headers["ETag"]
        with client.get("/dumps/osce-kg.ttl", headers={"Range": "bytes=10-29"}) as part:
            assert part.status_code == 206 and part.data == full.data[10:30]
            assert part.headers["Content-Range"] == f"bytes 10-29/{len(full.data)}"
        etag = full.headers["ETag"]
    with client.get("/dumps/osce-kg.ttl", headers={"If-None-Match": etag}) as cached:
        assert cached.status_code == 304


def test_plain_dumps_are_served_from_the_gzip_files(
    client: FlaskClient, seed_build: BuildResult
) -> None:
    release = seed_build.release
    assert not (release.dumps / "osce-kg.nq").exists()  # only the gzip files are on disk
    whole = read_plain(release.nquads_gz)
    listing = {f["name"]: f for f in client.get("/dumps/").get_json()["dumps"]}
    assert set(listing) == {"osce-kg.nq", "osce-kg.nq.gz", "osce-kg.ttl", "osce-kg.ttl.gz"}
    assert listing["osce-kg.nq"]["bytes"] == len(whole)
    assert listing["osce-kg.nq.gz"]["bytes"] == release.nquads_gz.stat().st_size
    with client.get("/dumps/osce-kg.nq") as full:
        assert full.status_code == 200 and full.data == whole
        assert full.headers["Content-Length"] == str(len(whole))
        assert full.headers["Accept-Ranges"] == "bytes"
        etag = full.headers["ETag"]
    with client.head("/dumps/osce-kg.nq") as head:
        assert head.status_code == 200 and head.data == b""
        assert head.headers["Content-Length"] == str(len(whole))
    for start, end in ((0, 0), (1, 10), (len(whole) // 3, len(whole) // 3 + 70_000)):
        with client.get("/dumps/osce-kg.nq", headers={"Range": f"bytes={start}-{end}"}) as part:
            assert part.status_code == 206 and part.data == whole[start : end + 1]
    with client.get("/dumps/osce-kg.nq", headers={"Range": "bytes=-50"}) as tail:
        assert tail.status_code == 206 and tail.data == whole[-50:]
    with client.get(
        "/dumps/osce-kg.nq", headers={"Range": "bytes=5-9", "If-Range": '"another"'}
    ) as changed:  # the client's copy is another version: the whole dump
        assert changed.status_code == 200 and changed.data == whole
    with client.get("/dumps/osce-kg.nq", headers={"Range": "bytes=5-9", "If-Range": etag}) as same:
        assert same.status_code == 206 and same.data == whole[5:10]
    with client.get("/dumps/osce-kg.nq", headers={"Range": f"bytes={len(whole)}-"}) as beyond:
        assert beyond.status_code == 416
    with client.get("/dumps/osce-kg.nq", headers={"If-None-Match": etag}) as cached:
        assert cached.status_code == 304


def test_the_indexes_of_pieces_are_not_downloads(
    client: FlaskClient, seed_build: BuildResult
) -> None:
    hidden = [p.name for p in seed_build.release.dumps.iterdir() if p.name.startswith(".")]
    assert sorted(hidden) == [".osce-kg.nq.gz.pieces", ".osce-kg.ttl.gz.pieces"]
    for name in hidden:
        assert client.get(f"/dumps/{name}").status_code == 404


def test_gz_dump_downloads_as_gzip(client: FlaskClient) -> None:
    with client.get("/dumps/osce-kg.ttl.gz") as response:
        assert response.mimetype == "application/gzip"
        assert gzip.decompress(response.data).startswith(b"@prefix")
