"""The promotion gates of Units 7 and 9 (and the contract's baseline gate).
The figures they read are the holdout metrics of `metrics.py`.

Gates (`evaluate_gates`), in this order; a gate fails when its figure is NaN
    pr_auc_vs_baseline  (candidate - baseline) / baseline holdout PR-AUC >= min_relative_pr_auc_gain
    top_decile_lift     lift in the top 10% >= min_top_decile_lift and, when that asks for any
                        lift (> 1), beyond noise: a random order of the holdout puts as many
                        positives in its top 10% with probability < LIFT_NOISE_P (a shuffled-label
                        model reaches 1.3 on a small holdout by chance)
    ece_global          ECE <= max_ece
    ece_segments        every segment with >= min_segment_rows rows and a positive has ECE <= max_ece
                        (value = the worst one; passes with value NaN when no segment qualifies,
                        the global gate still covers those rows)
    brier_vs_baseline   candidate Brier <= baseline Brier
    cv_stability        coefficient of variation of the per-fold CV PR-AUCs < max_cv_pr_auc_cov
    train_holdout_gap   (train - holdout) / train PR-AUC < max_train_holdout_gap
The two vs-baseline gates are skipped (passed=True, value NaN, message "no baseline to compare")
without a baseline or with compare_to_baseline=False, which is how the baseline model itself is
gated. `choose_winner` turns the two models' gate lists into the promotion decision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated

import numpy as np
from pydantic import Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from wholesaler_assets.domain.contracts.choices import Winner
from wholesaler_assets.domain.evaluation.metrics import (
    brier,
    coefficient_of_variation,
    lift_at,
    lift_p_value,
    pr_auc,
    relative_gap,
    segment_ece,
)
from wholesaler_assets.domain.gates.result import GateResult
from wholesaler_assets.domain.training.calibration import _as_labels, expected_calibration_error

PR_AUC_VS_BASELINE = "pr_auc_vs_baseline"
TOP_DECILE_LIFT = "top_decile_lift"
ECE_GLOBAL = "ece_global"
ECE_SEGMENTS = "ece_segments"
BRIER_VS_BASELINE = "brier_vs_baseline"
CV_STABILITY = "cv_stability"
TRAIN_HOLDOUT_GAP = "train_holdout_gap"
GATE_NAMES = (PR_AUC_VS_BASELINE, TOP_DECILE_LIFT, ECE_GLOBAL, ECE_SEGMENTS,
              BRIER_VS_BASELINE, CV_STABILITY, TRAIN_HOLDOUT_GAP)
VS_BASELINE_GATES = frozenset({PR_AUC_VS_BASELINE, BRIER_VS_BASELINE})
NO_BASELINE_MESSAGE = "no baseline to compare"
TOP_DECILE = 0.1
LIFT_NOISE_P = 0.05


@pydantic_dataclass(frozen=True)
class GateThresholds:
    """Promotion thresholds (defaults from the contract and Units 7 and 9), validated once."""

    min_relative_pr_auc_gain: float = 0.05   # candidate PR-AUC at least 5% above the baseline's
    min_top_decile_lift: Annotated[float, Field(ge=0)] = 1.3
    max_ece: Annotated[float, Field(ge=0)] = 0.05
    min_segment_rows: Annotated[int, Field(ge=1)] = 500
    max_cv_pr_auc_cov: Annotated[float, Field(gt=0)] = 0.20
    max_train_holdout_gap: Annotated[float, Field(gt=0)] = 0.15


@dataclass(frozen=True, eq=False)
class HoldoutScores:
    """What the caller measured for ONE candidate model."""

    y: np.ndarray                 # holdout labels (0/1)
    prob: np.ndarray              # calibrated holdout probabilities
    segments: np.ndarray          # holdout value segment per row
    cv_pr_aucs: list[float] = field(default_factory=list)  # validation PR-AUC per CV fold
    train_pr_auc: float = math.nan  # PR-AUC on the training window (the caller decides: in-sample or CV)
    # Positive rate of the rows behind `train_pr_auc`. When given, the gap gate compares PR-AUC
    # over base rate (lift), because PR-AUC moves with prevalence and the holdout's base rate
    # drifts over time: a lower base rate alone is not over-fitting.
    train_positive_rate: float = math.nan

    def __post_init__(self) -> None:
        n = np.asarray(self.y).size
        if np.asarray(self.prob).size != n or np.asarray(self.segments, dtype=object).size != n:
            raise ValueError("y, prob and segments must have the same length")


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _gate(name: str, passed: bool, value: float, threshold: float, summary: str) -> GateResult:
    """A promotion gate: one figure against one threshold; the summary names both."""
    return GateResult(name=name, passed=bool(passed), value=float(value), threshold=float(threshold), summary=summary)


def _skipped(name: str, threshold: float) -> GateResult:
    return _gate(name, True, math.nan, threshold, NO_BASELINE_MESSAGE)


def _relative_gain(candidate: float, baseline: float) -> float:
    if math.isnan(candidate) or math.isnan(baseline):
        return math.nan
    if baseline == 0:
        return math.inf if candidate > 0 else 0.0
    return (candidate - baseline) / baseline


def _pr_auc_gate(cand_pr: float, base_pr: float, t: GateThresholds) -> GateResult:
    gain = _relative_gain(cand_pr, base_pr)
    passed = not math.isnan(gain) and gain >= t.min_relative_pr_auc_gain
    if math.isnan(gain):
        how = "cannot be compared (no positives in a holdout)"
    else:
        how = f"is {_pct(abs(gain))} {'above' if gain >= 0 else 'below'}"
    message = (f"PR-AUC {cand_pr:.3f} {how} the baseline's {base_pr:.3f}; "
               f"needs {_pct(t.min_relative_pr_auc_gain)}")
    return _gate(PR_AUC_VS_BASELINE, passed, float(gain), t.min_relative_pr_auc_gain, message)


def _lift_gate(c: HoldoutScores, t: GateThresholds) -> GateResult:
    lift = lift_at(c.y, c.prob, TOP_DECILE)
    chance = lift_p_value(c.y, c.prob, TOP_DECILE)
    judged = t.min_top_decile_lift > 1  # a threshold of 1 or less asks for no ranking, so no test
    beyond_noise = not judged or chance < LIFT_NOISE_P  # a NaN chance (no positive) is not beyond noise
    passed = not math.isnan(lift) and lift >= t.min_top_decile_lift and beyond_noise
    base_rate = float(np.mean(_as_labels(c.y))) if np.asarray(c.y).size else math.nan
    noise = (f", chance of as many by a random order {chance:.3f}" if judged else "")
    beyond = f" and chance < {LIFT_NOISE_P}" if judged else ""
    message = (f"top-decile lift {lift:.2f} (top 10% positive rate {_pct(lift * base_rate)} vs "
               f"{_pct(base_rate)} overall{noise}); needs >= {t.min_top_decile_lift:.2f}{beyond}")
    return _gate(TOP_DECILE_LIFT, passed, lift, t.min_top_decile_lift, message)


def _ece_global_gate(c: HoldoutScores, t: GateThresholds) -> GateResult:
    ece = expected_calibration_error(c.y, c.prob)
    passed = not math.isnan(ece) and ece <= t.max_ece
    return _gate(ECE_GLOBAL, passed, ece, t.max_ece,
                f"global ECE {ece:.3f}; must be <= {t.max_ece:.3f}")


def _ece_segments_gate(c: HoldoutScores, t: GateThresholds) -> GateResult:
    eces = segment_ece(c.y, c.prob, c.segments, min_rows=t.min_segment_rows)
    seg = np.array([str(v) for v in np.asarray(c.segments, dtype=object).ravel()], dtype=object)
    skipped = sorted(set(seg.tolist()) - set(eces))
    skipped_note = (f"; not checked (< {t.min_segment_rows} rows or no positive): {', '.join(skipped)}"
                    if skipped else "")
    if not eces:
        return _gate(ECE_SEGMENTS, True, math.nan, t.max_ece,
                    f"no segment has >= {t.min_segment_rows} rows and a positive; nothing to check "
                    f"against ECE <= {t.max_ece:.3f}{skipped_note}")
    worst_label = max(eces, key=lambda k: (eces[k], k))
    worst = eces[worst_label]
    failing = [(k, v) for k, v in eces.items() if not v <= t.max_ece]
    if failing:
        listed = ", ".join(f"{k} {v:.3f}" for k, v in sorted(failing, key=lambda kv: -kv[1]))
        message = (f"worst segment ECE {worst:.3f} ({worst_label}); failing segments "
                   f"(must be <= {t.max_ece:.3f}): {listed}{skipped_note}")
    else:
        message = (f"worst segment ECE {worst:.3f} ({worst_label}) over {len(eces)} segments; "
                   f"must be <= {t.max_ece:.3f}{skipped_note}")
    return _gate(ECE_SEGMENTS, not failing, worst, t.max_ece, message)


def _brier_gate(c: HoldoutScores, b: HoldoutScores) -> GateResult:
    cand, base = brier(c.y, c.prob), brier(b.y, b.prob)
    passed = not (math.isnan(cand) or math.isnan(base)) and cand <= base
    return _gate(BRIER_VS_BASELINE, passed, cand, base,
                f"Brier {cand:.6f} vs the baseline's {base:.6f}; must be <= the baseline's")


def _cv_gate(c: HoldoutScores, t: GateThresholds) -> GateResult:
    cov = coefficient_of_variation(list(c.cv_pr_aucs))
    passed = not math.isnan(cov) and cov < t.max_cv_pr_auc_cov
    folds = np.asarray(list(c.cv_pr_aucs), dtype=np.float64)
    detail = (f" over {folds.size} folds (mean {folds.mean():.3f}, std {folds.std(ddof=0):.3f})"
              if folds.size else " (no CV folds given)")
    return _gate(CV_STABILITY, passed, cov, t.max_cv_pr_auc_cov,
                f"CV PR-AUC coefficient of variation {cov:.3f}{detail}; "
                f"must be < {t.max_cv_pr_auc_cov:.3f}")


def _gap_gate(c: HoldoutScores, holdout_pr: float, t: GateThresholds) -> GateResult:
    train = float(c.train_pr_auc)
    holdout_rate = float(np.mean(c.y)) if np.asarray(c.y).size else math.nan
    by_lift = not math.isnan(c.train_positive_rate) and c.train_positive_rate > 0 and holdout_rate > 0
    train_figure = train / c.train_positive_rate if by_lift else train
    holdout_figure = holdout_pr / holdout_rate if by_lift else holdout_pr
    nan = math.isnan(train_figure) or math.isnan(holdout_figure)
    gap = math.nan if nan else relative_gap(train_figure, holdout_figure)
    passed = not math.isnan(gap) and gap < t.max_train_holdout_gap
    if by_lift:
        detail = (f"train PR-AUC {train:.3f} at {_pct(c.train_positive_rate)} positives (lift {train_figure:.2f}) vs "
                  f"holdout {holdout_pr:.3f} at {_pct(holdout_rate)} (lift {holdout_figure:.2f})")
    else:
        detail = f"train PR-AUC {train:.3f} vs holdout {holdout_pr:.3f}"
    return _gate(TRAIN_HOLDOUT_GAP, passed, gap, t.max_train_holdout_gap,
                f"{detail}: relative gap {_pct(gap)}; must be < {_pct(t.max_train_holdout_gap)}")


def evaluate_gates(candidate: HoldoutScores, baseline: HoldoutScores | None,
                   thresholds: GateThresholds, compare_to_baseline: bool = True) -> list[GateResult]:
    """All seven gates for `candidate`, in GATE_NAMES order.

    The vs-baseline gates are skipped (passed, value NaN) when `baseline` is None or
    `compare_to_baseline` is False.
    """
    t = thresholds
    cand_pr = pr_auc(candidate.y, candidate.prob)
    compare = baseline is not None and compare_to_baseline
    gates = [
        _pr_auc_gate(cand_pr, pr_auc(baseline.y, baseline.prob), t) if compare and baseline is not None
        else _skipped(PR_AUC_VS_BASELINE, t.min_relative_pr_auc_gain),
        _lift_gate(candidate, t),
        _ece_global_gate(candidate, t),
        _ece_segments_gate(candidate, t),
        _brier_gate(candidate, baseline) if compare and baseline is not None
        else _skipped(BRIER_VS_BASELINE, math.nan),
        _cv_gate(candidate, t),
        _gap_gate(candidate, cand_pr, t),
    ]
    return gates


def _failures(gates: list[GateResult]) -> str:
    """Failed gates as '[name] message | [name] message'."""
    return " | ".join(f"[{g.name}] {g.summary}" for g in gates if not g.passed)


def choose_winner(xgb_gates: list[GateResult], baseline_gates: list[GateResult], xgb_pr_auc: float,
                  baseline_pr_auc: float) -> tuple[Winner, str]:
    """("xgboost" | "baseline" | "none", explanation).

    XGBoost wins when all its gates pass. Otherwise the baseline wins when all its gates except
    the vs-baseline ones (which it cannot take against itself) pass. Otherwise nobody is promoted
    and the explanation lists the failed gates of both.
    """
    if not xgb_gates or not baseline_gates:
        raise ValueError("both gate lists must be non-empty")
    figures = f"holdout PR-AUC xgboost {xgb_pr_auc:.3f}, baseline {baseline_pr_auc:.3f}"
    if all(g.passed for g in xgb_gates):
        return "xgboost", f"xgboost passes all {len(xgb_gates)} gates ({figures})."
    baseline_own = [g for g in baseline_gates if g.name not in VS_BASELINE_GATES]
    xgb_failed = f"xgboost fails: {_failures(xgb_gates)}"
    if all(g.passed for g in baseline_own):
        return "baseline", (f"{xgb_failed}. The baseline passes its {len(baseline_own)} own gates "
                            f"and is promoted instead ({figures}).")
    return "none", (f"No model promoted ({figures}). {xgb_failed}. "
                    f"Baseline fails: {_failures(baseline_own)}.")
