"""Tab-separated reference tables: a header line, ``#`` comment lines, checked rows."""

from __future__ import annotations

import csv
from pathlib import Path

from kg_builder.errors import ConfigError


def read_tsv(
    path: Path, columns: tuple[str, ...], optional: tuple[str, ...] = ()
) -> list[tuple[int, dict[str, str]]]:
    """The rows of a tab-separated file with a header line; ``#`` lines are comments.
    Every column of ``columns`` must have a value, those of ``optional`` may be empty."""
    if not path.is_file():
        raise ConfigError("reference file is missing", subject=str(path))
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            lines = [
                (n, line)
                for n, line in enumerate(handle, 1)
                if line.strip() and not line.startswith("#")
            ]
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", subject=str(path)) from exc
    reader = csv.DictReader((line for _, line in lines), delimiter="\t", quoting=csv.QUOTE_NONE)
    missing = (set(columns) | set(optional)) - set(reader.fieldnames or ())
    if missing:
        raise ConfigError(f"missing columns: {', '.join(sorted(missing))}", subject=str(path))
    rows = []
    for (number, _), row in zip(lines[1:], reader, strict=True):
        if None in row or any(v is None for v in row.values()):
            raise ConfigError(
                f"line {number}: expected {len(reader.fieldnames or ())} tab-separated fields",
                subject=str(path),
            )
        empty = [c for c in columns if not row[c].strip()]
        if empty:
            raise ConfigError(f"line {number}: empty {', '.join(empty)}", subject=str(path))
        rows.append((number, {k: v.strip() for k, v in row.items()}))
    return rows
