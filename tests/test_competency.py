"""Competency questions: each ``tests/competency/*.rq`` against the graph built from the seed,
compared with the ``.expected`` answer beside it (one row a line, values tab-separated as
N-Triples terms, in the query's order; ``true``/``false`` for ASK). ``OSCE_KG_REGEN=1``
rewrites the expected answers; review the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pyoxigraph as ox
import pytest

QUERIES = sorted((Path(__file__).parent / "competency").rglob("*.rq"))


def answer(store: ox.Store, query: str) -> list[str]:
    result = store.query(query, use_default_graph_as_union=True)
    if isinstance(result, ox.QueryBoolean):
        return [str(bool(result)).lower()]
    assert isinstance(result, ox.QuerySolutions)
    # N-Triples forms, so a lost language tag or datatype fails the test too
    return ["\t".join("" if v is None else str(v) for v in row) for row in result]


def test_there_are_competency_questions() -> None:
    assert len(QUERIES) >= 23


@pytest.mark.parametrize("query", QUERIES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_competency_question(seed_store: ox.Store, query: Path) -> None:
    got = answer(seed_store, query.read_text(encoding="utf-8"))
    expected_path = query.with_suffix(".expected")
    if os.environ.get("OSCE_KG_REGEN"):
        expected_path.write_text("".join(f"{line}\n" for line in got), encoding="utf-8")
        pytest.skip(f"regenerated {expected_path.name}")
    assert got == expected_path.read_text(encoding="utf-8").splitlines()


def test_participating_states_are_the_57_of_the_reference_table(seed_store: ox.Store) -> None:
    table = Path(__file__).parent.parent / "data" / "reference" / "states.tsv"
    names = sorted(
        line.split("\t")[0]
        for line in table.read_text(encoding="utf-8").splitlines()[1:]
        if line.split("\t")[1] == "participating"
    )
    query = (Path(__file__).parent / "competency" / "01-participating-states.rq").read_text()
    assert len(names) == 57
    assert answer(seed_store, query) == [f'"{name}"@en' for name in names]
