"""Explanations: drivers, phrases, narratives, importance, cohorts, booster contributions."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from wholesaler_assets.domain import explanations as ex

FEATURES = ["equity_share", "tax_years_delinquent", "absentee_owner", "sqft"]
VALUES = {"equity_share": 0.62, "tax_years_delinquent": 2, "absentee_owner": False, "sqft": 1500}


# --- narratives on hand-made contributions ----------------------------------------------------

def test_narrative_raisers_then_lowerer():
    contributions = np.array([[0.8, 0.5, -0.3, 0.01]])
    assert ex.narratives(contributions, FEATURES, [VALUES]) == [
        "62% equity and two years of unpaid taxes raise the chance; owner lives in the house lowers it."]


def test_narrative_only_lowering():
    contributions = np.array([[-0.2, 0.0, -0.6, 0.0]])
    assert ex.narratives(contributions, FEATURES, [VALUES]) == [
        "Owner lives in the house and 62% equity lower the chance."]
    assert ex.narrative([("absentee_owner", -0.6)], VALUES) == "Owner lives in the house lowers the chance."


def test_narrative_only_raising_single_and_three_with_commas():
    assert ex.narrative([("equity_share", 0.4)], VALUES) == "62% equity raises the chance."
    values = {**VALUES, "absentee_owner": True}
    contributions = np.array([[0.3, 0.9, 0.5, -0.1]])
    assert ex.narratives(contributions, FEATURES, [values], k=3) == [
        "Two years of unpaid taxes, absentee owner and 62% equity raise the chance."]


def test_narrative_two_lowerers_after_raiser():
    drivers = [("in_foreclosure", 0.7), ("absentee_owner", -0.4), ("channel", -0.2)]
    values = {"in_foreclosure": True, "absentee_owner": False, "channel": "sms"}
    assert ex.narrative(drivers, values) == (
        "A foreclosure filing raises the chance; owner lives in the house and a text message lower it.")


def test_unknown_feature_gets_generic_phrase():
    names = ["roof_material", "lot_acres", "has_pool", "equity_share"]
    row = {"roof_material": "metal_standing_seam", "lot_acres": 1.23456, "has_pool": True, "equity_share": 0.5}
    text = ex.narratives(np.array([[0.5, -0.4, 0.3, 0.0]]), names, [row])[0]
    assert text == ("Roof material of metal standing seam and has pool of yes raise the chance; "
                    "lot acres of 1.23 lowers it.")
    assert ex.describe_feature("lead_count", 7) == "lead count of 7"
    assert ex.describe_feature("lead_count", 7.0) == "lead count of 7"
    assert ex.describe_feature("lot_sqft", 12500.0) == "lot sqft of 12,500"
    assert ex.describe_feature("score", 0.001234) == "score of 0.0012"
    assert ex.describe_feature("is_flipper", False) == "is flipper of no"
    # a known feature with a value its phrase cannot read falls back to the generic phrase too
    assert ex.describe_feature("owner_type", "corporation") == "owner type of corporation"


def test_null_values_are_unknown():
    values = {"equity_share": None, "tax_years_delinquent": float("nan"), "absentee_owner": False}
    text = ex.narrative([("equity_share", 0.3), ("tax_years_delinquent", 0.2), ("roof_age", -0.1)], values)
    assert text == "Unknown equity and unknown tax years delinquent raise the chance; unknown roof age lowers it."
    assert ex.describe_feature("mystery_score", np.float32("nan")) == "unknown mystery score"


def test_no_drivers():
    assert ex.narrative([], VALUES) == "No single factor stands out."
    assert ex.narratives(np.zeros((2, 4)), FEATURES, [VALUES, VALUES]) == ["No single factor stands out."] * 2


def test_narratives_accepts_polars_rows_and_checks_lengths():
    frame = pl.DataFrame([VALUES, {**VALUES, "equity_share": 0.1}])
    contributions = np.array([[0.8, 0.0, 0.0, 0.0], [-0.8, 0.0, 0.0, 0.0]])
    assert ex.narratives(contributions, FEATURES, frame) == ["62% equity raises the chance.",
                                                             "10% equity lowers the chance."]
    with pytest.raises(ValueError, match="rows"):
        ex.narratives(contributions, FEATURES, [VALUES])


@pytest.mark.parametrize(("name", "value", "phrase"), [
    ("equity_share", 0.62, "62% equity"),
    ("tax_years_delinquent", 2, "two years of unpaid taxes"),
    ("tax_years_delinquent", 1.0, "one year of unpaid taxes"),
    ("tax_delinquent", True, "unpaid property taxes"),
    ("tax_delinquent", False, "taxes paid up"),
    ("absentee_owner", False, "owner lives in the house"),
    ("absentee_owner", True, "absentee owner"),
    ("absentee_owner", np.bool_(True), "absentee owner"),
    ("in_foreclosure", True, "a foreclosure filing"),
    ("days_to_auction", 35, "auction in 35 days"),
    ("owner_type", "estate", "an estate owner"),
    ("owner_type", "llc", "an LLC owner"),
    ("channel", "door_knock", "a door knock"),
    ("years_owned", 18.4, "owned for 18 years"),
    ("market_value", 245000, "a $245k home"),
    ("market_value", 1_250_000.0, "a $1.25M home"),
    ("campaign_step", 4, "the 4th touch"),
    ("campaign_step", 2.0, "the 2nd touch"),
    ("prior_contacts", 0, "first contact"),
    ("prior_contacts", 3, "three earlier contacts"),
    ("prior_door_knock", 1, "one earlier door knock"),
    ("distress_events_90d", 0, "no distress events in the last 90 days"),
    ("open_code_violations", 2, "two open code violations"),
    ("zip_price_trend", 0.042, "zip prices up 4.2% in 6 months"),
    ("sqft", 1500.0, "1,500 sq ft"),
    ("metro", "Orlando", "the Orlando metro"),
    ("property_type", "single_family", "a single-family home"),
    ("condition", "poor", "poor condition"),
    ("equity_share", None, "unknown equity"),
    ("years_owned", float("nan"), "unknown years owned"),
])
def test_describe_feature(name, value, phrase):
    assert ex.describe_feature(name, value) == phrase


def test_feature_phrases_can_be_extended(monkeypatch):
    monkeypatch.setitem(ex.FEATURE_PHRASES, "roof_age", lambda v: f"a {int(v)}-year-old roof")
    assert ex.describe_feature("roof_age", 22.0) == "a 22-year-old roof"
    assert ex.narrative([("roof_age", 0.2)], {"roof_age": 22}) == "A 22-year-old roof raises the chance."


# --- top drivers ------------------------------------------------------------------------------

def test_top_drivers_ordering_ties_zeros_and_k():
    names = ["a", "b", "c", "d"]
    contributions = np.array([
        [0.1, -0.5, 0.3, 0.0],    # by |c|: b, c, a
        [0.2, -0.2, 0.2, 0.05],   # a three-way tie keeps feature order
        [0.0, 0.0, 0.0, 0.0],     # nothing
        [0.0, 0.0, -0.7, 0.0],    # one non-zero only
    ])
    drivers = ex.top_drivers(contributions, names, k=3)
    assert drivers[0] == [("b", -0.5), ("c", 0.3), ("a", 0.1)]
    assert drivers[1] == [("a", 0.2), ("b", -0.2), ("c", 0.2)]
    assert drivers[2] == []
    assert drivers[3] == [("c", -0.7)]
    wide = ex.top_drivers(contributions, names, k=10)
    assert wide[0] == [("b", -0.5), ("c", 0.3), ("a", 0.1)]  # zero 'd' still excluded
    assert wide[1] == [("a", 0.2), ("b", -0.2), ("c", 0.2), ("d", 0.05)]
    assert ex.top_drivers(contributions, names, k=0) == [[], [], [], []]
    assert all(isinstance(c, float) for row in wide for _, c in row)


def test_top_drivers_rejects_bias_column():
    with pytest.raises(ValueError, match="bias"):
        ex.top_drivers(np.zeros((2, 5)), ["a", "b", "c", "d"])


# --- global importance and cohorts -----------------------------------------------------------

def test_global_importance_ranks_and_shares():
    contributions = np.array([[0.1, -2.0, 0.5], [-0.1, 1.0, 0.5]])
    table = ex.global_importance(contributions, ["x", "y", "z"])
    assert table.columns == ["feature", "mean_abs_contribution", "mean_contribution", "share", "rank"]
    assert table["feature"].to_list() == ["y", "z", "x"]
    assert table["rank"].to_list() == [1, 2, 3]
    assert table["mean_abs_contribution"].to_list() == pytest.approx([1.5, 0.5, 0.1])
    assert table["mean_contribution"].to_list() == pytest.approx([-0.5, 0.5, 0.0])
    assert table["share"].sum() == pytest.approx(1.0)
    assert table["share"][0] == pytest.approx(1.5 / 2.1)


def test_cohort_summary_rows_probability_and_top_features():
    names = ["equity_share", "in_foreclosure", "channel", "sqft"]
    contributions = np.array([
        [0.9, 0.0, 0.1, 0.01],
        [0.7, 0.2, -0.3, 0.0],
        [0.0, 1.5, 0.2, 0.0],
        [-0.1, 1.1, 0.6, 0.0],
        [0.0, 0.0, 0.0, 0.0],
    ])
    cohorts = pl.DataFrame({
        "value_segment": ["high", "high", "low", "low", None],
        "channel": ["sms", "cold_call", "sms", "sms", "cold_call"],
    })
    probs = np.array([0.8, 0.6, 0.3, 0.5, 0.1])
    summary = ex.cohort_summary(contributions, names, cohorts, probs, top=2)
    assert summary.columns == ["cohort_column", "cohort_value", "rows", "mean_probability", "top_features"]
    rows = {(r["cohort_column"], r["cohort_value"]): r for r in summary.iter_rows(named=True)}
    assert summary["cohort_column"].to_list() == ["value_segment"] * 3 + ["channel"] * 2
    assert summary.filter(pl.col("cohort_column") == "value_segment")["rows"].sum() == 5
    assert rows[("value_segment", "high")]["rows"] == 2
    assert rows[("value_segment", "high")]["mean_probability"] == pytest.approx(0.7)
    assert rows[("value_segment", "high")]["top_features"] == "equity_share, channel"
    assert rows[("value_segment", "low")]["top_features"] == "in_foreclosure, channel"
    assert rows[("value_segment", None)]["top_features"] == ""  # all zero: nothing stands out
    assert rows[("channel", "sms")]["rows"] == 3
    assert rows[("channel", "sms")]["mean_probability"] == pytest.approx(1.6 / 3)
    # sms rows 0, 2, 3: mean |c| equity 1.0/3, in_foreclosure 2.6/3, channel 0.9/3, sqft 0.01/3
    assert rows[("channel", "sms")]["top_features"] == "in_foreclosure, equity_share"
    assert rows[("channel", "cold_call")]["top_features"] == "equity_share, channel"
    wide = ex.cohort_summary(contributions, names, cohorts, probs, top=3)
    assert wide.row(0, named=True)["top_features"] == "equity_share, channel, in_foreclosure"
    with pytest.raises(ValueError, match="row counts"):
        ex.cohort_summary(contributions, names, cohorts.head(4), probs)


def test_summary_markdown_has_both_tables():
    contributions = np.array([[0.1, -2.0, 0.5], [-0.1, 1.0, 0.5]])
    importance = ex.global_importance(contributions, ["x", "y", "z"])
    cohorts = ex.cohort_summary(contributions, ["x", "y", "z"], pl.DataFrame({"seg": ["a", None]}),
                                np.array([0.2, 0.4]))
    text = ex.summary_markdown(importance, cohorts, "Lead model v1")
    assert text.startswith("# Lead model v1\n")
    assert "## Global feature importance" in text and "## Cohorts" in text
    assert "| 1 | y | 1.5000 | -0.5000 | 71.4% |" in text
    assert "| seg | a | 1 | 0.200 | y, z, x |" in text
    assert "| seg | (missing) | 1 | 0.400 | y, z, x |" in text
    many = ex.global_importance(np.ones((1, 20)), [f"f{i}" for i in range(20)])
    long_text = ex.summary_markdown(many, cohorts.head(0), "t")
    assert "| 15 | f14 |" in long_text and "f15" not in long_text and "No cohorts." in long_text


# --- XGBoost contributions ---------------------------------------------------------------------

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
    contributions, bias = ex.contributions_from_booster(booster, dmatrix)
    assert contributions.shape == (len(X), X.shape[1])
    assert bias.shape == (len(X),)
    margin = booster.predict(dmatrix, output_margin=True)
    np.testing.assert_allclose(contributions.sum(axis=1) + bias, margin, atol=1e-4)
    approx, approx_bias = ex.contributions_from_booster(booster, dmatrix, approximate=True)
    assert approx.shape == contributions.shape and approx_bias.shape == bias.shape
    np.testing.assert_allclose(approx.sum(axis=1) + approx_bias, margin, atol=1e-4)


def test_contributions_equal_shap_tree_explainer(small_model):
    shap = pytest.importorskip("shap")
    xgb = pytest.importorskip("xgboost")
    booster, dmatrix, X = small_model
    contributions, _ = ex.contributions_from_booster(booster, dmatrix)
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
    contributions, bias = ex.contributions_from_booster(model.get_booster(), xgb.DMatrix(X, enable_categorical=True))
    explanation = shap.TreeExplainer(model)(X)
    np.testing.assert_allclose(contributions, explanation.values, atol=1e-4)
    # the bias column is the additive base value (not a fresh explainer's expected_value)
    np.testing.assert_allclose(bias, explanation.base_values, atol=1e-4)


def test_booster_contributions_feed_narratives(small_model):
    booster, dmatrix, X = small_model
    contributions, _ = ex.contributions_from_booster(booster, dmatrix)
    names = list(X.columns)
    head = X.head(5).astype({"channel": "object"}).to_dict("records")
    texts = ex.narratives(contributions[:5], names, head, k=2)
    assert len(texts) == 5
    assert all(t.endswith(".") and t[0] == t[0].upper() and "chance" in t for t in texts)
    assert not any(math.isnan(v) for v in ex.global_importance(contributions, names)["share"].to_list())
