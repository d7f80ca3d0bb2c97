"""One day of monitoring: which windows close, the estimate of a day, the gap gate, the drift frame."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from wholesaler_assets.domain.monitoring.daily import (
    Gap,
    days_to_judge,
    drift_columns,
    drift_frame,
    estimate_day,
    estimate_gaps,
    gap_gate,
    judge_day,
    scored_targets,
)
from wholesaler_assets.domain.monitoring.estimation import estimated_table, performance_over_time
from wholesaler_assets.domain.monitoring.performance import realized_table

D = dt.date(2026, 5, 1)


def _scored(day: dt.date, n: int = 3_000, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame({"lead_id": [f"L{i:05d}" for i in range(n)], "scoring_date": [day] * n,
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


def _judged(rate_scale: float) -> tuple[pl.DataFrame, list]:
    scored = _scored(D)
    outcomes = _outcomes(scored, D, rate_scale)
    as_of = D + dt.timedelta(days=7)
    realized = realized_table([judge_day(scored, outcomes, "booked_call_7d", D, as_of)])
    estimated = estimated_table([estimate_day(scored, "booked_call_7d", D, max_rows=20_000, n_draws=100)])
    return performance_over_time(realized, estimated), [("booked_call_7d", D)]


def test_calibrated_scores_pass_the_gap_gate():
    over_time, judged = _judged(1.0)
    gate = gap_gate(estimate_gaps(over_time, judged), judged)
    assert gate.passed, gate.summary


def test_a_doubled_base_rate_fails_the_gap_gate_and_says_which_figure():
    over_time, judged = _judged(2.0)
    gaps = estimate_gaps(over_time, judged)
    gate = gap_gate(gaps, judged)
    assert not gate.passed and any(g.metric == "base_rate" for g in gaps)
    assert "booked_call_7d 2026-05-01 base_rate" in gate.summary


def test_no_closed_window_passes_and_says_so():
    gate = gap_gate([], [])
    assert gate.passed and "nothing to compare" in gate.summary
    assert not gap_gate([Gap("deal_30d", D, "pr_auc", 0.3, 0.1, 0.2)], [("deal_30d", D)]).passed


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
