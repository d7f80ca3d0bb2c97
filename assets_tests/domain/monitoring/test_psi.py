"""PSI by hand (numeric quantile bins and categories), ~0 on identical data, per column."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from wholesaler_assets.domain.monitoring.psi import EPSILON, categorical_psi, psi, psi_by_column


def test_numeric_psi_by_hand():
    reference = np.arange(10.0)           # two bins split at the median 4.5: shares .5 / .5
    current = np.arange(10.0) + 3         # 3, 4 below the edge: shares .2 / .8
    expected = (0.2 - 0.5) * math.log(0.2 / 0.5) + (0.8 - 0.5) * math.log(0.8 / 0.5)
    assert psi(reference, current, bins=2) == pytest.approx(expected)
    assert expected == pytest.approx(0.4159, abs=1e-4)


def test_categorical_psi_by_hand_and_an_empty_category_gets_epsilon():
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert categorical_psi(["a", "a", "b", "b"], ["a", "b", "b", "b"]) == pytest.approx(expected)
    new = categorical_psi(["a", "a"], ["a", "c"])  # c is new: its reference share is floored at EPSILON
    assert new == pytest.approx((0.5 - 1.0) * math.log(0.5) + (0.5 - EPSILON) * math.log(0.5 / EPSILON))


def test_psi_is_about_zero_on_identical_data_and_on_two_samples_of_one_distribution():
    rng = np.random.default_rng(0)
    x = rng.lognormal(12, 0.4, 20_000)
    assert psi(x, x) == 0.0
    assert psi(x, rng.lognormal(12, 0.4, 20_000)) < 0.01
    assert psi(x, x * 0.7) > 0.25  # a 30% drop is a major shift


def test_psi_by_column_picks_the_variant_by_dtype_and_ignores_nulls():
    ref = pl.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, None], "c": ["a", "b", "a", "b", None]})
    cur = pl.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "b", "a", "b"]})
    assert psi_by_column(ref, cur, ["x", "c"]) == {"x": 0.0, "c": 0.0}
    with pytest.raises(ValueError, match=r"\['y'\]"):
        psi_by_column(ref, cur, ["x", "y"])
    with pytest.raises(ValueError, match="no non-null"):
        psi([None, None], [1.0])  # type: ignore[list-item]
