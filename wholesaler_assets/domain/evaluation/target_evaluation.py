"""One target's evaluation: both calibrated candidates judged on the holdout, the winner explained.

`evaluate_target` scores each candidate once on the temporal holdout, puts both through the
promotion gates (`verdict.judge`), and explains the chosen one (the winner, or XGBoost when
nothing won): global importance and a summary by cohort. `evaluation_figures` draws the plots.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from wholesaler_assets.domain.contracts.choices import MODEL_KINDS, ModelKind
from wholesaler_assets.domain.evaluation import plots
from wholesaler_assets.domain.evaluation.gates import GateThresholds, HoldoutScores
from wholesaler_assets.domain.evaluation.verdict import Verdict, cohorts_of, holdout_metrics, holdout_scores, judge
from wholesaler_assets.domain.explain.summaries import cohort_summary, global_importance, summary_markdown
from wholesaler_assets.domain.scoring.scorer import TargetModel
from wholesaler_assets.domain.training.calibration import SegmentedCalibrator
from wholesaler_assets.domain.training.search import TrainedCandidate


@dataclass(frozen=True, eq=False)
class TargetEvaluation:
    """The verdict, each candidate's holdout scores and metrics, and the chosen model explained."""

    target: str
    verdict: Verdict
    scores: dict[ModelKind, HoldoutScores]
    metrics: dict[ModelKind, dict[str, float]]
    chosen: TargetModel
    explanations: str
    importance: pl.DataFrame


def evaluate_target(target: str, candidates: dict[ModelKind, TrainedCandidate],
                    calibrators: dict[ModelKind, SegmentedCalibrator], holdout: pl.DataFrame,
                    thresholds: GateThresholds) -> TargetEvaluation:
    scores = {kind: holdout_scores(candidates[kind], calibrators[kind], holdout) for kind in MODEL_KINDS}
    verdict = judge(scores["xgboost"], scores["baseline"], thresholds)
    metrics = {kind: holdout_metrics(scores[kind], thresholds.min_segment_rows) for kind in MODEL_KINDS}
    kind = verdict.judged_kind
    chosen = TargetModel(target, kind, candidates[kind].model, candidates[kind].space, calibrators[kind])
    contributions = chosen.contributions(holdout)
    features = list(chosen.space.features)
    importance = global_importance(contributions, features)
    cohorts = cohorts_of(holdout, chosen.calibrator.edges, chosen.calibrator.segment_column)
    summary = cohort_summary(contributions, features, cohorts, chosen.probabilities(holdout))
    report = summary_markdown(importance, summary, f"What drives {target} ({chosen.kind})")
    return TargetEvaluation(target, verdict, scores, metrics, chosen, report, importance)


def evaluation_figures(evaluation: TargetEvaluation) -> dict[str, Any]:
    """The holdout plots by file stem: PR curves, calibration by segment, lift and global importance."""
    xgb, target = evaluation.scores["xgboost"], evaluation.target
    return {
        "pr_curve": plots.pr_curves(xgb.y, {k: s.prob for k, s in evaluation.scores.items()},
                                    f"{target}: holdout precision-recall"),
        "calibration_by_segment": plots.calibration_curves(xgb.y, xgb.prob, xgb.segments, f"{target}: calibration"),
        "lift_chart": plots.lift_chart(xgb.y, xgb.prob, f"{target}: lift"),
        "shap_summary": plots.importance_chart(evaluation.importance, f"{target}: global importance"),
    }
