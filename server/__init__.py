"""The osce-kg web server: a read-only SPARQL endpoint, the dumps, and a query page."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response
from flask_cors import CORS

from server import dumps, graph_store, observability, remote, resources, sparql, ui, void
from server.analysis import service_allowlist
from server.errors import register_error_handlers
from server.executor import PublishedExecutor
from server.inprocess import RequestThreads, ThreadExecutor
from server.store import PublishedStore


@dataclass(frozen=True)
class Setting:
    """One configuration key: its name, default and meaning."""

    name: str
    default: Any
    help: str


SETTINGS = (
    Setting("KG_OUT_DIR", "build", "Output directory of kg-build; the server reads <dir>/current."),
    Setting("SPARQL_MAX_QUERY_BYTES", 100_000, "Longest query accepted, in UTF-8 bytes (413)."),
    Setting(
        "SPARQL_TIMEOUT_SECONDS",
        30,
        "Seconds a query may run; then the answer is 503 and the process running it stops.",
    ),
    Setting(
        "YASGUI_DIR",
        "",
        "Folder of the YASGUI build served at /static/yasgui/; empty: "
        "node_modules/@zazuko/yasgui/build beside the source tree.",
    ),
    Setting("SPARQL_QUERY_WORKERS", 2, "Query worker processes per server process."),
    Setting(
        "SPARQL_QUERIES_IN_SERVER",
        False,
        "Run queries in the server process instead of query worker processes (under gunicorn "
        "in the request's thread, a watchdog answering 503 at the deadline); a process whose "
        "query overruns stops gracefully (SIGTERM), for gunicorn to replace: kg-serve sets it, "
        "not --dev.",
    ),
    Setting("SPARQL_MAX_RESULT_BYTES", 128 * 1024 * 1024, "Largest serialized result (413)."),
    Setting("SPARQL_QUEUE_TIMEOUT_SECONDS", 10, "Seconds a query waits for a free worker (503)."),
    Setting("KG_STORE_PATH", None, "A store directory to serve instead of <KG_OUT_DIR>/current."),
    Setting(
        "SPARQL_UNION_DEFAULT_GRAPH",
        True,
        "Read the default graph as the union of all named graphs (false: the store's own).",
    ),
    Setting(
        "SPARQL_UPDATE_TOKEN",
        None,
        "Update mode (off by default): accept SPARQL Update with 'Authorization: Bearer <token>'"
        ", on the writable store at KG_STORE_PATH (never a release); one worker process only.",
    ),
    Setting(
        "SPARQL_BACKEND_URL",
        None,
        "Front an external store (kg-serve --endpoint): /sparql forwards queries to this "
        "SPARQL 1.1 query endpoint instead of the local release, after the same checks, "
        "within SPARQL_TIMEOUT_SECONDS; read-only; /store is 501, dumps and VoID come from a "
        "local release if there is one (docs/SCALING.md).",
    ),
    Setting(
        "SPARQL_SERVICE_ALLOWLIST",
        (),
        "SPARQL endpoints a query may federate with (kg-serve --allow-service): absolute "
        "http(s) IRIs; SERVICE <iri> is run only when written with one of them, exactly, in "
        "full; any other SERVICE is a 400. Empty: SERVICE is refused.",
    ),
    Setting(
        "CORS_ORIGINS",
        ("*",),
        "Origins whose browser scripts may read the answers (kg-serve --cors-origin): '*' any "
        "origin, the default; never with credentials (cookies). Empty: no CORS headers.",
    ),
)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then ``FLASK_*`` environment variables, then ``config``."""
    app = Flask(__name__)
    app.config.from_mapping({s.name: s.default for s in SETTINGS})
    app.config.from_prefixed_env()
    if config is not None:
        app.config.from_mapping(config)
    app.config["KG_OUT_DIR"] = Path(app.config["KG_OUT_DIR"])
    for name in ("SPARQL_MAX_QUERY_BYTES", "SPARQL_TIMEOUT_SECONDS"):
        app.config[name] = int(app.config[name])
    app.config["CORS_ORIGINS"] = cors_origins(app.config["CORS_ORIGINS"])
    app.config["SPARQL_SERVICE_ALLOWLIST"] = service_allowlist(
        app.config["SPARQL_SERVICE_ALLOWLIST"]
    )
    if app.config["MAX_CONTENT_LENGTH"] is None:  # refuse bodies no query could fill, unread
        app.config["MAX_CONTENT_LENGTH"] = 3 * app.config["SPARQL_MAX_QUERY_BYTES"] + 4096
    store_path = app.config["KG_STORE_PATH"]
    app.extensions["osce_kg_store"] = PublishedStore(
        app.config["KG_OUT_DIR"],
        Path(store_path) if store_path else None,
        writable=bool(app.config["SPARQL_UPDATE_TOKEN"]),
    )
    published = app.extensions["osce_kg_store"]
    if app.config["SPARQL_QUERIES_IN_SERVER"]:
        app.extensions["osce_kg_executor"] = ThreadExecutor(
            published.get,
            _stop_this_process,
            answer_late=partial(sparql.answer_late, app),
            timeout=float(app.config["SPARQL_TIMEOUT_SECONDS"]),
            max_result_bytes=int(app.config["SPARQL_MAX_RESULT_BYTES"]),
        )
    else:
        app.extensions["osce_kg_executor"] = PublishedExecutor(
            published.store_dir,
            workers=int(app.config["SPARQL_QUERY_WORKERS"]),
            timeout=float(app.config["SPARQL_TIMEOUT_SECONDS"]),
            max_result_bytes=int(app.config["SPARQL_MAX_RESULT_BYTES"]),
            queue_timeout=float(app.config["SPARQL_QUEUE_TIMEOUT_SECONDS"]),
        )
    if app.config["SPARQL_BACKEND_URL"]:
        remote.init_app(app)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(dumps.bp)
    app.register_blueprint(ui.bp)
    observability.init_app(app)
    _init_cors(app)
    app.register_blueprint(void.bp)
    app.register_blueprint(graph_store.bp)
    app.register_blueprint(resources.bp)  # last: its catch-all serves entity IRIs
    register_error_handlers(app)
    app.wsgi_app = sparql.QueryFastPath(app)  # type: ignore[method-assign]
    if app.config["SPARQL_QUERIES_IN_SERVER"]:  # outermost: which request a thread answers
        app.wsgi_app = RequestThreads(app.wsgi_app)  # type: ignore[method-assign]
    return app


def _stop_this_process() -> None:
    """A gunicorn worker's graceful stop: it finishes its requests, exits, and is replaced."""
    os.kill(os.getpid(), signal.SIGTERM)


def cors_origins(value: object) -> list[str]:
    """The ``CORS_ORIGINS`` setting as a list: '*' or origins (scheme://host[:port]), given as
    a list or as one string separated by spaces or commas (``FLASK_*`` environment variables).
    ValueError, naming the value, for anything else."""
    items = re.split(r"[\s,]+", value.strip()) if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError(f"CORS_ORIGINS: {value!r} is not a list of origins")
    origins = [item for item in items if item != ""]
    for item in origins:
        parts = urlsplit(item) if isinstance(item, str) else None
        if item != "*" and not (
            parts is not None
            and parts.scheme in ("http", "https")
            and parts.hostname
            and not (parts.path or parts.query or parts.fragment)
        ):
            raise ValueError(
                f"CORS_ORIGINS: {item!r} is not an origin: give scheme://host[:port] (no path) "
                "or '*'"
            )
    return origins


CORS_EXPOSED = ("Warning", "Content-Disposition", "ETag", "Last-Modified", "Content-Range")


def _init_cors(app: Flask) -> None:
    """CORS headers (flask-cors) for the origins in ``CORS_ORIGINS``, errors included, and
    answers to preflight requests. Any origin ('*'): the same headers on every answer, which
    ``sparql.QueryFastPath`` adds too. Listed origins: only on answers to those, each with
    ``Vary: Origin``. No credentials: an update token travels in ``Authorization``, which a
    preflight may allow."""
    origins = app.config["CORS_ORIGINS"]
    if not origins:
        return
    any_origin = "*" in origins
    before = list(app.after_request_funcs.get(None, ()))
    CORS(
        app,
        origins=["*"] if any_origin else origins,
        send_wildcard=any_origin,
        # any origin: the same headers on every answer, so caches need no "Vary: Origin"
        always_send=any_origin,
        supports_credentials=False,
        methods=["GET", "HEAD", "POST", "OPTIONS"],
        expose_headers=list(CORS_EXPOSED),
        max_age=86400,
    )
    added = tuple(f for f in app.after_request_funcs.get(None, ()) if f not in before)
    if not any_origin:  # the headers depend on the request's Origin, for caches too
        app.after_request(_vary_origin)
        return
    headers = (
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Expose-Headers", ", ".join(sorted(CORS_EXPOSED))),
    )
    app.extensions["osce_kg_cors"] = sparql.CorsHooks(added, headers)


def _vary_origin(response: Response) -> Response:
    response.vary.add("Origin")
    return response
