"""The `lead_scores` contract: one row per (lead, target, scoring date), what a CRM or API reads.

`long_scores` turns the day's scored leads (one row per lead, a probability column per target)
into that shape; `select_rows` picks all rows or one split (the seeds' `holdout` / `training`
selection, so a model can be checked on leads it never trained on); `diff_rows` says what an
upsert would insert, update or leave unchanged, which is the whole of a dry run.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from wholesaler_assets.domain.contracts.choices import ROW_SELECTIONS, RowSelection
from wholesaler_assets.domain.training.splits import HOLDOUT, TRAIN

SINK_KEY = ("lead_id", "target", "scoring_date")
SPLIT_OF_SELECTION: dict[RowSelection, str | None] = {"all": None, "holdout": HOLDOUT, "training": TRAIN}
LEAD_COLUMNS = ("property_id", "arv", "arv_method", "conservative_profit", "passes_buy_box", "expected_value",
                "priority_score", "tier", "top_reasons", "narrative", "split", "model_version", "model_run_id")
SINK_COLUMNS = (*SINK_KEY, "probability", *LEAD_COLUMNS, "run_timestamp")


def select_rows(scored: pl.DataFrame, selection: RowSelection) -> pl.DataFrame:
    """All leads, or those whose latest labelled contact is in the holdout or in the training window."""
    if selection not in SPLIT_OF_SELECTION:
        raise ValueError(f"rows must be one of {sorted(ROW_SELECTIONS)}, got {selection!r}")
    split = SPLIT_OF_SELECTION[selection]
    return scored if split is None else scored.filter(pl.col("split") == split)


def long_scores(scored: pl.DataFrame) -> pl.DataFrame:
    """One row per lead and target; `run_timestamp` is when the scores were made (re-writing them keeps it)."""
    targets = [c.removeprefix("p_") for c in scored.columns if c.startswith("p_")]
    lead = scored.select("lead_id", "scoring_date", *[c for c in LEAD_COLUMNS if c in scored.columns],
                         pl.col("scored_at").alias("run_timestamp"))
    parts = [lead.with_columns(pl.lit(t).alias("target"), scored[f"p_{t}"].alias("probability")) for t in targets]
    long = pl.concat(parts) if parts else lead.head(0).with_columns(target=pl.lit(""), probability=pl.lit(0.0))
    return long.select([c for c in SINK_COLUMNS if c in long.columns]).sort("lead_id", "target")


@dataclass(frozen=True)
class RowDiff:
    """What an upsert of `rows` does to the table."""

    inserts: int
    updates: int
    unchanged: int


def diff_rows(rows: pl.DataFrame, existing: pl.DataFrame | None) -> RowDiff:
    """Rows whose key is new, whose key exists with other values, and whose key and values exist as they are."""
    if existing is None or existing.height == 0:
        return RowDiff(rows.height, 0, 0)
    key = list(SINK_KEY)
    present = rows.join(existing.select(key), on=key, how="semi")
    shared = [c for c in rows.columns if c in existing.columns]
    same = present.select(shared).join(existing.select(shared), on=shared, how="semi", nulls_equal=True)
    return RowDiff(rows.height - present.height, present.height - same.height, same.height)
