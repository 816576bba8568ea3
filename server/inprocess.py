"""Run SPARQL queries in threads of the server process, and retire the process on a runaway.

The query worker processes of :mod:`server.executor` cost a query two process hops: with
gunicorn's threads and those workers sharing two cores, about 0.5 ms of a 2.4 ms lookup
(measured over HTTP on the 1,000-document benchmark graph). pyoxigraph releases the GIL while
it evaluates and serializes a query, so a query can run in a thread of the server process
itself while the request's thread waits for it with a deadline. What a thread cannot do is
stop: nothing cancels a running pyoxigraph query but the end of its process. So when a query
overruns, :class:`ThreadExecutor`

1. raises :class:`~server.executor.QueryTimeout` at the deadline (the client gets its 503 at
   once, as with worker processes);
2. calls ``retire`` once: under gunicorn, the worker asks itself to stop (SIGTERM, gunicorn's
   graceful stop). It accepts no more connections, finishes the requests it holds (each bounded
   by the query timeout), and exits; :func:`exit_now_if_runaway`, gunicorn's ``worker_exit``
   hook, ends the process without waiting for the runaway thread. gunicorn's arbiter starts a
   fresh worker meanwhile, and the other workers answer.

So this mode is for servers that replace a worker that exits (gunicorn: what ``kg-serve``
runs); Flask's own server (``kg-serve --dev``) and tests use the worker processes. A runaway
query shares the process's memory until the process ends, where a query process would be
killed alone; the query timeout bounds both.

The threads are daemons of this module's own pool: ``concurrent.futures`` joins its threads
at exit, which would wait for a runaway query.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence

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

log = logging.getLogger(__name__)

_runaways = 0  # queries of this process still running past their deadline
_runaways_lock = threading.Lock()


def runaways() -> int:
    """Queries of this process that overran their timeout and may still be running."""
    return _runaways


def exit_now_if_runaway(_server: object, _worker: object) -> None:
    """gunicorn ``worker_exit`` hook: end a retiring worker at once when a query of it still
    runs (an ordinary exit would wait for the query's thread, or tear RocksDB down under it)."""
    if runaways():
        logging.shutdown()  # flush the logs first
        os._exit(0)


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
    """

    def __init__(
        self,
        store: Callable[[], Store],
        retire: Callable[[], None],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES,
    ):
        self.store = store
        self.retire = retire
        self.timeout = timeout
        self.max_result_bytes = max_result_bytes
        self._threads = _Threads()
        self._retired = False
        self._retire_lock = threading.Lock()

    @property
    def retired(self) -> bool:
        """Whether a query overran, so that this process is on its way out."""
        return self._retired

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
        call = _Call(self.store(), job)
        started = time.monotonic()
        self._threads.submit(call)
        if not call.done.wait(limit):
            self._overran(call, time.monotonic() - started)
            raise QueryTimeout(limit)
        return call.outcome()

    def _overran(self, call: _Call, seconds: float) -> None:
        global _runaways
        with _runaways_lock:
            _runaways += 1

        def finished() -> None:  # if it ever ends before the process does
            call.done.wait()
            global _runaways
            with _runaways_lock:
                _runaways -= 1

        threading.Thread(target=finished, name="osce-kg-runaway", daemon=True).start()
        with self._retire_lock:
            first, self._retired = not self._retired, True
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
