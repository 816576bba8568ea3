"""W3C SPARQL 1.1 Update tests (evaluation and syntax) over HTTP, in update mode.

The endpoint is read-only by default; these tests start it in update mode
(``SPARQL_UPDATE_TOKEN`` set, a writable scratch store at ``KG_STORE_PATH``, the store's own
default graph), reset the store over HTTP before each test, send the update with its bearer
token, and read the whole store back with one SELECT. Known failures are listed in
``KNOWN_FAILURES`` and run as strict xfails.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.w3c_harness import LiveServer, run_update_test
from tests.w3c_manifest import W3C_BASE, UpdateTest, suite_available, update_tests

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not suite_available(),
        reason="the W3C suites are not here: ../shared/conformance/w3c-sparql11/ is absent",
    ),
]

TOKEN = "w3c-update-test-token"  # noqa: S105 - a scratch server's token
_LOAD = "LOAD refused: the endpoint fetches nothing from the web or the disk"
KNOWN_FAILURES: dict[str, str] = {
    W3C_BASE + "update-silent/manifest#load-silent": _LOAD,
    W3C_BASE + "update-silent/manifest#load-into-silent": _LOAD,
}

TESTS = update_tests() if suite_available() else []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    out: Path = tmp_path_factory.mktemp("w3c-update")
    with LiveServer(
        out,
        KG_STORE_PATH=str(out / "update-store"),
        SPARQL_UPDATE_TOKEN=TOKEN,
        SPARQL_UNION_DEFAULT_GRAPH=False,
    ) as live:
        yield live


def _param(test: UpdateTest) -> object:
    reason = KNOWN_FAILURES.get(test.iri)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(test, id=test.id, marks=marks)


@pytest.mark.parametrize("test", [_param(t) for t in TESTS])
def test_w3c_update(server: LiveServer, test: UpdateTest) -> None:
    run_update_test(server, test, TOKEN)


def test_known_failures_are_tests() -> None:
    iris = {t.iri for t in TESTS}
    assert all(iri.startswith(W3C_BASE) for iri in KNOWN_FAILURES)
    assert set(KNOWN_FAILURES) <= iris
