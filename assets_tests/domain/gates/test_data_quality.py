"""The data-quality gates pass on good data and fail, saying why, on bad data."""

from __future__ import annotations

import datetime as dt

import polars as pl

from wholesaler_assets.domain.gates import data_quality as quality


def test_unique_keys_reports_duplicates_with_examples():
    frame = pl.DataFrame({"d": [1, 1, 1, 2], "k": ["a", "a", "b", "a"]})
    gate = quality.unique_keys(frame, ["d", "k"])
    assert not gate.passed
    assert gate.details["duplicated_keys"] == 1
    assert gate.details["rows_with_duplicated_keys"] == 2
    assert gate.details["examples"] == ["1/a"]
    assert quality.unique_keys(frame.unique(), ["d", "k"]).passed


def test_completeness_names_the_failing_columns():
    frame = pl.DataFrame({"a": [1, 2, None, 4], "b": [1, 2, 3, 4]})
    gate = quality.completeness(frame, ["a", "b", "c"], 0.95)
    assert not gate.passed
    assert gate.details["failing_columns"] == {"a": 0.75, "c": 0.0}
    assert "a 75.0%" in gate.summary
    assert quality.completeness(frame, ["b"], 0.95).passed
    assert not quality.completeness(frame.head(0), ["b"], 0.95).passed


def test_nothing_after_counts_late_values():
    day = dt.date(2025, 1, 10)
    frame = pl.DataFrame({"id": ["x", "y", "z"],
                          "eff": [dt.date(2025, 1, 9), dt.date(2025, 1, 10), dt.date(2025, 1, 11)]})
    gate = quality.nothing_after(frame, ["eff"], day, "id")
    assert not gate.passed
    assert gate.details["late_values_by_column"] == {"eff": 1}
    assert gate.details["examples"] == ["z: eff=2025-01-11"]
    assert quality.nothing_after(frame.head(2), ["eff"], day, "id").passed


def test_row_count_change_band():
    assert quality.row_count_change(None, 10, 0.2).passed
    assert not quality.row_count_change(None, 0, 0.2).passed
    assert quality.row_count_change(100, 119, 0.2).passed
    failed = quality.row_count_change(100, 70, 0.2)
    assert not failed.passed
    assert failed.details["change_share"] == -0.3
    assert "outside the ±20% band" in failed.summary
