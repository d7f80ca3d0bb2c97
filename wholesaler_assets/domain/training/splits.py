"""Temporal holdout and blocked time-series cross-validation folds.

Rows are ordered by contact time. The last `holdout_share` of rows is the holdout, scored once.
Rows whose label window reaches into the holdout are purged (split "gap"): their outcome would
be decided inside the holdout's time. The training window is cut into `n_folds + 1` equal blocks;
fold k validates on block k and trains on every earlier row at least `gap_days` before that
block starts, so no training label window can overlap validation time.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import polars as pl
from pydantic import Field
from pydantic.dataclasses import dataclass

from wholesaler_assets.domain.scalars import as_datetime

TRAIN, HOLDOUT, GAP = "train", "holdout", "gap"


@dataclass(frozen=True)
class SplitConfig:
    """How to split one target's table (validated: a share in (0, 1), at least one fold)."""

    holdout_share: Annotated[float, Field(gt=0, lt=1)] = 0.2
    n_folds: Annotated[int, Field(ge=1)] = 4
    gap_days: Annotated[int, Field(ge=0)] = 30
    label_window_days: Annotated[int, Field(ge=1)] = 7


def assign_splits(table: pl.DataFrame, config: SplitConfig) -> pl.DataFrame:
    """Add a `split` column (train, gap, holdout); the table must be sorted by contact_time."""
    n = table.height
    if n == 0:
        return table.with_columns(split=pl.lit(None, pl.String))
    holdout_start = table["contact_time"][min(int(n * (1 - config.holdout_share)), n - 1)]
    window = dt.timedelta(days=config.label_window_days)
    return table.with_columns(
        split=pl.when(pl.col("contact_time") >= holdout_start).then(pl.lit(HOLDOUT))
        .when(pl.col("contact_time") + window >= holdout_start).then(pl.lit(GAP))
        .otherwise(pl.lit(TRAIN))
    )


def blocked_folds(table: pl.DataFrame, config: SplitConfig) -> pl.DataFrame:
    """Fold membership of training rows: (fold, role, contact_id), role train or validation."""
    train = table.filter(pl.col("split") == TRAIN).select("contact_id", "contact_time")
    blocks = config.n_folds + 1
    block = (pl.int_range(pl.len()) * blocks // pl.len()).alias("block")
    train = train.with_columns(block)
    gap = dt.timedelta(days=config.gap_days)
    folds = []
    for fold in range(1, blocks):
        validation = train.filter(pl.col("block") == fold)
        if validation.is_empty():
            continue
        starts = as_datetime(validation["contact_time"].min())
        fit = train.filter(pl.col("contact_time") < starts - gap)
        folds.append(pl.concat([
            fit.select(pl.lit(fold).alias("fold"), pl.lit("train").alias("role"), "contact_id"),
            validation.select(pl.lit(fold).alias("fold"), pl.lit("validation").alias("role"), "contact_id"),
        ]))
    if not folds:
        return pl.DataFrame(schema={"fold": pl.Int32, "role": pl.String, "contact_id": pl.String})
    return pl.concat(folds).with_columns(pl.col("fold").cast(pl.Int32))


def fold_summary(folds: pl.DataFrame, table: pl.DataFrame) -> list[dict]:
    """Per fold: rows and time range of its train and validation parts (for metadata and reports)."""
    times = folds.join(table.select("contact_id", "contact_time"), on="contact_id")
    summary = times.group_by("fold", "role").agg(
        pl.len().alias("rows"), pl.col("contact_time").min().alias("from"), pl.col("contact_time").max().alias("to")
    ).sort("fold", "role")
    return [{**r, "from": str(r["from"]), "to": str(r["to"])} for r in summary.iter_rows(named=True)]
