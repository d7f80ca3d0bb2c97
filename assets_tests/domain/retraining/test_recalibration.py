"""Recalibration on recent closed contacts: it repairs a planted base-rate change and is refused when it
does not help."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, logit

from wholesaler_assets.domain.retraining.recalibration import (
    RecalibrationPolicy,
    closed_window,
    recalibrate,
    recalibration_verdict,
)
from wholesaler_assets.domain.training.calibration import expected_calibration_error, fit_calibrator

N_DAYS, PER_DAY = 14, 60


def _champion(seed: int = 1):
    """A calibrator fitted where the raw scores were right (identity-like)."""
    rng = np.random.default_rng(seed)
    raw = rng.beta(1.2, 14, 20_000)
    return fit_calibrator(raw, rng.binomial(1, raw), None)[0]


def _recent(odds_factor: float, seed: int = 2):
    """Fourteen days of contacts whose true odds are the raw score's times `odds_factor`."""
    rng = np.random.default_rng(seed)
    raw = rng.beta(1.2, 14, N_DAYS * PER_DAY)
    truth = expit(logit(raw) + np.log(odds_factor))
    days = np.repeat(np.arange(N_DAYS), PER_DAY)
    return raw, rng.binomial(1, truth), days, np.full(raw.size, "all")


def test_a_doubled_base_rate_is_repaired_out_of_time():
    champion = _champion()
    raw, y, days, segments = _recent(2.5)
    result = recalibrate("booked_call_7d", raw, y, days, segments, champion)
    assert result.accepted, result.reason
    assert result.ece_before > 0.05 and result.ece_after <= 0.05
    assert abs(result.mean_predicted_after - result.observed_rate) < abs(result.mean_predicted_before
                                                                        - result.observed_rate) / 3
    assert result.slope > 0.5 and result.intercept > 0  # more bookings at every score, the order kept
    # The refitted calibrator, on fresh contacts of the same shifted market, is calibrated.
    fresh_raw, fresh_y, _, fresh_segments = _recent(2.5, seed=3)
    assert result.calibrator is not None and result.calibrator.edges == champion.edges
    fresh_after = expected_calibration_error(fresh_y, result.calibrator.predict(fresh_raw, fresh_segments))
    assert fresh_after <= 0.05 and fresh_after < expected_calibration_error(fresh_y, champion.predict(fresh_raw)) / 2
    passed, said = recalibration_verdict([result])
    assert passed and said.startswith("recalibrated booked_call_7d")


def test_a_calibrated_champion_keeps_its_calibrator():
    champion = _champion()
    raw, y, days, segments = _recent(1.0)
    result = recalibrate("booked_call_7d", raw, y, days, segments, champion)
    assert not result.accepted and result.calibrator is None
    assert "no better than the champion's calibrator" in result.reason
    passed, said = recalibration_verdict([result])
    assert not passed and "the champion stays" in said


def test_too_few_closed_contacts_are_not_refitted():
    raw, y, days, segments = _recent(2.5)
    result = recalibrate("deal_30d", raw[:100], y[:100], days[:100], segments[:100], _champion())
    assert not result.accepted and "too few" in result.reason and result.rows == 100


def test_outcomes_the_scores_no_longer_separate_need_a_retraining_not_a_recalibration():
    """Outcomes unrelated to the score: the curve that fits them is flat, and the check says so."""
    champion = _champion()
    raw, _, days, segments = _recent(1.0)
    y = np.random.default_rng(4).binomial(1, 0.3, raw.size)
    result = recalibrate("qualified_14d", raw, y, days, segments, champion)
    assert result.ece_before > 0.1 and not result.accepted and result.calibrator is None
    assert result.slope < 0.25 and "a retraining is needed" in result.reason


def test_the_order_of_leads_is_kept_exactly_within_and_across_segments():
    rng = np.random.default_rng(8)
    raw = rng.beta(1.2, 14, 6_000)
    segments = rng.choice(np.array(["low", "mid", "high"]), raw.size)
    champion = fit_calibrator(raw, rng.binomial(1, raw), segments, min_segment_rows=500)[0]
    recent_raw, y, days, _ = _recent(2.5)
    recent_segments = rng.choice(np.array(["low", "mid", "high"]), recent_raw.size)
    result = recalibrate("booked_call_7d", recent_raw, y, days, recent_segments, champion)
    assert result.accepted and result.calibrator is not None
    before, after = champion.predict(raw, segments), result.calibrator.predict(raw, segments)
    assert np.array_equal(np.argsort(before, kind="stable"), np.argsort(after, kind="stable"))
    assert after.mean() > 1.5 * before.mean()


def test_a_second_recalibration_composes_with_the_first():
    champion = _champion()
    once = champion.recalibrated(1.2, 0.5)
    twice = once.recalibrated(0.8, -0.2)
    probe = np.linspace(0.01, 0.6, 50)
    from scipy.special import expit as sigmoid

    by_hand = sigmoid(0.8 * logit(once.predict(probe)) - 0.2)
    assert np.allclose(twice.predict(probe), by_hand, atol=1e-9)
    assert twice.recalibration == pytest.approx((0.96, 0.2))


def test_the_window_is_the_latest_closed_days():
    import datetime as dt

    first, last = closed_window(dt.date(2026, 6, 30), 14, 7)
    assert (first, last) == (dt.date(2026, 6, 10), dt.date(2026, 6, 23))


@pytest.mark.parametrize("blocks", [2, 3])
def test_every_row_is_judged_by_a_calibrator_that_did_not_see_its_days(blocks):
    raw, y, days, segments = _recent(2.5)
    result = recalibrate("booked_call_7d", raw, y, days, segments, _champion(), RecalibrationPolicy(blocks=blocks))
    assert result.rows == raw.size and result.accepted
