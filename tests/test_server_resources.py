"""The ontology IRI dereferences: HTML documentation for browsers, Turtle for RDF clients."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from rdflib import Graph

from kg_builder.pipeline import BuildResult
from server import create_app
from server.resources import choose_ontology_format


@pytest.fixture
def client(seed_build: BuildResult) -> FlaskClient:
    app = create_app({"TESTING": True, "KG_OUT_DIR": seed_build.release.root.parent.parent})
    return app.test_client()


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "html"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "html"),
        ("text/turtle", "ttl"),
        ("text/turtle;q=0.9, text/html;q=0.5", "ttl"),
        ("*/*", "html"),
        ("application/json", None),
    ],
)
def test_choose_ontology_format(accept: str | None, chosen: str | None) -> None:
    assert choose_ontology_format(accept) == chosen


def test_ontology_iri_gives_browsers_the_pylode_page(client: FlaskClient) -> None:
    with client.get("/ontology", headers={"Accept": "text/html"}) as response:
        assert response.status_code == 200
        assert response.mimetype == "text/html"
        body = response.get_data(as_text=True)
    assert "OSCE knowledge-graph ontology" in body and "ParticipatingState" in body
    assert "Accept" in response.headers["Vary"]


def test_ontology_iri_gives_rdf_clients_turtle(client: FlaskClient) -> None:
    with client.get("/ontology", headers={"Accept": "text/turtle"}) as response:
        assert response.status_code == 200 and response.mimetype == "text/turtle"
        graph = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    assert len(graph) > 300


def test_ontology_suffixes(client: FlaskClient) -> None:
    for path, mimetype in (("/ontology.ttl", "text/turtle"), ("/ontology.html", "text/html")):
        with client.get(path) as response:
            assert response.mimetype == mimetype
    with client.get("/ontology.xml") as response:
        assert response.status_code == 406


def test_ontology_unacceptable_406(client: FlaskClient) -> None:
    with client.get("/ontology", headers={"Accept": "application/json"}) as response:
        assert response.status_code == 406
        assert "text/turtle" in response.get_json()["error"]["message"]
