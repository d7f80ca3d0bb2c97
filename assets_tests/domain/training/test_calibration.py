"""ECE by hand, calibrator choice, segment fallback, pickling."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from wholesaler_assets.domain.training import calibration as cal
from wholesaler_assets.domain.training.value_segments import value_segments


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


# --- ECE ------------------------------------------------------------------------------------

def test_ece_matches_hand_computation():
    prob = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9])
    y = np.array([0, 0, 1, 0, 1, 1, 0, 1])
    # Two equal-frequency bins split at the median 0.5: (-inf, .5] and (.5, inf).
    # Low bin: mean prob (.1+.2+.3+.4)/4 = .25, mean y 1/4 = .25 -> gap 0
    # High bin: mean prob (.6+.7+.8+.9)/4 = .75, mean y 3/4 = .75 -> gap 0
    assert cal.expected_calibration_error(y, prob, n_bins=2) == pytest.approx(0.0, abs=1e-12)
    # Four bins of two rows: {.1,.2}: |.15 - 0| ; {.3,.4}: |.35 - .5| ; {.6,.7}: |.65 - 1| ; {.8,.9}: |.85 - .5|
    by_hand = 0.25 * (0.15 + 0.15 + 0.35 + 0.35)
    assert cal.expected_calibration_error(y, prob, n_bins=4) == pytest.approx(by_hand, rel=1e-12)
    # One bin: |mean prob .5 - mean y .5| = 0
    assert cal.expected_calibration_error(y, prob, n_bins=1) == pytest.approx(0.0, abs=1e-12)


def test_ece_keeps_ties_in_one_bin():
    # Six rows at 0.2 and two at 0.9; all quartile edges but the last collapse onto 0.2.
    prob = np.array([0.2] * 6 + [0.9] * 2)
    y = np.array([1, 0, 0, 0, 0, 0, 1, 1])
    # Bins: {0.2 x6}: |.2 - 1/6| ; {0.9 x2}: |.9 - 1|
    by_hand = 6 / 8 * abs(0.2 - 1 / 6) + 2 / 8 * abs(0.9 - 1.0)
    assert cal.expected_calibration_error(y, prob, n_bins=4) == pytest.approx(by_hand, rel=1e-12)
    # All tied: one bin.
    assert cal.expected_calibration_error([0, 1, 1, 0], [0.5] * 4, n_bins=10) == pytest.approx(0.0)


def test_ece_empty_is_nan_and_bad_input_raises():
    assert math.isnan(cal.expected_calibration_error(np.array([]), np.array([])))
    with pytest.raises(ValueError):
        cal.expected_calibration_error([0, 1], [0.5, 1.5])
    with pytest.raises(ValueError):
        cal.expected_calibration_error([0, 2], [0.5, 0.5])
    with pytest.raises(ValueError):
        cal.expected_calibration_error([0, 1, 1], [0.5, 0.5])


def test_perfectly_calibrated_data_has_small_ece():
    rng = np.random.default_rng(1)
    p = rng.uniform(0, 1, 200_000)
    y = rng.binomial(1, p)
    assert cal.expected_calibration_error(y, p) < 0.01


# --- fit_calibrator -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def overconfident():
    """Low base rate (~6%), raw scores p**0.3 (far too high), three value segments."""
    rng = np.random.default_rng(7)
    n = 150_000
    p = rng.beta(0.5, 8, n)
    y = rng.binomial(1, p)
    seg = value_segments(rng.lognormal(12.3, 0.6, n))
    return p ** 0.3, y, seg


def test_fit_calibrator_repairs_miscalibrated_scores_on_held_out_rows(overconfident):
    raw, y, seg = overconfident
    fit, test = slice(0, 50_000), slice(50_000, None)
    assert cal.expected_calibration_error(y[test], raw[test]) > 0.05
    calibrator, scores = cal.fit_calibrator(raw[fit], y[fit], seg[fit])
    assert calibrator.method in cal.METHODS
    assert set(scores) == {"isotonic_brier", "platt_brier", "raw_brier"}
    assert scores[f"{calibrator.method}_brier"] <= min(scores["isotonic_brier"], scores["platt_brier"])
    assert scores[f"{calibrator.method}_brier"] < scores["raw_brier"]
    calibrated = calibrator.predict(raw[test], seg[test])
    assert cal.expected_calibration_error(y[test], calibrated) < 0.02
    assert set(calibrator.segment_models) == {"under_150k", "150k_400k", "over_400k"}


def test_fit_calibrator_prefers_platt_for_logistic_miscalibration_on_few_rows():
    rng = np.random.default_rng(3)
    raw = rng.uniform(0.01, 0.99, 400)
    y = rng.binomial(1, _sigmoid(0.5 * _logit(raw) - 1.0))
    calibrator, scores = cal.fit_calibrator(raw, y, None)
    assert all(math.isfinite(v) for v in scores.values())
    assert calibrator.method == "platt"
    assert scores["platt_brier"] <= scores["isotonic_brier"]
    assert isinstance(calibrator.global_model, LogisticRegression)
    assert calibrator.segment_models == {}
    # Platt recovers the generating slope and intercept roughly.
    assert calibrator.global_model.coef_[0, 0] == pytest.approx(0.5, abs=0.3)
    assert calibrator.global_model.intercept_[0] == pytest.approx(-1.0, abs=0.4)


def test_segment_models_only_where_enough_rows_and_both_classes():
    rng = np.random.default_rng(11)
    raw = rng.uniform(0.01, 0.99, 2_000)
    y = rng.binomial(1, raw ** 2)
    seg = np.array(["big"] * 1_200 + ["small"] * 300 + ["no_pos"] * 500, dtype=object)
    y[1_500:] = 0
    calibrator, _ = cal.fit_calibrator(raw, y, seg, min_segment_rows=500)
    assert set(calibrator.segment_models) == {"big"}

    probe = np.array([0.05, 0.3, 0.6, 0.95])
    glob = calibrator.predict(probe)
    # Unknown and unfitted segments fall back to the global model.
    assert np.array_equal(calibrator.predict(probe, np.array(["mars"] * 4)), glob)
    assert np.array_equal(calibrator.predict(probe, np.array(["small", "no_pos", None, "mars"], dtype=object)), glob)
    big = calibrator.predict(probe, np.array(["big"] * 4))
    assert not np.array_equal(big, glob)
    mixed = calibrator.predict(probe, np.array(["big", "mars", "big", "small"]))
    assert np.array_equal(mixed, np.where([True, False, True, False], big, glob))
    out = calibrator.predict(np.linspace(0, 1, 101), np.array(["big"] * 101))
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_isotonic_calibrator_is_plain_sklearn_and_clips():
    rng = np.random.default_rng(5)
    raw = rng.uniform(0.2, 0.8, 20_000)
    y = rng.binomial(1, np.where(raw > 0.5, 0.9, 0.1))  # a step: isotonic's home ground
    calibrator, scores = cal.fit_calibrator(raw, y, None)
    assert calibrator.method == "isotonic"
    assert scores["isotonic_brier"] <= scores["platt_brier"]
    assert isinstance(calibrator.global_model, IsotonicRegression)
    out = calibrator.predict(np.array([0.0, 0.1, 0.9, 1.0]))  # outside the fitted range: clipped
    assert np.all((out >= 0) & (out <= 1))
    assert out[0] == out[1] and out[2] == out[3]


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_calibrated_probabilities_are_scikit_learns(overconfident, method):
    """predict evaluates the fitted curves with numpy; they give what scikit-learn's predict gives."""
    raw, y, _ = overconfident
    model = cal._fit_one(method, raw[:20_000], y[:20_000])
    probe = np.concatenate([raw[50_000:51_000], [0.0, 1e-9, 0.5, 1.0 - 1e-9, 1.0]])
    expected = (model.predict(probe) if method == "isotonic"
                else model.predict_proba(cal._platt_feature(probe))[:, 1])
    np.testing.assert_allclose(cal._predict_one(method, model, probe), np.clip(expected, 0, 1), rtol=0, atol=1e-12)


def test_pickle_round_trip_and_determinism(overconfident):
    raw, y, seg = overconfident
    rows = slice(0, 20_000)
    first, s1 = cal.fit_calibrator(raw[rows], y[rows], seg[rows], seed=4)
    second, s2 = cal.fit_calibrator(raw[rows], y[rows], seg[rows], seed=4)
    assert s1 == s2 and first.method == second.method
    probe, probe_seg = raw[50_000:60_000], seg[50_000:60_000]
    expected = first.predict(probe, probe_seg)
    assert np.array_equal(expected, second.predict(probe, probe_seg))
    restored = pickle.loads(pickle.dumps(first))
    assert isinstance(restored, cal.SegmentedCalibrator)
    assert np.array_equal(restored.predict(probe, probe_seg), expected)


def test_fit_calibrator_rejects_single_class_and_bad_scores():
    with pytest.raises(ValueError, match="both classes"):
        cal.fit_calibrator(np.linspace(0, 1, 50), np.zeros(50), None)
    with pytest.raises(ValueError):
        cal.fit_calibrator(np.array([0.1, np.nan, 0.3, 0.4, 0.5, 0.6]), np.array([0, 1, 0, 1, 0, 1]), None)


# --- value segments -------------------------------------------------------------------------
