"""Realized labels of the champion's scores: the day's contacts, labelled as training labels them.

A model says how likely a lead is to reach an outcome once it is contacted. It is therefore judged,
as it was trained, on contacts: the contacts made on day D, each scored from its lead record as of
the contact (`warehouse_records.contact_records`, the training rows' own records), are the scores
of day D. Each is labelled by `training.labels.label_contacts`, the training label itself: 1 when
the lead's first outcome of the target's kind falls in (contact_time, contact_time + window].

The window of day D is closed once the outcomes are complete through D + window_days (`as_of`,
the last day whose outcomes are all in the warehouse): the last contact of D then has its whole
window behind it. Scores whose window is still open carry a null label (never a 0: the outcome
may still come), so the same frame also feeds the estimate made before the labels exist.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from wholesaler_assets.domain.contracts.targets import TARGETS, Target
from wholesaler_assets.domain.training.labels import label_contacts

LABEL = "label"
WINDOW_CLOSED = "window_closed"
SCORE_COLUMNS = ("lead_id", "contact_id", "contact_time", "scoring_date", "probability")


def target_of(target: Target | str) -> Target:
    """The contract's target for a name (or the target itself)."""
    if isinstance(target, Target):
        return target
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; known: {sorted(TARGETS)}")
    return TARGETS[target]


def window_closes(day: dt.date, target: Target | str) -> dt.date:
    """The first `as_of` day on which every contact of `day` has its whole outcome window behind it."""
    return day + dt.timedelta(days=target_of(target).window_days)


def end_of(day: dt.date) -> dt.datetime:
    """The first instant after `day` (UTC): outcomes complete through `day` are those before it."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def realized_labels(scores: pl.DataFrame, outcomes: pl.DataFrame, target: Target | str,
                    as_of: dt.date) -> pl.DataFrame:
    """The target's rows of `scores` with `window_closed` and `label` (Int8, null while open).

    `scores` are scored contacts (`SCORE_COLUMNS`; a `target` column, when present, selects the
    target's rows); `outcomes` is lead_outcomes (one row per lead, the first time of each outcome).
    """
    tgt = target_of(target)
    missing = [c for c in SCORE_COLUMNS if c not in scores.columns]
    if missing:
        raise ValueError(f"scores lack columns {missing}")
    missing = [c for c in ("lead_id", tgt.outcome_time_column) if c not in outcomes.columns]
    if missing:
        raise ValueError(f"outcomes lack columns {missing} (needed to label {tgt.name})")
    rows = scores.filter(pl.col("target") == tgt.name) if "target" in scores.columns else scores
    rows = rows.with_row_index("_row")
    first = outcomes.group_by("lead_id").agg(pl.col(tgt.outcome_time_column).min())
    labelled = label_contacts(rows, first, tgt, "outcome_time", end_of(as_of)).frame
    return (
        rows.join(labelled.select("_row", LABEL), on="_row", how="left")
        .with_columns(pl.col(LABEL).is_not_null().alias(WINDOW_CLOSED))
        .sort("_row").drop("_row")
    )
