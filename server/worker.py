"""kg-serve's gunicorn worker: gunicorn's sync worker, run by several threads at once.

Each thread waits for a connection on the listening sockets itself, accepts it and answers its
request from start to end: what gunicorn's sync worker does, in ``--threads`` threads.
gunicorn's threaded worker (gthread) instead waits for connections in one thread and hands
each request to a pool thread, and the connection back: on the workload's lookup over fresh
connections, those hand-overs between threads that share one interpreter lock cost a bare app
0.22-0.25x of ``oxigraph serve``'s median (``bench.floor``, 2026-11-30; docs/BENCHMARKS.md).

Like the sync worker, it closes each connection after its response (no keep-alive): a thread
never sits on an idle connection, so a client that keeps connections open cannot take the
threads from the others. A slow query holds one thread; the others go on answering. A client
that connects and says nothing, or stops halfway through its request, is dropped after
``READ_SECONDS`` of silence.

The threads wait each on an epoll set of their own that holds the listening sockets with
``EPOLLEXCLUSIVE``, so that a connection wakes one waiting thread of one worker rather than
all of them. A pipe of the worker's is in the sets too: once the worker stops (its main
thread saw gunicorn's stop signal), a byte on it wakes every thread at once, and they stop
accepting; a thread woken for a connection answers it first (no other thread was woken for
it).

For :mod:`server.inprocess`, which ends a retiring worker as soon as only a runaway query's
request is left, the worker counts what it holds as gunicorn's threaded worker names it:
``nr_conns`` (connections accepted and not yet closed) and ``_accepting`` (whether a thread
may still accept one).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from gunicorn.workers.sync import SyncWorker

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

NOTIFY_SECONDS = 1.0  # between the main thread's heartbeats to gunicorn's arbiter
POLL_SECONDS = 5.0  # a thread's longest wait (the stop pipe wakes it before that)
# A client's longest silence while a thread waits for its request: for the first byte (then
# the connection is closed without a word), and for each read of the request's head and body
# (then gunicorn logs the error and closes it). Writing the answer is not bounded so: a large
# dump takes what a slow client needs.
READ_SECONDS = 10.0


class SyncThreadsWorker(SyncWorker):
    """``--threads`` threads per worker, each accepting and answering its own connections."""

    alive: bool  # gunicorn's: False once the worker is to stop
    wsgi: WSGIApplication  # gunicorn's: the app
    READ_SECONDS = READ_SECONDS

    def run(self) -> None:
        self.wsgi = _reads_bounded_until_answered(self.wsgi)
        for listener in self.sockets:
            listener.setblocking(False)
        self._lock = threading.Lock()
        self.nr_conns = 0
        self._waiting = 0  # threads in their accept loop: they may accept a connection
        self._stop = os.pipe()  # written once the worker stops: it wakes every waiting thread
        threads = [
            threading.Thread(target=self._accept_and_answer, name=f"gunicorn-{i}", daemon=True)
            for i in range(max(1, self.cfg.threads))
        ]
        self._waiting = len(threads)
        for thread in threads:
            thread.start()
        while self.alive:
            self.notify()
            if not self.is_parent_alive():
                self.alive = False
                break
            if not all(thread.is_alive() for thread in threads):  # one died of a bug: logged
                log.error("a thread of worker %s ended: the worker stops", os.getpid())
                self.alive = False
                break
            try:
                ready, _, _ = select.select([self.PIPE[0]], [], [], NOTIFY_SECONDS)
                if ready:
                    os.read(self.PIPE[0], 4096)
            except InterruptedError:
                pass
        # Graceful stop: the threads stop accepting and finish the requests they hold, while
        # this thread goes on telling the arbiter that the worker lives.
        os.write(self._stop[1], b"stop")
        deadline = time.monotonic() + self.cfg.graceful_timeout
        for thread in threads:
            while thread.is_alive() and time.monotonic() < deadline:
                self.notify()
                thread.join(min(NOTIFY_SECONDS, max(0.0, deadline - time.monotonic())))

    @property
    def _accepting(self) -> bool:
        """Whether a thread waits for connections and so may still accept one."""
        with self._lock:
            return self._waiting > 0

    def handle_request(self, listener: Any, req: Any, client: Any, addr: Any) -> None:
        super().handle_request(listener, req, client, addr)
        if not self.alive:  # after --max-requests (gunicorn's): the main thread stops the rest
            with contextlib.suppress(OSError):  # a full pipe wakes the main thread as well
                os.write(self.PIPE[1], b".")

    def _accept_and_answer(self) -> None:
        listeners = {listener.fileno(): listener for listener in self.sockets}
        stop = self._stop[0]
        try:
            with select.epoll() as poller:
                for fd in listeners:
                    poller.register(fd, select.EPOLLIN | select.EPOLLEXCLUSIVE)
                poller.register(stop, select.EPOLLIN)
                while self.alive:
                    for fd, _ in poller.poll(POLL_SECONDS):
                        if fd != stop:  # woken alone for a connection: take it, stopping or not
                            self._answer(listeners[fd])
        finally:
            with self._lock:
                self._waiting -= 1

    def _answer(self, listener: Any) -> None:
        try:
            client, address = listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return  # another thread or worker took it, or the client gave up
        except OSError as exc:  # out of file descriptors, say: the thread waits and goes on
            log.error("cannot accept a connection: %s", exc)
            if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                time.sleep(0.5)
            return
        with self._lock:  # one step: a thread that holds a connection is not accepting
            self.nr_conns += 1
            self._waiting -= 1
        try:
            if _readable(client, self.READ_SECONDS):
                client.settimeout(self.READ_SECONDS)
                self.handle(listener, client, address)  # reads, answers and closes
            else:
                log.debug("no request from %s in %.0f s: closed", address, self.READ_SECONDS)
        finally:
            client.close()  # closed already after an answer: then nothing happens
            with self._lock:
                self.nr_conns -= 1
                self._waiting += 1


def _readable(client: socket.socket, seconds: float) -> bool:
    """Whether the client sends something (or closes) within ``seconds``."""
    poller = select.poll()
    poller.register(client, select.POLLIN)
    return bool(poller.poll(seconds * 1000))


def _reads_bounded_until_answered(app: WSGIApplication) -> WSGIApplication:
    """``app``, after which the client's socket blocks again without a timeout (gunicorn's
    ``gunicorn.socket``): the request was read within ``READ_SECONDS`` a read, and the answer
    is written without a bound, as under gunicorn's threaded worker (Python's ``sendall``
    would bound the whole of a large answer, not each write). A late 503 of
    :mod:`server.inprocess`, written while the app still runs, is bounded by the read
    timeout."""

    def answer(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            return app(environ, start_response)
        finally:
            client = environ.get("gunicorn.socket")
            if isinstance(client, socket.socket):
                client.settimeout(None)

    return answer
