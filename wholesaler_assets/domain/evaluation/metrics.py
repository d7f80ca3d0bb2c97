"""Holdout metrics the promotion gates read (`gates.py`) and the training search reports.

Metrics
    pr_auc      scikit-learn `average_precision_score` (step-wise PR-AUC, no interpolation);
                nan when there is no positive (PR-AUC is undefined then).
    lift_at     positive rate among the top `top_share` rows by probability divided by the
                overall positive rate. The top holds ceil(top_share * n) rows (at least 1);
                ties are broken stably by index (the earlier row ranks higher), so the figure
                is deterministic. nan when there is no positive.
    lift_p_value  the chance that a random order of the same rows puts at least as many
                positives in that top (hypergeometric tail): how far a lift is from noise.
    brier       scikit-learn `brier_score_loss(y_true, y_proba)` (mean squared error of the
                probability); nan on empty input.
    roc_auc     scikit-learn `roc_auc_score`; nan unless both classes are present.
    calibration in the large  mean predicted probability against the actual positive rate
                (`mean_predicted`, `actual_rate`, and their difference `calibration_in_the_large`).
    ECE         `calibration.expected_calibration_error` (equal-frequency bins).
    segment_ece ECE per value segment with >= min_rows rows and a positive.
    coefficient_of_variation, relative_gap  the figures of the stability and over-fitting gates.

`classification_figures` is the one place these are computed together: the holdout evaluation,
MLflow, the asset metadata and the reports all read its dictionary.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from wholesaler_assets.domain.training.calibration import _as_labels, _as_probabilities, expected_calibration_error


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


def pr_auc(y: np.ndarray, prob: np.ndarray) -> float:
    """Average precision (PR-AUC); nan without positives."""
    labels, scores = _pair(y, prob)
    if labels.sum() == 0:
        return math.nan
    return float(average_precision_score(labels, scores))


def roc_auc(y: np.ndarray, prob: np.ndarray) -> float:
    """Area under the ROC curve; nan unless both classes are present."""
    labels, scores = _pair(y, prob)
    if labels.size == 0 or labels.min() == labels.max():
        return math.nan
    return float(roc_auc_score(labels, scores))


def calibration_in_the_large(y: np.ndarray, prob: np.ndarray) -> tuple[float, float]:
    """(mean predicted probability, actual positive rate); nan on empty input."""
    labels, probs = _as_labels(y), _as_probabilities(prob)
    if labels.size != probs.size:
        raise ValueError(f"y has {labels.size} rows but prob has {probs.size}")
    if labels.size == 0:
        return math.nan, math.nan
    return float(probs.mean()), float(labels.mean())


def classification_figures(y: np.ndarray, prob: np.ndarray, top_share: float = 0.1, n_bins: int = 10
                           ) -> dict[str, float]:
    """Every figure a reviewer reads of calibrated probabilities against labels, under one set of names."""
    mean_predicted, actual_rate = calibration_in_the_large(y, prob)
    return {
        "pr_auc": pr_auc(y, prob),
        "roc_auc": roc_auc(y, prob),
        "top_decile_lift": lift_at(y, prob, top_share),
        "brier": brier(y, prob),
        "ece": expected_calibration_error(y, prob, n_bins=n_bins),
        "mean_predicted": mean_predicted,
        "actual_rate": actual_rate,
        "calibration_in_the_large": mean_predicted - actual_rate,
    }


def figures_line(figures: dict[str, float]) -> str:
    """The figures of `classification_figures` on one readable line."""
    return (f"PR-AUC {figures['pr_auc']:.3f}, ROC-AUC {figures['roc_auc']:.3f}, "
            f"top-decile lift {figures['top_decile_lift']:.2f}, Brier {figures['brier']:.4f}, "
            f"ECE {figures['ece']:.4f}, mean predicted {figures['mean_predicted']:.2%} vs actual "
            f"{figures['actual_rate']:.2%}")


def top_rows(prob: np.ndarray, top_share: float = 0.1) -> np.ndarray:
    """Indices of the top `top_share` rows by prob: ceil(top_share * n) (at least 1), ties by index.

    The one definition of "the top decile" (lift here, the expected lift of monitoring).
    """
    if not 0.0 < top_share <= 1.0:
        raise ValueError("top_share must be in (0, 1]")
    scores = _scores(prob)
    n_top = max(1, math.ceil(round(top_share * scores.size, 9)))
    return np.argsort(-scores, kind="stable")[:n_top]  # descending; equal scores keep index order


def lift_at(y: np.ndarray, prob: np.ndarray, top_share: float = 0.1) -> float:
    """Positive rate in the top `top_share` by prob / overall positive rate; nan without positives."""
    if not 0.0 < top_share <= 1.0:
        raise ValueError("top_share must be in (0, 1]")
    labels, scores = _pair(y, prob)
    if labels.sum() == 0:
        return math.nan
    return float(labels[top_rows(scores, top_share)].mean() / labels.mean())


def lift_p_value(y: np.ndarray, prob: np.ndarray, top_share: float = 0.1) -> float:
    """P(a random ranking puts at least as many positives in the top `top_share`); nan without positives."""
    labels, scores = _pair(y, prob)
    if labels.sum() == 0:
        return math.nan
    top = top_rows(scores, top_share)
    hits = int(labels[top].sum())
    return float(stats.hypergeom.sf(hits - 1, labels.size, int(labels.sum()), top.size))


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
