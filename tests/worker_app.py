"""A WSGI app for tests/test_worker.py: answers ``/sleep?s=SECONDS`` after that long, with the
thread and process that answered, so that the tests see how kg-serve's gunicorn worker
(server.worker) shares requests out; and that worker with a shorter bound on a client's
silence."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from server.worker import SyncThreadsWorker


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    params = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    seconds = float(params.get("s", ["0"])[0])
    time.sleep(seconds)
    body = json.dumps(
        {"pid": os.getpid(), "thread": threading.current_thread().name, "slept": seconds}
    ).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


class QuickReadWorker(SyncThreadsWorker):
    """kg-serve's worker with a client's silence bounded at 1 s instead of 10."""

    READ_SECONDS = 1.0
