"""``kg-evaluate``: extraction precision, recall and F1 against gold annotations."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from kg_builder.config import DEFAULTS
from kg_builder.errors import KgError
from kg_builder.evaluate import evaluate


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--gold", type=click.Path(path_type=Path), required=True, help="gold.json to compare with."
)
@click.argument("docs", type=click.Path(path_type=Path))
@click.option(
    "--reference-dir",
    type=click.Path(path_type=Path),
    default=DEFAULTS["reference_dir"],
    show_default=True,
)
@click.option(
    "--ontology", type=click.Path(path_type=Path), default=DEFAULTS["ontology"], show_default=True
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(path_type=Path),
    help="Also write the results as JSON here.",
)
@click.option(
    "--details/--no-details", default=True, show_default=True, help="List every miss and false hit."
)
def main(
    gold: Path,
    docs: Path,
    reference_dir: Path,
    ontology: Path,
    json_out: Path | None,
    details: bool,
) -> None:
    """Extract the documents in DOCS and score them against the annotations in --gold."""
    try:
        result = evaluate(gold, docs, reference_dir, ontology)
    except KgError as exc:
        click.echo(f"kg-evaluate: {exc}", err=True)
        sys.exit(exc.exit_code)
    click.echo(f"{result.documents} documents\n{result.table()}")
    if details:
        for name, score in result.scores.items():
            for line in score.misses:
                click.echo(f"miss      {name:<20} {line}")
            for line in score.false_hits:
                click.echo(f"false hit {name:<20} {line}")
    if json_out is not None:
        json_out.write_text(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
    if result.failures:
        for failure in result.failures:
            click.echo(f"kg-evaluate: {failure}", err=True)
        sys.exit(3)  # a rule that crashes is our bug, not a property of the data
