"""Dirt and bad files for the synthetic market's landing zone.

Real landing zones are dirty, so `io/synthetic_files.write_market` dirties what it writes with `dirty`
(the ground truth stays clean):

- missing: a share of the cells of every nullable, non-key column is set to null (PII included);
- duplicates: exact copies of rows, written right after the original;
- outliers: extreme but valid values (market_value x8, sqft x5, sale_price x6, ...), clipped to the
  contract's range;
- malformed: rows that break the contract: a negative amount, a category outside the allowed values,
  a date 400+ days after `end_date` and, in CSV, text such as "n/a" in a numeric column;
- bad files (written by `io/synthetic_files.py`), cycling through BAD_FILE_KINDS over the sources:
  a file missing a required column, a latin-1 CSV with a raw 0xff byte, a truncated Parquet file
  and an empty file.

Every choice comes from a generator seeded by (seed, source), so the bytes are reproducible.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from wholesaler_assets.domain.contracts.sources import SOURCES, SourceContract
from wholesaler_assets.domain.synthetic.config import MarketConfig

BAD_FILE_KINDS = ("missing-column", "non-utf8", "truncated-parquet", "empty")
_DIRT_STREAM = 0xD127  # keeps the dirt generators apart from the market's own streams

_OUTLIERS: dict[str, tuple[tuple[str, float], ...]] = {
    "properties": (("market_value", 8.0), ("sqft", 5.0), ("lot_sqft", 20.0)),
    "distress_events": (("tax_amount_owed", 10.0), ("default_amount", 8.0)),
    "contacts": (("campaign_step", 8.0),),
    "outcomes": (("purchase_price", 5.0), ("assignment_fee", 4.0)),
    "sales": (("sale_price", 6.0), ("sqft", 5.0)),
}
# (column, kind, bad category): kinds are negative, category, future and text (CSV only)
_MALFORMED: dict[str, tuple[tuple[str, str, str], ...]] = {
    "properties": (("market_value", "negative", ""), ("property_type", "category", "castle"),
                   ("effective_date", "future", ""), ("sqft", "text", "n/a")),
    "distress_events": (("tax_amount_owed", "negative", ""), ("event_type", "category", "bankruptcy"),
                        ("event_date", "future", ""), ("tax_years_delinquent", "text", "abc")),
    "contacts": (("campaign_step", "negative", ""), ("channel", "category", "carrier_pigeon"),
                 ("contact_time", "future", ""), ("campaign_step", "text", "n/a")),
    "outcomes": (("purchase_price", "negative", ""), ("outcome_type", "category", "appointment_set"),
                 ("outcome_time", "future", ""), ("assignment_fee", "text", "abc")),
    "sales": (("sale_price", "negative", ""), ("condition_at_sale", "category", "gutted"),
              ("sale_date", "future", ""), ("sale_price", "text", "n/a")),
}


def _rng(seed: int, source: str) -> np.random.Generator:
    stream = np.random.SeedSequence(seed, spawn_key=(_DIRT_STREAM, SOURCES.index(source)))
    return np.random.default_rng(stream)


def _rows(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    """Sorted row numbers of a `rate` share of n rows (at least one when the rate is positive)."""
    if n == 0 or rate <= 0:
        return np.zeros(0, np.int64)
    return np.sort(rng.choice(n, min(n, max(1, round(rate * n))), replace=False))


def _mask(n: int, rows: np.ndarray) -> pl.Series:
    mask = np.zeros(n, bool)
    mask[rows] = True
    return pl.Series(mask)


def _set(df: pl.DataFrame, column: str, rows: np.ndarray, value: pl.Expr) -> pl.DataFrame:
    chosen = _mask(df.height, rows)
    return df.with_columns(pl.when(chosen).then(value).otherwise(pl.col(column)).alias(column))


def _blank_cells(df: pl.DataFrame, contract: SourceContract, rate: float,
                 rng: np.random.Generator) -> pl.DataFrame:
    """Null a `rate` share of the filled cells of nullable, non-key columns (at least one cell)."""
    columns = [c.name for c in contract.columns if c.nullable and c.name not in contract.key]
    if rate <= 0 or not columns:
        return df
    filled = df.select(pl.col(columns).is_not_null()).to_numpy()
    blank = filled & (rng.random(filled.shape, dtype=np.float32) < rate)
    if not blank.any() and filled.any():  # small files still show the problem
        blank.flat[rng.choice(np.flatnonzero(filled))] = True
    return df.with_columns(pl.when(pl.Series(blank[:, i])).then(None).otherwise(pl.col(c)).alias(c)
                           for i, c in enumerate(columns))


def dirty(df: pl.DataFrame, contract: SourceContract, config: MarketConfig, csv: bool) -> pl.DataFrame:
    """The source as it lands: missing cells, outliers, malformed rows, then duplicates."""
    dirt, rng, n = config.dirt, _rng(config.seed, contract.name), df.height
    df = _blank_cells(df, contract, dirt.missing_rate, rng)
    outliers = _OUTLIERS[contract.name]
    rows = _rows(rng, n, dirt.outlier_rate)
    for i, (column, factor) in enumerate(outliers):
        spec = contract.column(column)
        value = (pl.col(column) * factor).clip(spec.min_value, spec.max_value).cast(df.schema[column])
        df = _set(df, column, rows[i :: len(outliers)], value)
    kinds = [m for m in _MALFORMED[contract.name] if csv or m[1] != "text"]
    rows = _rows(rng, n, dirt.malformed_rate)  # the chosen rows cycle through the kinds
    future = config.end_date + dt.timedelta(days=400)
    for i, (column, kind, bad) in enumerate(kinds):
        picked, dtype = rows[i :: len(kinds)], df.schema[column]
        if kind == "negative":
            value = (-(pl.col(column).abs().fill_null(1_000)) - 1).cast(dtype)
        elif kind == "category":
            value = pl.lit(bad)
        elif kind == "future":
            offset = pl.Series(rng.integers(0, 365, n)).cast(pl.Int64) * 86_400_000_000
            value = (pl.lit(dt.datetime.combine(future, dt.time(12), dt.UTC)).cast(dtype)
                     + pl.duration(microseconds=pl.lit(offset))).cast(dtype)
        else:
            df = df.with_columns(pl.col(column).cast(pl.String))
            value = pl.lit(bad)
        df = _set(df, column, picked, value)
    dups = _rows(rng, n, dirt.duplicate_rate)
    if len(dups):  # copies sort right after their original
        order = pl.Series(np.concatenate([np.arange(n), dups]))
        df = pl.concat([df, df[dups.tolist()]]).with_columns(_order=order)
        df = df.sort("_order", maintain_order=True).drop("_order")
    return df
