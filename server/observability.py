"""Operations: ``/health``, Prometheus ``/metrics``, and one access-log line per query.

Metrics are counted with ``prometheus_client``. Under gunicorn every worker is a process;
``kg-serve`` then sets ``PROMETHEUS_MULTIPROC_DIR`` so that each worker writes its counters to
files there and ``/metrics`` adds them up, whichever worker answers (the library's
multiprocess mode).

The query log line (logger ``osce_kg.query``) carries the query's SHA-256 prefix, the
duration, the number of results when the endpoint knows it, the bytes sent and the status:
enough to find a slow or failing query again without logging its text. It is the query's
access log line: kg-serve's gunicorn access log leaves such requests out (``QUERY_LOGGED``),
which also keeps the text of a GET's query out of that log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

import pyoxigraph as ox
from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from server.remote import backend
from server.store import PublishedStore

bp = Blueprint("observability", __name__)
query_log = logging.getLogger("osce_kg.query")


@dataclass(frozen=True)
class Metrics:
    requests: Any
    latency: Any
    errors: Any
    timeouts: Any


@cache
def _metrics() -> Metrics:
    """Created on first use, in the process that serves: prometheus_client picks its
    multiprocess mode from the environment when it is first imported, which kg-serve sets
    before starting the workers."""
    from prometheus_client import Counter, Histogram

    return Metrics(
        requests=Counter(
            "osce_kg_http_requests",
            "HTTP requests answered, by endpoint, method and status.",
            ["endpoint", "method", "status"],
        ),
        latency=Histogram(
            "osce_kg_http_request_duration_seconds",
            "Time to answer a request, by endpoint.",
            ["endpoint"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        ),
        errors=Counter(
            "osce_kg_http_errors",
            "Requests answered with an error, by kind (the error's title).",
            ["kind"],
        ),
        timeouts=Counter("osce_kg_query_timeouts", "Queries stopped because they ran too long."),
    )


ResultCount = int | None | Callable[[], int | None]  # a count, or how to get it when logging

STARTED = "osce_kg.started"  # environ key: when a request that came through server.sparql's
# fast path began (it hands its errors to Flask, which should time them from there)
QUERY_LOGGED = "osce_kg.query_logged"  # environ key: the request gets a query log line, so
# kg-serve's access log leaves it out (server.cli.AccessLogger)


def _endpoint() -> str:
    return request.url_rule.rule if request.url_rule is not None else "(no route)"


def _start() -> None:
    # kept in the environ too, for a late answer to the same request (server.inprocess)
    g.osce_kg_started = request.environ.setdefault(STARTED, time.perf_counter())


def _finish(response: Response) -> Response:
    started = g.get("osce_kg_started")
    if started is None:
        return response
    seconds = time.perf_counter() - started
    endpoint = _endpoint()
    if endpoint == "/metrics":
        return response
    count_request(
        endpoint, request.method, response.status_code, seconds, g.get("osce_kg_error_kind")
    )
    query = g.get("osce_kg_query")
    if query is not None:
        log_query(
            query,
            seconds,
            g.get("osce_kg_result_count"),
            response.calculate_content_length(),
            response.status_code,
        )
    return response


def count_request(
    endpoint: str, method: str, status: int, seconds: float, error_kind: str | None = None
) -> None:
    """Count a request in the metrics: by endpoint, method and status, its latency, and an
    error by kind (the error's title, else its status)."""
    metrics = _metrics()
    metrics.requests.labels(endpoint, method, str(status)).inc()
    metrics.latency.labels(endpoint).observe(seconds)
    if status >= 400:
        kind = error_kind or str(status)
        metrics.errors.labels(kind).inc()
        if status == 503 and kind == "Query timeout":
            metrics.timeouts.inc()


def log_query(
    query: str, seconds: float, results: ResultCount, length: int | None, status: int
) -> None:
    """The query's log line. ``results`` may be a function that counts them (parsing the
    body): server.sparql's fast path calls this once the body has gone out, so that counting
    does not delay the answer."""
    if not query_log.isEnabledFor(logging.INFO):
        return
    count = results() if callable(results) else results
    query_log.info(
        "query=%s ms=%.1f results=%s bytes=%s status=%d",
        hashlib.sha256(query.encode("utf-8")).hexdigest()[:16],
        seconds * 1000,
        "-" if count is None else count,
        length or "-",
        status,
    )


def note_query(query: str, result_count: ResultCount = None) -> None:
    """Called by the query endpoint: what the access log should say about this request."""
    g.osce_kg_query = query
    request.environ[QUERY_LOGGED] = True
    if result_count is not None:
        g.osce_kg_result_count = result_count


def init_app(app: Flask) -> None:
    _metrics()
    app.before_request(_start)
    app.after_request(_finish)
    app.register_blueprint(bp)


@bp.route("/metrics")
def metrics() -> Response:
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        REGISTRY,
        CollectorRegistry,
        generate_latest,
        multiprocess,
    )

    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


@bp.route("/health")
def health() -> tuple[Response, int]:
    """200 when the published store opens and answers a query; 503 otherwise. With an
    external store (``kg-serve --endpoint``): whether that store answers ``ASK {}``."""
    external = backend()
    if external is not None:
        return external.health()
    published = cast(PublishedStore, current_app.extensions["osce_kg_store"])
    release = published.release()
    body: dict[str, object] = {"status": "unavailable"}
    if release is not None:
        facts = current_app.extensions.setdefault("osce_kg_release_facts", {})
        if release.root not in facts:  # read once per release, not on every probe
            facts[release.root] = (_built(release.report_json), _triples(release.void))
        body["release"] = release.root.name
        body["built"], body["triples"] = facts[release.root]
    try:
        store = published.get()
        store.query("ASK { }")
    except Exception as exc:  # any reason the store cannot answer: report it, 503
        body["error"] = str(getattr(exc, "message", exc))
        return jsonify(body), 503
    body["status"] = "ok"
    return jsonify(body), 200


def _built(report_json: os.PathLike[str]) -> str | None:
    try:
        with open(report_json, encoding="utf-8") as handle:
            return cast(str | None, json.load(handle).get("started"))
    except (OSError, ValueError):
        return None


def _triples(void: os.PathLike[str]) -> int | None:
    try:
        for quad in ox.parse(path=os.fspath(void), format=ox.RdfFormat.TURTLE):
            if quad.predicate.value == "http://rdfs.org/ns/void#triples" and str(
                quad.subject.value
            ).endswith("/dataset"):
                return int(quad.object.value)
    except (OSError, SyntaxError, ValueError):
        return None
    return None
