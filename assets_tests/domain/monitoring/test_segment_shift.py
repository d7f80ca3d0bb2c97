"""Paired value shifts per metro: the price shock's own check."""

from __future__ import annotations

import numpy as np
import polars as pl

from wholesaler_assets.domain.monitoring.segment_shift import (
    MIN_PAIRED_LEADS,
    segment_shifts,
    shifted_segments,
    value_shift_gate,
)


def _leads(n: int = 600, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame({"lead_id": [f"L{i}" for i in range(n)],
                         "metro": np.array(["Orlando", "Tampa", "Dallas"])[np.arange(n) % 3],
                         "market_value": rng.lognormal(12.3, 0.6, n)})


def test_a_metro_whose_leads_lost_ten_percent_is_shifted_and_the_others_are_not():
    before = _leads()
    after = before.with_columns(pl.when(pl.col("metro") == "Tampa").then(pl.col("market_value") * 0.9)
                                .otherwise(pl.col("market_value") * 1.01).alias("market_value"))
    shifts = {s.segment: s for s in segment_shifts(before, after)}
    assert round(shifts["Tampa"].median_change, 6) == -0.1 and round(shifts["Dallas"].median_change, 6) == 0.01
    assert [s.segment for s in shifted_segments(list(shifts.values()))] == ["Tampa"]
    gate = value_shift_gate(list(shifts.values()))
    assert not gate.passed and "Tampa: median value -10.0%" in gate.summary and gate.details["shifted"] == ["Tampa"]


def test_new_and_closed_leads_do_not_count_only_leads_seen_on_both_days():
    before = _leads()
    # A third of the leads close and cheaper ones arrive: the population moves, no lead's value does.
    after = pl.concat([before.slice(200), _leads(200, seed=9).with_columns(
        (pl.lit("N") + pl.col("lead_id")).alias("lead_id"), pl.col("market_value") * 0.5)])
    assert all(s.median_change == 0 for s in segment_shifts(before, after))
    assert value_shift_gate(segment_shifts(before, after)).passed


def test_a_metro_with_too_few_paired_leads_is_not_judged():
    before = _leads(3 * (MIN_PAIRED_LEADS - 1))
    after = before.with_columns(pl.col("market_value") * 0.5)
    assert not shifted_segments(segment_shifts(before, after))
    assert value_shift_gate(segment_shifts(before, after)).passed


def test_a_lead_file_without_metro_or_value_has_nothing_to_judge():
    frame = pl.DataFrame({"lead_id": ["a"], "equity_pct": [0.3]})
    assert segment_shifts(frame, frame) == []
    assert value_shift_gate([]).passed
