"""Holdout metrics by hand: lift, PR-AUC, ROC-AUC, calibration in the large, Brier, coefficient of variation,
relative gap, segment ECE."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from wholesaler_assets.domain.evaluation import metrics as ev


def test_lift_at_by_hand():
    y = np.array([1, 0, 0, 1, 0, 0, 0, 0, 0, 0])
    prob = np.array([0.9, 0.8, 0.1, 0.7, 0.2, 0.3, 0.1, 0.1, 0.05, 0.0])
    # Overall rate 2/10 = .2. Top 10% = 1 row (0.9, a positive): 1 / .2 = 5.
    assert ev.lift_at(y, prob, 0.1) == pytest.approx(5.0)
    # Top 30% = rows with .9, .8, .7: 2 positives of 3 -> (2/3) / .2 = 3.333...
    assert ev.lift_at(y, prob, 0.3) == pytest.approx((2 / 3) / 0.2)
    # Ties broken by index: all equal, top 20% = the first two rows (1, 0) -> .5 / .2 = 2.5
    assert ev.lift_at(y, np.full(10, 0.5), 0.2) == pytest.approx(2.5)
    assert math.isnan(ev.lift_at(np.zeros(10), prob, 0.1))
    assert ev.lift_at(y, prob, 1.0) == pytest.approx(1.0)


def test_pr_auc_and_brier_by_hand():
    y = np.array([0, 1, 1, 0])
    prob = np.array([0.1, 0.4, 0.35, 0.8])
    # Ranked: .8 (0), .4 (1), .35 (1), .1 (0). AP = sum over positives of precision at their rank / n_pos
    #   = (1/2 + 2/3) / 2 = 0.58333...
    assert ev.pr_auc(y, prob) == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert ev.pr_auc(y, prob) == pytest.approx(average_precision_score(y, prob))
    # Brier = mean((p - y)^2) = (.01 + .36 + .4225 + .64) / 4
    assert ev.brier(y, prob) == pytest.approx((0.01 + 0.36 + 0.4225 + 0.64) / 4)
    assert ev.brier(y, prob) == pytest.approx(brier_score_loss(y, y_proba=prob))
    assert math.isnan(ev.pr_auc(np.zeros(4), prob))
    assert math.isnan(ev.brier(np.array([]), np.array([])))


def test_cov_relative_gap_and_segment_ece():
    assert ev.coefficient_of_variation([1.0, 3.0]) == pytest.approx(0.5)  # std 1 / mean 2
    assert math.isnan(ev.coefficient_of_variation([]))
    assert math.isnan(ev.coefficient_of_variation([0.0, 0.0]))
    assert ev.relative_gap(0.2, 0.15) == pytest.approx(0.25)
    assert ev.relative_gap(0.0, 0.3) == 0.0
    assert ev.relative_gap(0.1, 0.12) == pytest.approx(-0.2)

    y = np.array([0, 1] * 5 + [0] * 6 + [1, 0])
    prob = np.full(y.size, 0.5)
    seg = np.array(["a"] * 10 + ["b"] * 6 + ["c"] * 2)
    # a: 10 rows, half positive, all at .5 -> ECE 0; b: no positive -> left out; c: too few rows
    assert ev.segment_ece(y, prob, seg, min_rows=5) == {"a": pytest.approx(0.0)}
    assert set(ev.segment_ece(y, prob, seg, min_rows=2)) == {"a", "c"}


def test_roc_auc_and_calibration_in_the_large_by_hand_and_against_sklearn():
    y = np.array([0, 1, 1, 0])
    prob = np.array([0.1, 0.4, 0.35, 0.8])
    # Pairs (positive, negative): (.4,.1) right, (.4,.8) wrong, (.35,.1) right, (.35,.8) wrong -> 2/4.
    assert ev.roc_auc(y, prob) == pytest.approx(0.5)
    assert ev.roc_auc(y, prob) == pytest.approx(roc_auc_score(y, prob))
    # Mean predicted (.1 + .4 + .35 + .8) / 4 = .4125 against an actual rate of 2/4.
    assert ev.calibration_in_the_large(y, prob) == pytest.approx((0.4125, 0.5))
    assert math.isnan(ev.roc_auc(np.ones(4), prob))  # one class: undefined
    rng = np.random.default_rng(1)
    y_big = (rng.random(2_000) < 0.2).astype(int)
    p_big = np.clip(0.2 + 0.3 * (y_big - 0.2) + rng.normal(0, 0.1, 2_000), 0, 1)
    figures = ev.classification_figures(y_big, p_big)
    assert figures["roc_auc"] == pytest.approx(roc_auc_score(y_big, p_big))
    assert figures["pr_auc"] == pytest.approx(average_precision_score(y_big, p_big))
    assert figures["brier"] == pytest.approx(brier_score_loss(y_big, y_proba=p_big))
    assert figures["mean_predicted"] == pytest.approx(p_big.mean())
    assert figures["actual_rate"] == pytest.approx(y_big.mean())
    assert figures["calibration_in_the_large"] == pytest.approx(p_big.mean() - y_big.mean())
    line = ev.figures_line(figures)
    assert f"ROC-AUC {figures['roc_auc']:.3f}" in line and f"vs actual {y_big.mean():.2%}" in line
