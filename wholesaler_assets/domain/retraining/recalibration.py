"""Recalibration: when the ranking still holds but the probabilities no longer match outcomes, refit
only the calibration, on the most recent closed contacts, and keep every model and its order.

The rows are the champion's contacts of the last `window_days` closed scoring days of a target,
each with the model's raw score, its value segment and its realized label. The repair is a
logistic recalibration of the champion's calibrated probability, p' = sigmoid(slope * logit(p) +
intercept) (`training.calibration.fit_recalibration`): two parameters a fortnight of contacts can
fit, it moves the level (a base rate that doubled) and the spread, and with a positive slope it
keeps the champion's order of leads exactly, within and across value segments. It is judged on
days it was not fitted on: the window is cut into `blocks` contiguous runs of days, each predicted
by a curve fitted on the others, and the ECE of those out-of-time predictions stands beside the
champion's on the same rows. A target is recalibrated only when that ECE is within the gate and
better than the champion's by `min_ece_improvement`, and the slope is at least `min_slope` (a flat
curve means the scores no longer separate outcomes: that needs a retraining). Otherwise it keeps its
calibrator, and says why.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from wholesaler_assets.domain.evaluation.gates import GateThresholds
from wholesaler_assets.domain.evaluation.verdict import segments_of
from wholesaler_assets.domain.monitoring.labels import LABEL, realized_labels, target_of
from wholesaler_assets.domain.scoring.scorer import TargetModel
from wholesaler_assets.domain.training.calibration import (
    SegmentedCalibrator,
    expected_calibration_error,
    fit_recalibration,
)


@dataclass(frozen=True)
class RecalibrationPolicy:
    """Which rows a recalibration learns from and what it must show (each is a job setting)."""

    window_days: int = 14  # the latest closed scoring days: short, so a recent change dominates
    blocks: int = 2  # contiguous runs of days, each judged by a curve fitted on the others
    min_rows: int = 200
    min_positives: int = 15
    max_ece: float = GateThresholds.max_ece  # the promotion gate's own limit
    min_ece_improvement: float = 0.005  # below this the gain is noise: keep the champion's calibrator
    min_slope: float = 0.25  # flatter: the scores barely separate outcomes any more


def closed_window(as_of: dt.date, window_days: int, horizon_days: int) -> tuple[dt.date, dt.date]:
    """First and last scoring day whose outcome window (`horizon_days`) has closed by `as_of`."""
    last = as_of - dt.timedelta(days=horizon_days)
    return last - dt.timedelta(days=window_days - 1), last


@dataclass(frozen=True)
class TargetRecalibration:
    """One target's recalibration: accepted or not, why, and the figures that decided it."""

    target: str
    accepted: bool
    reason: str
    rows: int
    positives: int
    ece_before: float = math.nan
    ece_after: float = math.nan
    mean_predicted_before: float = math.nan
    mean_predicted_after: float = math.nan
    observed_rate: float = math.nan
    slope: float = math.nan
    intercept: float = math.nan
    calibrator: SegmentedCalibrator | None = None

    def figures(self) -> dict[str, float | int | str | bool]:
        """The figures as plain values (metadata, MLflow, reports)."""
        return {k: (round(v, 5) if isinstance(v, float) else v) for k, v in self.__dict__.items()
                if k != "calibrator" and not (isinstance(v, float) and math.isnan(v))}


def _day_blocks(days: np.ndarray, blocks: int) -> np.ndarray:
    """Block number of each row: the distinct days in order, cut into `blocks` contiguous runs."""
    distinct = np.unique(days)
    block_of_day = {d: min(i * blocks // len(distinct), blocks - 1) for i, d in enumerate(distinct)}
    return np.array([block_of_day[d] for d in days])


def recalibrate(target: str, raw: np.ndarray, y: np.ndarray, days: np.ndarray, segments: np.ndarray,
                champion: SegmentedCalibrator, policy: RecalibrationPolicy = RecalibrationPolicy()
                ) -> TargetRecalibration:
    """A logistic recalibration of `target`'s calibrator on (raw score, label) rows of recent closed days,
    judged out of time.

    `days` is each row's scoring day (any sortable value), `segments` its value segment, `champion`
    the calibrator in service; the returned calibrator is the champion's followed by the new curve."""
    y = np.asarray(y, dtype=np.int64)
    n, positives = int(y.size), int(y.sum())
    if n < policy.min_rows or positives < policy.min_positives or positives == n:
        return TargetRecalibration(target, False, f"{n} closed contacts with {positives} positives: too few to "
                                   f"refit a calibrator (needs {policy.min_rows} and {policy.min_positives})",
                                   n, positives)
    before = champion.predict(raw, segments)
    block = _day_blocks(np.asarray(days), policy.blocks)
    out_of_time = np.empty(n)
    for b in range(policy.blocks):
        held, fit = block == b, block != b
        if not 0 < y[fit].sum() < fit.sum():
            return TargetRecalibration(target, False, f"days block {b + 1} of {policy.blocks} leaves a fit part "
                                       "without both outcomes: no out-of-time judgement possible", n, positives)
        out_of_time[held] = champion.recalibrated(*fit_recalibration(before[fit], y[fit])).predict(
            raw[held], segments[held])
    slope, intercept = fit_recalibration(before, y)
    ece_before, ece_after = expected_calibration_error(y, before), expected_calibration_error(y, out_of_time)
    judged = TargetRecalibration(target, False, "", n, positives, ece_before, ece_after, float(before.mean()),
                                 float(out_of_time.mean()), positives / n, slope, intercept)
    said = (f"ECE {ece_before:.3f} -> {ece_after:.3f} out of time, mean predicted {before.mean():.3f} -> "
            f"{out_of_time.mean():.3f} vs observed {positives / n:.3f}")
    if not slope >= policy.min_slope:
        return replace(judged, reason=f"{said}, but the curve's slope is {slope:.2f} (< {policy.min_slope}): the "
                                      "scores barely separate outcomes any more, a retraining is needed")
    if not ece_after <= policy.max_ece:
        return replace(judged, reason=f"{said}: still above the gate {policy.max_ece}")
    if not ece_after <= ece_before - policy.min_ece_improvement:
        return replace(judged, reason=f"{said}: no better than the champion's calibrator by "
                                      f"{policy.min_ece_improvement}")
    return replace(judged, accepted=True, reason=f"{said}: recalibrated (slope {slope:.2f}, intercept "
                                                 f"{intercept:+.2f})",
                   calibrator=champion.recalibrated(slope, intercept))


def recalibration_verdict(results: list[TargetRecalibration]) -> tuple[bool, str]:
    """Passed when some target's calibration was repaired; the others keep the champion's calibrators."""
    accepted = [r.target for r in results if r.accepted]
    said = "; ".join(f"{r.target}: {r.reason}" for r in results) or "no target to recalibrate"
    if not accepted:
        return False, f"recalibration refused, the champion stays: {said}"
    return True, f"recalibrated {', '.join(accepted)}: {said}"


def rows_needed(targets: Sequence[str], as_of: dt.date, policy: RecalibrationPolicy) -> tuple[dt.date, dt.date]:
    """The span of scoring days whose contacts the recalibration of `targets` reads."""
    windows = [closed_window(as_of, policy.window_days, target_of(t).window_days) for t in targets]
    return min(w[0] for w in windows), max(w[1] for w in windows)


def recalibrate_models(models: Sequence[TargetModel], rows: pl.DataFrame, outcomes: pl.DataFrame, as_of: dt.date,
                       policy: RecalibrationPolicy = RecalibrationPolicy()
                       ) -> tuple[list[TargetModel], list[TargetRecalibration]]:
    """Each model with its calibrator refitted where that repairs it (else unchanged), and why.

    `rows` are contacts with their model features as of each contact (`daily.contact_features`),
    `outcomes` lead_outcomes complete through `as_of`."""
    kept, results = [], []
    for model in models:
        first, last = closed_window(as_of, policy.window_days, target_of(model.target).window_days)
        part = rows.filter(pl.col("scoring_date").is_between(first, last)) if rows.height else rows
        if part.height == 0:
            results.append(TargetRecalibration(model.target, False, f"no contact on {first}..{last}", 0, 0))
            kept.append(model)
            continue
        scored = part.with_columns(pl.Series("probability", model.raw_scores(part)))
        closed = realized_labels(scored, outcomes, model.target, as_of).filter(pl.col(LABEL).is_not_null())
        result = recalibrate(model.target, closed["probability"].to_numpy(), closed[LABEL].to_numpy(),
                             closed["scoring_date"].to_numpy(), segments_of(closed, model.calibrator.edges),
                             model.calibrator, policy)
        results.append(result)
        kept.append(TargetModel(model.target, model.kind, model.model, model.space, result.calibrator)
                    if result.calibrator is not None else model)
    return kept, results
