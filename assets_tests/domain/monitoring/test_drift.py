"""The drift report: quiet on a stationary market, loud on a regional price drop, and clear on bad input."""

from __future__ import annotations

import math

import polars as pl
import pytest

from wholesaler_assets.domain.monitoring.drift import DRIFT_SHARE, drift_report, numeric_threshold


def _report(market, reference: pl.DataFrame, current: pl.DataFrame, **kwargs):
    return drift_report(reference, current, list(market.numerical), list(market.categorical),
                        list(market.probabilities), **kwargs)


def test_two_samples_of_one_market_raise_no_dataset_drift(market):
    reference = market.frame(1_500, seed=100)
    reports = [_report(market, reference, market.frame(1_500, seed=s)) for s in range(4)]
    assert sum(r.dataset_drift for r in reports) <= 1  # "most days"; measured 0 of 20 at this size


def test_a_15_percent_price_drop_in_two_of_six_metros_flags_the_value_columns_and_the_dataset(market):
    report = _report(market, market.frame(5_000, seed=1), market.frame(5_000, seed=2, price_drop=0.15))
    assert report.columns["market_value"].drifted and report.columns["arv"].drifted
    assert not report.columns["sqft"].drifted and not report.columns["channel"].drifted
    assert report.dataset_drift and report.drifted_share >= DRIFT_SHARE
    assert report.drifted_count == sum(c.drifted for c in report.columns.values())
    for p in market.probabilities:  # prediction drift of every target is in the same report
        assert report.columns[p].kind == "probability" and report.columns[p].method == "wasserstein"
    assert report.psi["market_value"] > report.psi["sqft"] and set(report.psi) == set(report.columns)
    assert report.snapshot is not None and report.as_dict()["dataset_drift"] is True


def test_large_frames_are_sampled_deterministically_and_all_null_columns_are_skipped(market):
    reference = market.frame(3_000, seed=3).with_columns(pl.lit(None, pl.Float64).alias("sqft"))
    current = market.frame(3_000, seed=4)
    first, again = (_report(market, reference, current, max_rows=800) for _ in range(2))
    assert (first.reference_rows, first.current_rows) == (800, 800)
    assert {c: v.score for c, v in first.columns.items()} == {c: v.score for c, v in again.columns.items()}
    assert first.skipped == {"sqft": "all null in reference"} and "sqft" not in first.columns
    assert first.columns["market_value"].threshold == pytest.approx(numeric_threshold(800, 800))


def test_the_numeric_threshold_follows_the_sampling_noise_with_a_floor():
    assert numeric_threshold(1_500, 1_500) == pytest.approx(3 * math.sqrt(2 / 1_500))
    assert numeric_threshold(20_000, 20_000) == 0.05


def test_bad_input_is_refused_with_a_clear_message(market):
    frame = market.frame(50, seed=5)
    with pytest.raises(ValueError, match="current frame is empty"):
        _report(market, frame, frame.head(0))
    with pytest.raises(ValueError, match=r"missing in current: \['arv'\]"):
        _report(market, frame, frame.drop("arv"))
    with pytest.raises(ValueError, match=r"more than once: \['arv'\]"):
        drift_report(frame, frame, ["arv"], [], ["arv"])
    with pytest.raises(ValueError, match="all null"):
        drift_report(frame, frame.with_columns(pl.lit(None, pl.Float64).alias("arv")), ["arv"], [], [])
