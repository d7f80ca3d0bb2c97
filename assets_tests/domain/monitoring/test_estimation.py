"""Estimated performance (CBPE): the expected figures by hand, the interval's coverage, and the gaps it shows."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import average_precision_score

from wholesaler_assets.domain.evaluation import metrics as ev
from wholesaler_assets.domain.monitoring.estimation import (
    ESTIMATED_METRICS,
    estimate_performance,
    estimated_table,
    expected_average_precision,
    expected_lift,
    expected_pr_curve,
    performance_over_time,
)
from wholesaler_assets.domain.monitoring.performance import MetricSet, RealizedPerformance, realized_table

D = dt.date(2025, 3, 10)


def _probabilities(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.beta(1.2, 18.0, n)


def _realized(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {"base_rate": float(y.mean()), "pr_auc": ev.pr_auc(y, p), "top_decile_lift": ev.lift_at(y, p, 0.1),
            "brier": ev.brier(y, p)}


def _coverage(windows: int, n: int, n_draws: int) -> dict[str, float]:
    rng = np.random.default_rng(7)
    hits = dict.fromkeys(ESTIMATED_METRICS, 0)
    for w in range(windows):
        p = _probabilities(rng, n)
        y = (rng.random(n) < p).astype(np.int64)
        est = estimate_performance(p, "booked_call_7d", D, n_draws=n_draws, seed=w)
        for name, value in _realized(y, p).items():
            hits[name] += getattr(est, name).covers(value)
    return {name: h / windows for name, h in hits.items()}


def test_the_expected_ap_is_sklearns_ap_with_each_row_split_into_a_weighted_positive_and_negative():
    p = _probabilities(np.random.default_rng(1), 2_000)
    p[:100] = p[100:200]  # ties are grouped as sklearn groups them
    split = average_precision_score(np.r_[np.ones(p.size), np.zeros(p.size)], np.r_[p, p],
                                    sample_weight=np.r_[p, 1 - p])
    assert expected_average_precision(p) == pytest.approx(split, rel=1e-12)


def test_the_expected_figures_by_hand():
    p = np.array([0.8, 0.4, 0.4, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    precision, recall, thresholds = expected_pr_curve(p)
    # Thresholds .8, .4, 0: expected TP .8, 1.6, 1.6 of 10 rows; precision TP / rows above.
    assert thresholds.tolist() == [0.8, 0.4, 0.0]
    assert precision == pytest.approx([0.8, 1.6 / 3, 0.16])
    assert recall == pytest.approx([0.5, 1.0, 1.0])
    assert expected_average_precision(p) == pytest.approx(0.5 * 0.8 + 0.5 * 1.6 / 3)
    assert expected_lift(p) == pytest.approx(0.8 / 0.16)  # the top decile is one row
    est = estimate_performance(p, "booked_call_7d", D, n_draws=50)
    assert est.base_rate.estimate == pytest.approx(0.16)
    assert est.brier.estimate == pytest.approx(np.mean(p * (1 - p)))
    assert math.isnan(expected_average_precision(np.zeros(5)))


def test_the_interval_covers_the_realized_figure_in_most_windows_when_labels_follow_the_probabilities():
    coverage = _coverage(windows=25, n=400, n_draws=80)
    assert all(share >= 0.75 for share in coverage.values()), coverage


@pytest.mark.slow
def test_the_90_percent_interval_covers_about_90_percent_of_200_windows():
    coverage = _coverage(windows=200, n=1_000, n_draws=200)
    assert all(0.83 <= share <= 0.97 for share in coverage.values()), coverage


def test_a_doubled_true_rate_falls_outside_the_base_rate_interval():
    rng = np.random.default_rng(3)
    for w in range(8):
        p = _probabilities(rng, 1_000)
        y = (rng.random(p.size) < np.minimum(2 * p, 1.0)).astype(np.int64)
        est = estimate_performance(p, "booked_call_7d", D, n_draws=50, seed=w)
        assert y.mean() > est.base_rate.upper


def test_a_ranking_preserving_miscalibration_shows_as_a_pr_auc_gap():
    rng = np.random.default_rng(4)
    p = _probabilities(rng, 5_000)
    logit = np.log(p / (1 - p))
    sharper = 1 / (1 + np.exp(-(2.0 * logit + 2.5)))  # same order, more extreme
    y = (rng.random(p.size) < sharper).astype(np.int64)
    est = estimate_performance(p, "booked_call_7d", D, n_draws=100)
    realized = ev.pr_auc(y, p)
    assert not est.pr_auc.covers(realized)
    assert realized - est.pr_auc.estimate > 0.05


def test_the_tables_line_up_realized_and_estimated_and_flag_the_gap():
    p = _probabilities(np.random.default_rng(5), 500)
    estimated = estimated_table([estimate_performance(p, "booked_call_7d", D + dt.timedelta(days=i), n_draws=40)
                                 for i in range(2)])
    assert estimated.columns[:4] == ["target", "scoring_date", "n", "base_rate"]
    off = MetricSet(500, 250, 0.5, 0.6, 1.1, 0.3, 0.4)  # day 0 realized: far off; day 1 still open
    table = performance_over_time(realized_table([RealizedPerformance("booked_call_7d", D, off)]), estimated)
    assert table.height == 2 * len(ESTIMATED_METRICS)
    day0 = table.filter(pl.col("scoring_date") == D)
    assert day0["outside"].to_list() == [True] * 4
    assert table.filter(pl.col("scoring_date") > D)["realized"].null_count() == 4


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="no booked_call_7d scores"):
        estimate_performance(np.array([]), "booked_call_7d", D)
    with pytest.raises(ValueError, match="level"):
        estimate_performance(np.array([0.1]), "booked_call_7d", D, level=1.5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        estimate_performance(np.array([1.2]), "booked_call_7d", D)


@pytest.mark.parametrize("tied", [False, True])
def test_the_draws_computed_together_equal_the_metric_functions_draw_by_draw(tied):
    from wholesaler_assets.domain.evaluation.metrics import brier, lift_at, pr_auc
    from wholesaler_assets.domain.monitoring.estimation import simulated_metrics

    rng = np.random.default_rng(5)
    p = rng.beta(1, 12, 700)
    if tied:  # an isotonic calibrator's output: a few distinct values
        p = np.round(p, 2)
    together = simulated_metrics(p, 30, seed=9, chunk=7)
    draws = np.random.default_rng(9)
    for row in together:
        y = (draws.random(p.size) < p).astype(np.int64)
        assert row == pytest.approx([y.mean(), pr_auc(y, p), lift_at(y, p, 0.1), brier(y, p)], rel=1e-12, abs=1e-12)
