"""Every CSV the platform writes for people goes through `write_csv`.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return) as a
formula: `=HYPERLINK(...)` in a quarantined phone number would become a live link in the
reviewer's spreadsheet. `write_csv` prefixes such text cells with `'`, which spreadsheets show as
text; a plain number such as `-12.5` is left alone (it is not a formula).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

FORMULA_START = r"^[=+\-@\t\r]"
_PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def neutralized(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every formula-like text cell prefixed with `'`."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START) & ~pl.col(c).str.contains(_PLAIN_NUMBER))
        .then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text
    )


def write_csv(frame: pl.DataFrame, path: str | Path, **options: Any) -> Path:
    """Write `frame` as CSV to `path` with formula-like cells neutralized; returns the path."""
    neutralized(frame).write_csv(path, **options)
    return Path(path)


def csv_text(frame: pl.DataFrame) -> str:
    """`frame` as CSV text with formula-like cells neutralized (for a command's standard output)."""
    return neutralized(frame).write_csv()
