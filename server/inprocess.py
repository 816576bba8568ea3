"""Run SPARQL queries in the server process, and retire the process on a runaway.

The query worker processes of :mod:`server.executor` cost a query two process hops: with
gunicorn's threads and those workers sharing two cores, about 0.5 ms of a 2.4 ms lookup
(measured over HTTP on the 1,000-document benchmark graph). pyoxigraph releases the GIL while
it evaluates and serializes a query, so a query can run in the server process itself. What it
cannot do there is stop: nothing cancels a running pyoxigraph query but the end of its process.
:class:`ThreadExecutor` runs a query one of two ways.

**In the request's own thread**, under gunicorn (kg-serve): :class:`RequestThreads`, a WSGI
middleware, tells the executor which request its caller answers. The query runs in the
caller's thread, with its deadline registered with the process's watchdog (one thread, which
looks every 50 ms). A query that ends in time costs nothing more; handing it to another thread
cost 50-75 µs of a lookup's ~1 ms. When one overruns, the watchdog

1. answers the request itself: ``answer_late`` (server.sparql) writes the 503 the view would
   have written, and its log line and metrics, straight to the client's socket, and closes it;
2. retires the process (``retire``, once): under gunicorn, the worker asks itself to stop
   (SIGTERM, gunicorn's graceful stop). It accepts no more connections and finishes the
   requests it holds; once none but the runaway's are left (counted by :func:`request_started`
   and :func:`request_ended`, kg-serve's gunicorn hooks), the watchdog ends the process
   without waiting for the runaway. gunicorn's arbiter starts a fresh worker, and the others
   answer meanwhile.

**In a pool thread** elsewhere (a server that gives no socket): the caller waits for it with a
deadline, raises :class:`~server.executor.QueryTimeout` at the deadline and retires the process
as above; :func:`exit_now_if_runaway`, gunicorn's ``worker_exit`` hook, ends a retiring
process without waiting for a runaway thread. The threads are daemons of this module's own
pool: ``concurrent.futures`` joins its threads at exit, which would wait for a runaway query.

So this executor is for servers that replace a worker that exits (gunicorn: what ``kg-serve``
runs); Flask's own server (``kg-serve --dev``) and tests use the worker processes. A runaway
query shares the process's memory until the process ends, where a query process would be
killed alone; the query timeout bounds both.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pyoxigraph import QueryResultsFormat, RdfFormat, Store

from server.executor import (
    DEFAULT_MAX_RESULT_BYTES,
    DEFAULT_TIMEOUT,
    QueryFailed,
    QueryJob,
    QueryResult,
    QueryTimeout,
    evaluate,
    time_limit,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

_runaways = 0  # queries of this process still running past their deadline
_runaways_lock = threading.Lock()

# Answers a request whose thread is busy with a runaway query: (the request's WSGI environ,
# the error to answer, the query's text). It writes to the client's socket.
AnswerLate = Callable[["WSGIEnvironment", QueryTimeout, str], None]
WATCH_INTERVAL = 0.05  # seconds between the watchdog's looks at the deadlines


class _Requests:
    """This process's requests, as gunicorn's hooks count them, and its runaway queries that
    hold a request's thread (those requests never end)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counted = False  # whether the hooks run (kg-serve installs them)
        self.in_flight = 0
        self.held = 0
        self.retiring = False  # a query overran: the process is on its way out
        self.worker: Any = None  # gunicorn's worker, as the hooks give it

    def only_held_left(self) -> bool:
        """Whether the process may end now: it is retiring and serves nothing but the held
        requests. Under kg-serve's worker (server.worker) or gunicorn's threaded one, by
        their count of connections, once the worker has stopped accepting: a connection
        accepted while the worker took in its stop signal has no request yet (the hooks run
        once it is read) and must not be cut (a client saw a reset so); a worker without
        that count is left to gunicorn's graceful stop."""
        with self.lock:
            if not (self.retiring and self.counted):
                return False
            worker = self.worker
            if worker is None:  # the hooks were called without one (tests)
                return self.in_flight <= self.held
            connections = getattr(worker, "nr_conns", None)
            accepting = getattr(worker, "_accepting", True)
            alive = getattr(worker, "alive", True)
            if connections is None or accepting or alive:
                return False
            return bool(connections <= self.held)


_requests = _Requests()
_local = threading.local()  # .environ: the request this thread answers, under gunicorn


def request_started(worker: object, _req: object) -> None:
    """gunicorn ``pre_request`` hook: one more request in this worker."""
    with _requests.lock:
        _requests.counted = True
        _requests.in_flight += 1
        _requests.worker = worker


def request_ended(_worker: object, _req: object, _environ: object, _resp: object) -> None:
    """gunicorn ``post_request`` hook: a request answered (its response written or failed)."""
    with _requests.lock:
        _requests.in_flight -= 1


class RequestThreads:
    """WSGI middleware: lets :class:`ThreadExecutor` run a query in the thread of the request
    it answers, when the server is gunicorn (whose ``gunicorn.socket`` the watchdog can answer
    on, should the query overrun)."""

    def __init__(self, app: WSGIApplication):
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if "gunicorn.socket" not in environ:
            return self.app(environ, start_response)
        _local.environ = environ
        try:
            return self.app(environ, start_response)
        finally:
            _local.environ = None


class _Deadline:
    __slots__ = ("at", "fire")

    def __init__(self, at: float, fire: Callable[[], None]):
        self.at = at
        self.fire = fire


class _Watchdog:
    """One thread per process that fires the deadlines that pass (every ``WATCH_INTERVAL``:
    a query that ends in time never wakes it) and ends a retiring process once only requests
    held by runaway queries are left."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: set[_Deadline] = set()
        self._pid: int | None = None  # the process whose thread runs (a fork has none)

    def arm(self, at: float, fire: Callable[[], None]) -> _Deadline:
        deadline = _Deadline(at, fire)
        with self._lock:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._watch, name="osce-kg-watchdog", daemon=True).start()
            self._armed.add(deadline)
        return deadline

    def disarm(self, deadline: _Deadline) -> bool:
        """False when the deadline fired already."""
        with self._lock:
            if deadline in self._armed:
                self._armed.remove(deadline)
                return True
            return False

    def _watch(self) -> None:
        while True:
            time.sleep(WATCH_INTERVAL)
            now = time.monotonic()
            with self._lock:
                due = [d for d in self._armed if d.at <= now]
                self._armed.difference_update(due)
            for deadline in due:
                try:
                    deadline.fire()
                except Exception:  # the others still fire, and the process still retires
                    log.exception("a query's deadline could not be enforced")
            if _requests.only_held_left():
                logging.shutdown()  # flush the logs first
                os._exit(0)


_watchdog = _Watchdog()


def runaways() -> int:
    """Queries of this process that overran their timeout and may still be running."""
    return _runaways


def exit_now_if_runaway(_server: object, _worker: object) -> None:
    """gunicorn ``worker_exit`` hook: end a retiring worker at once when a query of it still
    runs (an ordinary exit would wait for the query's thread, or tear RocksDB down under it)."""
    if runaways():
        logging.shutdown()  # flush the logs first
        os._exit(0)


def _count_runaway(change: int) -> None:
    global _runaways
    with _runaways_lock:
        _runaways += change


class _Call:
    """One query handed to a pool thread, and its outcome."""

    __slots__ = ("done", "error", "job", "result", "store")

    def __init__(self, store: Store, job: QueryJob):
        self.store = store
        self.job = job
        self.done = threading.Event()
        self.result: QueryResult | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = evaluate(self.store, self.job)
        except BaseException as e:  # re-raised in the caller's thread
            self.error = e
        finally:
            self.done.set()

    def outcome(self) -> QueryResult:
        if self.error is not None:
            raise self.error
        if self.result is None:  # run() sets one or the other before done
            raise QueryFailed("The query thread ended without an answer.")
        return self.result


class _Threads:
    """Daemon threads that run calls; as many as calls were ever running at once."""

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[_Call] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self.started = 0

    def submit(self, call: _Call) -> None:
        with self._lock:
            start = self._idle == 0
            if start:
                self.started += 1
            else:
                self._idle -= 1
        if start:
            threading.Thread(target=self._serve, name="osce-kg-query", daemon=True).start()
        self._calls.put(call)

    def _serve(self) -> None:
        while True:
            call = self._calls.get()
            call.run()
            with self._lock:
                self._idle += 1


class ThreadExecutor:
    """Answers queries on ``store()`` in threads of this process, within a timeout; the same
    ``run`` as :class:`server.executor.PublishedExecutor`, and the same errors.

    ``store`` returns the store to query (the published release's; it may raise NoRelease).
    ``retire`` is called once, at the first query that overruns (see the module docstring).
    With ``answer_late``, a query asked for by a request that :class:`RequestThreads` passed
    on runs in the request's thread, and ``answer_late`` answers it if it overruns.
    """

    def __init__(
        self,
        store: Callable[[], Store],
        retire: Callable[[], None],
        *,
        answer_late: AnswerLate | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES,
    ):
        self.store = store
        self.retire = retire
        self.answer_late = answer_late
        self.timeout = timeout
        self.max_result_bytes = max_result_bytes
        self._threads = _Threads()

    @property
    def retired(self) -> bool:
        """Whether a query overran, so that this process is on its way out."""
        with _requests.lock:
            return _requests.retiring

    def run(
        self,
        query: str,
        format: str | RdfFormat | QueryResultsFormat,
        *,
        base_iri: str | None = None,
        use_default_graph_as_union: bool = False,
        default_graph: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> QueryResult:
        """Evaluate ``query`` and serialize its results in ``format`` within ``timeout`` s
        (default: the executor's); see ``QueryExecutor.run``."""
        limit = time_limit(self.timeout, timeout)
        job = QueryJob.of(
            query,
            format,
            base_iri,
            use_default_graph_as_union,
            default_graph,
            named_graphs,
            self.max_result_bytes,
        )
        environ = getattr(_local, "environ", None)
        if environ is not None and self.answer_late is not None:
            return self._run_here(job, limit, environ, self.answer_late)
        call = _Call(self.store(), job)
        started = time.monotonic()
        self._threads.submit(call)
        if not call.done.wait(limit):
            _count_runaway(+1)

            def finished() -> None:  # if it ever ends before the process does
                call.done.wait()
                _count_runaway(-1)

            threading.Thread(target=finished, name="osce-kg-runaway", daemon=True).start()
            self._retire_once(time.monotonic() - started)
            raise QueryTimeout(limit)
        return call.outcome()

    def _run_here(
        self, job: QueryJob, limit: float, environ: WSGIEnvironment, answer: AnswerLate
    ) -> QueryResult:
        """Run ``job`` in this thread; the watchdog answers its request if it overruns."""
        store = self.store()
        started = time.monotonic()

        def overran() -> None:  # in the watchdog's thread
            _count_runaway(+1)
            with _requests.lock:
                _requests.held += 1
            try:
                answer(environ, QueryTimeout(limit), job.query)
            finally:
                self._retire_once(time.monotonic() - started)

        deadline = _watchdog.arm(started + limit, overran)
        try:
            return evaluate(store, job)
        finally:
            if not _watchdog.disarm(deadline):
                # The 503 is out and the process is ending: this thread must not answer too.
                # It stays a runaway, so that no exit waits for it (gunicorn's thread pool
                # would join it).
                threading.Event().wait()

    def _retire_once(self, seconds: float) -> None:
        """Retire the process at its first overrun (a process retires once)."""
        with _requests.lock:
            first, _requests.retiring = not _requests.retiring, True
        log.warning(
            "query stopped after %.1f s: process %s retires%s",
            seconds,
            os.getpid(),
            "" if first else " (already retiring)",
        )
        if first:
            self.retire()

    def warm(self) -> threading.Thread:
        """Open the store in the background, so that the first query does not wait for it."""

        def open_store() -> None:
            try:
                self.store()
            except Exception:  # nothing published yet, or unreadable: said later
                log.debug("store not opened in advance", exc_info=True)

        thread = threading.Thread(target=open_store, name="store-warm", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        """Nothing to stop: the threads are daemons and end with the process."""
