"""The 34 W3C SPARQL 1.1 Protocol tests, replayed over HTTP against the live server.

Each test runs twice: against the default, read-only endpoint (the update tests must fail
there, and do, as strict xfails: updates are refused with 4xx) and in update mode
(``SPARQL_UPDATE_TOKEN`` set, a writable scratch store at ``KG_STORE_PATH``), where all 34
pass. The requests are sent as the manifest writes them, with the path ``/sparql/`` mapped
to our ``/sparql`` and, in update mode, an ``Authorization: Bearer`` header added.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.w3c_harness import LiveServer, check_response, send
from tests.w3c_manifest import SUITE, W3C_BASE, HttpTest, http_tests, suite_available

pytestmark = pytest.mark.skipif(
    not suite_available(),
    reason="the W3C suites are not here: ../shared/conformance/w3c-sparql11/ is absent",
)

TOKEN = "w3c-protocol-test-token"  # noqa: S105 - a scratch server's token
DATA = "http://kasei.us/2009/09/sparql/data/"
GRAPHS = [(f"{W3C_BASE}protocol/data{n}.nt", f"{DATA}data{n}.rdf") for n in (1, 2, 3)]
READ_ONLY_REASON = "read-only endpoint: updates are refused with 4xx"

TESTS = http_tests(SUITE / "protocol" / "manifest.ttl") if suite_available() else []


@pytest.fixture(scope="module")
def read_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("w3c-protocol")) as live:
        live.publish(GRAPHS)
        yield live


@pytest.fixture(scope="module")
def writable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    out: Path = tmp_path_factory.mktemp("w3c-protocol-update")
    with LiveServer(
        out, KG_STORE_PATH=str(out / "update-store"), SPARQL_UPDATE_TOKEN=TOKEN
    ) as live:
        yield live


def _reset(server: LiveServer) -> None:
    """The protocol tests' data in the named graphs the manifest uses, nothing else."""
    graphs = []
    for file, name in GRAPHS:
        triples = (SUITE / file[len(W3C_BASE) :]).read_text(encoding="utf-8")
        graphs.append(f"GRAPH <{name}> {{ {triples} }}")
    update = "DROP SILENT ALL ; INSERT DATA { " + "\n".join(graphs) + " }"
    response = server.session.post(
        server.url + "/sparql",
        data=update.encode(),
        headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    assert response.status_code == 204, response.text


def _path(path: str) -> str:
    assert path.startswith("/sparql/")
    return "/sparql" + path[len("/sparql/") :]


def _params(read_only_mode: bool) -> list[object]:
    params: list[object] = []
    for test in TESTS:
        is_update = test.id.startswith("protocol/update_")
        marks = (
            [pytest.mark.xfail(strict=True, reason=READ_ONLY_REASON)]
            if read_only_mode and is_update
            else []
        )
        params.append(pytest.param(test, id=test.id, marks=marks))
    return params


@pytest.mark.parametrize("test", _params(read_only_mode=True))
def test_w3c_protocol_read_only(read_only: LiveServer, test: HttpTest) -> None:
    for request in test.requests:
        check_response(request, send(read_only, request, _path(request.path), {}))


@pytest.mark.parametrize("test", _params(read_only_mode=False))
def test_w3c_protocol_update_mode(writable: LiveServer, test: HttpTest) -> None:
    _reset(writable)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for request in test.requests:
        check_response(request, send(writable, request, _path(request.path), auth))


def test_protocol_suite_has_34_tests() -> None:
    assert len(TESTS) == 34
