"""kg-serve's gunicorn worker (server.worker), run by a real gunicorn on a small test app
(tests/worker_app.py): threads that answer at once, no more of them than configured, each
connection closed after its response, and a stop that lets requests in flight finish.

What kg-serve needs of it beyond these, ending a worker whose query overran once only that
query's request is left, is shown with kg-serve itself in
tests/test_server_operations.py::test_runaway_query_is_stopped_with_503_and_others_still_answer.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from server.worker import SyncThreadsWorker
from tests.test_end_to_end import free_port

ROOT = Path(__file__).resolve().parent.parent
THREADS = 2
WORKER = f"{SyncThreadsWorker.__module__}.{SyncThreadsWorker.__qualname__}"


def _start(port: int, worker: str = WORKER, *options: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            f"--worker-class={worker}",
            "--workers=1",
            f"--threads={THREADS}",
            "--graceful-timeout=10",
            f"--bind=127.0.0.1:{port}",
            *options,
            "tests.worker_app:app",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"http://127.0.0.1:{port}/sleep", timeout=5)
            return process
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("gunicorn with server.worker did not start") from None
            time.sleep(0.1)


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    port = free_port()
    process = _start(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


def _sleep(base: str, seconds: float) -> dict[str, object]:
    response = requests.get(f"{base}/sleep", params={"s": seconds}, timeout=30)
    assert response.status_code == 200
    answer: dict[str, object] = response.json()
    return answer


def test_the_threads_answer_requests_at_once(base: str) -> None:
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        answers = list(pool.map(lambda _: _sleep(base, 1.0), range(THREADS)))
    elapsed = time.monotonic() - started
    assert len({a["thread"] for a in answers}) == THREADS  # one request each
    assert len({a["pid"] for a in answers}) == 1  # in the one worker process
    assert elapsed < 1.9, f"two 1 s requests took {elapsed:.2f} s: one waited for the other"


def test_clients_beyond_the_threads_wait_their_turn_and_are_all_answered(base: str) -> None:
    clients, seconds = 5 * THREADS, 0.2
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        answers = list(pool.map(lambda _: _sleep(base, seconds), range(clients)))
    elapsed = time.monotonic() - started
    assert len(answers) == clients
    assert len({a["thread"] for a in answers}) <= THREADS
    # no more than THREADS at once: the ten requests take at least five rounds
    assert elapsed >= clients / THREADS * seconds - 0.05


def test_each_connection_is_closed_after_its_response(base: str) -> None:
    with requests.Session() as session:  # a client that would keep connections open
        for _ in range(3):
            response = session.get(f"{base}/sleep", timeout=10)
            assert response.status_code == 200
            assert response.headers["Connection"] == "close"


def test_a_stop_lets_the_requests_in_flight_finish_and_accepts_no_more() -> None:
    port = free_port()
    process = _start(port)
    base = f"http://127.0.0.1:{port}"
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            running = pool.submit(_sleep, base, 1.5)
            time.sleep(0.5)  # the request is in its thread
            process.send_signal(signal.SIGTERM)
            assert running.result()["slept"] == 1.5  # answered in full, after the signal
        process.wait(timeout=10)  # and the server stopped
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{base}/sleep", timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_an_idle_worker_stops_without_waiting_for_its_threads() -> None:
    port = free_port()
    process = _start(port)
    asked = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # the worker wakes the threads waiting for connections (they would otherwise wait out
    # their poll, 5 s); gunicorn itself takes about half a second to stop
    assert time.monotonic() - asked < 3.0


def test_silent_clients_are_dropped_and_hold_no_thread() -> None:
    port = free_port()
    process = _start(port, "tests.worker_app.QuickReadWorker")  # silence bounded at 1 s
    base = f"http://127.0.0.1:{port}"
    try:
        silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(THREADS)]
        halfway = socket.create_connection(("127.0.0.1", port))
        halfway.sendall(b"GET /sleep HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and no more
        # both threads hold a silent client now; a real request is answered once they are
        # dropped, and not after the 10 s of its timeout
        assert _sleep(base, 0)["slept"] == 0
        for client in [*silent, halfway]:
            client.settimeout(5)
            assert client.recv(1024) == b""  # closed by the server, without an answer
            client.close()
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_worker_past_max_requests_is_replaced_and_no_request_is_lost() -> None:
    port = free_port()
    process = _start(port, WORKER, "--max-requests=3")
    base = f"http://127.0.0.1:{port}"
    try:
        pids = [_sleep(base, 0)["pid"] for _ in range(12)]  # every one answered (200)
        assert len(set(pids)) >= 3, pids  # a new worker after every third request or so
    finally:
        process.terminate()
        process.wait(timeout=20)
