"""Probability calibration (Unit 9): isotonic or Platt calibrators, global and per value segment.

Inputs
    Calibrators are fitted on OUT-OF-FOLD raw model scores (probabilities in [0, 1]) and 0/1
    labels. Fitting them on in-sample scores would learn the model's overconfidence on its own
    training rows and then miscalibrate new leads, so the caller must pass scores the model did
    not train on (cross-validated predictions over the training window).

Methods (plain scikit-learn objects, so a fitted calibrator pickles and is deterministic)
    isotonic  `IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)` on the raw score: the
              monotone step function with the least squared error. Flexible, needs many rows.
    platt     Platt scaling: `LogisticRegression` fitted on the single feature
              logit(clip(score, PLATT_EPSILON, 1 - PLATT_EPSILON)), i.e.
              p = sigmoid(A * logit(score) + B). A = 1, B = 0 is the identity, so it can only
              stretch/shift the scores' log-odds: two parameters, robust on few rows. Platt's
              method is a sigmoid fitted on the model's output; on a probability the natural
              output scale is the log-odds. The penalty is made negligible (C = PLATT_C) but
              kept finite so a perfectly separable segment still gives finite coefficients.
              (scikit-learn 1.9 deprecated `penalty=`; C is the supported knob.)

Choice between them (`fit_calibrator`)
    Both methods are cross-validated over the given rows with
    KFold(n_splits, shuffle=True, random_state=seed): in each fold a full segmented calibrator
    is fitted on the other folds and predicts the held-out fold; the Brier score of those
    out-of-fold calibrated scores decides. Lower wins; an exact tie goes to Platt (fewer
    parameters). The winner is then refitted on all rows.

Segments
    A segment gets its own model when it has at least `min_segment_rows` rows and both classes
    among ALL given rows; every other segment (and any label unseen at fit time, and every row
    when no segments are passed to `predict`) uses the global model fitted on all rows. Inside
    the cross-validation the same set of segments is used, each fitted on its training-fold rows
    (falling back to global in a fold whose training part lacks a class), so the CV Brier scores
    measure the structure that is finally fitted. Segment labels are compared as `str(value)`.

Expected calibration error (ECE)
    Equal-frequency bins: interior edges are the 1/n_bins, 2/n_bins, ... quantiles of the
    probabilities (numpy's linear interpolation), deduplicated, with open outer bins and
    right-closed bins (e[i-1], e[i]]. Tied probabilities therefore always share a bin, and a spike
    of equal values (typical of isotonic output) makes one wider bin instead of empty ones.
    ECE = sum over non-empty bins of (bin rows / n) * |mean(prob) - mean(y)|. Empty input: nan.

Threads
    Fitting runs with one thread (threadpoolctl): the models have one feature, and OpenMP/BLAS
    thread start-up cost about 10x the work on a busy 2-core host. Predicting evaluates the
    fitted curves with numpy and starts no threads.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss
from sklearn.model_selection import KFold
from threadpoolctl import ThreadpoolController

ISOTONIC, PLATT = "isotonic", "platt"
METHODS = (ISOTONIC, PLATT)

PLATT_EPSILON = 1e-6
"""Scores are clipped to [eps, 1 - eps] before the logit so 0 and 1 stay finite (|logit| <= 13.8)."""
PLATT_C = 1e4
"""Inverse regularisation strength of the Platt LogisticRegression: negligible but finite."""

# --- validation helpers ---------------------------------------------------------------------


_THREADPOOLS: list[ThreadpoolController] = []


def _single_thread():
    """One BLAS/OpenMP thread; the controller scans the loaded libraries once, not on every call
    (the scan cost about 8% of a one-lead serving request)."""
    if not _THREADPOOLS:
        _THREADPOOLS.append(ThreadpoolController())
    return _THREADPOOLS[0].limit(limits=1)

def _as_labels(y: np.ndarray, name: str = "y") -> np.ndarray:
    """1-D int array of 0/1 labels (booleans allowed); ValueError otherwise."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        arr = arr.ravel()
    if arr.dtype == bool:
        return arr.astype(np.int64)
    values = arr.astype(np.float64)
    if not np.all((values == 0) | (values == 1)):
        raise ValueError(f"{name} must contain only 0/1 labels")
    return values.astype(np.int64)


def _as_probabilities(prob: np.ndarray, name: str = "prob") -> np.ndarray:
    """1-D float array of finite values in [0, 1]; ValueError otherwise."""
    arr = np.asarray(prob, dtype=np.float64).ravel()
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
        raise ValueError(f"{name} must lie in [0, 1]; got range [{arr.min()}, {arr.max()}]")
    return arr


def _segment_labels(segments: np.ndarray | None, n: int) -> np.ndarray | None:
    """Segments as a 1-D array of str (None stays None); length must match n."""
    if segments is None:
        return None
    arr = np.asarray(segments, dtype=object).ravel()
    if arr.size != n:
        raise ValueError(f"segments has {arr.size} entries, expected {n}")
    return np.array([str(v) for v in arr], dtype=object)


# --- expected calibration error -------------------------------------------------------------

def expected_calibration_error(y_true: np.ndarray, prob: np.ndarray, n_bins: int = 10) -> float:
    """ECE over equal-frequency (quantile) bins; nan for empty input.

    ECE = sum_b (n_b / n) * |mean(prob in b) - mean(y in b)| over non-empty bins. Bin edges are
    the deduplicated interior quantiles of `prob`, bins right-closed, so tied probabilities
    never straddle two bins (fewer than `n_bins` bins may result).
    """
    if n_bins < 1:
        raise ValueError("n_bins must be at least 1")
    y = _as_labels(y_true, "y_true")
    p = _as_probabilities(prob)
    if y.size != p.size:
        raise ValueError(f"y_true has {y.size} rows but prob has {p.size}")
    n = p.size
    if n == 0:
        return math.nan
    edges = np.unique(np.quantile(p, np.linspace(0.0, 1.0, n_bins + 1)[1:-1])) if n_bins > 1 else np.empty(0)
    codes = np.searchsorted(edges, p, side="left")  # bin i holds (edges[i-1], edges[i]]
    counts = np.bincount(codes, minlength=edges.size + 1).astype(np.float64)
    prob_sums = np.bincount(codes, weights=p, minlength=edges.size + 1)
    label_sums = np.bincount(codes, weights=y.astype(np.float64), minlength=edges.size + 1)
    filled = counts > 0
    gaps = np.abs(prob_sums[filled] - label_sums[filled]) / counts[filled]
    return float(np.sum(counts[filled] / n * gaps))


# --- calibrator -----------------------------------------------------------------------------

def _platt_feature(raw: np.ndarray) -> np.ndarray:
    """logit(clip(raw, eps, 1 - eps)) as a single-column matrix."""
    clipped = np.clip(raw, PLATT_EPSILON, 1.0 - PLATT_EPSILON)
    return np.log(clipped / (1.0 - clipped)).reshape(-1, 1)


def _fit_one(method: str, raw: np.ndarray, y: np.ndarray) -> object:
    """Fit one calibrator of `method` on raw scores and labels (both classes required for Platt)."""
    if method == ISOTONIC:
        return IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
    if method == PLATT:
        return LogisticRegression(C=PLATT_C, solver="lbfgs", max_iter=1000).fit(_platt_feature(raw), y)
    raise ValueError(f"unknown calibration method {method!r}; expected one of {METHODS}")


def _predict_one(method: str, model: Any, raw: np.ndarray) -> np.ndarray:
    """Calibrated probabilities from one fitted model, its fitted curve evaluated with numpy.

    What scikit-learn's `predict` computes (isotonic: clip to the fitted range, then linear
    interpolation between the thresholds; Platt: the sigmoid of A * logit + B) without its input
    checks and thread limits, which cost ~0.3 ms a call (three calls a one-lead serving request).
    """
    if method == ISOTONIC:
        out = np.interp(np.clip(raw, model.X_min_, model.X_max_), model.X_thresholds_, model.y_thresholds_)
    else:
        out = expit(_platt_feature(raw)[:, 0] * model.coef_[0, 0] + model.intercept_[0])
    return np.clip(np.asarray(out, dtype=np.float64), 0.0, 1.0)


@dataclass(frozen=True)
class SegmentedCalibrator:
    """A fitted calibrator: one global model plus optional per-segment models.

    `predict` uses a row's segment model when one was fitted for its label and the global model
    otherwise (unknown labels, segments=None). Output is clipped to [0, 1].
    """

    method: str                          # "isotonic" | "platt"
    global_model: object                 # fitted IsotonicRegression or LogisticRegression
    segment_models: dict[str, object]    # segment label -> fitted model of the same kind
    # Estimated-value edges the segment labels were cut at; scoring cuts new rows the same way.
    edges: tuple[float, ...] = (150_000, 400_000)
    # A recalibration's (slope, intercept) on the log-odds of the calibrated output (`fit_recalibration`),
    # or None. A class default, so calibrators pickled before it existed read as None.
    recalibration: tuple[float, float] | None = None
    # A lead file's segments: the values of this column (its spec's segment_column), not value bands.
    segment_column: str | None = None

    def predict(self, raw: np.ndarray, segments: np.ndarray | None = None) -> np.ndarray:
        """Calibrated probabilities for raw scores in [0, 1], per segment where a model exists."""
        scores = _as_probabilities(raw, "raw")
        labels = _segment_labels(segments, scores.size)
        out = _predict_one(self.method, self.global_model, scores) if scores.size else np.empty(0)
        if labels is not None and self.segment_models:
            for label, model in self.segment_models.items():
                mask = labels == label
                if mask.any():
                    out[mask] = _predict_one(self.method, model, scores[mask])
        if self.recalibration is not None and out.size:
            slope, intercept = self.recalibration
            out = np.clip(expit(slope * _platt_feature(out)[:, 0] + intercept), 0.0, 1.0)
        return out

    def recalibrated(self, slope: float, intercept: float) -> SegmentedCalibrator:
        """This calibrator followed by a logistic recalibration of its output (composed with any earlier
        one: two such curves in a row are one, since logit(sigmoid(x)) = x)."""
        if self.recalibration is not None:
            first_slope, first_intercept = self.recalibration
            slope, intercept = slope * first_slope, slope * first_intercept + intercept
        return dataclasses.replace(self, recalibration=(slope, intercept))


def fit_recalibration(prob: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of Platt's curve on calibrated probabilities, p' = sigmoid(slope * logit(p) +
    intercept): the logistic recalibration that moves their level and spread and keeps their order
    whenever the slope is positive. Two parameters: a fortnight of contacts fits them."""
    with _single_thread():
        model: Any = _fit_one(PLATT, _as_probabilities(prob, "prob"), _as_labels(y))
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def _eligible_segments(labels: np.ndarray | None, y: np.ndarray, min_rows: int) -> list[str]:
    """Segments (sorted) with at least `min_rows` rows and both classes."""
    if labels is None:
        return []
    eligible = []
    for label in sorted(set(labels.tolist())):
        mask = labels == label
        if mask.sum() >= min_rows and 0 < y[mask].sum() < mask.sum():
            eligible.append(label)
    return eligible


def _fit_segmented(method: str, raw: np.ndarray, y: np.ndarray, labels: np.ndarray | None,
                   segments_to_fit: list[str]) -> SegmentedCalibrator:
    """Global model on all rows plus a model per listed segment that has both classes here."""
    if not 0 < y.sum() < y.size:
        raise ValueError("calibration needs both classes among the rows it is fitted on "
                         "(too few positives or negatives for the requested folds)")
    segment_models: dict[str, object] = {}
    if labels is not None:
        for label in segments_to_fit:
            mask = labels == label
            if 0 < y[mask].sum() < mask.sum():
                segment_models[label] = _fit_one(method, raw[mask], y[mask])
    return SegmentedCalibrator(method=method, global_model=_fit_one(method, raw, y),
                               segment_models=segment_models)


def fit_calibrator(raw: np.ndarray, y: np.ndarray, segments: np.ndarray | None,
                   min_segment_rows: int = 500, n_splits: int = 5,
                   seed: int = 0) -> tuple[SegmentedCalibrator, dict[str, float]]:
    """Choose isotonic vs Platt by cross-validated Brier score and fit the winner on all rows.

    Returns the fitted calibrator (its `method` is the choice) and the scores
    {"isotonic_brier", "platt_brier", "raw_brier"}: Brier scores of the out-of-fold calibrated
    scores for each method, and of the uncalibrated scores for reference. Raises ValueError
    when the rows lack a class, or a training fold does.
    """
    with _single_thread():
        return _fit_calibrator(raw, y, segments, min_segment_rows, n_splits, seed)


def _fit_calibrator(raw: np.ndarray, y: np.ndarray, segments: np.ndarray | None,
                    min_segment_rows: int, n_splits: int,
                    seed: int) -> tuple[SegmentedCalibrator, dict[str, float]]:
    scores = _as_probabilities(raw, "raw")
    labels_y = _as_labels(y)
    if scores.size != labels_y.size:
        raise ValueError(f"raw has {scores.size} rows but y has {labels_y.size}")
    if n_splits < 2:
        raise ValueError("n_splits must be at least 2")
    if scores.size < n_splits:
        raise ValueError(f"need at least n_splits={n_splits} rows, got {scores.size}")
    if not 0 < labels_y.sum() < labels_y.size:
        raise ValueError("calibration needs both classes among the given rows")
    seg = _segment_labels(segments, scores.size)
    eligible = _eligible_segments(seg, labels_y, min_segment_rows)

    folds = list(KFold(n_splits=n_splits, shuffle=True, random_state=seed).split(scores))
    briers: dict[str, float] = {}
    for method in METHODS:
        oof = np.empty(scores.size, dtype=np.float64)
        for train_idx, valid_idx in folds:
            fold_model = _fit_segmented(method, scores[train_idx], labels_y[train_idx],
                                        None if seg is None else seg[train_idx], eligible)
            oof[valid_idx] = fold_model.predict(scores[valid_idx],
                                                None if seg is None else seg[valid_idx])
        briers[f"{method}_brier"] = float(brier_score_loss(labels_y, y_proba=oof, labels=[0, 1]))
    briers["raw_brier"] = float(brier_score_loss(labels_y, y_proba=scores, labels=[0, 1]))

    chosen = ISOTONIC if briers["isotonic_brier"] < briers["platt_brier"] else PLATT
    return _fit_segmented(chosen, scores, labels_y, seg, eligible), briers
