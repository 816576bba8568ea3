"""``kg-build --push``: the release loaded into a real ``oxigraph serve`` over the Graph Store
Protocol, one graph per PUT; what a store that fails or refuses looks like to the user."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from kg_builder.layout import PUSHED, Release, current_release
from kg_builder.pipeline import run
from kg_builder.push import PushConfig, PushError, graphs_of, public_url, push
from tests.conftest import FIXED_TIME, project_config
from tests.test_cli import fingerprint, kg_build
from tests.test_end_to_end import free_port

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT / "tests" / "fixtures" / "devset"
DOCS = ("dev02_gid_geneva_2017-12-13.txt", "dev08_sg_dushanbe_2018-05-04.txt")
OLD_TITLE = "Secretary General Greminger visits Tajikistan, discusses border security"
NEW_TITLE = "Secretary General Greminger visits Tajikistan and discusses border security"
BASE = "https://w3id.org/osce-kg/"
ONTOLOGY_GRAPH = f"{BASE}graph/ontology"


def oxigraph_binary() -> str | None:
    beside = Path(sys.executable).with_name("oxigraph")
    return str(beside) if beside.is_file() else shutil.which("oxigraph")


@pytest.fixture
def oxigraph(tmp_path: Path) -> Iterator[str]:
    """A fresh ``oxigraph serve`` on a local port; its base URL."""
    binary = oxigraph_binary()
    if binary is None:
        pytest.skip("the oxigraph CLI is not installed (pip install 'oxigraph>=0.5', test extra)")
    port = free_port()
    log = (tmp_path / "oxigraph.log").open("wb")
    server = subprocess.Popen(
        [binary, "serve", "--location", str(tmp_path / "oxigraph"), "--bind", f"127.0.0.1:{port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base}/query", params={"query": "ASK {}"}, timeout=1)
                break
            except requests.ConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"oxigraph serve did not start: {(tmp_path / 'oxigraph.log').read_text()}"
                    ) from None
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def store_graphs(base: str) -> dict[str, int]:
    """Each named graph of the store with its triple count, by SPARQL over HTTP."""
    response = requests.post(
        f"{base}/query",
        data={"query": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    response.raise_for_status()
    rows = response.json()["results"]["bindings"]
    return {row["g"]["value"]: int(row["n"]["value"]) for row in rows}


def store_has_title(base: str, title: str) -> bool:
    query = f'ASK {{ GRAPH ?g {{ ?s ?p ?o FILTER (STRSTARTS(STR(?o), "{title}")) }} }}'
    response = requests.post(
        f"{base}/query",
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    response.raise_for_status()
    return bool(response.json()["boolean"])


def local_graphs(out: Path) -> dict[str, int]:
    release = current_release(out)
    assert release is not None
    return dict(graphs_of(release))


@pytest.fixture(scope="module")
def two_docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A published build of two devset pages (its output folder, beside its sources)."""
    work = tmp_path_factory.mktemp("push-build")
    sources = work / "sources"
    sources.mkdir()
    for name in DOCS:
        shutil.copy(DEVSET / name, sources / name)
    run(project_config(work / "out", sources), now=FIXED_TIME)
    return work


@pytest.fixture
def work(tmp_path: Path, two_docs: Path) -> Path:
    """A private copy of the two-page build, with its sources, to change and push; rebuilt
    in place (from the cache: the pages moved, their content did not) so that the next
    ``kg-build`` on it changes nothing."""
    copy = tmp_path / "work"
    shutil.copytree(two_docs, copy, symlinks=True)
    run(project_config(copy / "out", copy / "sources"))
    return copy


def release_of(work: Path) -> Release:
    release = current_release(work / "out")
    assert release is not None
    return release


def build_args(work: Path, *more: str) -> list[str | Path]:
    return [
        "--out-dir",
        work / "out",
        "--reference-dir",
        ROOT / "data" / "reference",
        "--ontology",
        ROOT / "ontology" / "osce.ttl",
        "--shapes",
        ROOT / "shapes",
        *more,
        work / "sources",
    ]


def change_title(work: Path) -> None:
    page = work / "sources" / DOCS[1]
    text = page.read_text(encoding="utf-8")
    assert OLD_TITLE in text
    page.write_text(text.replace(OLD_TITLE, NEW_TITLE), encoding="utf-8")


# --- against oxigraph serve ---------------------------------------------------------------


@pytest.mark.slow
def test_push_loads_every_graph_with_its_triples(work: Path, oxigraph: str) -> None:
    done = kg_build(*build_args(work, "--push", f"{oxigraph}/store"))
    assert done.returncode == 0, done.stderr
    local = local_graphs(work / "out")
    assert len(local) == 5  # ontology, reference, two documents, inferred
    assert store_graphs(oxigraph) == local
    assert f"pushed 5 of 5 graph(s) ({sum(local.values())} triples)" in done.stdout
    state = json.loads((work / "out" / PUSHED).read_text())
    assert set(state["stores"][f"{oxigraph}/store"]["graphs"]) == set(local)


@pytest.mark.slow
def test_push_after_one_change_replaces_that_graph_and_leaves_the_others(
    work: Path, oxigraph: str
) -> None:
    url = f"{oxigraph}/store"
    first = push(release_of(work), PushConfig(url), work / "out" / PUSHED)
    assert len(first.sent) == 5 and store_has_title(oxigraph, OLD_TITLE)
    before = local_graphs(work / "out")

    change_title(work)
    run(project_config(work / "out", work / "sources"))
    after = local_graphs(work / "out")
    second = push(release_of(work), PushConfig(url), work / "out" / PUSHED)

    changed = {g for g in after if after[g] != before.get(g)} | (set(after) - set(before))
    assert changed, "the edit should change the page's graph"
    doc_graphs = [g for g in after if "/graph/document/" in g]
    edited = [g for g in second.sent if g in doc_graphs]
    assert len(edited) == 1, "only the edited page's graph is sent again"
    untouched = [g for g in doc_graphs if g not in edited]
    assert untouched == [g for g in second.unchanged if g in doc_graphs]
    # (the ontology graph may be sent again: each publish rewrites it with new blank node
    # labels for its RDF lists, so its digest changes though its content does not)
    assert f"{BASE}graph/reference" in second.unchanged
    assert f"{BASE}graph/inferred" in second.sent
    # replaced, not appended: the old title is gone and every count is the local one
    assert store_has_title(oxigraph, NEW_TITLE)
    assert not store_has_title(oxigraph, OLD_TITLE)
    assert store_graphs(oxigraph) == after


@pytest.mark.slow
def test_push_when_nothing_changed_says_so_and_push_all_sends_again(
    work: Path, oxigraph: str
) -> None:
    url = f"{oxigraph}/store"
    assert kg_build(*build_args(work, "--push", url)).returncode == 0
    again = kg_build(*build_args(work, "--push", url))
    assert again.returncode == 0, again.stderr
    assert "(nothing to do)" in again.stdout
    assert f"nothing to push: {url} has every graph of release" in again.stdout
    # the store was emptied behind our back: --push-all sends everything again
    requests.post(f"{oxigraph}/update", data={"update": "DROP ALL"}, timeout=30).raise_for_status()
    assert store_graphs(oxigraph) == {}
    forced = kg_build(*build_args(work, "--push", url, "--push-all"))
    assert forced.returncode == 0, forced.stderr
    assert "pushed 5 of 5 graph(s)" in forced.stdout
    assert store_graphs(oxigraph) == local_graphs(work / "out")


@pytest.mark.slow
def test_prune_deletes_the_graphs_of_gone_pages_from_the_store(work: Path, oxigraph: str) -> None:
    url = f"{oxigraph}/store"
    # a graph someone else keeps in the store is never touched
    requests.put(
        f"{url}?graph=http://example.org/theirs",
        data=b"<http://example.org/s> <http://example.org/p> <http://example.org/o> .\n",
        headers={"Content-Type": "application/n-triples"},
        timeout=30,
    ).raise_for_status()
    assert kg_build(*build_args(work, "--push", url)).returncode == 0
    gone = next(g for g in local_graphs(work / "out") if DOCS[1].split("_")[0] in g)
    (work / "sources" / DOCS[1]).unlink()

    kept = kg_build(*build_args(work, "--prune", "--push", url, "-j", "1"))
    # --prune drops the page from the release; the store still holds its graph until the
    # push deletes it, which the same --prune asks for
    assert kept.returncode == 0, kept.stderr
    assert "deleted 1 graph(s) gone from the release (--prune)" in kept.stdout
    graphs = store_graphs(oxigraph)
    assert gone not in graphs
    assert graphs.pop("http://example.org/theirs") == 1
    assert graphs == local_graphs(work / "out")


@pytest.mark.slow
def test_graphs_gone_from_the_release_stay_in_the_store_without_prune(
    work: Path, oxigraph: str
) -> None:
    url = f"{oxigraph}/store"
    state = work / "out" / PUSHED
    push(release_of(work), PushConfig(url), state)
    gone = next(g for g in local_graphs(work / "out") if DOCS[1].split("_")[0] in g)
    (work / "sources" / DOCS[1]).unlink()
    config = project_config(work / "out", work / "sources")
    run(replace(config, prune=True))
    assert gone not in local_graphs(work / "out")

    done = push(release_of(work), PushConfig(url), state)
    assert done.kept == [gone] and not done.deleted
    assert gone in store_graphs(oxigraph)
    # a later push with prune still knows the graph is ours
    done = push(release_of(work), PushConfig(url, prune=True), state)
    assert done.deleted == [gone]
    assert store_graphs(oxigraph) == local_graphs(work / "out")


# --- a store that is down or refuses ------------------------------------------------------


@pytest.mark.slow
def test_unreachable_store_fails_clearly_and_the_release_stays(work: Path) -> None:
    before = fingerprint(work / "out")
    url = f"http://127.0.0.1:{free_port()}/store"  # nothing listens there
    done = kg_build(*build_args(work, "-q", "--push", url))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].startswith(f"kg-build: {url}: PUT <{ONTOLOGY_GRAPH}>: cannot connect")
    assert "Connection refused" in lines[0]
    assert "release stays published locally" in lines[0]
    assert fingerprint(work / "out") == before
    assert not (work / "out" / PUSHED).exists(), "nothing reached that store"


@pytest.mark.slow
def test_store_refusal_names_the_store_the_graph_and_the_status(
    work: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/store", method="PUT").respond_with_data(
        "writes need a token", status=403, content_type="text/plain"
    )
    before = fingerprint(work / "out")
    url = httpserver.url_for("/store")
    done = kg_build(*build_args(work, "-q", "--push", url))
    assert done.returncode == 2
    line = done.stderr.strip()
    assert line.startswith(f"kg-build: {url}: PUT <{ONTOLOGY_GRAPH}>: HTTP 403 FORBIDDEN")
    assert ": writes need a token" in line
    assert "--push-token" in line  # the hint says what to change
    assert len(httpserver.log) == 1, "a 4xx is not retried"
    assert fingerprint(work / "out") == before


def test_push_requests_have_the_protocol_shape_and_credentials(
    two_docs: Path, httpserver: HTTPServer, tmp_path: Path
) -> None:
    seen: list[Request] = []

    def record(request: Request) -> Response:
        seen.append(request)
        return Response(status=201)

    httpserver.expect_request("/store", method="PUT").respond_with_handler(record)
    release = release_of(two_docs)
    url = httpserver.url_for("/store")
    config = PushConfig(url, token="s3cret")  # noqa: S106
    done = push(release, config, tmp_path / PUSHED)
    local = dict(graphs_of(release))
    assert done.total == 5 and sorted(done.sent) == sorted(local)
    names = [r.args["graph"] for r in seen]
    assert names[:2] == [ONTOLOGY_GRAPH, f"{BASE}graph/reference"]
    assert names[-1] == f"{BASE}graph/inferred"
    for request in seen:
        assert request.headers["Content-Type"] == "text/turtle"
        assert request.headers["User-Agent"].startswith("osce-kg/")
        assert request.headers["Authorization"] == "Bearer s3cret"
        assert request.get_data().count(b"\n") == local[request.args["graph"]]
    assert "s3cret" not in (tmp_path / PUSHED).read_text()


def test_basic_credentials_from_the_url_stay_out_of_messages_and_state(
    two_docs: Path, httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_request(
        "/store", method="PUT", headers={"Authorization": "Basic dXNlcjpwYXNz"}
    ).respond_with_data("", status=204)
    plain = httpserver.url_for("/store")
    with_credentials = plain.replace("http://", "http://user:pass@")
    assert public_url(with_credentials) == plain
    done = push(release_of(two_docs), PushConfig(with_credentials), tmp_path / PUSHED)
    assert done.url == plain and len(done.sent) == 5
    state = (tmp_path / PUSHED).read_text()
    assert plain in state and "pass" not in state


def test_5xx_is_retried_with_backoff_then_reported(
    two_docs: Path, httpserver: HTTPServer, tmp_path: Path
) -> None:
    answers = iter([503, 502, 204, 204, 204, 204, 204])
    httpserver.expect_request("/store", method="PUT").respond_with_handler(
        lambda _request: Response(status=next(answers))
    )
    pauses: list[float] = []
    done = push(
        release_of(two_docs),
        PushConfig(httpserver.url_for("/store")),
        tmp_path / "a",
        sleep=pauses.append,
    )
    assert len(done.sent) == 5 and len(httpserver.log) == 7
    assert pauses == [1.0]  # urllib3: no pause before the first retry, then backoff x 2

    httpserver.clear()
    httpserver.expect_request("/store", method="PUT").respond_with_data(
        "disk full", status=500, content_type="text/plain"
    )
    with pytest.raises(PushError) as failed:
        push(
            release_of(two_docs),
            PushConfig(httpserver.url_for("/store"), retries=2),
            tmp_path / "b",
            sleep=lambda _s: None,
        )
    message = str(failed.value)
    assert f"PUT <{ONTOLOGY_GRAPH}>: HTTP 500 INTERNAL SERVER ERROR after 2 retries" in message
    assert "disk full" in message and "try again later" in message
    assert len(httpserver.log) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--push", "ftp://example.org/store"], "not an http(s) URL"),
        (["--push-all"], "--push-all needs --push URL"),
        (["--push", "http://localhost/store", "--push-user", "nocolon"], "USER:PASSWORD"),
    ],
    ids=["not-http", "push-all-alone", "user-without-password"],
)
def test_push_usage_errors(args: list[str], message: str, tmp_path: Path) -> None:
    done = kg_build("--out-dir", tmp_path / "out", *args, ROOT / "data" / "sources")
    assert done.returncode == 2
    assert message in done.stderr
    assert not (tmp_path / "out" / "current").exists(), "nothing is built on a usage error"
