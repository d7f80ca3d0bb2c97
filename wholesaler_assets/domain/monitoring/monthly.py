"""A user's lead file replayed by month: each month after the champion's training cutoff, its
contacts' estimated performance (CBPE from the calibrated probabilities), the realized figures
once labelled, and whether the estimate's interval held.

A lead file has no days of snapshots to replay: its rows are contacts with their features, so a
month's contacts are scored as the endpoint scores them (`Scorer.features`, `Scorer.probabilities`)
and labelled as training labels them (`training.labels.label_contacts`, with the file's own
censoring rule). The figures are the daily monitoring's (`estimation.estimate_performance`,
`performance.metric_set`), so a month reads like a day of the synthetic market.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from wholesaler_assets.domain.contracts.targets import TARGETS
from wholesaler_assets.domain.monitoring.drift import DRIFT_SHARE, DriftSummary, drift_report
from wholesaler_assets.domain.monitoring.estimation import ESTIMATED_METRICS, estimate_performance
from wholesaler_assets.domain.monitoring.performance import metric_set
from wholesaler_assets.domain.training.labels import LABEL, label_contacts

MONTH = "month"
MIN_MONTH_ROWS = 30  # a month with fewer scored contacts gets no estimate: its interval would say nothing


def month_starts(contact_times: pl.Series, after: dt.datetime) -> list[dt.date]:
    """The first days of the months holding a contact at or after `after`, in order."""
    later = contact_times.filter(contact_times >= after)
    return sorted(set(later.dt.truncate("1mo").dt.date().to_list()))


def with_month(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col("contact_time").dt.truncate("1mo").dt.date().alias(MONTH))


@dataclass(frozen=True)
class LabelRule:
    """How the file's labels are read: its label source per target, the last instant it knows of,
    and whether ready labels are censored like outcome times (a declared cutoff)."""

    sources: dict[str, str]  # target -> "outcome_time" | "provided_label"
    known_until: dt.datetime
    censor_provided_labels: bool


def month_figures(scored: pl.DataFrame, outcomes: pl.DataFrame, rule: LabelRule, n_draws: int,
                  seed: int = 0) -> pl.DataFrame:
    """One row per (target, month) of `scored` contacts (`contact_id`, `lead_id`, `contact_time`,
    `p_<target>`): n, the estimate and interval of each estimated metric, the labelled rows and
    their realized figures, and `<metric>_outside` where the realized figure left the interval."""
    frame = with_month(scored)
    rows: list[dict[str, object]] = []
    for target, source in rule.sources.items():
        column = f"p_{target}"
        if column not in frame.columns:
            continue
        censor = source != "provided_label" or rule.censor_provided_labels
        labelled = label_contacts(frame.select("contact_id", "lead_id", "contact_time", MONTH, column), outcomes,
                                  TARGETS[target], source, rule.known_until, censor).frame
        for month in sorted(frame[MONTH].unique().to_list()):
            prob = frame.filter(pl.col(MONTH) == month)[column].drop_nulls().to_numpy()
            row: dict[str, object] = {"target": target, MONTH: month, "n": int(prob.size)}
            estimate = estimate_performance(prob, target, month, n_draws=n_draws, seed=seed) \
                if prob.size >= MIN_MONTH_ROWS else None
            judged = labelled.filter(pl.col(MONTH) == month)
            realized = metric_set(judged[LABEL].to_numpy().astype(np.int64), judged[column].to_numpy()) \
                if judged.height else None
            row["labelled"] = judged.height
            for metric in ESTIMATED_METRICS:
                interval = getattr(estimate, metric) if estimate else None
                value = getattr(realized, metric) if realized else math.nan
                row |= {f"estimated_{metric}": interval.estimate if interval else None,
                        f"{metric}_lower": interval.lower if interval else None,
                        f"{metric}_upper": interval.upper if interval else None,
                        f"realized_{metric}": None if math.isnan(value) else value,
                        # Judged only where every contact of the month is labelled (none censored).
                        f"{metric}_outside": (not interval.covers(value)) if interval and not math.isnan(value)
                        and judged.height == prob.size else None}
            row["realized_ece"] = realized.ece if realized and not math.isnan(realized.ece) else None
            rows.append(row)
    return pl.DataFrame(rows, schema=_schema())


def _schema() -> dict[str, type[pl.DataType] | pl.DataType]:
    schema: dict[str, type[pl.DataType] | pl.DataType] = {"target": pl.String, MONTH: pl.Date, "n": pl.Int64,
                                                          "labelled": pl.Int64}
    for metric in ESTIMATED_METRICS:
        schema |= {f"estimated_{metric}": pl.Float64, f"{metric}_lower": pl.Float64, f"{metric}_upper": pl.Float64,
                   f"realized_{metric}": pl.Float64, f"{metric}_outside": pl.Boolean}
    return schema | {"realized_ece": pl.Float64}


def month_drift(reference: pl.DataFrame, current: pl.DataFrame, feature_kinds: dict[str, str],
                drift_share: float = DRIFT_SHARE) -> dict[dt.date, DriftSummary]:
    """Evidently dataset drift of each month's scored contacts against the training window's.

    Both frames hold `contact_time`, the features and the `p_<target>` columns."""
    numerical = [c for c, k in feature_kinds.items() if k == "numeric" and c in reference.columns]
    categorical = [c for c, k in feature_kinds.items() if k in ("categorical", "boolean") and c in reference.columns]
    probabilities = [c for c in reference.columns if c.startswith("p_")]
    months = with_month(current)
    return {month: drift_report(reference, months.filter(pl.col(MONTH) == month), numerical, categorical,
                                probabilities, drift_share=drift_share)
            for month in sorted(months[MONTH].unique().to_list())}
