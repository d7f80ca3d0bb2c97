"""Cut previews of cells: a huge cell is named by its start and its length, never copied whole.

Reasons, quarantine files and run metadata show `preview(cell)`: the first PREVIEW_CHARS characters,
then "… (5,000,000 characters)" when the cell was longer.
"""

from __future__ import annotations

import polars as pl

PREVIEW_CHARS = 200


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    """`text`, or its first `limit` characters and its length when it is longer."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def preview_expr(text: pl.Expr, limit: int = PREVIEW_CHARS) -> pl.Expr:
    """`preview` as a polars expression over a text column (nulls stay null)."""
    length = text.str.len_chars()
    return (pl.when(length > limit)
            .then(pl.format("{}… ({} characters)", text.str.slice(0, limit), _thousands(length)))
            .otherwise(text))


def preview_frame(frame: pl.DataFrame, limit: int = PREVIEW_CHARS) -> pl.DataFrame:
    """Every text column of `frame` cut to previews."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(preview_expr(pl.col(c), limit).alias(c) for c in text)


def _thousands(number: pl.Expr) -> pl.Expr:
    # 5000000 -> "5,000,000": group the reversed digits by three.
    return (number.cast(pl.String).str.reverse().str.replace_all(r"(\d{3})", "${1},")
            .str.reverse().str.strip_chars_start(","))
