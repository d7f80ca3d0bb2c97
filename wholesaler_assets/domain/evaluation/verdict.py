"""Calibrate and judge one target's candidates on the temporal holdout.

The calibrator is fitted on a candidate's out-of-fold scores (never on rows its model was fitted
on), globally and per value segment. Both candidates are then scored once on the holdout and
put through the same gates; `choose_winner` says which may be registered and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from wholesaler_assets.domain.contracts.choices import ModelKind, Winner
from wholesaler_assets.domain.evaluation.gates import GateThresholds, HoldoutScores, choose_winner, evaluate_gates
from wholesaler_assets.domain.evaluation.metrics import classification_figures, pr_auc, segment_ece
from wholesaler_assets.domain.gates.result import GateResult
from wholesaler_assets.domain.scalars import as_float
from wholesaler_assets.domain.training.calibration import SegmentedCalibrator, fit_calibrator
from wholesaler_assets.domain.training.search import LABEL, TrainedCandidate
from wholesaler_assets.domain.training.value_segments import value_segments

SEGMENT_SOURCE = "market_value"


DEFAULT_EDGES = (150_000.0, 400_000.0)
NO_SEGMENTS = "all"
MISSING_SEGMENT = "missing"


def segments_of(frame: pl.DataFrame, edges: tuple[float, ...] = DEFAULT_EDGES, column: str | None = None
                ) -> np.ndarray:
    """Segments of rows: the values of `column` when a lead file's spec names one (missing values are
    "missing"), else value bands; one segment, "all", when the dataset has no estimated value (a lead
    file without a segment column): a segment named "unknown" for every lead would read as missing data."""
    if column is not None:
        return frame.get_column(column).cast(pl.String).fill_null(MISSING_SEGMENT).to_numpy().astype(str)
    if SEGMENT_SOURCE not in frame.columns:
        return np.full(frame.height, NO_SEGMENTS)
    return value_segments(frame.get_column(SEGMENT_SOURCE).cast(pl.Float64).to_numpy(), edges)  # null -> NaN


_DISTRESS_ORDER = (("in_foreclosure", "foreclosure"), ("tax_delinquent", "tax_delinquent"),
                   ("in_probate", "probate"), ("vacant", "vacant"))


def cohorts_of(frame: pl.DataFrame, edges: tuple[float, ...] = DEFAULT_EDGES, column: str | None = None
               ) -> pl.DataFrame:
    """The cohorts explanations are summarised by: (value) segment, channel and main distress type."""
    columns = [pl.Series("value_segment" if column is None else column, segments_of(frame, edges, column))]
    if "channel" in frame.columns:
        columns.append(frame.get_column("channel"))
    if all(flag in frame.columns for flag, _ in _DISTRESS_ORDER):
        distress = pl.lit("none")
        for flag, name in reversed(_DISTRESS_ORDER):  # the first listed wins when several apply
            distress = pl.when(pl.col(flag)).then(pl.lit(name)).otherwise(distress)
        columns.append(frame.select(distress.alias("distress_type")).to_series())
    return pl.DataFrame(columns)


def calibrate(candidate: TrainedCandidate, train: pl.DataFrame,
              min_segment_rows: int = GateThresholds.min_segment_rows,
              edges: tuple[float, ...] = DEFAULT_EDGES, segment_column: str | None = None
              ) -> tuple[SegmentedCalibrator, dict[str, float]]:
    """Fit the calibrator on the candidate's out-of-fold scores; it keeps the segments it used."""
    source = [c for c in (SEGMENT_SOURCE, segment_column) if c is not None and c in train.columns]
    oof = candidate.cv.oof.join(train.select("contact_id", *source), on="contact_id", how="left")
    fitted, scores = fit_calibrator(oof["score"].to_numpy(), oof[LABEL].to_numpy(),
                                    segments_of(oof, edges, segment_column), min_segment_rows)
    return replace(fitted, edges=tuple(edges), segment_column=segment_column), scores


def holdout_scores(candidate: TrainedCandidate, calibrator: SegmentedCalibrator, holdout: pl.DataFrame
                   ) -> HoldoutScores:
    """Calibrated holdout probabilities with the cross-validation evidence the gates need.

    The "train" PR-AUC of the gap gate is the mean out-of-fold PR-AUC over the training window,
    not the in-sample fit: boosted trees always score far higher on rows they were fitted on, so
    an in-sample gap would fail every good model; the gap between cross-validated and
    out-of-time performance is what shows over-fitting to the search and drift over time.
    """
    segments = segments_of(holdout, calibrator.edges, calibrator.segment_column)
    return HoldoutScores(
        y=holdout[LABEL].to_numpy(),
        prob=calibrator.predict(candidate.predict(holdout), segments),
        segments=segments,
        cv_pr_aucs=list(candidate.cv.fold_pr_aucs),
        train_pr_auc=candidate.cv.mean_pr_auc,
        train_positive_rate=as_float(candidate.cv.oof[LABEL].mean()) if candidate.cv.oof.height else float("nan"),
    )


def holdout_score_rows(holdout: pl.DataFrame, scores: dict[ModelKind, HoldoutScores]) -> pl.DataFrame:
    """One row per holdout contact and candidate: its label, value segment and calibrated probability
    as the evaluation scored it (what the gates judged; the registered scorer must give the same)."""
    ids = holdout.select("contact_id", "lead_id", "contact_time")
    return pl.concat([ids.with_columns(pl.lit(kind).alias("candidate"), pl.Series(LABEL, s.y),
                                       pl.Series("segment", s.segments, pl.String),
                                       pl.Series("probability", s.prob, pl.Float64))
                      for kind, s in scores.items()])


def holdout_metrics(scores: HoldoutScores, min_segment_rows: int = GateThresholds.min_segment_rows
                    ) -> dict[str, float]:
    metrics = {
        **{f"holdout_{name}": value for name, value in classification_figures(scores.y, scores.prob).items()},
        "cv_pr_auc": scores.train_pr_auc,
        "cv_pr_auc_mean": float(np.mean(scores.cv_pr_aucs)) if scores.cv_pr_aucs else float("nan"),
        "cv_pr_auc_std": float(np.std(scores.cv_pr_aucs)) if scores.cv_pr_aucs else float("nan"),
    }
    for segment, ece in segment_ece(scores.y, scores.prob, scores.segments, min_segment_rows).items():
        metrics[f"holdout_ece_{segment}"] = ece
    return metrics


@dataclass
class Verdict:
    """Which candidate may be registered for a target, and the gates behind the decision."""

    winner: Winner
    explanation: str
    gates: dict[ModelKind, list[GateResult]] = field(default_factory=dict)

    @property
    def judged_kind(self) -> ModelKind:
        """The candidate whose gates decide: the winner, or XGBoost (the primary model) when nothing won."""
        return "baseline" if self.winner == "baseline" else "xgboost"

    @property
    def decisive_gates(self) -> list[GateResult]:
        """The gates of the winner, or of XGBoost (the primary model) when nothing won."""
        return self.gates[self.judged_kind]

    def as_dict(self) -> dict[str, Any]:
        """The decision as plain values: winner, explanation and every gate of both candidates."""
        return {"winner": self.winner, "explanation": self.explanation,
                "gates": {kind: [g.__dict__ for g in gates] for kind, gates in self.gates.items()}}


def judge(xgb: HoldoutScores, baseline: HoldoutScores, thresholds: GateThresholds) -> Verdict:
    xgb_gates = evaluate_gates(xgb, baseline, thresholds)
    baseline_gates = evaluate_gates(baseline, None, thresholds, compare_to_baseline=False)
    winner, explanation = choose_winner(xgb_gates, baseline_gates, pr_auc(xgb.y, xgb.prob),
                                        pr_auc(baseline.y, baseline.prob))
    return Verdict(winner, explanation, {"xgboost": xgb_gates, "baseline": baseline_gates})
