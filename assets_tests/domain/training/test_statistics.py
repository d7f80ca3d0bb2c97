"""PSI and IV agree with hand-computed values on tiny data."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from wholesaler_assets.domain.training import statistics as st

EPS = st.PSI_EPSILON


def _term(actual: float, expected: float) -> float:
    """One PSI bin: (a - e) * ln(a / e)."""
    return (actual - expected) * math.log(actual / expected)


# --- PSI -------------------------------------------------------------------------------------

def test_categorical_psi_matches_hand_computation():
    expected = pl.Series(["a"] * 5 + ["b"] * 3 + ["c"] * 2)
    actual = pl.Series(["a"] * 2 + ["b"] * 3 + ["c"] * 3 + ["d"] + [None])
    # Shares  a: .5 -> .2, b: .3 -> .3, c: .2 -> .3, d: 0 -> .1, null: 0 -> .1 (zeros become EPS)
    by_hand = (_term(0.2, 0.5) + _term(0.3, 0.3) + _term(0.3, 0.2)
               + _term(0.1, EPS) + _term(0.1, EPS))
    assert st.population_stability_index(expected, actual, "categorical") == pytest.approx(by_hand, rel=1e-12)


def test_numeric_psi_uses_expected_deciles_with_open_outer_bins():
    expected = pl.Series([float(v) for v in range(1, 11) for _ in range(10)])  # 1..10, ten of each
    edges = st.quantile_edges(expected)
    # Every decile edge lies between two neighbouring integers, so each integer is its own bin.
    assert len(edges) == 9
    assert st.numeric_bin_codes(pl.Series([float(v) for v in range(1, 11)]), edges).tolist() == list(range(1, 11))

    # 0 is below every edge (first bin), 50 above every edge (last bin), 4 nulls (null bin).
    actual = pl.Series([0.0] * 6 + [5.0] * 4 + [50.0] * 6 + [None] * 4)
    # Shares  bin 1: .1 -> .3, bin 5: .1 -> .2, bin 10: .1 -> .3, seven bins .1 -> 0, null 0 -> .2
    by_hand = (_term(0.3, 0.1) + _term(0.2, 0.1) + _term(0.3, 0.1)
               + 7 * _term(EPS, 0.1) + _term(0.2, EPS))
    assert st.population_stability_index(expected, actual, "numeric") == pytest.approx(by_hand, rel=1e-12)


def test_quantile_edges_are_deduplicated():
    spiky = pl.Series([0.0] * 70 + list(range(1, 31)))
    edges = st.quantile_edges(spiky)
    assert len(edges) == len(set(edges.tolist())) < 9
    assert edges[0] == 0.0  # the 70% spike at zero is one bin (-inf, 0]


@pytest.mark.parametrize("kind, values", [
    ("numeric", [1.5, None, 3.0, -2.0, 8.0, 8.0, 0.0]),
    ("categorical", ["x", "y", None, "x", "z"]),
    ("boolean", [True, False, None, True]),
])
def test_identical_distributions_have_zero_psi(kind, values):
    series = pl.Series(values)
    assert st.population_stability_index(series, series, kind) == 0.0
    assert st.population_stability_index(series, series.reverse(), kind) == 0.0


def test_shifted_distribution_has_psi_above_quarter():
    rng = np.random.default_rng(0)
    expected = pl.Series(rng.normal(0.0, 1.0, 5_000))
    shifted = pl.Series(rng.normal(1.0, 1.0, 5_000))
    same = pl.Series(rng.normal(0.0, 1.0, 5_000))
    assert st.population_stability_index(expected, shifted, "numeric") > 0.25
    assert st.population_stability_index(expected, same, "numeric") < 0.02


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="unknown feature kind"):
        st.population_stability_index(pl.Series([1]), pl.Series([1]), "ordinal")


def test_psi_across_quarters_is_long_with_first_quarter_as_reference():
    rng = np.random.default_rng(1)
    per_quarter = 2_000
    base = rng.normal(0.0, 1.0, per_quarter)
    months = {"2025Q1": 2, "2025Q2": 5, "2025Q3": 8}
    parts = []
    for quarter, month in months.items():
        parts.append(pl.DataFrame({
            "contact_time": [dt.datetime(2025, month, 10, tzinfo=dt.UTC)] * per_quarter,
            "stable": base,  # the same values every quarter
            "drifting": base + (2.0 if quarter == "2025Q3" else 0.0),
            "channel": np.where(base > 0, "web", "mail"),
        }))
    # Shuffled rows: the reference is the first quarter in time, not in row order.
    frame = pl.concat(parts).sample(fraction=1.0, shuffle=True, seed=3)
    features = {"stable": "numeric", "drifting": "numeric", "channel": "categorical"}

    psi = st.psi_across_quarters(frame, features)

    assert psi.columns == ["feature", "quarter", "psi"]
    assert psi.height == 3 * 3
    assert psi.select("feature", "quarter").rows() == [(f, q) for f in features for q in months]
    assert psi.filter(pl.col("quarter") == "2025Q1")["psi"].to_list() == [0.0, 0.0, 0.0]
    maxima = st.max_psi_by_feature(psi)
    assert maxima["stable"] == 0.0 and maxima["channel"] == 0.0
    assert maxima["drifting"] > 0.25
    assert psi.filter(feature="drifting", quarter="2025Q2")["psi"].item() == 0.0


# --- IV --------------------------------------------------------------------------------------

def test_information_value_of_two_categories_matches_hand_computation():
    feature = pl.Series(["a"] * 4 + ["b"] * 4)
    label = pl.Series([1, 1, 1, 0] + [0, 0, 0, 0])
    # bad (label 1) counts a=3, b=0 -> 0.5 (smoothing); good (label 0) counts a=1, b=4.
    bad_a, bad_b = 3 / 3.5, 0.5 / 3.5
    good_a, good_b = 1 / 5, 4 / 5
    by_hand = (bad_a - good_a) * math.log(bad_a / good_a) + (bad_b - good_b) * math.log(bad_b / good_b)
    assert st.information_value(feature, label, "categorical") == pytest.approx(by_hand, rel=1e-12)


def test_information_value_of_numeric_feature_bins_by_quantile_with_null_bin():
    feature = pl.Series([1.0, 2.0, 3.0, 4.0, None, None])
    label = pl.Series([0, 0, 1, 1, 1, 0])
    # Two bins split at the median 2.5: (-inf, 2.5] has good 2, bad 0 -> 0.5; (2.5, inf) has
    # bad 2, good 0 -> 0.5; the null bin has bad 1, good 1. Each class totals 3.5 after smoothing.
    low = (0.5 / 3.5 - 2 / 3.5) * math.log(0.5 / 2)
    high = (2 / 3.5 - 0.5 / 3.5) * math.log(2 / 0.5)
    null = (1 / 3.5 - 1 / 3.5) * math.log(1.0)
    # spike_share=1.0: no value is common enough to be a bin of its own (each holds a quarter).
    by_quantile = st.information_value(feature, label, "numeric", bins=2, spike_share=1.0)
    assert by_quantile == pytest.approx(low + high + null, rel=1e-12)


def test_information_value_is_near_zero_for_noise_and_large_for_the_label():
    rng = np.random.default_rng(2)
    label = pl.Series((rng.random(20_000) < 0.3).astype(np.int8))
    noise = pl.Series(rng.normal(size=20_000))
    assert st.information_value(noise, label, "numeric") < 0.01
    assert st.information_value(label.cast(pl.Float64), label, "numeric") > 5.0
    assert st.information_value(label.cast(pl.Boolean), label, "boolean") > 5.0
    assert st.information_value(noise, pl.Series([0] * 20_000), "numeric") == 0.0  # one class only


def test_information_values_covers_every_feature_in_order():
    frame = pl.DataFrame({"y": [0, 1, 0, 1], "n": [1.0, 2.0, None, 4.0], "b": [True, None, False, True],
                          "c": ["u", "v", None, "u"]})
    features = {"n": "numeric", "b": "boolean", "c": "categorical"}
    ivs = st.information_values(frame, features, "y")
    assert list(ivs) == ["n", "b", "c"]
    assert ivs["c"] == pytest.approx(st.information_value(frame["c"], frame["y"], "categorical"))
