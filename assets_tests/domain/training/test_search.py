"""The XGBoost search: its seeded grid and the rule that picks a configuration from the folds."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest

from wholesaler_assets.domain.features.feature_space import FeatureSpace
from wholesaler_assets.domain.training.search import (
    CrossValidation,
    XGBConfig,
    choose_candidate,
    fit_baseline,
    fit_xgboost,
    predict_baseline,
    predict_xgboost,
    search_space,
    stability_scores,
)


def _cv(*fold_pr_aucs: float) -> CrossValidation:
    return CrossValidation(fold_pr_aucs=list(fold_pr_aucs), oof=pl.DataFrame())


def test_a_small_search_tries_every_pair_of_depth_leaf_size_and_pace_and_both_imbalance_strategies():
    space = search_space(4)
    assert space == search_space(4)  # no draw: the same budget gives the same points
    assert len(space) == 8
    assert [c.imbalance for c in space] == ["none", "scale_pos_weight"] * 4
    points = [(c.max_depth, c.min_child_weight, (c.learning_rate, c.num_rounds)) for c in space[::2]]
    for i, j in itertools.combinations(range(3), 2):  # any two of the three take all four level pairs
        assert len({(p[i], p[j]) for p in points}) == 4, points
    assert all(c.learning_rate <= 0.05 and c.max_depth in (3, 4) for c in space)  # the measured plateau
    assert search_space(1) == space[:2]  # the replay's budget of one is the first point
    assert len(search_space(100)) == 2 * 16  # a budget above the grid tries the whole grid once
    assert len(set(search_space(100))) == 2 * 16


def test_stability_ignores_what_every_candidate_shares_across_folds():
    # Expanding-window folds: every candidate scores lower on the first fold (fewer training rows).
    learns_more = _cv(0.12, 0.16, 0.18, 0.20)  # ahead by 0.01-0.02 in every fold
    learns_less = _cv(0.13, 0.15, 0.16, 0.18)  # its plain deviation is smaller: the old rule took it
    scores = stability_scores([learns_more, learns_less])
    assert scores[0] > scores[1]
    plain = [cv.mean_pr_auc - float(np.std(cv.fold_pr_aucs)) for cv in (learns_more, learns_less)]
    assert plain[0] < plain[1]  # mean minus the plain deviation would have taken the weaker one


def test_a_candidate_ahead_only_in_some_folds_is_penalised():
    steady, erratic = _cv(0.15, 0.15, 0.15, 0.15), _cv(0.10, 0.21, 0.10, 0.21)  # same mean, 0.155
    other = _cv(0.14, 0.14, 0.14, 0.14)
    scores = stability_scores([steady, erratic, other])
    assert scores[0] > scores[1]


def test_stability_of_one_candidate_is_its_mean_and_unequal_folds_fall_back():
    assert stability_scores([_cv(0.1, 0.2)]) == [pytest.approx(0.15)]
    scores = stability_scores([_cv(0.1, 0.3), _cv(0.2)])
    assert scores == [pytest.approx(0.1), pytest.approx(0.2)]  # mean minus the plain deviation


def test_the_search_does_not_choose_what_the_stability_gate_refuses_while_a_stable_candidate_exists():
    # deal_30d of the default market: scale_pos_weight scored the best mean with a CV coefficient
    # of variation of 0.208, which the cv_stability gate (< 0.20) refuses; the same point without
    # it scored 0.173.
    erratic = _cv(0.139, 0.090, 0.099, 0.147)
    stable = _cv(0.122, 0.101, 0.090, 0.141)
    assert choose_candidate([stable, erratic]) == 1  # unbounded: the better score
    assert choose_candidate([stable, erratic], max_cv_cov=0.20) == 0
    assert choose_candidate([erratic, _cv(0.05, 0.15)], max_cv_cov=0.20) == 0  # none stable: all eligible
    assert choose_candidate([_cv(0.1, 0.1), _cv(0.1, 0.1)]) == 0  # ties: the first tried


def _against_the_grain(n: int = 4_000) -> tuple[pl.DataFrame, FeatureSpace]:
    """Labels that fall with equity (noise a small market can show) and rise with a free feature."""
    rng = np.random.default_rng(3)
    equity, other = rng.uniform(0, 1, n), rng.normal(size=n)
    label = rng.uniform(size=n) < 1 / (1 + np.exp(-(-2.0 - 1.5 * equity + 1.0 * other)))
    frame = pl.DataFrame({"equity_share": equity, "other": other, "label": label.astype(np.int64)})
    return frame, FeatureSpace.fit(frame, ["equity_share", "other"], {"equity_share": "numeric", "other": "numeric"})


def test_xgboost_is_held_to_the_declared_directions():
    frame, space = _against_the_grain()
    booster = fit_xgboost(frame, space, XGBConfig(num_rounds=50))
    grid = pl.DataFrame({"equity_share": np.linspace(0, 1, 21), "other": np.zeros(21)})
    assert np.all(np.diff(predict_xgboost(booster, grid, space)) >= 0)
    assert "monotone_constraints" not in XGBConfig().params(0.1, ("other",))  # nothing declared: no constraint


def test_the_baseline_leaves_out_a_feature_learned_against_its_direction():
    frame, space = _against_the_grain()
    model = fit_baseline(frame, space)
    grid = pl.DataFrame({"equity_share": np.linspace(0, 1, 21), "other": np.zeros(21)})
    assert np.ptp(predict_baseline(model, grid, space)) < 1e-12  # equity no longer moves the score
    assert predict_baseline(model, grid.with_columns(other=pl.lit(1.0)), space)[0] > predict_baseline(
        model, grid, space)[0]  # the free feature still does
