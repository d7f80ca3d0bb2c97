"""Holdout metrics by hand: lift, PR-AUC, Brier, coefficient of variation, relative gap, segment ECE."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss

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
