"""Correlation and VIF agree with hand-computed values and statsmodels on tiny data."""

from __future__ import annotations

import math
import warnings

import numpy as np
import polars as pl
import pytest

from wholesaler_assets.domain.training import collinearity as co


def test_high_correlation_pairs_finds_the_planted_near_duplicate_only():
    rng = np.random.default_rng(4)
    n = 2_000
    base = rng.normal(size=n)
    frame = pl.DataFrame({
        "equity": base,
        "equity_copy": base + rng.normal(0, 0.05, n),
        "mirror": -base + rng.normal(0, 0.2, n),
        "independent": rng.normal(size=n),
        "flag": rng.random(n) < 0.5,
        "constant": np.full(n, 3.0),
    }).with_columns(  # nulls are dropped pairwise
        pl.when(pl.int_range(pl.len()) % 10 == 0).then(None).otherwise(pl.col("equity_copy")).alias("equity_copy"))
    columns = ["equity", "equity_copy", "mirror", "independent", "flag", "constant"]

    pairs = co.high_correlation_pairs(frame, columns, threshold=0.9)

    assert [(a, b) for a, b, _ in pairs] == [("equity", "equity_copy"), ("equity", "mirror"),
                                             ("equity_copy", "mirror")]
    complete = frame.select("equity", "equity_copy").drop_nulls().to_numpy()
    assert pairs[0][2] == pytest.approx(np.corrcoef(complete.T)[0, 1], rel=1e-10)
    assert pairs[1][2] < -0.9


def test_constant_columns_do_not_break_correlation():
    frame = pl.DataFrame({"a": [1.0, 1.0, 1.0], "b": [2.0, None, 2.0], "c": [None, None, None]},
                         schema={"a": pl.Float64, "b": pl.Float64, "c": pl.Float64})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert co.high_correlation_pairs(frame, ["a", "b", "c"]) == []
        assert co.variance_inflation_factors(frame, ["a", "b", "c"]) == {}


def _exactly_correlated(r: float, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two columns whose sample correlation is r (up to rounding)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    z = rng.normal(size=n)
    x = (x - x.mean()) / x.std()
    z = z - z.mean()
    z = z - (z @ x) / (x @ x) * x  # orthogonal to x
    z = z / z.std()
    return x, r * x + math.sqrt(1 - r * r) * z


@pytest.mark.parametrize("r", [0.0, 0.5, 0.8, -0.95])
def test_vif_of_two_columns_is_one_over_one_minus_r_squared(r):
    x, y = _exactly_correlated(r, 500, seed=5)
    assert np.corrcoef(x, y)[0, 1] == pytest.approx(r, abs=1e-12)
    vifs = co.variance_inflation_factors(pl.DataFrame({"x": x * 7 + 100, "y": y}), ["x", "y"])
    assert vifs == {"x": pytest.approx(1 / (1 - r * r), rel=1e-6), "y": pytest.approx(1 / (1 - r * r), rel=1e-6)}


def test_vif_matches_statsmodels_on_the_raw_mean_imputed_design():
    from statsmodels.stats.outliers_influence import variance_inflation_factor
    from statsmodels.tools.tools import add_constant

    rng = np.random.default_rng(6)
    a = rng.normal(size=3_000)
    b = 0.7 * a + rng.normal(size=3_000)
    c = rng.exponential(size=3_000) + 0.2 * b
    frame = pl.DataFrame({"a": a, "b": b, "c": c, "k": np.ones(3_000)}).with_columns(
        pl.when(pl.int_range(pl.len()) % 9 == 0).then(None).otherwise(pl.col("c")).alias("c"))
    imputed = frame.select("a", "b", pl.col("c").fill_null(strategy="mean")).to_numpy()
    raw = add_constant(imputed, has_constant="add")
    expected = {name: variance_inflation_factor(raw, i + 1) for i, name in enumerate("abc")}

    vifs = co.variance_inflation_factors(frame, ["a", "b", "c", "k"])  # constant k is left out

    assert vifs == {name: pytest.approx(v, rel=1e-9) for name, v in expected.items()}


def test_chunked_triangle_has_the_centred_cross_products():
    rng = np.random.default_rng(7)
    values = rng.normal(size=(1_050, 3)) + [5.0, -2.0, 0.0]
    frame = pl.DataFrame(values, schema=["p", "q", "s"], orient="row")
    triangle = co.centred_triangle(frame, ["p", "q", "s"], chunk_rows=100)
    centred = values - values.mean(axis=0)
    np.testing.assert_allclose(triangle.T @ triangle, centred.T @ centred, rtol=1e-10)


def test_exactly_collinear_columns_have_infinite_vif():
    rng = np.random.default_rng(8)
    x1, x2 = rng.normal(size=400), rng.normal(size=400)
    frame = pl.DataFrame({"x1": x1, "x2": x2, "x3": x1 + x2, "free": rng.normal(size=400)})
    vifs = co.variance_inflation_factors(frame, ["x1", "x2", "x3", "free"])
    assert vifs["x1"] == vifs["x2"] == vifs["x3"] == math.inf
    assert vifs["free"] == pytest.approx(1.0, abs=0.05)
