"""The read parts of the W3C Graph Store Protocol tests, over HTTP against ``/store``.

Our graph store is read-only: the harness applies each test's PUT, POST and DELETE to a local
copy of the dataset, publishes it as a release, and replays the test's GET and HEAD requests
against the live server. Tests that need direct graph identification (``/gsp/person/1.ttl``) or
graph creation by POST are left out: the store names graphs with ``?graph=`` only and never
creates them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.w3c_harness import LiveServer, run_gsp_read_test
from tests.w3c_manifest import SUITE, HttpTest, http_tests, suite_available

pytestmark = pytest.mark.skipif(
    not suite_available(),
    reason="the W3C suites are not here: ../shared/conformance/w3c-sparql11/ is absent",
)

KNOWN_FAILURES: dict[str, str] = {}
WRITE_ONLY = {"DirectGraphIdentification", "POSTGraphCreation"}

TESTS = (
    [
        t
        for t in http_tests(SUITE / "graph-store-protocol" / "manifest-indirect.ttl")
        if not WRITE_ONLY & set(t.requires)
    ]
    if suite_available()
    else []
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # the suite's default graph is the store's own, not the union of the named graphs
    with LiveServer(tmp_path_factory.mktemp("w3c-gsp"), SPARQL_UNION_DEFAULT_GRAPH=False) as live:
        yield live


def _param(test: HttpTest) -> object:
    reason = KNOWN_FAILURES.get(test.iri)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(test, id=test.id, marks=marks)


@pytest.mark.parametrize("test", [_param(t) for t in TESTS])
def test_w3c_graph_store_read(server: LiveServer, test: HttpTest) -> None:
    run_gsp_read_test(server, test)
