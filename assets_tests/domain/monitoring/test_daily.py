"""One day of monitoring: which windows close, the estimate of a day, the gap gate, the drift frame."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from wholesaler_assets.domain.monitoring.daily import (
    MIN_EXPECTED,
    CalibrationCheck,
    calibration_checks,
    calibration_gate,
    days_to_judge,
    drift_columns,
    drift_frame,
    estimate_day,
    judge_day,
    scored_targets,
    target_scores,
    window_performance,
)
from wholesaler_assets.domain.monitoring.estimation import estimate_gaps, estimated_table, performance_over_time
from wholesaler_assets.domain.monitoring.labels import realized_labels
from wholesaler_assets.domain.monitoring.performance import realized_table

D = dt.date(2026, 5, 1)


def _scored(day: dt.date, n: int = 3_000, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    channels = np.array(["cold_call", "sms", "direct_mail"])[rng.integers(0, 3, n)]
    return pl.DataFrame({"lead_id": [f"L{i:05d}" for i in range(n)], "scoring_date": [day] * n,
                         "contact_id": [f"C{i:05d}" for i in range(n)], "channel": channels,
                         "contact_time": [dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)] * n,
                         "p_booked_call_7d": rng.beta(1, 15, n), "p_deal_30d": rng.beta(1, 60, n),
                         "market_value": rng.uniform(80_000, 600_000, n), "arv": rng.uniform(1e5, 7e5, n)})


def _outcomes(scored: pl.DataFrame, day: dt.date, rate_scale: float, seed: int = 2) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    p = np.minimum(scored["p_booked_call_7d"].to_numpy() * rate_scale, 1)
    booked = scored.filter(pl.Series(rng.uniform(size=scored.height) < p))
    when = dt.datetime.combine(day + dt.timedelta(days=3), dt.time(12), tzinfo=dt.UTC)
    return booked.select("lead_id", pl.lit(when).alias("call_booked_at"))  # lead_outcomes' column


def test_a_window_is_judged_once_the_day_it_closes_and_never_twice():
    days = [D + dt.timedelta(days=i) for i in range(20)]
    assert days_to_judge(days, set(), "booked_call_7d", D + dt.timedelta(days=6)) == []
    assert days_to_judge(days, set(), "booked_call_7d", D + dt.timedelta(days=7)) == [D]
    assert days_to_judge(days, {("booked_call_7d", D)}, "booked_call_7d", D + dt.timedelta(days=8)) == [
        D + dt.timedelta(days=1)]
    assert days_to_judge(days, set(), "deal_30d", D + dt.timedelta(days=19)) == []
    assert days_to_judge(days, set(), "booked_call_7d", D + dt.timedelta(days=200)) == []  # beyond the lookback


def _checks(rate_scale: float, channel_scale: float = 1.0, days: int = 7) -> list[CalibrationCheck]:
    pooled = []
    for k in range(days):
        day = D + dt.timedelta(days=k)
        scored = _scored(day, n=500, seed=k)
        p = scored["p_booked_call_7d"].to_numpy() * rate_scale
        p = np.where(scored["channel"].to_numpy() == "cold_call", p * channel_scale, p)
        outcomes = _outcomes(scored.with_columns(pl.Series("p_booked_call_7d", np.minimum(p, 1))), day, 1.0, seed=k)
        labelled = realized_labels(target_scores(scored, "booked_call_7d"), outcomes, "booked_call_7d",
                                   D + dt.timedelta(days=days + 7))
        pooled.append(labelled)
    return calibration_checks(pl.concat(pooled), "booked_call_7d")


def test_calibrated_scores_pass_the_calibration_gate():
    checks = _checks(1.0)
    gate = calibration_gate(checks)
    assert gate.passed, gate.summary
    assert [c.group for c in checks] == ["all", "channel=cold_call", "channel=direct_mail", "channel=sms"]
    assert all(c.judged and c.n > 1_000 for c in checks)


def test_a_doubled_base_rate_fails_the_calibration_gate_and_says_which_group():
    gate = calibration_gate(_checks(2.0))
    assert not gate.passed and "booked_call_7d all" in gate.summary and "were expected" in gate.summary


def test_one_channel_halving_fails_on_that_channel():
    checks = _checks(1.0, channel_scale=0.4)
    gate = calibration_gate(checks)
    assert not gate.passed and any("channel=cold_call" in b for b in gate.details["broken"])
    assert not any("direct_mail" in b or "sms" in b for b in gate.details["broken"])


def test_no_closed_window_or_too_few_expected_positives_passes_and_says_so():
    assert calibration_gate([]).passed and "no closed window" in calibration_gate([]).summary
    tiny = CalibrationCheck("deal_30d", "all", D, D, 10, 9, MIN_EXPECTED / 2, 40.0)
    assert calibration_gate([tiny]).passed  # 40 sd off, but too few expected positives to judge


def test_one_day_realized_outside_its_interval_is_a_gap_shown_not_an_alarm():
    scored = _scored(D)
    outcomes = _outcomes(scored, D, 2.0)
    realized = realized_table([judge_day(scored, outcomes, "booked_call_7d", D, D + dt.timedelta(days=7))])
    estimated = estimated_table([estimate_day(scored, "booked_call_7d", D, max_rows=20_000, n_draws=100)])
    gaps = estimate_gaps(performance_over_time(realized, estimated), [("booked_call_7d", D)])
    assert any(g.metric == "base_rate" for g in gaps)


def test_the_estimate_samples_deterministically():
    scored = _scored(D, n=5_000)
    a = estimate_day(scored, "booked_call_7d", D, max_rows=1_000, n_draws=20)
    assert a == estimate_day(scored, "booked_call_7d", D, max_rows=1_000, n_draws=20) and a.n == 1_000


def test_the_drift_frame_puts_features_beside_probabilities_and_values():
    scored = _scored(D, n=10)
    features = pl.DataFrame({"lead_id": scored["lead_id"], "equity_share": np.linspace(0, 1, 10),
                             "channel": ["sms"] * 10, "vacant": [True] * 10})
    frame = drift_frame(features, scored)
    assert scored_targets(scored) == ["booked_call_7d", "deal_30d"]
    numerical, categorical, probabilities = drift_columns(
        frame, {"equity_share": "numeric", "channel": "categorical", "vacant": "boolean"})
    assert numerical == ["equity_share", "arv"] and categorical == ["channel", "vacant"]
    assert probabilities == ["p_booked_call_7d", "p_deal_30d"]


def test_an_open_window_is_refused():
    scored = _scored(D)
    with pytest.raises(ValueError, match="still open"):
        judge_day(scored, _outcomes(scored, D, 1.0), "booked_call_7d", D, D + dt.timedelta(days=3))


def test_the_matured_window_pools_one_models_closed_days_and_gives_their_figures():
    days = [D + dt.timedelta(days=i) for i in range(3)]
    scored = pl.concat([_scored(d, n=1_000, seed=i).with_columns(
        pl.lit("lead_scorer v1" if i < 2 else "lead_scorer v2").alias("model_version"),
        pl.col("contact_id") + f"-{i}", pl.col("lead_id") + f"-{i}") for i, d in enumerate(days)])
    outcomes = pl.concat([_outcomes(scored.filter(pl.col("scoring_date") == d), d, 1.0, seed=i)
                          for i, d in enumerate(days)])
    as_of = days[-1] + dt.timedelta(days=7)  # all three windows closed
    row = window_performance(scored, outcomes, "booked_call_7d", as_of, pool_days=3, model_version="lead_scorer v1")
    assert row is not None and (row["first_day"], row["last_day"]) == (days[0], days[2])
    assert row["n"] == 2_000  # v2's day left out
    assert row["positives"] > 0 and 0 < row["pr_auc"] < 1 and 0 <= row["ece"] < 0.05
    assert row["expected_positives"] == pytest.approx(row["positives"], rel=0.25)
    assert window_performance(scored, outcomes, "booked_call_7d", as_of, pool_days=3, model_version="other") is None
