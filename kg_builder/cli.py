"""``kg-build``: a thin command line over ``kg_builder.pipeline.run``."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # imported where used: the HTTP stack takes 0.2 s to import
    from kg_builder.push import PushConfig, PushResult

from kg_builder import __version__
from kg_builder.config import SETTINGS, BuildConfig
from kg_builder.errors import EXIT_INTERNAL, EXIT_INVALID, KgError
from kg_builder.layout import Release
from kg_builder.pipeline import lock_out_dir, run
from kg_builder.reason import ENGINES
from kg_builder.sidecar import is_url
from kg_builder.validate import SHACL_ENGINES

HELP = {s.name: s.help for s in SETTINGS}
DEFAULT = {s.name: s.default for s in SETTINGS}


def _check_push_url(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:  # no --push: the HTTP stack is not loaded (0.2 s)
        return value
    from kg_builder.push import check_url

    if problem := check_url(value):
        raise click.BadParameter(problem)
    return value


@click.command(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Exit codes: 0 ok (also when nothing changed), 1 the data does not conform (SHACL) "
    "or is inconsistent (OWL), or with --keep-going some sources failed (the others are "
    "published), 2 usage, configuration or input error, or --push failed (the release is "
    "published locally), 3 internal error. Without --keep-going the first failing source "
    "stops the build and nothing is published.",
)
@click.argument("sources", nargs=-1)  # paths or http(s) URLs: kept as text (Path eats "//")
@click.option(
    "--out-dir",
    type=click.Path(path_type=Path),
    default=DEFAULT["out_dir"],
    show_default=True,
    help=HELP["out_dir"],
)
@click.option("--base-iri", default=DEFAULT["base_iri"], show_default=True, help=HELP["base_iri"])
@click.option(
    "--reference-dir",
    type=click.Path(path_type=Path),
    default=DEFAULT["reference_dir"],
    show_default=True,
    help=HELP["reference_dir"],
)
@click.option(
    "--ontology",
    type=click.Path(path_type=Path),
    default=DEFAULT["ontology"],
    show_default=True,
    help=HELP["ontology"],
)
@click.option(
    "--shapes",
    type=click.Path(path_type=Path),
    default=DEFAULT["shapes"],
    show_default=True,
    help=HELP["shapes"],
)
@click.option(
    "--keep-releases",
    type=click.IntRange(min=1),
    default=int(DEFAULT["keep_releases"]),
    show_default=True,
    help=HELP["keep_releases"],
)
@click.option(
    "--reasoner",
    type=click.Choice(ENGINES),
    default=DEFAULT["reasoner"],
    show_default=True,
    help=HELP["reasoner"],
)
@click.option(
    "--shacl-engine",
    type=click.Choice(SHACL_ENGINES),
    default=DEFAULT["shacl_engine"],
    show_default=True,
    help=HELP["shacl_engine"],
)
# --- builds (kg_builder.pipeline, issue 6) ---
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=int(DEFAULT["jobs"]),
    show_default=True,
    help=HELP["jobs"],
)
@click.option("--keep-going", is_flag=True, help=HELP["keep_going"])
@click.option("--prune", is_flag=True, help=HELP["prune"])
@click.option("--force", is_flag=True, help=HELP["force"])
@click.option("--compact", is_flag=True, help=HELP["compact"])
@click.option(
    "--compact-below",
    metavar="MB",
    type=click.IntRange(min=0),
    default=int(DEFAULT["compact_below"]),
    show_default=True,
    help=HELP["compact_below"],
)
# --- end builds ---
# --- web sources (kg_builder.fetch) ---
@click.option(
    "--crawl",
    "crawl",
    multiple=True,
    metavar="URL",
    help="A listing page whose items (and next pages) are fetched as sources; repeatable.",
)
@click.option(
    "--max-pages",
    type=click.IntRange(min=1),
    default=int(DEFAULT["max_pages"]),
    show_default=True,
    help=HELP["max_pages"],
)
@click.option(
    "--fetch-interval",
    type=click.FloatRange(min=0),
    default=float(DEFAULT["fetch_interval"]),
    show_default=True,
    help=HELP["fetch_interval"],
)
@click.option(
    "--fetch-timeout",
    type=click.FloatRange(min=0.1),
    default=float(DEFAULT["fetch_timeout"]),
    show_default=True,
    help=HELP["fetch_timeout"],
)
# --- end web sources ---
# --- push to an external store (kg_builder.push) ---
@click.option("--push", "push_url", metavar="URL", callback=_check_push_url, help=HELP["push"])
@click.option("--push-all", is_flag=True, help=HELP["push_all"])
@click.option(
    "--push-token",
    metavar="TOKEN",
    envvar="KG_PUSH_TOKEN",
    default="",
    help=HELP["push_token"],
)
@click.option(
    "--push-user",
    metavar="USER:PASSWORD",
    envvar="KG_PUSH_USER",
    default="",
    help=HELP["push_user"],
)
@click.option(
    "--push-timeout",
    type=click.FloatRange(min=1),
    default=float(DEFAULT["push_timeout"]),
    show_default=True,
    help=HELP["push_timeout"],
)
# --- end push ---
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
@click.version_option(__version__, prog_name="kg-build")
def main(
    sources: tuple[str, ...],
    out_dir: Path,
    base_iri: str,
    reference_dir: Path,
    ontology: Path,
    shapes: Path,
    keep_releases: int,
    reasoner: str,
    shacl_engine: str,
    jobs: int,
    keep_going: bool,
    prune: bool,
    force: bool,
    compact: bool,
    compact_below: int,
    crawl: tuple[str, ...],
    max_pages: int,
    fetch_interval: float,
    fetch_timeout: float,
    push_url: str | None,
    push_all: bool,
    push_token: str,
    push_user: str,
    push_timeout: float,
    quiet: bool,
    debug: bool,
) -> None:
    """Build the OSCE knowledge graph from SOURCES (files or folders of *.txt and *.html
    pages, or http(s) URLs of pages; default data/sources), validate it, reason over it and
    publish the store and dumps in OUT_DIR."""
    if push_url is None and push_all:
        raise click.UsageError("--push-all needs --push URL")
    if push_token and push_user:
        raise click.UsageError(
            "give --push-token (KG_PUSH_TOKEN) or --push-user (KG_PUSH_USER), not both"
        )
    if push_user and ":" not in push_user:
        raise click.UsageError("--push-user (KG_PUSH_USER) is USER:PASSWORD")
    urls = tuple(s for s in sources if is_url(s))
    paths = tuple(Path(s) for s in sources if not is_url(s))
    config = BuildConfig(
        base_iri=base_iri,
        out_dir=out_dir,
        reference_dir=reference_dir,
        ontology=ontology,
        shapes=shapes,
        keep_releases=keep_releases,
        reasoner=reasoner,
        shacl_engine=shacl_engine,
        jobs=jobs,
        keep_going=keep_going,
        prune=prune,
        force=force,
        compact=compact,
        compact_below=compact_below,
        sources=paths or (() if urls or crawl else (Path("data/sources"),)),
        urls=urls,
        crawl=crawl,
        max_pages=max_pages,
        fetch_interval=fetch_interval,
        fetch_timeout=fetch_timeout,
    )

    def progress(message: str) -> None:
        if not quiet:
            click.echo(f"kg-build: {message}", err=True)

    try:
        result = run(config, progress=progress, bars=not quiet and sys.stderr.isatty())
    except KgError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"kg-build: {exc}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if debug:
            raise
        click.echo(
            f"kg-build: internal error: {type(exc).__name__}: {exc} — rerun with --debug "
            "and report it",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
    report = result.report
    if not quiet:
        for warning in report.warnings:
            click.echo(f"kg-build: warning: {warning}", err=True)
        for doc in report.documents:
            for warning in doc.warnings if doc.status == "built" else ():
                click.echo(f"kg-build: {doc.source}: warning: {warning}", err=True)
    for doc in report.failed:  # --keep-going: every failure, even with -q
        for error in doc.errors or [doc.status]:
            click.echo(f"kg-build: {doc.source}: {error}", err=True)
    if not quiet:
        if report.status == "unchanged":
            click.echo(
                f"kg-build: {len(report.documents)} document(s) unchanged → "
                f"{result.release.root} (nothing to do)"
            )
        else:
            counts = ", ".join(f"{n} {k}" for k, n in report.triples.items())
            statuses = ", ".join(f"{n} {k}" for k, n in sorted(report.counts.items()))
            click.echo(
                f"kg-build: {len(report.documents)} document(s) ({statuses}) → "
                f"{result.release.root} ({counts} triples)"
            )
    code = EXIT_INVALID if report.failed else 0
    if push_url is not None:
        from kg_builder.push import PushConfig

        pushing = PushConfig(
            url=push_url,
            token=push_token,
            user=push_user,
            prune=prune,
            push_all=push_all,
            timeout=push_timeout,
            base_iri=base_iri,
        )
        code = max(code, _push(result.release, pushing, config, quiet=quiet, debug=debug))
    if code:
        sys.exit(code)


def _push(
    release: Release, pushing: PushConfig, config: BuildConfig, *, quiet: bool, debug: bool
) -> int:
    """Push the published ``release`` (``--push``); the exit code it adds."""
    from kg_builder.push import public_url, push, state_path_for

    url = public_url(pushing.url)
    if (pushing.token or pushing.user or url != pushing.url) and url.startswith("http://"):
        host = url.split("/")[2].split(":")[0]
        if host not in {"localhost", "127.0.0.1", "[::1]"} and not quiet:
            click.echo(f"kg-build: warning: {url}: credentials sent over plain http", err=True)
    try:
        with lock_out_dir(config.out_dir):
            done = push(
                release,
                pushing,
                state_path_for(config.out_dir),
                progress=lambda m: None if quiet else click.echo(f"kg-build: {m}", err=True),
            )
    except KgError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"kg-build: {exc}", err=True)
        return exc.exit_code
    except Exception as exc:
        if debug:
            raise
        click.echo(
            f"kg-build: internal error while pushing: {type(exc).__name__}: {exc} — the release "
            "is published locally; rerun with --debug and report it",
            err=True,
        )
        return EXIT_INTERNAL
    if not quiet:
        _say_pushed(done)
    return 0


def _say_pushed(done: PushResult) -> None:
    for warning in done.warnings:
        click.echo(f"kg-build: warning: {warning}", err=True)
    if done.sent:
        line = (
            f"kg-build: pushed {len(done.sent)} of {done.total} graph(s) ({done.triples} triples) "
            f"to {done.url} in {done.seconds:.1f} s"
        )
        if done.unchanged:
            line += f"; {len(done.unchanged)} unchanged since the last push there"
    elif not done.deleted:
        line = (
            f"kg-build: nothing to push: {done.url} has every graph of release {done.release} "
            "as of the last push there (--push-all sends them again)"
        )
    else:
        line = f"kg-build: {done.url} has every graph of release {done.release}"
    if done.deleted:
        line += f"; deleted {len(done.deleted)} graph(s) gone from the release (--prune)"
    click.echo(line)
    if done.kept:
        click.echo(
            f"kg-build: {len(done.kept)} graph(s) an earlier push sent are no longer in the "
            "release and stay in the store (--prune deletes them)"
        )
