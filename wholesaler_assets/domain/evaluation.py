"""Holdout metrics and the promotion gates of Units 7 and 9 (and the contract's baseline gate).

Metrics
    pr_auc      scikit-learn `average_precision_score` (step-wise PR-AUC, no interpolation);
                nan when there is no positive (PR-AUC is undefined then).
    lift_at     positive rate among the top `top_share` rows by probability divided by the
                overall positive rate. The top holds ceil(top_share * n) rows (at least 1);
                ties are broken stably by index (the earlier row ranks higher), so the figure
                is deterministic. nan when there is no positive.
    brier       scikit-learn `brier_score_loss(y_true, y_proba)` (mean squared error of the
                probability); nan on empty input.
    ECE         `calibration.expected_calibration_error` (equal-frequency bins).

Gates (`evaluate_gates`), in this order; a gate fails when its figure is NaN
    pr_auc_vs_baseline  (candidate - baseline) / baseline holdout PR-AUC >= min_relative_pr_auc_gain
    top_decile_lift     lift in the top 10% >= min_top_decile_lift
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

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss

from wholesaler_assets.domain.calibration import (
    _as_labels,
    _as_probabilities,
    expected_calibration_error,
)

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


def _scores(prob: np.ndarray) -> np.ndarray:
    """1-D float array of finite scores."""
    arr = np.asarray(prob, dtype=np.float64).ravel()
    if not np.all(np.isfinite(arr)):
        raise ValueError("prob must be finite (no NaN or inf)")
    return arr


def _pair(y: np.ndarray, prob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels, scores = _as_labels(y), _scores(prob)
    if labels.size != scores.size:
        raise ValueError(f"y has {labels.size} rows but prob has {scores.size}")
    return labels, scores


# --- metrics --------------------------------------------------------------------------------

def pr_auc(y: np.ndarray, prob: np.ndarray) -> float:
    """Average precision (PR-AUC); nan without positives."""
    labels, scores = _pair(y, prob)
    if labels.sum() == 0:
        return math.nan
    return float(average_precision_score(labels, scores))


def lift_at(y: np.ndarray, prob: np.ndarray, top_share: float = 0.1) -> float:
    """Positive rate in the top `top_share` by prob / overall positive rate; nan without positives."""
    if not 0.0 < top_share <= 1.0:
        raise ValueError("top_share must be in (0, 1]")
    labels, scores = _pair(y, prob)
    if labels.sum() == 0:
        return math.nan
    n_top = max(1, math.ceil(round(top_share * labels.size, 9)))
    order = np.argsort(-scores, kind="stable")  # descending; equal scores keep index order
    return float(labels[order[:n_top]].mean() / labels.mean())


def brier(y: np.ndarray, prob: np.ndarray) -> float:
    """Brier score (mean squared error of the probability); nan on empty input."""
    labels = _as_labels(y)
    probs = _as_probabilities(prob)
    if labels.size != probs.size:
        raise ValueError(f"y has {labels.size} rows but prob has {probs.size}")
    if labels.size == 0:
        return math.nan
    return float(brier_score_loss(labels, y_proba=probs, labels=[0, 1]))


def coefficient_of_variation(values: list[float]) -> float:
    """Population std (ddof=0) / mean; nan when empty, when the mean is 0 or a value is NaN."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        return math.nan
    mean = float(arr.mean())
    if mean == 0.0:
        return math.nan
    return float(arr.std(ddof=0) / mean)


def relative_gap(train_value: float, holdout_value: float) -> float:
    """(train - holdout) / train; 0 when train is 0. Negative when the holdout does better."""
    if train_value == 0:
        return 0.0
    return float((train_value - holdout_value) / train_value)


def segment_ece(y: np.ndarray, prob: np.ndarray, segments: np.ndarray, min_rows: int = 500,
                n_bins: int = 10) -> dict[str, float]:
    """ECE per segment (labels as str, sorted) for segments with >= min_rows rows and a positive."""
    labels, probs = _as_labels(y), _as_probabilities(prob)
    seg = np.array([str(v) for v in np.asarray(segments, dtype=object).ravel()], dtype=object)
    if not labels.size == probs.size == seg.size:
        raise ValueError("y, prob and segments must have the same length")
    out: dict[str, float] = {}
    for label in sorted(set(seg.tolist())):
        mask = seg == label
        if mask.sum() >= min_rows and labels[mask].sum() > 0:
            out[label] = expected_calibration_error(labels[mask], probs[mask], n_bins=n_bins)
    return out


# --- gates ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class GateThresholds:
    """Promotion thresholds (defaults from the contract and Units 7 and 9)."""

    min_relative_pr_auc_gain: float = 0.05   # candidate PR-AUC at least 5% above the baseline's
    min_top_decile_lift: float = 1.3
    max_ece: float = 0.05
    min_segment_rows: int = 500
    max_cv_pr_auc_cov: float = 0.20
    max_train_holdout_gap: float = 0.15


@dataclass(frozen=True)
class Gate:
    """One gate's verdict; `message` names the figure and the threshold."""

    name: str
    passed: bool
    value: float
    threshold: float
    message: str


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


def _skipped(name: str, threshold: float) -> Gate:
    return Gate(name, True, math.nan, threshold, NO_BASELINE_MESSAGE)


def _relative_gain(candidate: float, baseline: float) -> float:
    if math.isnan(candidate) or math.isnan(baseline):
        return math.nan
    if baseline == 0:
        return math.inf if candidate > 0 else 0.0
    return (candidate - baseline) / baseline


def _pr_auc_gate(cand_pr: float, base_pr: float, t: GateThresholds) -> Gate:
    gain = _relative_gain(cand_pr, base_pr)
    passed = not math.isnan(gain) and gain >= t.min_relative_pr_auc_gain
    if math.isnan(gain):
        how = "cannot be compared (no positives in a holdout)"
    else:
        how = f"is {_pct(abs(gain))} {'above' if gain >= 0 else 'below'}"
    message = (f"PR-AUC {cand_pr:.3f} {how} the baseline's {base_pr:.3f}; "
               f"needs {_pct(t.min_relative_pr_auc_gain)}")
    return Gate(PR_AUC_VS_BASELINE, passed, float(gain), t.min_relative_pr_auc_gain, message)


def _lift_gate(c: HoldoutScores, t: GateThresholds) -> Gate:
    lift = lift_at(c.y, c.prob, TOP_DECILE)
    passed = not math.isnan(lift) and lift >= t.min_top_decile_lift
    base_rate = float(np.mean(_as_labels(c.y))) if np.asarray(c.y).size else math.nan
    message = (f"top-decile lift {lift:.2f} (top 10% positive rate {_pct(lift * base_rate)} vs "
               f"{_pct(base_rate)} overall); needs >= {t.min_top_decile_lift:.2f}")
    return Gate(TOP_DECILE_LIFT, passed, lift, t.min_top_decile_lift, message)


def _ece_global_gate(c: HoldoutScores, t: GateThresholds) -> Gate:
    ece = expected_calibration_error(c.y, c.prob)
    passed = not math.isnan(ece) and ece <= t.max_ece
    return Gate(ECE_GLOBAL, passed, ece, t.max_ece,
                f"global ECE {ece:.3f}; must be <= {t.max_ece:.3f}")


def _ece_segments_gate(c: HoldoutScores, t: GateThresholds) -> Gate:
    eces = segment_ece(c.y, c.prob, c.segments, min_rows=t.min_segment_rows)
    seg = np.array([str(v) for v in np.asarray(c.segments, dtype=object).ravel()], dtype=object)
    skipped = sorted(set(seg.tolist()) - set(eces))
    skipped_note = (f"; not checked (< {t.min_segment_rows} rows or no positive): {', '.join(skipped)}"
                    if skipped else "")
    if not eces:
        return Gate(ECE_SEGMENTS, True, math.nan, t.max_ece,
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
    return Gate(ECE_SEGMENTS, not failing, worst, t.max_ece, message)


def _brier_gate(c: HoldoutScores, b: HoldoutScores) -> Gate:
    cand, base = brier(c.y, c.prob), brier(b.y, b.prob)
    passed = not (math.isnan(cand) or math.isnan(base)) and cand <= base
    return Gate(BRIER_VS_BASELINE, passed, cand, base,
                f"Brier {cand:.6f} vs the baseline's {base:.6f}; must be <= the baseline's")


def _cv_gate(c: HoldoutScores, t: GateThresholds) -> Gate:
    cov = coefficient_of_variation(list(c.cv_pr_aucs))
    passed = not math.isnan(cov) and cov < t.max_cv_pr_auc_cov
    folds = np.asarray(list(c.cv_pr_aucs), dtype=np.float64)
    detail = (f" over {folds.size} folds (mean {folds.mean():.3f}, std {folds.std(ddof=0):.3f})"
              if folds.size else " (no CV folds given)")
    return Gate(CV_STABILITY, passed, cov, t.max_cv_pr_auc_cov,
                f"CV PR-AUC coefficient of variation {cov:.3f}{detail}; "
                f"must be < {t.max_cv_pr_auc_cov:.3f}")


def _gap_gate(c: HoldoutScores, holdout_pr: float, t: GateThresholds) -> Gate:
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
    return Gate(TRAIN_HOLDOUT_GAP, passed, gap, t.max_train_holdout_gap,
                f"{detail}: relative gap {_pct(gap)}; must be < {_pct(t.max_train_holdout_gap)}")


def evaluate_gates(candidate: HoldoutScores, baseline: HoldoutScores | None,
                   thresholds: GateThresholds, compare_to_baseline: bool = True) -> list[Gate]:
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


def _failures(gates: list[Gate]) -> str:
    """Failed gates as '[name] message | [name] message'."""
    return " | ".join(f"[{g.name}] {g.message}" for g in gates if not g.passed)


def choose_winner(xgb_gates: list[Gate], baseline_gates: list[Gate], xgb_pr_auc: float,
                  baseline_pr_auc: float) -> tuple[str, str]:
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
