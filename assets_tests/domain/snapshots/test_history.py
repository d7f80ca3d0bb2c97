"""A history of consecutive days: each day as a day alone, gates against the day before, one day at a time."""

from __future__ import annotations

import datetime as dt

import pytest

from wholesaler_assets.domain.gates.data_quality import QualityThresholds
from wholesaler_assets.domain.snapshots.history import days_between, first_unknown_day, snapshot_history
from wholesaler_assets.domain.snapshots.properties import build_property_snapshot

from .test_properties import _events, _properties, _record

D = dt.date(2025, 6, 15)
# One property known from January, a second from D: D's row count doubles.
PROPERTIES = _properties([_record("P00000001", dt.date(2025, 1, 1), 200_000.0),
                          _record("P00000002", D, 300_000.0)])
EVENTS = _events([])


def test_each_day_is_what_a_day_alone_builds_and_gates_against_the_day_before():
    days = days_between(D - dt.timedelta(days=2), D + dt.timedelta(days=1))
    history = list(snapshot_history(PROPERTIES, EVENTS, days, previous_rows=1, thresholds=QualityThresholds()))
    assert [h.day for h in history] == days
    for h in history:
        assert h.snapshot.equals(build_property_snapshot(PROPERTIES, EVENTS, h.day))
    row_gates = [next(g for g in h.gates if g.name == "row_count_change_within_band") for h in history]
    assert [g.details["previous_rows"] for g in row_gates] == [1, 1, 1, 2]  # the first from before the history
    assert [g.passed for g in row_gates] == [True, True, False, True]  # 1 -> 2 on D


def test_days_are_built_one_at_a_time():
    history = snapshot_history(PROPERTIES, EVENTS, days_between(D, D + dt.timedelta(days=400)), None,
                               QualityThresholds())
    assert next(history).day == D  # a generator: nothing beyond the day asked for is built


def test_a_history_takes_consecutive_days_and_names_the_first_day_nothing_is_known():
    with pytest.raises(ValueError, match="consecutive"):
        list(snapshot_history(PROPERTIES, EVENTS, [D, D + dt.timedelta(days=2)], None, QualityThresholds()))
    assert first_unknown_day(PROPERTIES, days_between(dt.date(2024, 12, 30), dt.date(2025, 1, 2))) == \
        dt.date(2024, 12, 30)
    assert first_unknown_day(PROPERTIES, [D]) is None
    assert first_unknown_day(PROPERTIES.head(0), [D]) == D
