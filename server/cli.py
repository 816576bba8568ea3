"""``kg-serve``: serve the published graph with gunicorn.

Exit codes: 0 stopped cleanly, 2 usage or nothing published at ``--out-dir``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import Flask
from gunicorn.app.base import BaseApplication

from kg_builder.layout import current_release
from server import create_app


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
        return create_app(self.app_config)  # in each worker, unless preload_app is set


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
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
    help="Worker processes; each opens the store read-only.",
)
@click.option(
    "--timeout",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Seconds a query may run: checked while results are written, and a worker "
    "busy longer than this is restarted.",
)
def main(out_dir: Path, host: str, port: int, workers: int, timeout: int) -> None:
    """Serve the published knowledge graph over SPARQL (read-only), with its dumps."""
    if current_release(out_dir) is None:
        click.echo(f"kg-serve: {out_dir}: no published graph — run 'kg-build' first", err=True)
        raise SystemExit(2)
    app_config = {"KG_OUT_DIR": str(out_dir), "SPARQL_TIMEOUT_SECONDS": timeout}
    GunicornApp(
        app_config,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "timeout": timeout + 5,  # the app answers 503 first when it can
            "accesslog": "-",
        },
    ).run()
