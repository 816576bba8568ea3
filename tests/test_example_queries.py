"""The query page's example queries (``server/queries/*.rq``) through ``/sparql`` on the graph
built from the seed, and the page itself (``/``) with YASGUI installed and without it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import RDF, Graph, URIRef

from kg_builder.pipeline import BuildResult
from server import create_app
from server.ui import QUERIES_DIR, ExampleError, load_examples, parse_example

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(QUERIES_DIR.glob("*.rq"))
SPARQL_JSON = "application/sparql-results+json"
OSCE = "https://w3id.org/osce-kg/ontology#"
TITLE = "Joint Statement by the Heads of Delegation of the OSCE Minsk Group Co-Chair Countries"


@pytest.fixture(scope="module")
def seed_client(seed_build: BuildResult) -> Iterator[FlaskClient]:
    out_dir = seed_build.release.root.parent.parent
    yield create_app({"TESTING": True, "KG_OUT_DIR": out_dir}).test_client()


def run(client: FlaskClient, query: str) -> list[dict[str, str]]:
    """The rows of a SELECT sent as YASGUI sends it (POST form, SPARQL JSON), values as strings."""
    response = client.post("/sparql", data={"query": query}, headers={"Accept": SPARQL_JSON})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == SPARQL_JSON
    doc = json.loads(response.get_data(as_text=True))
    return [{k: v["value"] for k, v in row.items()} for row in doc["results"]["bindings"]]


def example(slug: str) -> str:
    return next(e.query for e in load_examples() if e.slug == slug)


# ---- the files --------------------------------------------------------------------------------


def test_there_are_at_least_eight_examples_with_distinct_titles() -> None:
    examples = load_examples()
    assert len(examples) >= 8
    assert len({e.title for e in examples}) == len(examples)
    assert len({e.slug for e in examples}) == len(examples)
    assert [e.slug for e in examples][:3] == [
        "participating-states-and-capitals",
        "statements-by-issuer-and-year",
        "states-mentioned-together",
    ]


def test_header_gives_title_and_description() -> None:
    got = parse_example("07-some-thing.rq", "# A title\n# What it shows.\nASK {}\n")
    assert (got.slug, got.title, got.description) == ("some-thing", "A title", "What it shows.")
    assert got.query == "# A title\n# What it shows.\nASK {}\n"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("01-x.rq", "PREFIX a: <a:>\n# Title\nASK {}\n"),
        ("01-x.rq", "# Title only\nASK {}\n"),
        ("01-x.rq", "# \n# Description\nASK {}\n"),
        ("01 X.rq", "# Title\n# Description\nASK {}\n"),
    ],
    ids=["no-header", "no-description", "empty-title", "bad-file-name"],
)
def test_example_without_header_is_refused(name: str, text: str) -> None:
    with pytest.raises(ExampleError, match=re.escape(name)):
        parse_example(name, text)


def test_every_ontology_term_the_examples_use_is_declared() -> None:
    ontology = Graph().parse(ROOT / "ontology" / "osce.ttl", format="turtle")
    used = {
        (path.name, term)
        for path in EXAMPLES
        for term in re.findall(r"\bosce:([A-Za-z][\w-]*)", path.read_text(encoding="utf-8"))
    }
    assert used
    unknown = [(name, t) for name, t in used if (URIRef(OSCE + t), RDF.type, None) not in ontology]
    assert not unknown, f"terms not in ontology/osce.ttl: {sorted(unknown)}"
    for path in EXAMPLES:
        if "osce:" in path.read_text(encoding="utf-8"):
            assert f"PREFIX osce: <{OSCE}>" in path.read_text(encoding="utf-8"), path.name


# ---- every example against the seed build -----------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_and_returns_rows(seed_client: FlaskClient, path: Path) -> None:
    rows = run(seed_client, path.read_text(encoding="utf-8"))
    assert rows, f"{path.name} returned no row on the seed build"


def test_participating_states_with_capitals_on_a_map(seed_client: FlaskClient) -> None:
    rows = run(seed_client, example("participating-states-and-capitals"))
    assert len(rows) == 57  # one row a State, whatever graphs repeat a capital's coordinates
    armenia = next(r for r in rows if r["state"] == "Armenia")
    assert armenia["iso2"] == "AM" and armenia["capital"] == "Yerevan"
    assert float(armenia["lat"]) == pytest.approx(40.18, abs=0.01)


def test_statements_by_issuer_and_year(seed_client: FlaskClient) -> None:
    rows = run(seed_client, example("statements-by-issuer-and-year"))
    assert {"issuer": "Minsk Group", "year": "2014", "statements": "1"}.items() <= rows[0].items()


def test_states_mentioned_together(seed_client: FlaskClient) -> None:
    pairs = {
        (r["state1"], r["state2"]) for r in run(seed_client, example("states-mentioned-together"))
    }
    assert ("Armenia", "Azerbaijan") in pairs
    assert ("Azerbaijan", "Armenia") not in pairs  # each pair once
    assert not {p for p in pairs if "Finland" in p}  # menu-only States are not mentions


def test_persons_and_posts_over_time(seed_client: FlaskClient) -> None:
    rows = run(seed_client, example("persons-and-posts-over-time"))
    lavrov = [r for r in rows if r["person"] == "Sergey Lavrov"]
    assert lavrov == [
        {
            "person": "Sergey Lavrov",
            "post": "Foreign Minister",
            "of": "Russian Federation",
            "from": "2014-12-04",
            "to": "2014-12-04",
            "evidence": TITLE,
        }
    ]
    assert any(
        r["post"] == "Chairperson-in-Office" and r["evidence"] == "reference data" for r in rows
    )


def test_meetings_with_coordinates_and_wkt(seed_client: FlaskClient) -> None:
    rows = run(seed_client, example("meetings-on-a-map"))
    assert len(rows) == len({r["meeting"] for r in rows}) == 3
    paris = next(r for r in rows if r["place"] == "Paris")
    assert paris["wkt"] == f"POINT({paris['long']} {paris['lat']})"
    assert set(paris["participants"].split(", ")) == {"Armenia", "Azerbaijan"}
    newport = next(r for r in rows if r["place"] == "Newport")
    assert "lat" not in newport  # no coordinates known: the row is kept, the cells are empty


def test_conflicts_and_parties(seed_client: FlaskClient) -> None:
    rows = run(seed_client, example("conflicts-and-parties"))
    first = rows[0]
    assert first["conflict"] == "Nagorno-Karabakh conflict"
    assert set(first["parties"].split(", ")) == {"Armenia", "Azerbaijan"}
    assert first["mediators"] == "Minsk Group" and first["documents"] == "1"


# ---- the page ---------------------------------------------------------------------------------


def fake_yasgui(folder: Path) -> Path:
    """A stand-in for ``node_modules/@zazuko/yasgui/build``: the two files the page loads."""
    build = folder / "yasgui" / "build"
    build.mkdir(parents=True)
    (build / "yasgui.min.js").write_text("window.Yasgui = undefined;\n")
    (build / "yasgui.min.css").write_text(".yasgui {}\n")
    (folder / "yasgui" / "package.json").write_text(
        '{"name": "@zazuko/yasgui", "version": "9.9.9"}'
    )
    return build


def page_app(tmp_path: Path, yasgui_dir: Path) -> Flask:
    return create_app({"TESTING": True, "KG_OUT_DIR": tmp_path / "out", "YASGUI_DIR": yasgui_dir})


def test_page_loads_yasgui_from_this_server(tmp_path: Path) -> None:
    client = page_app(tmp_path, fake_yasgui(tmp_path)).test_client()
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert sources == [
        "/static/ui/query-page.css",
        "/static/yasgui/yasgui.min.css?v=9.9.9",
        "/static/yasgui/yasgui.min.js?v=9.9.9",
        "/static/ui/query-page.js",
    ]
    assert '<div id="yasgui" data-endpoint="/sparql">' in page
    assert "<noscript>" in page and '<textarea name="query"' in page  # for browsers without JS
    for source in sources:
        with client.get(source) as asset:  # closes the file the response streams
            assert asset.status_code == 200, source
    with client.get("/static/yasgui/yasgui.min.js?v=9.9.9") as script:
        assert script.mimetype == "text/javascript"
        assert script.headers["Cache-Control"] == "public, max-age=86400"
        assert script.get_data(as_text=True) == "window.Yasgui = undefined;\n"


def test_page_carries_every_example_as_json(tmp_path: Path) -> None:
    page = page_app(tmp_path, fake_yasgui(tmp_path)).test_client().get("/").get_data(as_text=True)
    match = re.search(r'<script type="application/json" id="example-queries">(.*?)</script>', page)
    assert match is not None
    carried = json.loads(match.group(1))
    assert [e["title"] for e in carried] == [e.title for e in load_examples()]
    assert carried[0]["query"] == load_examples()[0].query
    assert "<https://" not in match.group(1)  # tojson escapes '<': no markup inside the script
    for e in load_examples():
        assert f'<option value="{e.slug}">{e.title}</option>' in page


def test_without_node_modules_the_page_is_the_plain_form_with_a_notice(tmp_path: Path) -> None:
    client = page_app(tmp_path, tmp_path / "no-such-folder").test_client()
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="yasgui-missing"' in page and "<code>make install</code>" in page
    assert '<form method="get" action="/sparql">' in page
    assert "yasgui.min.js" not in page and 'id="yasgui"' not in page
    assert "/static/ui/query-page.js" in page  # the example picker still fills the form
    missing = client.get("/static/yasgui/yasgui.min.js")
    assert missing.status_code == 404
    assert "make install" in missing.get_json()["error"]["hint"]


def test_only_the_yasgui_build_files_are_served(tmp_path: Path) -> None:
    build = fake_yasgui(tmp_path)
    (build / "notes.txt").write_text("not served")
    client = page_app(tmp_path, build).test_client()
    assert client.get("/static/yasgui/notes.txt").status_code == 404
    assert client.get("/static/yasgui/../package.json").status_code == 404
    assert client.get("/static/yasgui/%2e%2e/package.json").status_code == 404


def test_package_json_pins_yasgui_as_the_lock_file_does() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["@zazuko/yasgui"]
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), "pin an exact version"
    assert lock["packages"][""]["dependencies"]["@zazuko/yasgui"] == pinned
    assert lock["packages"]["node_modules/@zazuko/yasgui"]["version"] == pinned
