"""The numpy model matrix and the baseline as arrays give what the pandas and scikit-learn routes give."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import xgboost as xgb

from wholesaler_assets.domain.features.feature_space import FeatureSpace
from wholesaler_assets.domain.training.linear_terms import LinearTerms
from wholesaler_assets.domain.training.search import _baseline_frame, fit_baseline, predict_baseline

KINDS = {"equity_share": "numeric", "years_owned": "numeric", "vacant": "boolean", "channel": "categorical",
         "condition": "categorical"}


def _frame(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    equity = rng.uniform(0, 1, n)
    years = rng.uniform(0, 40, n)
    vacant = rng.random(n) < 0.2
    channel = rng.choice(["cold_call", "sms", "direct_mail"], n)
    condition = rng.choice(["poor", "fair", "good"], n)
    logit = -2 + 2.5 * equity + 0.8 * vacant + 0.5 * (channel == "cold_call") - 0.02 * years
    label = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pl.DataFrame({
        "equity_share": np.where(rng.random(n) < 0.1, np.nan, equity),
        "years_owned": years, "vacant": vacant, "channel": channel,
        "condition": np.where(rng.random(n) < 0.05, None, condition), "label": label.astype(int),
    }).with_columns(pl.col("equity_share").fill_nan(None))


@pytest.fixture(scope="module")
def fitted() -> tuple[FeatureSpace, pl.DataFrame]:
    train = _frame(3_000, 1)
    return FeatureSpace.fit(train, list(KINDS), KINDS), train


def _scoring_rows() -> pl.DataFrame:
    """Rows the training never saw: unseen and null categories, missing numbers, an absent feature."""
    rows = _frame(200, 2).drop("years_owned")
    return rows.with_columns(
        pl.when(pl.int_range(pl.len()) % 7 == 0).then(pl.lit("door_knock")).otherwise(pl.col("channel"))
        .alias("channel"),
        pl.when(pl.int_range(pl.len()) % 5 == 0).then(None).otherwise(pl.col("condition")).alias("condition"))


def test_matrix_codes_categories_and_marks_missing(fitted) -> None:
    space, _ = fitted
    rows = pl.DataFrame({"equity_share": [0.5, None], "vacant": [True, False], "channel": ["sms", "fax"],
                         "condition": [None, "good"]})
    matrix = space.to_matrix(rows)
    assert matrix.shape == (2, len(space.features)) and matrix.dtype == np.float64
    columns = {f: matrix[:, i] for i, f in enumerate(space.features)}
    assert columns["equity_share"][0] == 0.5 and np.isnan(columns["equity_share"][1])
    assert np.isnan(columns["years_owned"]).all()  # absent -> missing
    assert list(columns["vacant"]) == [1.0, 0.0]
    assert columns["channel"][0] == space.categories["channel"].index("sms") and np.isnan(columns["channel"][1])
    assert np.isnan(columns["condition"][0]) and columns["condition"][1] == space.categories["condition"].index("good")
    assert space.to_matrix(rows.head(0)).shape == (0, len(space.features))


def test_xgboost_predicts_the_same_from_the_matrix_as_from_pandas(fitted) -> None:
    space, train = fitted
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "seed": 7, "nthread": 1,
                         "max_cat_to_onehot": 1},
                        xgb.DMatrix(space.to_pandas(train), label=train["label"].to_numpy(), enable_categorical=True),
                        num_boost_round=30)
    rows = _scoring_rows()
    assert np.array_equal(booster.inplace_predict(space.to_matrix(rows)),
                          booster.inplace_predict(space.to_pandas(rows)))
    by_names = xgb.DMatrix(space.to_matrix(rows), feature_names=booster.feature_names,
                           feature_types=booster.feature_types, enable_categorical=True)
    assert np.array_equal(booster.predict(by_names, pred_contribs=True),
                          booster.predict(xgb.DMatrix(space.to_pandas(rows), enable_categorical=True),
                                          pred_contribs=True))


def _pipeline_terms(pipeline, rows: pl.DataFrame, space: FeatureSpace) -> np.ndarray:
    """The reference: the transformed design times the coefficients, summed back to each input feature."""
    prepare, model = pipeline.named_steps["prepare"], pipeline.named_steps["model"]
    transformed = prepare.transform(_baseline_frame(rows, space))
    transformed = transformed.toarray() if hasattr(transformed, "toarray") else np.asarray(transformed)
    terms = transformed * model.coef_[0]
    result = np.zeros((rows.height, len(space.features)))
    for j, name in enumerate(prepare.get_feature_names_out()):
        source = name.split("__", 1)[1].removeprefix("missingindicator_")
        owner = next(i for i, f in enumerate(space.features) if source == f or source.startswith(f"{f}_"))
        result[:, owner] += terms[:, j]
    return result


def test_linear_terms_reproduce_the_fitted_pipeline(fitted) -> None:
    space, train = fitted
    pipeline = fit_baseline(train, space)
    linear = LinearTerms.from_pipeline(pipeline, space)
    rows = _scoring_rows()
    matrix = space.to_matrix(rows)
    np.testing.assert_allclose(linear.probabilities(matrix), predict_baseline(pipeline, rows, space), rtol=0,
                               atol=1e-12)
    np.testing.assert_allclose(linear.contributions(matrix), _pipeline_terms(pipeline, rows, space), rtol=0,
                               atol=1e-12)
    assert np.isnan(matrix).any()  # the rows did exercise missing values


def test_linear_terms_of_a_pipeline_without_categories() -> None:
    kinds = {"equity_share": "numeric", "vacant": "boolean"}
    train = _frame(2_000, 3)
    space = FeatureSpace.fit(train, list(kinds), kinds)
    pipeline = fit_baseline(train, space)
    rows = _frame(50, 4)
    np.testing.assert_allclose(LinearTerms.from_pipeline(pipeline, space).probabilities(space.to_matrix(rows)),
                               predict_baseline(pipeline, rows, space), rtol=0, atol=1e-12)
