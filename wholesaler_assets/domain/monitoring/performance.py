"""Realized performance of one day's scores once their label windows have closed.

The figures are the promotion gates' own (`evaluation.metrics` and the calibration ECE), on the
labels of `labels.realized_labels` (the day's contacts, labelled as in training), so a model is
watched by the numbers that admitted it.
Segments are the calibration's value segments (`evaluation.verdict.segments_of`, from
`market_value`), unless the frame already carries a `segment` column. A segment's model
figures follow the gate's rule (`segment_ece`): at least `min_segment_rows` rows and a
positive, NaN otherwise; its n and base rate are always given.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field

import numpy as np
import polars as pl

from wholesaler_assets.domain.contracts.targets import Target
from wholesaler_assets.domain.evaluation.gates import TOP_DECILE, GateThresholds
from wholesaler_assets.domain.evaluation.metrics import brier, lift_at, pr_auc, segment_ece
from wholesaler_assets.domain.evaluation.verdict import segments_of
from wholesaler_assets.domain.monitoring.labels import LABEL, WINDOW_CLOSED, target_of
from wholesaler_assets.domain.training.calibration import expected_calibration_error

ALL = "all"  # the segment name of the global figures in the table
SEGMENT = "segment"
METRICS = ("base_rate", "pr_auc", "top_decile_lift", "brier", "ece")
EXPECTATION = ("expected_positives", "expected_variance")


@dataclass(frozen=True)
class MetricSet:
    """Figures of one group of scores (all of a day's, or one value segment's)."""

    n: int
    positives: int
    base_rate: float
    pr_auc: float
    top_decile_lift: float
    brier: float
    ece: float
    expected_positives: float = 0.0  # sum of p: the positives calibrated scores promise
    expected_variance: float = 0.0  # sum of p(1 - p): their variance (calibration_gate pools both)


@dataclass(frozen=True)
class RealizedPerformance:
    """One target's realized figures for the scores of one day, globally and per value segment."""

    target: str
    scoring_date: dt.date
    overall: MetricSet
    segments: dict[str, MetricSet] = field(default_factory=dict)


def metric_set(y: np.ndarray, prob: np.ndarray, with_model_figures: bool = True) -> MetricSet:
    """n, positives, base rate and (when asked) the model figures of labels `y` and probabilities `prob`."""
    n, positives = int(y.size), int(np.sum(y))
    base_rate = positives / n if n else math.nan
    expected = (float(np.sum(prob)), float(np.sum(prob * (1 - prob))))
    if not with_model_figures or n == 0:
        return MetricSet(n, positives, base_rate, math.nan, math.nan, math.nan, math.nan, *expected)
    ranked = (pr_auc(y, prob), lift_at(y, prob, TOP_DECILE)) if positives else (math.nan, math.nan)
    return MetricSet(n, positives, base_rate, *ranked, brier(y, prob), expected_calibration_error(y, prob), *expected)


def _segments(frame: pl.DataFrame) -> np.ndarray:
    if SEGMENT in frame.columns:
        return frame.get_column(SEGMENT).cast(pl.String).fill_null("unknown").to_numpy().astype(str)
    return segments_of(frame)


def realized_performance(labelled: pl.DataFrame, target: Target | str, scoring_date: dt.date,
                         min_segment_rows: int = GateThresholds.min_segment_rows) -> RealizedPerformance:
    """The figures of the `scoring_date` rows of a `realized_labels` frame; their window must be closed.

    A day without contacts gets n = 0 and no figures (it is still judged: nothing is left to wait for)."""
    tgt = target_of(target)
    rows = labelled.filter(pl.col("scoring_date") == scoring_date)
    if "target" in rows.columns:
        rows = rows.filter(pl.col("target") == tgt.name)
    if not rows.get_column(WINDOW_CLOSED).all():
        raise ValueError(f"the {tgt.name} window of {scoring_date} is still open "
                         f"(it closes {scoring_date + dt.timedelta(days=tgt.window_days)})")
    y = rows.get_column(LABEL).cast(pl.Int64).to_numpy()
    prob = rows.get_column("probability").cast(pl.Float64).to_numpy()
    segments = _segments(rows)
    eces = segment_ece(y, prob, segments, min_rows=min_segment_rows)
    by_segment = {}
    for name in sorted(set(segments.tolist())):
        mask = segments == name
        full = metric_set(y[mask], prob[mask], with_model_figures=name in eces)
        by_segment[name] = MetricSet(**{**asdict(full), "ece": eces.get(name, math.nan)})
    return RealizedPerformance(tgt.name, scoring_date, metric_set(y, prob), by_segment)


def realized_table(records: list[RealizedPerformance]) -> pl.DataFrame:
    """The table over time: one row per (target, scoring_date, segment), segment "all" for the global figures."""
    rows = [{"target": r.target, "scoring_date": r.scoring_date, SEGMENT: name, **asdict(m)}
            for r in records for name, m in ((ALL, r.overall), *sorted(r.segments.items()))]
    schema = {"target": pl.String, "scoring_date": pl.Date, SEGMENT: pl.String, "n": pl.Int64,
              "positives": pl.Int64, **dict.fromkeys((*METRICS, *EXPECTATION), pl.Float64)}
    return pl.DataFrame(rows, schema=schema).sort("target", "scoring_date", SEGMENT)
