"""Run SPARQL queries in a pool of worker processes, so that a timeout really stops a query.

pyoxigraph 0.5 cannot cancel ``Store.query``: neither a signal handler nor an asynchronous
exception interrupts a running query. The only way to stop one is to kill the process running
it. So queries run in worker processes that each open the release's store read-only; the web
process waits for the answer with a deadline and, when it passes, kills the worker (SIGKILL),
starts a replacement and raises :class:`QueryTimeout` (the endpoint answers 503, never a 200
with a truncated body).

A worker evaluates the query *and serializes the results fully* (a pyoxigraph format crosses
to it by name) into a buffer bounded by ``max_result_bytes``; the web process receives finished
bytes in one message (a fixed header, then the body: one wake-up of the waiting thread, no
pickling of results), or a typed error. A job crosses as one ``marshal``-ed tuple of plain
values; the web process waits on a ``poll`` object each worker keeps for its pipe and its
process sentinel. Per query that is one write and one wake-up each way: about 0.1 ms more
than running the query in the web process (``bench/executor_overhead.py``; 0.15 to 0.2 ms
with a pickled job, a selector made for every wait and the answer's length written apart).

=====================  ======  ==========================================================
error                  status  when
=====================  ======  ==========================================================
QuerySyntaxError       400     the engine rejects the query text
ResultTooLarge         413     the serialized result is larger than ``max_result_bytes``
QueryFailed            500     the engine failed, the worker died, or a bug of ours
QueryTimeout           503     the query ran longer than its timeout; its worker was killed
ExecutorBusy           503     every worker is busy and the wait for one ran out
=====================  ======  ==========================================================

Each caller holds one worker for the duration of its query, so a slow query occupies one
worker and other queries proceed on the others; callers beyond the pool size wait in a bounded
queue (``max_waiting``, ``queue_timeout``). Workers are started on demand, from a *forkserver*
(never forked from the web process, which may hold RocksDB handles and threads), and exit when
their parent does. Under gunicorn, each gunicorn worker owns its own executor: create it after
the fork, as :class:`PublishedExecutor` does lazily.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import marshal
import math
import multiprocessing
import os
import pickle
import select
import signal
import struct
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from pyoxigraph import (
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
)

from kg_builder.layout import current_release
from server.errors import HttpError
from server.store import NoRelease

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 2
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RESULT_BYTES = 128 * 1024 * 1024
DEFAULT_MAX_WAITING = 32
DEFAULT_QUEUE_TIMEOUT = 10.0
_STOP_GRACE = 1.0  # seconds a worker asked to exit may take before it is killed


# --- errors -----------------------------------------------------------------------------------


def _seconds(value: float) -> str:
    return f"{value:g}"


class QuerySyntaxError(HttpError):
    """The query engine rejected the query text: 400."""

    def __init__(self, message: str):
        super().__init__(
            400, message, "The query engine rejected the query.", title="Query syntax error"
        )


class ResultTooLarge(HttpError):
    """The serialized result exceeds the configured size: 413 (the query decides the size)."""

    def __init__(self, limit: int):
        super().__init__(
            413,
            f"The result is larger than {limit:,} bytes, the most this server sends.",
            "Add LIMIT (with OFFSET to page), select fewer variables, or download a dump "
            "from /dumps/.",
            title="Result too large",
        )
        self.limit = limit


class QueryFailed(HttpError):
    """The engine or its worker process failed: 500, our problem rather than the client's.

    ``engine_error`` and ``engine_message`` are the type name and text of the exception the
    engine raised in the worker ("" when the worker itself failed), so a caller can turn the
    failures it knows to be the client's (an unsupported function...) into a 400.
    """

    def __init__(self, message: str, engine_error: str = "", engine_message: str = ""):
        super().__init__(
            500,
            message,
            "This is a failure of the server, not of your request; retry, or report it.",
            title="Query failed",
        )
        self.engine_error = engine_error
        self.engine_message = engine_message


class QueryTimeout(HttpError):
    """The query ran past its timeout; its worker was killed: 503."""

    def __init__(self, seconds: float):
        super().__init__(
            503,
            f"The query ran longer than {_seconds(seconds)} s and was stopped.",
            "Narrow the query: add LIMIT, more specific patterns, or fewer OPTIONALs.",
            title="Query timeout",
        )
        self.seconds = seconds


class ExecutorBusy(HttpError):
    """Every worker is busy and no worker became free in time: 503."""

    def __init__(self, message: str):
        super().__init__(
            503, message, "The server is busy with other queries; retry shortly.", title="Busy"
        )


class _EngineFailure(QueryFailed):
    """The engine reported a failure; the worker itself is fine and stays in the pool."""


class ExecutorClosed(RuntimeError):
    """The executor was closed (shut down, or its release replaced) before the query ran."""


def time_limit(default: float, asked: float | None) -> float:
    """The seconds a query may run: ``asked``, else ``default``; QueryTimeout when none."""
    limit = default if asked is None else asked
    if limit <= 0:  # no time at all: nothing can be answered
        raise QueryTimeout(limit)
    return limit


# --- what crosses the process boundary ----------------------------------------------------------


class QueryJob(NamedTuple):
    """One query as sent to a worker; plain values only (str, bool, int, tuples, None). A
    tuple, made for every query, also those run in the web process: a frozen dataclass's
    ``__init__`` sets each field through ``object.__setattr__``."""

    query: str
    format: str  # a media type, or "RdfFormat.TURTLE", "QueryResultsFormat.JSON"...
    base_iri: str | None = None
    use_default_graph_as_union: bool = False
    default_graph: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    max_bytes: int = DEFAULT_MAX_RESULT_BYTES

    def encode(self) -> bytes:
        """The job as one message: ``marshal`` of its fields, a few microseconds each way
        (pickling the dataclass took ten times as long)."""
        return marshal.dumps(tuple(self))

    @classmethod
    def of(
        cls,
        query: str,
        format: str | RdfFormat | QueryResultsFormat,
        base_iri: str | None,
        use_default_graph_as_union: bool,
        default_graph: Sequence[str] | None,
        named_graphs: Sequence[str] | None,
        max_bytes: int,
    ) -> QueryJob:
        """The job of an executor's ``run`` arguments."""
        return cls(
            query,
            format_key(format),
            base_iri,
            use_default_graph_as_union,
            None if default_graph is None else tuple(default_graph),
            None if named_graphs is None else tuple(named_graphs),
            max_bytes,
        )

    @classmethod
    def decode(cls, message: bytes) -> QueryJob:
        return cls(*marshal.loads(message))  # noqa: S302 (from our own web process)


@dataclass(frozen=True)
class QueryResult:
    """A fully serialized answer."""

    body: bytes
    media_type: str
    counted: int | _LateCount | _DeferredCount | None  # solutions or triples, where cheap
    seconds: float  # spent in the worker: evaluation and serialization

    @property
    def count(self) -> int | None:
        """Solutions or triples, where the format makes counting cheap: counted by the worker
        while it wrote (N-Triples, N-Quads, TSV, XML) or, for SPARQL JSON up to 1 MiB, right
        after it sent the answer (then this waits for that count, if it has not come yet)."""
        if isinstance(self.counted, (_LateCount, _DeferredCount)):
            return self.counted.get()
        return self.counted


class _LateCount:
    """The count a worker sends after its answer: read when first asked for, or before the
    worker's next job, whichever comes first."""

    def __init__(self, conn: Connection):
        self._conn = conn
        self._lock = threading.Lock()
        self._read = False
        self._value: int | None = None

    def get(self) -> int | None:
        with self._lock:
            if not self._read:
                self._read = True
                self._value = self._receive()
            return self._value

    def _receive(self) -> int | None:
        try:
            if not self._conn.poll(_COUNT_WAIT):
                return None
            message = self._conn.recv_bytes(_COUNT.size)
        except (EOFError, OSError, ValueError):  # the worker died, or was stopped meanwhile
            return None
        count: int = _COUNT.unpack(message)[0]
        return count


class _DeferredCount:
    """The solutions of a SPARQL JSON answer made in this process, counted when first asked
    for (by the query log, once the answer is on its way)."""

    def __init__(self, body: bytes):
        self._body: bytes | None = body
        self._value: int | None = None
        self._lock = threading.Lock()

    def get(self) -> int | None:
        with self._lock:
            if self._body is not None:
                self._value = json_solutions(self._body)
                self._body = None
            return self._value


def json_solutions(body: bytes) -> int:
    """The number of solutions in a SPARQL JSON result (of SELECT) as Oxigraph writes it.

    Without a backslash in it, no string of the document holds a quote, so the text between
    quotes alternates outside and inside strings; outside them, written without spaces, the
    only array of objects is ``bindings`` and each pair of solutions is joined by ``},{``. That
    takes half the time of ``json.loads`` (which counts the rest: escapes, spaces)."""
    if b"\\" not in body:
        outside = b"".join(body.split(b'"')[::2])
        if not any(space in outside for space in (b" ", b"\n", b"\t", b"\r")):
            return outside.count(b"},{") + (b"[{" in outside)
    return len(json.loads(body)["results"]["bindings"])


# Replies, worker -> parent, one message each: b"K", _HEADER (count, seconds, media type) and
# the body; or b"E" and a pickled tuple: ("syntax", message), ("too_large",) or
# ("error", exception type name, message).


# --- the worker process ---------------------------------------------------------------------


class _TooLarge(Exception):
    pass


# A reply is one message: b"K", the header, the body; or b"E" and a pickled error tuple. For
# SPARQL JSON solutions a second message follows the answer: their count (_LATER).
_OK, _ERROR = b"K", b"E"
_STOP = b""  # parent -> worker: exit (a job is never empty)
_COUNT_WAIT = 5.0  # seconds to wait for a count the worker sends after its answer
_HEADER = struct.Struct("<qd128p")  # result count (or _UNKNOWN, _LATER), seconds, media type
_RESERVED = 1 + _HEADER.size  # where the body starts in an answer
# A Connection message is a 4-byte big-endian length and the bytes (recv_bytes reads that,
# for messages under 2 GiB); an answer is written framed so, in one write.
_FRAME = struct.Struct("!i")


_write = io.BytesIO.write


class _BoundedBuffer(io.BytesIO):
    """Collects serialized output after ``reserve`` bytes kept for a header; raises once it
    holds more than ``limit`` bytes of output (by one chunk at most, then dropped).

    Counts the occurrences of ``marker`` on the way (chunk by chunk, so without a second copy
    of the result).
    """

    def __init__(self, limit: int, reserve: int = 0):
        super().__init__(bytes(reserve))
        self.seek(reserve)
        self._limit = limit + reserve
        self.marker = b""
        self.markers = 0
        self._tail = b""  # the end of the last chunk, where a marker may begin

    def write(self, data: ReadableBuffer, /) -> int:
        written = _write(self, data)
        if self.tell() > self._limit:
            raise _TooLarge()
        if self.marker:
            window = self._tail + bytes(data)
            self.markers += window.count(self.marker)
            self._tail = window[max(0, len(window) - len(self.marker) + 1) :]
        return written


def _worker_main(store_path: str, conn: Connection) -> None:
    """Entry point of a worker: open the store read-only, then answer jobs until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the group; the parent decides
    _exit_with_parent()
    store: Store | None = None
    open_error = ""
    try:
        store = Store.read_only(store_path)
    except OSError as e:
        open_error = f"The published store cannot be opened: {e}"
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if message == _STOP:
            return
        if store is None:
            _send_error(conn, ("error", "OSError", open_error))
            continue
        _answer(store, QueryJob.decode(message), conn)


def _exit_with_parent() -> None:
    """Exit as soon as the web process is gone, even in the middle of a query."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _send_error(conn: Connection, reply: tuple[str, ...]) -> None:
    conn.send_bytes(_ERROR + pickle.dumps(reply))


@dataclass
class _Evaluated:
    out: _BoundedBuffer
    media_type: str
    count: int | None  # or _LATER
    seconds: float


def _evaluate(store: Store, job: QueryJob, reserve: int) -> _Evaluated:
    """Run ``job`` on ``store`` and serialize its results after ``reserve`` bytes. Raises
    SyntaxError, _TooLarge, or whatever else the engine raises.

    pyoxigraph's results must be dropped by the thread that made them (else it panics), and an
    exception's traceback would keep them alive into whichever thread handles it: they are let
    go here, whatever happens."""
    start = time.perf_counter()
    out = _BoundedBuffer(job.max_bytes, reserve)
    results: QuerySolutions | QueryBoolean | QueryTriples | None = None
    try:
        results = store.query(
            job.query,
            base_iri=job.base_iri,
            use_default_graph_as_union=job.use_default_graph_as_union,
            default_graph=None
            if job.default_graph is None
            else [NamedNode(iri) for iri in job.default_graph],
            named_graphs=None
            if job.named_graphs is None
            else [NamedNode(iri) for iri in job.named_graphs],
        )
        if isinstance(results, QueryTriples):
            rdf_format = _resolve(job.format, RdfFormat)
            if rdf_format is None:
                raise ValueError(f"{job.format} cannot carry a graph")
            media_type = rdf_format.media_type
            out.marker = _COUNT_MARKERS.get(_essence(media_type), b"")
            results.serialize(out, rdf_format)
        else:
            results_format = _resolve(job.format, QueryResultsFormat)
            if results_format is None:
                raise ValueError(f"{job.format} cannot carry query solutions")
            media_type = results_format.media_type
            if not isinstance(results, QueryBoolean):
                out.marker = _COUNT_MARKERS.get(_essence(media_type), b"")
            results.serialize(out, results_format)
        boolean = isinstance(results, QueryBoolean)
    finally:
        results = None
    count = None if boolean else _count(out, media_type)
    return _Evaluated(out, media_type, count, time.perf_counter() - start)


def evaluate(store: Store, job: QueryJob) -> QueryResult:
    """``job`` answered in this process (by the caller's thread), with the errors a worker's
    answer raises: QuerySyntaxError, ResultTooLarge, or QueryFailed for an engine error."""
    try:
        done = _evaluate(store, job, 0)
    except SyntaxError as e:
        raise QuerySyntaxError(str(e)) from e
    except _TooLarge:
        raise ResultTooLarge(job.max_bytes) from None
    except Exception as e:  # the engine's or ours: a 500
        error = type(e).__name__
        log.error("query failed: %s: %s", error, e)
        raise _EngineFailure(f"The query failed: {error}: {e}", error, str(e)) from e
    body = done.out.getvalue()
    counted: int | _LateCount | _DeferredCount | None = done.count
    if done.count == _LATER:
        counted = _DeferredCount(body)
    return QueryResult(body, done.media_type, counted, done.seconds)


def _answer(store: Store, job: QueryJob, conn: Connection) -> None:
    try:
        done = _evaluate(store, job, _FRAME.size + _RESERVED)
    except SyntaxError as e:
        _send_error(conn, ("syntax", str(e)))
        return
    except _TooLarge:
        _send_error(conn, ("too_large",))
        return
    except Exception as e:  # the engine's or ours; the parent answers 500
        _send_error(conn, ("error", type(e).__name__, str(e)))
        return
    header = _HEADER.pack(
        _UNKNOWN if done.count is None else done.count,
        done.seconds,
        done.media_type.encode("ascii"),
    )
    message = done.out.getbuffer()
    _FRAME.pack_into(message, 0, len(message) - _FRAME.size)
    message[_FRAME.size : _FRAME.size + _RESERVED] = _OK + header
    _write_all(conn.fileno(), message)
    if done.count == _LATER:  # counted now, while the web process sends the answer
        conn.send_bytes(_COUNT.pack(json_solutions(message[_FRAME.size + _RESERVED :].tobytes())))


def _write_all(fd: int, data: memoryview) -> None:
    """``data`` written in as few writes as the pipe takes: one, up to its buffer size.
    (``Connection.send_bytes`` writes the length apart from a body over 16 KiB: a wake-up of
    the web process for four bytes, when it preempts the worker.)"""
    while data:
        data = data[os.write(fd, data) :]


_Format = TypeVar("_Format", RdfFormat, QueryResultsFormat)


def format_key(fmt: str | RdfFormat | QueryResultsFormat) -> str:
    """How a format crosses to the worker: pyoxigraph's format objects do not pickle."""
    if isinstance(fmt, str):
        return fmt
    key = _FORMAT_KEYS.get(fmt)
    if key is None:
        raise ValueError(f"unknown format {fmt!r}")
    return key


_FORMAT_KEYS: dict[RdfFormat | QueryResultsFormat, str] = {
    getattr(cls, name): f"{cls.__name__}.{name}"
    for cls in (RdfFormat, QueryResultsFormat)
    for name in dir(cls)
    if name.isupper() and isinstance(getattr(cls, name), cls)
}


def _resolve(key: str, cls: type[_Format]) -> _Format | None:
    """The format of class ``cls`` a format key names, or None."""
    class_name, dot, name = key.partition(".")
    if dot and class_name in (RdfFormat.__name__, QueryResultsFormat.__name__):
        found = getattr(cls, name, None) if class_name == cls.__name__ else None
        return found if isinstance(found, cls) else None
    return cls.from_media_type(key)


_COUNT_MARKERS = {  # one a solution or statement; none can occur inside a value
    "application/n-triples": b"\n",  # newlines in literals are written \n
    "application/n-quads": b"\n",
    "text/tab-separated-values": b"\n",  # after a header line
    "application/sparql-results+xml": b"<result>",  # "<" in values is written &lt;
}
_COUNT_JSON_UP_TO = 1024 * 1024  # counting takes about 2.5 ms a MiB (json.loads: twice that)
_UNKNOWN, _LATER = -1, -2  # counts in a reply's header: not known; in a message of its own
_COUNT = struct.Struct("<q")  # that message


def _essence(media_type: str) -> str:
    return media_type.partition(";")[0].strip().lower()


def _count(out: _BoundedBuffer, media_type: str) -> int | None:
    """Solutions or triples in the serialized result, where counting is exact and cheap;
    _LATER for SPARQL JSON up to 1 MiB, counted once the answer is sent (counting the body takes
    about 60 µs for 25 kB, in the time the web process takes to send it)."""
    essence = _essence(media_type)
    if essence == "text/tab-separated-values":
        return max(out.markers - 1, 0)
    if essence in _COUNT_MARKERS:
        return out.markers
    if essence == "application/sparql-results+json" and out.tell() <= _COUNT_JSON_UP_TO:
        return _LATER
    return None


# --- the pool -------------------------------------------------------------------------------


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, context: BaseContext, store_path: str):
        parent_end, child_end = context.Pipe()
        self.process: BaseProcess = context.Process(  # type: ignore[attr-defined]
            target=_worker_main,
            args=(store_path, child_end),
            name="osce-kg-query",
            daemon=True,
        )
        self.process.start()
        child_end.close()
        self.conn: Connection = parent_end
        self.late_count: _LateCount | None = None  # of its last answer, maybe still unread
        # What _exchange waits on, kept for the worker's life: its answer or its death.
        self.poller = select.poll()
        self.poller.register(parent_end.fileno(), select.POLLIN)
        self.poller.register(self.process.sentinel, select.POLLIN)

    def wait(self, timeout: float) -> bool:
        """Whether the worker answered (or died) within ``timeout`` seconds."""
        return bool(self.poller.poll(max(0, math.ceil(timeout * 1000))))

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def stop(self, kill: bool) -> None:
        """End the process: SIGKILL at once, or ask it to exit and kill it if it lingers."""
        if not kill:
            with contextlib.suppress(OSError):
                self.conn.send_bytes(_STOP)
            self.process.join(_STOP_GRACE)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join()
        self.conn.close()
        self.process.close()


def _kill_all(idle: list[_Worker], busy: set[_Worker]) -> None:
    """Last resort, for an executor never closed: garbage-collected, or still open at exit."""
    for worker in [*idle, *busy]:
        with contextlib.suppress(ValueError, OSError):  # ValueError: reaped meanwhile
            worker.stop(kill=True)


class QueryExecutor:
    """A pool of worker processes answering queries over one store, opened read-only.

    Safe to call from many threads at once. ``close()`` ends every worker; an executor left
    open has its workers killed when it is garbage-collected or the interpreter exits.
    """

    def __init__(
        self,
        store_path: Path | str,
        *,
        workers: int = DEFAULT_WORKERS,
        timeout: float = DEFAULT_TIMEOUT,
        max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES,
        max_waiting: int = DEFAULT_MAX_WAITING,
        queue_timeout: float = DEFAULT_QUEUE_TIMEOUT,
        start_method: str = "forkserver",
    ):
        if workers < 1:
            raise ValueError("an executor needs at least one worker")
        self.store_path = Path(store_path)
        self.workers = workers
        self.timeout = timeout
        self.max_result_bytes = max_result_bytes
        self.max_waiting = max_waiting
        self.queue_timeout = queue_timeout
        self._context = _context(start_method)
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._starting = 0  # slots claimed by callers that are starting a worker
        self._waiting = 0
        self._closed = False
        weakref.finalize(self, _kill_all, self._idle, self._busy)  # also runs at exit

    # public API

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
        """Evaluate ``query`` and serialize its results in ``format``, within ``timeout`` s.

        ``format`` is a pyoxigraph format or a media type; it must suit the query form (a graph
        format for CONSTRUCT and DESCRIBE), else QueryFailed. ``default_graph`` and
        ``named_graphs`` are graph IRIs (None: the store's own). ``timeout`` defaults to the
        executor's. Raises the errors listed in the module docstring.
        """
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
        worker = self._acquire()
        healthy = False
        try:
            result = self._exchange(worker, job, limit)
            healthy = True
            return result
        except (QuerySyntaxError, ResultTooLarge, _EngineFailure):
            healthy = True  # the worker answered as it should
            raise
        finally:
            self._release(worker, healthy)

    def start(self) -> None:
        """Start every worker now rather than on first use."""
        with self._cond:
            missing = self.workers - self._size()
            self._starting += missing
        for _ in range(missing):
            self._release(self._start_worker(), healthy=True, claimed=True)

    def pids(self) -> list[int]:
        """Process ids of the live workers (for tests and metrics)."""
        with self._cond:
            workers = [*self._idle, *self._busy]
        return [w.pid for w in workers if w.pid is not None]

    def busy(self) -> int:
        """Workers running a query now (for tests and metrics)."""
        with self._cond:
            return len(self._busy)

    def close(self, cancel_running: bool = True) -> None:
        """Stop the workers. Running queries are killed, or with ``cancel_running=False``
        left to finish (their workers stop when they are done). Idempotent."""
        with self._cond:
            self._closed = True
            idle = list(self._idle)
            self._idle.clear()  # in place: the finalizer holds this list
            busy = list(self._busy) if cancel_running else []
            self._cond.notify_all()
        for worker in idle:
            worker.stop(kill=False)
        for worker in busy:  # its caller sees the process die, raises QueryFailed, reaps it
            with contextlib.suppress(ValueError):  # ValueError: already reaped by its caller
                worker.process.kill()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> QueryExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # the pool

    def _size(self) -> int:
        return len(self._idle) + len(self._busy) + self._starting

    def _acquire(self) -> _Worker:
        deadline = time.monotonic() + self.queue_timeout
        with self._cond:
            if self._closed:
                raise ExecutorClosed()
            full = not self._idle and self._size() >= self.workers
            if full and self._waiting >= self.max_waiting:
                raise ExecutorBusy(
                    f"All {self.workers} query workers are busy and "
                    f"{self._waiting} queries are already waiting."
                )
            self._waiting += 1
            try:
                while True:
                    if self._closed:
                        raise ExecutorClosed()
                    if self._idle:
                        worker = self._idle.pop()
                        self._busy.add(worker)
                        return worker
                    if self._size() < self.workers:
                        self._starting += 1
                        break
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise ExecutorBusy(
                            f"All {self.workers} query workers stayed busy for "
                            f"{_seconds(self.queue_timeout)} s."
                        )
                    self._cond.wait(remaining)
            finally:
                self._waiting -= 1
        try:
            worker = self._start_worker()
        except BaseException:
            with self._cond:
                self._starting -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._starting -= 1
            self._busy.add(worker)
        return worker

    def _start_worker(self) -> _Worker:
        worker = _Worker(self._context, str(self.store_path))
        log.debug("started query worker %s for %s", worker.pid, self.store_path)
        return worker

    def _release(self, worker: _Worker, healthy: bool, claimed: bool = False) -> None:
        """Return ``worker`` to the pool, or replace it when it can no longer be trusted."""
        replacement: _Worker | None = None
        if not healthy:
            worker.stop(kill=True)
            if not self._closed:
                try:
                    replacement = self._start_worker()
                except OSError:
                    log.exception("cannot start a replacement query worker")
        with self._cond:
            if claimed:
                self._starting -= 1
            self._busy.discard(worker)
            keep = replacement if not healthy else worker
            if keep is not None and not self._closed:
                self._idle.append(keep)
                keep = None
            self._cond.notify()
        if keep is not None:  # closed meanwhile
            keep.stop(kill=False)

    def _exchange(self, worker: _Worker, job: QueryJob, timeout: float) -> QueryResult:
        if worker.late_count is not None:  # the last answer's count is read before this job's
            worker.late_count.get()
            worker.late_count = None
        try:
            worker.conn.send_bytes(job.encode())
        except OSError as e:
            raise QueryFailed(f"The query worker could not be reached ({e}).") from e
        if not worker.wait(timeout):
            log.warning("query stopped after %s s: killing worker %s", timeout, worker.pid)
            raise QueryTimeout(timeout)
        try:  # OSError too for a message longer than allowed: never trust a size blindly
            message = worker.conn.recv_bytes(self.max_result_bytes + _RESERVED)
        except (EOFError, OSError) as e:
            raise QueryFailed(
                "The query worker ended while running the query (it may have run out of memory)."
            ) from e
        if message[:1] == _OK:
            count, seconds, media_type = _HEADER.unpack_from(message, 1)
            body = message[_RESERVED:]
            if len(body) > self.max_result_bytes:  # the worker enforces this too
                raise QueryFailed(f"The query worker sent {len(body)} bytes, more than allowed.")
            counted: int | _LateCount | None = count
            if count == _UNKNOWN:
                counted = None
            elif count == _LATER:
                counted = worker.late_count = _LateCount(worker.conn)
            return QueryResult(body, media_type.decode("ascii"), counted, seconds)
        reply: tuple[Any, ...] = pickle.loads(message[1:])  # noqa: S301 (our own worker's)
        kind = reply[0]
        if kind == "syntax":
            raise QuerySyntaxError(reply[1])
        if kind == "too_large":
            raise ResultTooLarge(self.max_result_bytes)
        if kind == "error":
            _, error, text = reply
            log.error("query failed in worker %s: %s: %s", worker.pid, error, text)
            raise _EngineFailure(f"The query failed: {error}: {text}", error, text)
        raise QueryFailed(f"The query worker sent an unknown reply: {kind!r}.")


def _context(start_method: str) -> BaseContext:
    """A multiprocessing context that never forks the web process itself."""
    if start_method not in ("forkserver", "spawn"):
        raise ValueError("start_method must be 'forkserver' or 'spawn' (fork would copy RocksDB)")
    context = multiprocessing.get_context(start_method)
    if start_method == "forkserver":
        # the fork server imports this module once, so each worker starts in milliseconds
        context.set_forkserver_preload(["__main__", __name__])
    return context


# --- the published release ------------------------------------------------------------------


def release_store(out_dir: Path) -> Callable[[], Path]:
    """A locator for :class:`PublishedExecutor`: the store of ``<out_dir>/current``."""

    def locate() -> Path:
        release = current_release(out_dir)
        if release is None:
            raise NoRelease()
        return release.store.resolve()

    return locate


class PublishedExecutor:
    """The executor of the store ``locate()`` returns: the published release's, usually.

    ``locate`` raises (``NoRelease``) when there is nothing to serve. The executor is created
    on first use (so after gunicorn's fork) and replaced when the location changes, as when
    ``current`` moves to a new release; the old pool's running queries finish on the old one.
    """

    def __init__(self, locate: Callable[[], Path], **options: Any):
        self.locate = locate
        self.options = options
        self._lock = threading.Lock()
        self._executor: QueryExecutor | None = None

    def get(self) -> QueryExecutor:
        store_dir = self.locate()
        retired: QueryExecutor | None = None
        with self._lock:
            executor = self._executor
            if executor is None or executor.closed or executor.store_path != store_dir:
                retired = executor
                executor = self._executor = QueryExecutor(store_dir, **self.options)
                log.info("query workers now serve %s", store_dir)
        if retired is not None:
            retired.close(cancel_running=False)
        return executor

    def warm(self) -> threading.Thread:
        """Start the workers in the background, so a fresh server process answers its first
        query without waiting for the fork server (about 1.5 s: it imports the app)."""

        def start() -> None:
            try:
                self.get().start()
            except NoRelease:
                pass  # nothing to serve yet; workers start with the first query after a build
            except Exception:
                log.exception("cannot start the query workers")

        thread = threading.Thread(target=start, name="query-workers-warm", daemon=True)
        thread.start()
        return thread

    def run(
        self, query: str, format: str | RdfFormat | QueryResultsFormat, **kwargs: Any
    ) -> QueryResult:
        """``QueryExecutor.run`` on the current store (see there)."""
        for _ in range(3):  # a release may be replaced while we wait for a worker
            try:
                return self.get().run(query, format, **kwargs)
            except ExecutorClosed:
                continue
        raise ExecutorBusy("The published graph is being replaced; retry in a moment.")

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.close()
