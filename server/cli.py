"""``kg-serve``: serve the published graph with gunicorn (or Flask's own server with --dev).

Every option can also come from the environment (``KG_SERVE_<OPTION>``, e.g.
``KG_SERVE_PORT=8080``) or from a TOML file given with ``--config`` (keys named like the
options, ``workers = 4``), in this order of precedence: flag, environment, file, default.

With ``--endpoint URL`` it fronts an external SPARQL store instead of serving a release: queries
go to that store's SPARQL 1.1 query endpoint, after the same checks (``server.remote``).

Exit codes: 0 stopped cleanly, 2 usage, a bad config file, or nothing published (and no
``--endpoint``).
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from flask import Flask
from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from kg_builder.layout import current_release
from server import cors_origins, create_app
from server.analysis import service_allowlist
from server.inprocess import exit_now_if_runaway, request_ended, request_started
from server.observability import QUERY_LOGGED
from server.worker import SyncThreadsWorker

ENV_PREFIX = "KG_SERVE"
QUERY_LOG_FORMAT = "%(asctime)s %(process)d %(name)s %(message)s"


class GunicornApp(BaseApplication):
    """gunicorn configured from a dict instead of its own command line."""

    def __init__(self, app_config: dict[str, Any], options: dict[str, Any]):
        self.app_config = app_config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:  # newer gunicorns open one in $HOME
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Flask:
        _log_queries()
        app = create_app(self.app_config)  # in each worker, unless preload_app is set
        if not app.config["SPARQL_BACKEND_URL"]:  # the store open before the first query
            app.extensions["osce_kg_executor"].warm()
        return app


def _log_queries() -> None:
    """One line per query on stderr (the access log's companion), once per process."""
    logger = logging.getLogger("osce_kg.query")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(QUERY_LOG_FORMAT))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


class AccessLogger(glogging.Logger):
    """gunicorn's logger, whose access log leaves out the requests that have a query log line
    (``server.observability``): one line per query, with its hash rather than its text, and
    ~25 µs less work per query (gunicorn formats two dozen fields for its line)."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not environ.get(QUERY_LOGGED):
            super().access(resp, req, environ, request_time)


def _worker_exited(_server: object, worker: Any) -> None:
    """gunicorn hook: a dead worker's live gauges leave the Prometheus files."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _read_config(ctx: click.Context, _param: click.Parameter, path: Path | None) -> Path | None:
    """Load ``--config`` into the command's defaults (flags and environment still win)."""
    if path is None:
        return None
    try:
        with path.open("rb") as handle:
            values = tomllib.load(handle)
    except OSError as exc:
        raise click.BadParameter(f"{path}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise click.BadParameter(f"{path}: not valid TOML: {exc}") from exc
    values = values.get("kg-serve", values)
    known = {p.name for p in ctx.command.params if p.name} - {"config"}
    names = {key.replace("-", "_"): value for key, value in values.items()}
    unknown = sorted(set(names) - known)
    if unknown:
        raise click.BadParameter(
            f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    repeatable = {p.name for p in ctx.command.params if getattr(p, "multiple", False)}
    for name in repeatable & set(names):  # allow_service = "http://…" means a list of one
        if isinstance(names[name], str):
            names[name] = [names[name]]
    ctx.default_map = {**(ctx.default_map or {}), **names}
    return path


@click.command(
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": ENV_PREFIX}
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=_read_config,
    is_eager=True,
    expose_value=False,
    help="TOML file with settings named like these options.",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default="build",
    show_default=True,
    help="Output directory of kg-build; serves <dir>/current.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=5000, show_default=True, help="Port to bind."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="gunicorn worker processes (each opens the store read-only and runs queries in its "
    "threads; one whose query overran stops and is replaced).",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Threads per gunicorn worker: requests each worker serves at once (each thread "
    "accepts and answers its own connections, closed after the response; server.worker).",
)
@click.option(
    "--timeout",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Seconds a query may run; then the client gets HTTP 503 and the process running the "
    "query stops (gunicorn starts another).",
)
@click.option(
    "--endpoint",
    metavar="URL",
    help="Front an external store: answer /sparql from the SPARQL 1.1 query endpoint at URL "
    "(e.g. http://localhost:7878/query) instead of <out-dir>/current, read-only, within "
    "--timeout.",
)
@click.option(
    "--allow-service",
    metavar="IRI",
    multiple=True,
    help="Let queries federate with the SPARQL endpoint at IRI (absolute http(s)); "
    "repeatable. SERVICE <IRI> must name it exactly, in full. Default: SERVICE refused.",
)
@click.option(
    "--cors-origin",
    metavar="ORIGIN",
    multiple=True,
    help="Let browser scripts from ORIGIN (e.g. https://example.org) read the answers (CORS); "
    "repeatable. Default: any origin ('*'), without credentials; 'none': no CORS headers.",
)
@click.option(
    "--dev",
    is_flag=True,
    help="Run Flask's development server instead of gunicorn (one process, for debugging).",
)
def main(
    out_dir: Path,
    host: str,
    port: int,
    workers: int,
    threads: int,
    timeout: int,
    endpoint: str | None,
    allow_service: tuple[str, ...],
    cors_origin: tuple[str, ...],
    dev: bool,
) -> None:
    """Serve the published knowledge graph over SPARQL (read-only), with its dumps."""
    app_config: dict[str, Any] = {"KG_OUT_DIR": str(out_dir), "SPARQL_TIMEOUT_SECONDS": timeout}
    if not dev:  # gunicorn replaces a worker that stops after a runaway query
        app_config["SPARQL_QUERIES_IN_SERVER"] = True
    try:
        app_config["SPARQL_SERVICE_ALLOWLIST"] = sorted(service_allowlist(list(allow_service)))
    except ValueError as exc:
        message = str(exc).removeprefix("SPARQL_SERVICE_ALLOWLIST: ")
        raise click.BadParameter(message, param_hint="'--allow-service'") from exc
    if cors_origin:
        try:
            app_config["CORS_ORIGINS"] = (
                [] if cors_origin == ("none",) else cors_origins(cors_origin)
            )
        except ValueError as exc:
            message = str(exc).removeprefix("CORS_ORIGINS: ")
            raise click.BadParameter(message, param_hint="'--cors-origin'") from exc
    if endpoint:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise click.BadParameter(
                f"{endpoint!r} is not an http(s) URL of a SPARQL query endpoint",
                param_hint="'--endpoint'",
            )
        app_config["SPARQL_BACKEND_URL"] = endpoint
    elif current_release(out_dir) is None:
        click.echo(f"kg-serve: {out_dir}: no published graph — run 'kg-build' first", err=True)
        raise SystemExit(2)
    if dev:
        _log_queries()
        create_app(app_config).run(host=host, port=port, threaded=True)
        return
    metrics_dir = tempfile.mkdtemp(prefix="osce-kg-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir  # before any worker imports metrics
    try:
        GunicornApp(
            app_config,
            {
                "bind": f"{host}:{port}",
                "workers": workers,
                "worker_class": SyncThreadsWorker,
                "threads": threads,
                "timeout": timeout + 5,  # the app answers 503 first
                "accesslog": "-",
                "logger_class": AccessLogger,
                "child_exit": _worker_exited,
                "worker_exit": exit_now_if_runaway,
                # count each worker's requests, so that one retiring after a runaway query
                # ends as soon as only that query's request is left (server.inprocess)
                "pre_request": request_started,
                "post_request": request_ended,
                "graceful_timeout": timeout + 5,  # a stopping worker's queries end by then
            },
        ).run()
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
