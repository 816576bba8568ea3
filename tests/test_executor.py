"""The query worker pool: real worker processes over a small store made in tmp_path."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pyoxigraph import Literal, NamedNode, Quad, QueryResultsFormat, RdfFormat, Store

from server.executor import (
    ExecutorBusy,
    PublishedExecutor,
    QueryExecutor,
    QueryFailed,
    QuerySyntaxError,
    QueryTimeout,
    ResultTooLarge,
    json_solutions,
    release_store,
)
from server.store import NoRelease

EX = "http://example.org/"
G1, G2 = EX + "g1", EX + "g2"
JSON = "application/sparql-results+json"
NT = "application/n-triples"
_UNION: dict[str, Any] = {"use_default_graph_as_union": True}
# billions of solutions over 3,000 triples: runs far longer than any timeout here
CROSS_PRODUCT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def _make_store(path: Path, marker: str = "a", triples: int = 3000) -> Path:
    store = Store(str(path))
    store.bulk_extend(
        Quad(NamedNode(f"{EX}s{i}"), NamedNode(EX + "p"), Literal(f"v{i}"), NamedNode(G1))
        for i in range(triples)
    )
    store.add(Quad(NamedNode(EX + "x"), NamedNode(EX + "marker"), Literal(marker), NamedNode(G2)))
    store.flush()
    del store
    return path


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_store(tmp_path_factory.mktemp("executor") / "store")


@pytest.fixture(scope="module")
def executor(store_path: Path) -> Iterator[QueryExecutor]:
    with QueryExecutor(store_path, workers=2, timeout=30) as pool:
        yield pool


def _gone(pid: int) -> bool:
    """True once ``pid`` has exited and been reaped: neither running nor a zombie."""
    return not Path(f"/proc/{pid}").exists()


def _wait_gone(pids: list[int], seconds: float = 10) -> list[int]:
    """The pids still present after waiting up to ``seconds`` for them to be reaped."""
    deadline = time.monotonic() + seconds
    left = [p for p in pids if not _gone(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [p for p in left if not _gone(p)]
    return left


def _wait_until(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def _bindings(body: bytes) -> list[str]:
    rows = json.loads(body)["results"]["bindings"]
    return sorted(json.dumps(r, sort_keys=True) for r in rows)


@pytest.mark.parametrize(
    ("query", "options"),
    [
        ("SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 50", {"union": True}),
        ("SELECT ?o WHERE { ?s <http://example.org/marker> ?o }", {"union": True}),
        ("SELECT ?o WHERE { ?s ?p ?o }", {"default": [G2]}),
        ("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", {}),
        ("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", {"named": [G2]}),
        ("SELECT ?x WHERE { BIND(<rel> AS ?x) }", {"base": "http://example.org/base/"}),
    ],
)
def test_select_equals_direct_query(
    executor: QueryExecutor, store_path: Path, query: str, options: dict
) -> None:
    union, base = options.get("union", False), options.get("base")
    default, named = options.get("default"), options.get("named")
    result = executor.run(
        query,
        JSON,
        base_iri=base,
        use_default_graph_as_union=union,
        default_graph=default,
        named_graphs=named,
    )
    direct = Store.read_only(str(store_path)).query(
        query,
        base_iri=base,
        use_default_graph_as_union=union,
        default_graph=None if default is None else [NamedNode(g) for g in default],
        named_graphs=None if named is None else [NamedNode(g) for g in named],
    )
    expected = direct.serialize(format=QueryResultsFormat.JSON)
    assert _bindings(result.body) == _bindings(expected)
    assert result.count == len(json.loads(expected)["results"]["bindings"])
    assert result.media_type == JSON


# Literals that look like the JSON around them: the count must not see their braces. The
# first ones are written without escapes (the quick count), the others with (json.loads).
PLAIN_VALUES = ["},{", "[{", "{x:1},{y:[{}]}", "a b", "ünï", ""]
ESCAPED_VALUES = ['a}},{"b', "x\\y", "line\nbreak", "tab\tand", '{"type":"uri"}']


def _values(*values: str) -> str:
    return "SELECT ?v WHERE { VALUES ?v { " + " ".join(map(json.dumps, values)) + " } }"


@pytest.mark.parametrize(
    "query",
    [
        _values(*PLAIN_VALUES),
        _values(*PLAIN_VALUES, *ESCAPED_VALUES),
        _values(PLAIN_VALUES[0]),
        "SELECT * WHERE { }",  # one solution without bindings: [{}]
        "SELECT ?v WHERE { VALUES ?v { UNDEF UNDEF 1 } }",  # [{},{},{...}]
        "SELECT ?v WHERE { FILTER(false) }",  # no solution
        "SELECT ?s ?o WHERE { ?s <http://example.org/p> ?o } LIMIT 7",
        "SELECT ?t WHERE { BIND(<<( <http://e/s> <http://e/p> '},{' )>> AS ?t) }",
    ],
)
def test_json_solutions_are_counted_exactly(store_path: Path, query: str) -> None:
    store = Store.read_only(str(store_path))
    try:
        body = store.query(query).serialize(format=QueryResultsFormat.JSON)
    except SyntaxError:  # a pyoxigraph without triple terms
        pytest.skip("this pyoxigraph does not read triple terms")
    assert json_solutions(body) == len(json.loads(body)["results"]["bindings"])


def test_construct_equals_direct_query(executor: QueryExecutor, store_path: Path) -> None:
    query = "CONSTRUCT { ?s <http://example.org/q> ?o } WHERE { ?s ?p ?o }"
    result = executor.run(query, NT, use_default_graph_as_union=True)
    direct = Store.read_only(str(store_path)).query(query, use_default_graph_as_union=True)
    expected = direct.serialize(format=RdfFormat.N_TRIPLES)
    assert sorted(result.body.splitlines()) == sorted(expected.splitlines())
    assert result.count == 3001


@pytest.mark.parametrize(
    ("media_type", "expected"),
    [
        (JSON, b'{"head":{},"boolean":true}'),
        ("application/sparql-results+xml", None),
        ("text/csv", b"true"),
        ("text/tab-separated-values", b"true"),
    ],
)
def test_ask_in_every_solution_format(
    executor: QueryExecutor, media_type: str, expected: bytes | None
) -> None:
    result = executor.run("ASK { GRAPH ?g { ?s <http://example.org/marker> 'a' } }", media_type)
    assert b"true" in result.body
    assert result.count is None
    if expected is not None:
        assert result.body.strip() == expected


@pytest.mark.parametrize(
    ("query", "fmt", "media_type"),
    [
        ("CONSTRUCT WHERE { ?s <http://example.org/marker> ?o }", RdfFormat.TURTLE, "text/turtle"),
        ("DESCRIBE <http://example.org/x>", "application/ld+json", "application/ld+json"),
        (
            "SELECT * WHERE { ?s ?p ?o } LIMIT 2",
            QueryResultsFormat.TSV,
            "text/tab-separated-values",
        ),
        ("SELECT * WHERE { ?s ?p ?o } LIMIT 2", "text/csv", "text/csv"),
    ],
)
def test_format_given_as_object_or_media_type(
    executor: QueryExecutor, query: str, fmt: object, media_type: str
) -> None:
    result = executor.run(query, fmt, **_UNION)  # type: ignore[arg-type]
    assert result.media_type.startswith(media_type)  # pyoxigraph may add "; charset=utf-8"
    assert result.count in (1, 2, None)
    assert result.body


@pytest.mark.parametrize(
    "media_type",
    [JSON, "application/sparql-results+xml", "text/tab-separated-values", "text/csv"],
)
def test_result_count_over_many_chunks(executor: QueryExecutor, media_type: str) -> None:
    result = executor.run("SELECT * WHERE { ?s ?p ?o }", media_type, **_UNION)
    assert len(result.body) > 100_000  # written in many chunks
    assert result.count == (None if media_type == "text/csv" else 3001)


def test_json_count_comes_after_the_answer_and_never_in_the_way(store_path: Path) -> None:
    """A worker counts SPARQL JSON solutions after sending its answer; the count is read when
    asked for or before the worker's next job, so unread counts never mix with answers."""
    limited = "SELECT ?s WHERE { ?s <http://example.org/p> ?o } LIMIT %d"
    with QueryExecutor(store_path, workers=1) as pool:
        unread = [pool.run(limited % n, JSON, **_UNION) for n in (1, 2, 3)]  # left unread
        tsv = pool.run(limited % 4, "text/tab-separated-values", **_UNION)
        assert tsv.count == 4 and tsv.body.count(b"\n") == 5
        assert [r.count for r in unread] == [1, 2, 3]  # each still has its own
        late = pool.run(limited % 5, JSON, **_UNION)
        (pid,) = pool.pids()
        os.kill(pid, 9)  # dies before anyone asked: the count is unknown, nothing breaks
        _wait_gone([pid])
        assert late.count in (5, None)
        with pytest.raises(QueryFailed):
            pool.run(limited % 6, JSON, **_UNION)  # the dead worker's turn: a 500; replaced
        assert pool.run(limited % 7, JSON, **_UNION).count == 7


def test_syntax_error_is_typed_and_keeps_the_worker(executor: QueryExecutor) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        executor.run("SELEC ?s WHERE { ?s ?p ?o }", JSON)
    assert caught.value.status == 400
    assert "1:" in caught.value.message  # the engine's position
    assert executor.run("ASK {}", JSON).body == b'{"head":{},"boolean":true}'


def test_format_that_cannot_carry_the_results_is_a_500(executor: QueryExecutor) -> None:
    pids = set(executor.pids())
    with pytest.raises(QueryFailed) as caught:
        executor.run("SELECT * WHERE { ?s ?p ?o } LIMIT 1", NT)
    assert caught.value.status == 500
    assert "cannot carry query solutions" in caught.value.message
    with pytest.raises(QueryFailed, match="cannot carry a graph"):
        executor.run("CONSTRUCT WHERE { ?s ?p ?o }", QueryResultsFormat.JSON)
    assert set(executor.pids()) == pids  # an engine error does not cost a worker


def test_engine_failure_carries_the_engine_error(executor: QueryExecutor) -> None:
    with pytest.raises(QueryFailed) as caught:
        executor.run("SELECT (<http://example.org/f>(1) AS ?x) {}", JSON)
    assert caught.value.engine_error == "RuntimeError"
    assert "is not supported" in caught.value.engine_message
    assert executor.run("ASK {}", JSON).body == b'{"head":{},"boolean":true}'


def test_result_larger_than_the_limit_is_refused(store_path: Path) -> None:
    with QueryExecutor(store_path, workers=1, max_result_bytes=10_000) as pool:
        with pytest.raises(ResultTooLarge) as caught:
            pool.run("SELECT * WHERE { ?s ?p ?o }", JSON, use_default_graph_as_union=True)
        assert caught.value.status == 413
        assert "10,000 bytes" in caught.value.message
        small = pool.run("SELECT * WHERE { ?s ?p ?o } LIMIT 2", JSON, **_UNION)
        assert small.count == 2


def test_zero_timeout_answers_timeout_at_once(executor: QueryExecutor) -> None:
    with pytest.raises(QueryTimeout, match="longer than 0 s"):
        executor.run("ASK {}", JSON, timeout=0)


def test_unreadable_store_is_a_500(tmp_path: Path) -> None:
    with (
        QueryExecutor(tmp_path / "no-store-here", workers=1) as pool,
        pytest.raises(QueryFailed, match="cannot be opened"),
    ):
        pool.run("ASK {}", JSON)


@pytest.mark.slow
def test_runaway_query_is_stopped_and_its_worker_replaced(store_path: Path) -> None:
    with QueryExecutor(store_path, workers=1) as pool:
        pool.run("ASK {}", JSON)
        [before] = pool.pids()
        started = time.monotonic()
        with pytest.raises(QueryTimeout) as caught:
            pool.run(CROSS_PRODUCT, JSON, use_default_graph_as_union=True, timeout=1)
        assert time.monotonic() - started < 1 + 5
        assert caught.value.status == 503
        assert caught.value.message == "The query ran longer than 1 s and was stopped."
        assert _wait_gone([before]) == []  # killed and reaped
        [after] = pool.pids()
        assert after != before
        result = pool.run("SELECT ?o WHERE { ?s <http://example.org/marker> ?o }", JSON, **_UNION)
        assert result.count == 1


@pytest.mark.slow
def test_fast_query_is_answered_while_a_slow_one_runs(store_path: Path) -> None:
    pool = QueryExecutor(store_path, workers=2)
    pool.start()
    slow_outcome: list[BaseException] = []

    def slow() -> None:
        try:
            pool.run(CROSS_PRODUCT, JSON, timeout=120, **_UNION)
        except (QueryFailed, QueryTimeout) as e:
            slow_outcome.append(e)

    slow_caller = threading.Thread(target=slow)
    slow_caller.start()
    try:
        _wait_until(lambda: pool.busy() == 1)  # the slow query holds a worker
        for _ in range(20):
            fast = pool.run("ASK { GRAPH ?g { ?s <http://example.org/marker> 'a' } }", JSON)
            assert b"true" in fast.body
        assert slow_caller.is_alive()  # answered while the slow query still runs
    finally:
        pool.close()  # kills the slow query's worker
        slow_caller.join(30)
    assert not slow_caller.is_alive()
    assert [type(e) for e in slow_outcome] == [QueryFailed]


@pytest.mark.slow
def test_busy_pool_answers_busy_instead_of_waiting_forever(store_path: Path) -> None:
    pool = QueryExecutor(store_path, workers=1, max_waiting=1, queue_timeout=0.5)
    pool.start()
    slow_outcome: list[BaseException] = []

    def slow() -> None:
        try:
            pool.run(CROSS_PRODUCT, JSON, **_UNION)
        except QueryFailed as e:  # killed by close()
            slow_outcome.append(e)

    slow_caller = threading.Thread(target=slow)
    slow_caller.start()
    try:
        _wait_until(lambda: pool.busy() == 1)  # the slow query holds the only worker
        with pytest.raises(ExecutorBusy) as caught:
            pool.run("ASK {}", JSON)
        assert caught.value.status == 503
        assert "stayed busy" in caught.value.message
        pool.max_waiting = 0  # no room in the queue: refused without waiting
        with pytest.raises(ExecutorBusy, match="0 queries are already waiting"):
            pool.run("ASK {}", JSON)
    finally:
        pool.close()
        slow_caller.join(30)
    assert [type(e) for e in slow_outcome] == [QueryFailed]


def test_no_processes_left_after_close(store_path: Path) -> None:
    pool = QueryExecutor(store_path, workers=3)
    pool.start()
    pids = pool.pids()
    assert len(pids) == 3
    assert all(not _gone(p) for p in pids)
    pool.close()
    assert pool.pids() == []
    assert _wait_gone(pids) == []
    with pytest.raises(RuntimeError):  # ExecutorClosed
        pool.run("ASK {}", JSON)


def test_forgotten_executor_leaves_no_processes(store_path: Path) -> None:
    pool = QueryExecutor(store_path, workers=2)
    pool.start()
    pids = pool.pids()
    del pool
    gc.collect()
    assert _wait_gone(pids) == []


@pytest.mark.slow
def test_workers_exit_when_the_web_process_dies(store_path: Path, tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(f"""
        import os, threading, time
        from server.executor import QueryExecutor
        pool = QueryExecutor({str(store_path)!r}, workers=2)
        pool.start()
        threading.Thread(
            target=pool.run,
            args=({CROSS_PRODUCT!r}, "text/csv"),
            kwargs={{"use_default_graph_as_union": True, "timeout": 600}},
            daemon=True,
        ).start()
        time.sleep(0.5)
        print(" ".join(map(str, pool.pids())), flush=True)
        os._exit(0)  # no atexit, no cleanup: as if killed
        """)
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        check=True,
    )
    pids = [int(p) for p in done.stdout.split()]
    assert len(pids) == 2
    assert _wait_gone(pids) == []


def test_published_executor_follows_the_current_release(tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    for name in ("r1", "r2"):
        (releases / name).mkdir(parents=True)
        _make_store(releases / name / "store", marker=name, triples=3)
    published = PublishedExecutor(release_store(tmp_path), workers=1)
    with pytest.raises(NoRelease):
        published.get()
    published.warm().join(30)  # nothing to serve: no error, no workers
    query = "SELECT ?o WHERE { ?s <http://example.org/marker> ?o }"
    current = tmp_path / "current"
    try:
        current.symlink_to(releases / "r1")
        assert b'"r1"' in published.run(query, JSON, **_UNION).body
        first = published.get()
        tmp_link = tmp_path / "current.tmp"
        tmp_link.symlink_to(releases / "r2")
        tmp_link.rename(current)  # as kg-build publishes: one atomic rename
        assert b'"r2"' in published.run(query, JSON, **_UNION).body
        assert first.closed
        assert published.get() is published.get()
        published.close()
        published.warm().join(30)
        assert len(published.get().pids()) == 1
    finally:
        published.close()
