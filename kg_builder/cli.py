"""``kg-build``: a thin command line over ``kg_builder.pipeline.run``."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click

from kg_builder import __version__
from kg_builder.config import SETTINGS, BuildConfig
from kg_builder.errors import EXIT_INTERNAL, KgError
from kg_builder.pipeline import run

HELP = {s.name: s.help for s in SETTINGS}
DEFAULT = {s.name: s.default for s in SETTINGS}


@click.command(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Exit codes: 0 ok, 1 the data does not conform (SHACL) or is inconsistent (OWL), "
    "2 usage, configuration or input error, 3 internal error.",
)
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
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
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
@click.version_option(__version__, prog_name="kg-build")
def main(
    sources: tuple[Path, ...],
    out_dir: Path,
    base_iri: str,
    reference_dir: Path,
    ontology: Path,
    shapes: Path,
    keep_releases: int,
    quiet: bool,
    debug: bool,
) -> None:
    """Build the OSCE knowledge graph from SOURCES (files or folders of *.txt pages; default
    data/sources), validate it, reason over it and publish the store and dumps in OUT_DIR."""
    config = BuildConfig(
        base_iri=base_iri,
        out_dir=out_dir,
        reference_dir=reference_dir,
        ontology=ontology,
        shapes=shapes,
        keep_releases=keep_releases,
        sources=sources or (Path("data/sources"),),
    )

    def progress(message: str) -> None:
        if not quiet:
            click.echo(f"kg-build: {message}", err=True)

    try:
        result = run(config, progress=progress)
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
            for warning in doc.warnings:
                click.echo(f"kg-build: {doc.source}: warning: {warning}", err=True)
        counts = ", ".join(f"{n} {k}" for k, n in report.triples.items())
        click.echo(
            f"kg-build: {len(report.documents)} document(s) → {result.release.root} "
            f"({counts} triples)"
        )
