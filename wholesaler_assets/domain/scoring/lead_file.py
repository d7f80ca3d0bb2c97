"""A lead file's scoring: which of its leads are open at the cutoff, and their order within the batch.

A lead file has no property facts, so there is no ARV, buy-box or expected value to rank by. The
leads are ranked by the calibrated probability of the value target; ties (an isotonic calibrator
gives the same probability to whole blocks of leads) are broken by the model's uncalibrated score,
then by lead id, so the order has no ties at the top. Tiers are the batch's probability quantiles:
with shares (0.1, 0.3, 0.6) the top 10% are A, the next 20% B, the next 30% C, the rest D.

    priority_score = 100 x (n - rank + 1) / n    (rank 1 = the best lead of the batch; unique per lead)

Open leads: the spec's `open_column` names them; without it a lead is open when its latest contact
falls within the longest target window before the cutoff, no outcome of the file happened by the
cutoff, and the contact is in no training table (a training row is never an active lead).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import polars as pl

from wholesaler_assets.domain.contracts.targets import TARGETS

TIER_NAMES = ("A", "B", "C", "D")
OPEN_FLAG = "lead_open"  # lead_contacts' column when the spec names an open_column
WINDOW_RULE, COLUMN_RULE = "window", "column"


def rank_in_batch(frame: pl.DataFrame, probability: str, model_score: str,
                  shares: Sequence[float] = (0.1, 0.3, 0.6)) -> pl.DataFrame:
    """`frame` (in its own row order) with priority_score and tier from its rank within the batch."""
    a, b, c = shares
    if not 0 < a <= b <= c <= 1:
        raise ValueError(f"tier shares must rise within (0, 1], got {list(shares)}")
    n = frame.height
    if n == 0:
        return frame.with_columns(pl.lit(None, pl.Float64).alias("priority_score"),
                                  pl.lit(None, pl.String).alias("tier"))
    cut_a, cut_b, cut_c = (max(1, math.ceil(round(s * n, 9))) for s in shares)
    ranked = (frame.with_row_index("_row")
              .sort([probability, model_score, "lead_id"], descending=[True, True, False], nulls_last=True)
              .with_columns(pl.int_range(1, n + 1).alias("_rank")))
    rank = pl.col("_rank")
    return (ranked.with_columns(
        (100.0 * (n - rank + 1) / n).alias("priority_score"),
        pl.when(rank <= cut_a).then(pl.lit("A")).when(rank <= cut_b).then(pl.lit("B"))
        .when(rank <= cut_c).then(pl.lit("C")).otherwise(pl.lit("D")).alias("tier"))
        .sort("_row").drop("_row", "_rank"))


def tier_ranges(scored: pl.DataFrame, probability: str) -> dict[str, dict[str, float | int]]:
    """Per tier: leads and the probability range they span (what a reader checks the tiers by)."""
    out: dict[str, dict[str, float | int]] = {}
    for tier in TIER_NAMES:
        rows = scored.filter(pl.col("tier") == tier)[probability]
        if rows.len():
            out[tier] = {"leads": rows.len(), "min_probability": round(float(rows.min()), 4),  # type: ignore[arg-type]
                         "max_probability": round(float(rows.max()), 4)}  # type: ignore[arg-type]
    return out


def open_leads(contacts: pl.DataFrame, outcomes: pl.DataFrame, targets: dict[str, str], cutoff: dt.datetime,
               rule: str, training_contacts: pl.Series | None = None) -> pl.DataFrame:
    """The latest contact at or before `cutoff` of every lead open then (rows of `contacts`)."""
    latest = (contacts.filter(pl.col("contact_time") <= cutoff)
              .sort("contact_time", "contact_id").unique("lead_id", keep="last").sort("lead_id"))
    if rule == COLUMN_RULE:
        if OPEN_FLAG not in latest.columns:
            raise ValueError(f"open rule 'column' needs the {OPEN_FLAG} column in lead_contacts: load the file again")
        return latest.filter(pl.col(OPEN_FLAG).fill_null(False))
    if rule != WINDOW_RULE:
        raise ValueError(f"unknown open rule {rule!r}: window or column")
    window = max(TARGETS[t].window_days for t in targets)
    recent = latest.filter(pl.col("contact_time") > cutoff - dt.timedelta(days=window))
    if training_contacts is not None:
        recent = recent.filter(~pl.col("contact_id").is_in(training_contacts.implode()))
    outcome_columns = [TARGETS[t].outcome_time_column for t, source in targets.items()
                       if source == "outcome_time" and TARGETS[t].outcome_time_column in outcomes.columns]
    if not outcome_columns:
        return recent
    done = outcomes.filter(pl.any_horizontal(pl.col(c) <= cutoff for c in outcome_columns))["lead_id"]
    return recent.filter(~pl.col("lead_id").is_in(done.implode()))
