"""Contributions: top drivers, and booster contributions equal to SHAP and to the margin."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wholesaler_assets.domain.explain.contributions import contributions_from_booster, top_drivers
from wholesaler_assets.domain.explain.narratives import narratives
from wholesaler_assets.domain.explain.summaries import global_importance


def test_top_drivers_ordering_ties_zeros_and_k():
    names = ["a", "b", "c", "d"]
    contributions = np.array([
        [0.1, -0.5, 0.3, 0.0],    # by |c|: b, c, a
        [0.2, -0.2, 0.2, 0.05],   # a three-way tie keeps feature order
        [0.0, 0.0, 0.0, 0.0],     # nothing
        [0.0, 0.0, -0.7, 0.0],    # one non-zero only
    ])
    drivers = top_drivers(contributions, names, k=3)
    assert drivers[0] == [("b", -0.5), ("c", 0.3), ("a", 0.1)]
    assert drivers[1] == [("a", 0.2), ("b", -0.2), ("c", 0.2)]
    assert drivers[2] == []
    assert drivers[3] == [("c", -0.7)]
    wide = top_drivers(contributions, names, k=10)
    assert wide[0] == [("b", -0.5), ("c", 0.3), ("a", 0.1)]  # zero 'd' still excluded
    assert wide[1] == [("a", 0.2), ("b", -0.2), ("c", 0.2), ("d", 0.05)]
    assert top_drivers(contributions, names, k=0) == [[], [], [], []]
    assert all(isinstance(c, float) for row in wide for _, c in row)


def test_top_drivers_rejects_bias_column():
    with pytest.raises(ValueError, match="bias"):
        top_drivers(np.zeros((2, 5)), ["a", "b", "c", "d"])


@pytest.fixture(scope="module")
def small_model():
    pd = pytest.importorskip("pandas")
    xgb = pytest.importorskip("xgboost")
    rng = np.random.default_rng(7)
    n = 2000
    X = pd.DataFrame({
        "equity_share": rng.uniform(-0.2, 1.0, n),
        "tax_years_delinquent": rng.integers(0, 5, n).astype(float),
        "days_to_auction": np.where(rng.random(n) < 0.3, np.nan, rng.uniform(0, 200, n)),
        "channel": pd.Categorical(rng.choice(["cold_call", "sms", "direct_mail", "door_knock"], n),
                                  categories=["cold_call", "sms", "direct_mail", "door_knock"]),
    })
    logit = (2.0 * X["equity_share"] + 0.5 * X["tax_years_delinquent"]
             + X["channel"].map({"cold_call": 0.5, "sms": -0.5, "direct_mail": 0.0, "door_knock": 1.0})
             .astype(float) - 1.5)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    dtrain = xgb.DMatrix(X, label=y, enable_categorical=True)
    params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "seed": 0, "nthread": 1,
              "tree_method": "hist"}
    booster = xgb.train(params, dtrain, num_boost_round=20)
    return booster, dtrain, X


def test_contributions_plus_bias_equal_margin(small_model):
    booster, dmatrix, X = small_model
    contributions, bias = contributions_from_booster(booster, dmatrix)
    assert contributions.shape == (len(X), X.shape[1])
    assert bias.shape == (len(X),)
    margin = booster.predict(dmatrix, output_margin=True)
    np.testing.assert_allclose(contributions.sum(axis=1) + bias, margin, atol=1e-4)
    approx, approx_bias = contributions_from_booster(booster, dmatrix, approximate=True)
    assert approx.shape == contributions.shape and approx_bias.shape == bias.shape
    np.testing.assert_allclose(approx.sum(axis=1) + approx_bias, margin, atol=1e-4)


def test_contributions_equal_shap_tree_explainer(small_model):
    shap = pytest.importorskip("shap")
    xgb = pytest.importorskip("xgboost")
    booster, dmatrix, X = small_model
    contributions, _ = contributions_from_booster(booster, dmatrix)
    # A raw Booster does not remember enable_categorical: shap must be given the DMatrix itself
    # (a pandas frame with a category column makes shap build a DMatrix without it and fail).
    shap_values = shap.TreeExplainer(booster).shap_values(xgb.DMatrix(X, enable_categorical=True))
    np.testing.assert_allclose(contributions, np.asarray(shap_values), atol=1e-4)


def test_contributions_equal_shap_on_sklearn_wrapper_with_pandas_frame(small_model):
    shap = pytest.importorskip("shap")
    xgb = pytest.importorskip("xgboost")
    _, dmatrix, X = small_model
    model = xgb.XGBClassifier(n_estimators=20, max_depth=3, learning_rate=0.3, enable_categorical=True,
                              tree_method="hist", random_state=0, n_jobs=1).fit(X, dmatrix.get_label())
    contributions, bias = contributions_from_booster(model.get_booster(), xgb.DMatrix(X, enable_categorical=True))
    explanation = shap.TreeExplainer(model)(X)
    np.testing.assert_allclose(contributions, explanation.values, atol=1e-4)
    # the bias column is the additive base value (not a fresh explainer's expected_value)
    np.testing.assert_allclose(bias, explanation.base_values, atol=1e-4)


def test_booster_contributions_feed_narratives(small_model):
    booster, dmatrix, X = small_model
    contributions, _ = contributions_from_booster(booster, dmatrix)
    names = list(X.columns)
    head = X.head(5).astype({"channel": "object"}).to_dict("records")
    texts = narratives(contributions[:5], names, head, k=2)
    assert len(texts) == 5
    assert all(t.endswith(".") and t[0] == t[0].upper() and "chance" in t for t in texts)
    assert not any(math.isnan(v) for v in global_importance(contributions, names)["share"].to_list())
