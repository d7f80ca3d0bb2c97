"""Realized performance: the evaluation package's figures on the same arrays, per value segment, the table."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from wholesaler_assets.domain.evaluation import metrics as ev
from wholesaler_assets.domain.monitoring.labels import LABEL, WINDOW_CLOSED
from wholesaler_assets.domain.monitoring.performance import ALL, realized_performance, realized_table
from wholesaler_assets.domain.training.calibration import expected_calibration_error

D = dt.date(2025, 3, 10)


def _labelled(n: int, seed: int, day: dt.date = D, closed: bool = True) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    prob = rng.beta(1.2, 12.0, n)
    return pl.DataFrame({
        "lead_id": [f"L{i}" for i in range(n)], "target": "booked_call_7d", "scoring_date": day,
        "probability": prob,
        "market_value": [(100_000.0, 250_000.0, 500_000.0, None)[i] for i in rng.integers(0, 4, n)],
        WINDOW_CLOSED: closed, LABEL: (rng.random(n) < prob).astype(np.int8),
    })


def test_the_figures_are_the_evaluation_packages_on_the_same_arrays():
    frame = _labelled(3_000, 1)
    y, p = frame[LABEL].to_numpy(), frame["probability"].to_numpy()
    r = realized_performance(frame, "booked_call_7d", D, min_segment_rows=300).overall
    assert (r.n, r.positives) == (3_000, int(y.sum()))
    assert r.base_rate == pytest.approx(y.mean())
    assert r.pr_auc == ev.pr_auc(y, p)
    assert r.top_decile_lift == ev.lift_at(y, p, 0.1)
    assert r.brier == ev.brier(y, p)
    assert r.ece == expected_calibration_error(y, p)


def test_segments_are_the_calibrations_value_bands_and_small_ones_get_no_model_figures():
    frame = _labelled(3_000, 2)
    rec = realized_performance(frame, "booked_call_7d", D, min_segment_rows=700)
    assert set(rec.segments) == {"under_150k", "150k_400k", "over_400k", "unknown"}
    y, p = frame[LABEL].to_numpy(), frame["probability"].to_numpy()
    eces = ev.segment_ece(y, p, np.array(["under_150k" if v == 100_000 else "150k_400k" if v == 250_000
                                          else "over_400k" if v == 500_000 else "unknown"
                                          for v in frame["market_value"].to_list()]), min_rows=700)
    assert {k: s.ece for k, s in rec.segments.items() if not math.isnan(s.ece)} == eces
    assert sum(s.n for s in rec.segments.values()) == 3_000
    small = realized_performance(frame, "booked_call_7d", D, min_segment_rows=10_000)
    assert all(math.isnan(s.pr_auc) and s.n > 0 for s in small.segments.values())


def test_an_open_window_is_refused_and_a_day_without_contacts_is_judged_empty():
    with pytest.raises(ValueError, match="still open"):
        realized_performance(_labelled(50, 3, closed=False), "booked_call_7d", D)
    empty = realized_performance(_labelled(50, 3), "booked_call_7d", D + dt.timedelta(days=1))
    assert empty.overall.n == 0 and math.isnan(empty.overall.base_rate) and empty.overall.expected_positives == 0


def test_the_expected_positives_are_the_sum_of_the_probabilities():
    frame = _labelled(400, 5)
    overall = realized_performance(frame, "booked_call_7d", D).overall
    p = frame["probability"].to_numpy()
    assert overall.expected_positives == pytest.approx(p.sum())
    assert overall.expected_variance == pytest.approx((p * (1 - p)).sum())


def test_the_table_over_time_has_one_row_per_day_and_segment_with_all_first():
    records = [realized_performance(_labelled(800, s, D + dt.timedelta(days=s)), "booked_call_7d",
                                    D + dt.timedelta(days=s), min_segment_rows=100) for s in range(3)]
    table = realized_table(records)
    assert table.height == 3 * 5
    assert table.filter(pl.col("segment") == ALL)["n"].to_list() == [800, 800, 800]
    assert table.schema["scoring_date"] == pl.Date and table.schema["pr_auc"] == pl.Float64
    assert realized_table([]).height == 0
