"""Queries run in threads of the server process (``server.inprocess``): the same answers and
errors as the query worker processes, and a process that retires when a query overruns."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyoxigraph import QueryResultsFormat, RdfFormat, Store

from server.executor import (
    QueryExecutor,
    QueryFailed,
    QuerySyntaxError,
    QueryTimeout,
    ResultTooLarge,
)
from server.inprocess import ThreadExecutor, exit_now_if_runaway, runaways
from server.store import NoRelease
from tests.test_executor import CROSS_PRODUCT, JSON, NT, _make_store

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_store(tmp_path_factory.mktemp("inprocess") / "store")


@pytest.fixture(scope="module")
def store(store_path: Path) -> Store:
    return Store.read_only(str(store_path))


@pytest.fixture(scope="module")
def pool(store_path: Path) -> Iterator[QueryExecutor]:
    with QueryExecutor(store_path, workers=1) as executor:
        yield executor


class Retire:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


@pytest.mark.parametrize(
    ("query", "fmt"),
    [
        ("SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 40", JSON),
        ("SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 40", "text/tab-separated-values"),
        ("SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 7", QueryResultsFormat.XML),
        ("ASK { ?s <http://example.org/marker> 'a' }", JSON),
        ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 25", NT),
        ("DESCRIBE <http://example.org/x>", RdfFormat.TURTLE),
    ],
)
def test_answers_equal_those_of_the_query_processes(
    store: Store, pool: QueryExecutor, query: str, fmt: str | QueryResultsFormat | RdfFormat
) -> None:
    retire = Retire()
    threads = ThreadExecutor(lambda: store, retire)
    mine = threads.run(query, fmt, use_default_graph_as_union=True)
    theirs = pool.run(query, fmt, use_default_graph_as_union=True)
    assert mine.body == theirs.body and mine.body
    assert mine.media_type == theirs.media_type
    assert mine.count == theirs.count
    assert retire.calls == 0


def test_json_solutions_are_counted_when_asked(store: Store) -> None:
    result = ThreadExecutor(lambda: store, Retire()).run(
        "SELECT ?s WHERE { ?s ?p ?o } LIMIT 123", JSON, use_default_graph_as_union=True
    )
    assert result.count == 123 == len(json.loads(result.body)["results"]["bindings"])


def test_errors_are_those_of_the_query_processes(store: Store) -> None:
    retire = Retire()
    threads = ThreadExecutor(lambda: store, retire, max_result_bytes=10_000)
    with pytest.raises(QuerySyntaxError) as syntax:
        threads.run("SELEC ?s WHERE { ?s ?p ?o }", JSON)
    assert syntax.value.status == 400 and "1:" in syntax.value.message
    with pytest.raises(QueryFailed) as engine:
        threads.run("SELECT (<http://example.org/f>(1) AS ?x) {}", JSON)
    assert engine.value.engine_error == "RuntimeError"
    assert "is not supported" in engine.value.engine_message
    with pytest.raises(QueryFailed, match="cannot carry query solutions"):
        threads.run("SELECT * WHERE { ?s ?p ?o } LIMIT 1", NT)
    with pytest.raises(ResultTooLarge) as large:
        threads.run("SELECT * WHERE { ?s ?p ?o }", JSON, use_default_graph_as_union=True)
    assert large.value.status == 413 and "10,000 bytes" in large.value.message
    with pytest.raises(QueryTimeout, match="longer than 0 s"):
        threads.run("ASK {}", JSON, timeout=0)
    assert threads.run("ASK {}", JSON).body == b'{"head":{},"boolean":true}'
    assert retire.calls == 0 and not threads.retired and runaways() == 0


def test_nothing_published_is_said_before_any_thread_runs() -> None:
    def missing() -> Store:
        raise NoRelease()

    with pytest.raises(NoRelease):
        ThreadExecutor(missing, Retire()).run("ASK {}", JSON)


def test_the_exit_hook_lets_an_ordinary_exit_be() -> None:
    exit_now_if_runaway(None, None)  # no runaway: returns, and gunicorn's exit goes on
    assert runaways() == 0


# A runaway query keeps its thread busy until the process ends, so it runs in a process of
# its own, which reports as JSON what it saw and then leaves through gunicorn's exit hook.
RUNAWAY_SCRIPT = textwrap.dedent(
    """
    import json, sys, threading, time
    from pyoxigraph import Store
    from server.executor import QueryTimeout
    from server.inprocess import ThreadExecutor, exit_now_if_runaway, runaways

    store = Store.read_only(sys.argv[1])
    retired = []
    threads = ThreadExecutor(lambda: store, lambda: retired.append(time.monotonic()))
    seen = {}

    def runaway(timeout):
        started = time.monotonic()
        try:
            threads.run(__CROSS__, "application/sparql-results+json",
                        use_default_graph_as_union=True, timeout=timeout)
            seen.setdefault("answered", []).append(timeout)
        except QueryTimeout as e:
            seen.setdefault("timeouts", []).append(
                {"after": time.monotonic() - started, "status": e.status})

    first = threading.Thread(target=runaway, args=(1.5,))
    first.start()
    time.sleep(0.3)
    asks = []
    while first.is_alive():  # others answered while the runaway runs
        t = time.monotonic()
        asks.append((threads.run("ASK {}", "application/sparql-results+json").body.decode(),
                     time.monotonic() - t))
        time.sleep(0.05)
    seen["asks"] = asks
    runaway(0.5)  # a second one: the process already retires
    seen["retired"] = len(retired)
    seen["runaways"] = runaways()
    print(json.dumps(seen), flush=True)
    exit_now_if_runaway(None, None)
    print("not reached", flush=True)
    """
).replace("__CROSS__", repr(CROSS_PRODUCT))


def _seen_in(script: str, store_path: Path) -> dict[str, Any]:
    """Run ``script`` in a process of its own: what it saw (its one line of JSON), once it
    has ended by itself, before printing anything more."""
    done = subprocess.run(
        [sys.executable, "-c", script, str(store_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout  # the process ended early: nothing after
    seen: dict[str, Any] = json.loads(lines[0])
    # others were answered while the runaways ran, and the process retired once
    assert seen["asks"] and all(body.endswith('"boolean":true}') for body, _ in seen["asks"])
    assert max(seconds for _, seconds in seen["asks"]) < 1
    assert seen["retired"] == 1  # asked once, however many queries overrun
    assert seen["runaways"] == 2
    return seen


@pytest.mark.slow
def test_a_runaway_query_times_out_and_retires_the_process_once(store_path: Path) -> None:
    seen = _seen_in(RUNAWAY_SCRIPT, store_path)  # ended by gunicorn's exit hook
    assert "answered" not in seen
    first, second = seen["timeouts"]
    assert first["status"] == second["status"] == 503
    assert 1.5 <= first["after"] < 3 and 0.5 <= second["after"] < 2


# Under gunicorn a query runs in its request's own thread, and the watchdog answers a request
# whose query overruns. A process of its own plays gunicorn: sockets in the WSGI environ, and
# the request hooks. The watchdog ends that process once only the runaways' requests are left.
HELD_SCRIPT = textwrap.dedent(
    """
    import json, socket, sys, threading, time
    from pyoxigraph import Store
    from server.inprocess import (
        RequestThreads, ThreadExecutor, request_ended, request_started, runaways)

    store = Store.read_only(sys.argv[1])
    retired, late, threads_seen = [], [], set()

    def answer_late(environ, error, query):
        late.append({"status": error.status, "query": query[:6],
                     "thread": threading.get_ident()})
        environ["gunicorn.socket"].sendall(b"%d" % error.status)
        environ["gunicorn.socket"].close()

    executor = ThreadExecutor(lambda: store, lambda: retired.append(1), answer_late=answer_late)

    def app(environ, start_response):
        threads_seen.add(threading.get_ident())
        result = executor.run(environ["query"], "application/sparql-results+json",
                              use_default_graph_as_union=True, timeout=environ["timeout"])
        start_response("200 OK", [])
        return [result.body]

    wsgi = RequestThreads(app)

    def request(query, timeout, sock):  # as gunicorn: hooks around the app
        request_started(None, None)
        try:
            return b"".join(wsgi({"query": query, "timeout": timeout,
                                  "gunicorn.socket": sock}, lambda *_: None)).decode()
        finally:
            request_ended(None, None, None, None)

    seen = {}
    clients = []
    request_started(None, None)  # this check is a request too: the process waits for it
    for timeout in (1.5, 1.0):
        ours, theirs = socket.socketpair()
        clients.append(theirs)
        threading.Thread(target=request, args=(__CROSS__, timeout, ours), daemon=True).start()
        time.sleep(0.3)
    asks = []
    for client in clients:  # others are answered while the runaways run
        client.settimeout(5)
        while True:
            try:
                client.setblocking(False)
                got = client.recv(16)
                break
            except BlockingIOError:
                pass
            ours, _ = socket.socketpair()
            t = time.monotonic()
            asks.append((request("ASK {}", 30, ours), time.monotonic() - t))
            time.sleep(0.05)
        seen.setdefault("late", []).append(got.decode())
    seen["asks"] = asks
    seen["answered_by"] = [entry["thread"] in threads_seen for entry in late]
    seen["queries"] = [entry["query"] for entry in late]
    seen["retired"] = len(retired)
    seen["runaways"] = runaways()
    print(json.dumps(seen), flush=True)
    request_ended(None, None, None, None)
    time.sleep(10)  # the watchdog ends the process meanwhile: no request but the runaways'
    print("not reached", flush=True)
    """
).replace("__CROSS__", repr(CROSS_PRODUCT))


@pytest.mark.slow
def test_a_runaway_in_its_request_thread_is_answered_by_the_watchdog(store_path: Path) -> None:
    seen = _seen_in(HELD_SCRIPT, store_path)  # ended by the watchdog, before its 10 s sleep
    assert seen["late"] == ["503", "503"]  # each request answered once, by the watchdog
    assert seen["answered_by"] == [False, False]  # not by the threads that ran the queries
    assert seen["queries"] == [CROSS_PRODUCT[:6]] * 2


def test_the_watchdog_fires_only_deadlines_that_pass() -> None:
    from server.inprocess import _Watchdog

    watchdog = _Watchdog()
    fired: list[str] = []
    now = time.monotonic()
    passing = watchdog.arm(now + 0.1, lambda: fired.append("passing"))
    kept = watchdog.arm(now + 0.1, lambda: fired.append("kept"))
    later = watchdog.arm(now + 60, lambda: fired.append("later"))
    assert watchdog.disarm(kept)  # ended in time
    deadline = time.monotonic() + 5
    while not fired and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    assert fired == ["passing"]
    assert not watchdog.disarm(passing)  # it fired: its query's thread must not answer
    assert watchdog.disarm(later)


def test_a_retiring_worker_ends_only_once_no_connection_but_the_held_ones_is_left() -> None:
    """Under gunicorn's threaded worker the process ends early by the worker's own count of
    connections, once it has stopped accepting: one accepted while the worker took in its stop
    signal has no request yet, and cutting it gave a client a reset."""
    from types import SimpleNamespace

    from server.inprocess import _Requests

    requests = _Requests()
    worker = SimpleNamespace(alive=True, _accepting=True, nr_conns=2)
    requests.counted, requests.retiring, requests.worker = True, True, worker
    requests.in_flight = requests.held = 1  # the runaway's request, and nothing else started
    assert not requests.only_held_left()  # still accepting
    worker.alive = False
    assert not requests.only_held_left()  # the stop signal taken in, the loop not yet left
    worker._accepting = False
    assert not requests.only_held_left()  # a connection besides the runaway's
    worker.nr_conns = 1
    assert requests.only_held_left()
    del worker.nr_conns  # a worker that does not count them: gunicorn's graceful stop
    assert not requests.only_held_left()
    requests.worker = None  # hooks called without a worker: by the requests they counted
    assert requests.only_held_left()
