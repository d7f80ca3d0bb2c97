"""The shadow comparison measures how the challenger would reorder the queue; promotion waits until it earned it."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from wholesaler_assets.domain.retraining.shadow import ShadowDay, compare_scores, promotion_verdict

DAY = dt.date(2026, 6, 10)


def _scored(p: np.ndarray) -> pl.DataFrame:
    tiers = np.where(p > np.quantile(p, 0.9), "A", "B")
    return pl.DataFrame({"lead_id": [f"L{i:04d}" for i in range(p.size)], "p_booked_call_7d": p, "tier": tiers})


def test_the_same_scores_agree_fully_and_noise_lowers_every_figure():
    rng = np.random.default_rng(3)
    p = rng.beta(1, 15, 2_000)
    [same] = compare_scores(_scored(p), _scored(p), ["booked_call_7d"], DAY)
    assert (same.n, same.rank_correlation, same.top_decile_overlap, same.tier_a_overlap) == (2_000, 1.0, 1.0, 1.0)
    assert same.score_psi == pytest.approx(0.0, abs=1e-9) and same.alarm() is None
    noisy = np.clip(p + rng.normal(0, 0.03, p.size), 0.001, 0.999)
    [other] = compare_scores(_scored(p), _scored(noisy), ["booked_call_7d"], DAY)
    assert 0.5 < other.rank_correlation < 0.95 and other.top_decile_overlap < 0.8 and other.tier_a_overlap < 0.8


def test_a_reshuffled_or_rescaled_challenger_is_an_alarm():
    rng = np.random.default_rng(4)
    p = rng.beta(1, 15, 2_000)
    [shuffled] = compare_scores(_scored(p), _scored(rng.permutation(p)), ["booked_call_7d"], DAY)
    assert "rank correlation" in (shuffled.alarm() or "")
    [scaled] = compare_scores(_scored(p), _scored(np.minimum(p * 4, 0.99)), ["booked_call_7d"], DAY)
    assert scaled.rank_correlation == pytest.approx(1.0) and "score PSI" in (scaled.alarm() or "")


def _days(n: int, correlation: float = 0.9) -> list[ShadowDay]:
    return [ShadowDay(DAY + dt.timedelta(days=i), "booked_call_7d", 1_000, correlation, 0.7, 0.6, 0.02)
            for i in range(n)]


def test_promotion_waits_for_the_shadow_days_and_refuses_a_worse_or_alarming_challenger():
    assert "3 shadow day(s) of the 7" in promotion_verdict(_days(3), {}).reason
    assert not promotion_verdict(_days(3), {}).promote
    earned = promotion_verdict(_days(7), {"booked_call_7d": (0.21, 0.19)})
    assert earned.promote and "at least the champion's on booked_call_7d" in earned.reason
    worse = promotion_verdict(_days(9), {"booked_call_7d": (0.15, 0.19)})
    assert not worse.promote and "0.150 < champion 0.190" in worse.reason
    alarmed = promotion_verdict(_days(8, correlation=0.2), {})
    assert not alarmed.promote and "shadow alarm" in alarmed.reason
    unmatured = promotion_verdict(_days(7), {"booked_call_7d": (math.nan, math.nan)})
    assert unmatured.promote and "no shadow contact matured" in unmatured.reason


def _booked_contacts(rng: np.random.Generator, n: int) -> tuple[pl.DataFrame, pl.DataFrame, np.ndarray]:
    """`n` contacts of DAY, their leads' bookings drawn from true probabilities, and those probabilities."""
    truth = rng.beta(1, 12, n)
    when = dt.datetime.combine(DAY, dt.time(10), tzinfo=dt.UTC)
    contacts = pl.DataFrame({"contact_id": [f"C{i}" for i in range(n)], "lead_id": [f"L{i}" for i in range(n)],
                             "contact_time": [when] * n, "scoring_date": [DAY] * n})
    booked = rng.uniform(size=n) < truth
    outcomes = pl.DataFrame({"lead_id": [f"L{i}" for i in range(n)],
                             "call_booked_at": [when + dt.timedelta(days=2) if b else None for b in booked]})
    return contacts, outcomes, truth


def test_realized_pr_auc_of_both_models_on_the_same_matured_contacts():
    from wholesaler_assets.domain.retraining.shadow import realized_pair

    rng = np.random.default_rng(5)
    n = 3_000
    contacts, outcomes, truth = _booked_contacts(rng, n)
    champion = contacts.with_columns(p_booked_call_7d=pl.Series(np.clip(truth + rng.normal(0, 0.1, n), 0.001, 0.999)))
    challenger = contacts.with_columns(p_booked_call_7d=pl.Series(truth))
    later = DAY + dt.timedelta(days=8)
    new, old = realized_pair(champion, challenger, outcomes, ["booked_call_7d"], later)["booked_call_7d"]
    assert new > old > truth.mean()  # the challenger knows the truth; the champion is noisier
    early = realized_pair(champion, challenger, outcomes, ["booked_call_7d"], DAY + dt.timedelta(days=3))
    assert all(math.isnan(v) for v in early["booked_call_7d"])  # windows still open


def test_a_challenger_worse_calibrated_on_the_matured_contacts_waits_and_psi_can_be_waived():
    worse = promotion_verdict(_days(7), {"booked_call_7d": (0.2, 0.2)},
                              realized_ece={"booked_call_7d": (0.09, 0.03)})
    assert not worse.promote and "realized ECE on the shadow contacts is worse: booked_call_7d 0.090 > " \
                                 "champion 0.030" in worse.reason
    within = promotion_verdict(_days(7), {}, realized_ece={"booked_call_7d": (0.035, 0.03)})
    assert within.promote and "ECE booked_call_7d 0.035 vs 0.030" in within.reason
    rescaled = [ShadowDay(d.day, d.target, d.n, 0.99, 0.95, 0.9, 0.8) for d in _days(7)]
    assert not promotion_verdict(rescaled, {}).promote  # PSI 0.8: another scale
    assert promotion_verdict(rescaled, {}, max_score_psi=math.inf).promote  # a recalibration means to move it


def test_realized_ece_of_both_models_on_the_same_matured_contacts():
    from wholesaler_assets.domain.retraining.shadow import realized_ece_pair

    contacts, outcomes, truth = _booked_contacts(np.random.default_rng(6), 4_000)
    halved = contacts.with_columns(p_booked_call_7d=pl.Series(truth / 2))  # promises half the bookings
    calibrated = contacts.with_columns(p_booked_call_7d=pl.Series(truth))
    new, old = realized_ece_pair(halved, calibrated, outcomes, ["booked_call_7d"], DAY + dt.timedelta(days=8))[
        "booked_call_7d"]
    assert new < 0.02 < old
    early = realized_ece_pair(halved, calibrated, outcomes, ["booked_call_7d"], DAY + dt.timedelta(days=3))
    assert all(math.isnan(v) for v in early["booked_call_7d"])


def test_judging_a_challenger_waives_the_score_psi_alarm_for_a_recalibration_only():
    from wholesaler_assets.domain.retraining.shadow import ShadowPolicy, judge_challenger

    rng = np.random.default_rng(8)
    contacts, outcomes, truth = _booked_contacts(rng, 3_000)
    champion = contacts.with_columns(p_booked_call_7d=pl.Series(truth / 2))  # promises half: ECE off
    challenger = contacts.with_columns(p_booked_call_7d=pl.Series(truth))
    rescaled = [ShadowDay(DAY + dt.timedelta(days=i), "booked_call_7d", 1_000, 1.0, 1.0, 1.0, 0.6) for i in range(7)]
    later = DAY + dt.timedelta(days=8)
    recalibrated = judge_challenger(rescaled, champion, challenger, outcomes, ["booked_call_7d"], later,
                                    "recalibration")
    assert recalibrated.verdict.promote, recalibrated.verdict.reason
    new, old = recalibrated.realized_ece["booked_call_7d"]
    assert new < old  # the challenger's probabilities are the true ones
    retrained = judge_challenger(rescaled, champion, challenger, outcomes, ["booked_call_7d"], later, "retraining")
    assert not retrained.verdict.promote and "score PSI 0.60 > 0.25" in retrained.verdict.reason
    patient = judge_challenger(rescaled, champion, challenger, outcomes, ["booked_call_7d"], later,
                               "recalibration", ShadowPolicy(min_shadow_days=10))
    assert not patient.verdict.promote and "7 shadow day(s) of the 10" in patient.verdict.reason
