"""Realized labels of past scores: did the scored lead reach the target's outcome in time?

A score made on day D uses what was known by the end of D (`records_as_of`), so it is labelled
like a training contact made at that instant: 1 when the lead's first outcome of the target's
kind falls on a day in (D, D + window_days] (UTC dates), else 0. An outcome on D itself was
already known when the score was made and does not count; as in training, only the first
occurrence of each outcome (what `lead_outcomes` keeps) is looked at.

The window of a day-D score is closed once the outcomes are complete through its last day:
`as_of >= D + window_days`, where `as_of` is the last day whose outcomes are all in the
warehouse. Open windows keep a null label (never a 0: the outcome may still come), so the
same frame also feeds the estimate made before the labels exist.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from wholesaler_assets.domain.contracts.targets import TARGETS, Target

LABEL = "label"
WINDOW_END = "window_end"
WINDOW_CLOSED = "window_closed"
SCORE_COLUMNS = ("lead_id", "scoring_date", "probability")
_OUTCOME_DATE = "_outcome_date"


def target_of(target: Target | str) -> Target:
    """The contract's target for a name (or the target itself)."""
    if isinstance(target, Target):
        return target
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; known: {sorted(TARGETS)}")
    return TARGETS[target]


def _utc_date(column: str, dtype: pl.DataType) -> pl.Expr:
    """The UTC calendar day of an outcome time (naive times are taken as UTC)."""
    col = pl.col(column)
    if isinstance(dtype, pl.Datetime):
        return (col.dt.convert_time_zone("UTC") if dtype.time_zone else col).dt.date()
    if dtype == pl.Date:
        return col
    raise ValueError(f"{column} must be a date or datetime column, got {dtype}")


def realized_labels(scores: pl.DataFrame, outcomes: pl.DataFrame, target: Target | str,
                    as_of: dt.date) -> pl.DataFrame:
    """The target's rows of `scores` with `window_end`, `window_closed` and `label` (Int8, null while open).

    `scores` are lead_scores rows (a `target` column, when present, selects the target's rows);
    `outcomes` is lead_outcomes (one row per lead; duplicates are reduced to the first time).
    """
    tgt = target_of(target)
    missing = [c for c in SCORE_COLUMNS if c not in scores.columns]
    if missing:
        raise ValueError(f"scores lack columns {missing}")
    missing = [c for c in ("lead_id", tgt.outcome_time_column) if c not in outcomes.columns]
    if missing:
        raise ValueError(f"outcomes lack columns {missing} (needed to label {tgt.name})")
    rows = scores.filter(pl.col("target") == tgt.name) if "target" in scores.columns else scores
    first = (
        outcomes.select("lead_id", _utc_date(tgt.outcome_time_column, outcomes.schema[tgt.outcome_time_column])
                        .alias(_OUTCOME_DATE))
        .group_by("lead_id").agg(pl.col(_OUTCOME_DATE).min())
    )
    window_end = pl.col("scoring_date").cast(pl.Date).dt.offset_by(f"{tgt.window_days}d")
    reached = (pl.col(_OUTCOME_DATE) > pl.col("scoring_date")) & (pl.col(_OUTCOME_DATE) <= pl.col(WINDOW_END))
    return (
        rows.join(first, on="lead_id", how="left", maintain_order="left")
        .with_columns(window_end.alias(WINDOW_END))
        .with_columns((pl.col(WINDOW_END) <= as_of).alias(WINDOW_CLOSED))
        .with_columns(pl.when(pl.col(WINDOW_CLOSED)).then(reached.fill_null(False).cast(pl.Int8))
                      .otherwise(None).cast(pl.Int8).alias(LABEL))
        .drop(_OUTCOME_DATE)
    )
