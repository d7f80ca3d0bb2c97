"""A run of consecutive daily snapshots, built and gated one day at a time.

A history (a backfill of many days in one run) reads the raw records once, up to its last day,
and builds each day from them with `build_property_snapshot`, which keeps only what was known by
that day: the same rows a run of that day alone builds. Days are yielded one at a time, so a
caller that writes each day before asking for the next holds one day in memory, never the range.
The row-count gate of a day compares with the day before it, built earlier in the same history,
and the first day with `previous_rows` (the stored snapshot before the history, if any).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import polars as pl

from wholesaler_assets.domain.gates.data_quality import QualityThresholds
from wholesaler_assets.domain.gates.result import GateResult
from wholesaler_assets.domain.gates.tables import snapshot_gates
from wholesaler_assets.domain.snapshots.properties import REQUIRED_SNAPSHOT_COLUMNS, build_property_snapshot


@dataclass(frozen=True)
class DaySnapshot:
    """One day of a history: the snapshot and the verdicts of its gates."""

    day: dt.date
    snapshot: pl.DataFrame
    gates: list[GateResult]


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day from `first` to `last`, both included."""
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def first_unknown_day(properties: pl.DataFrame, days: Sequence[dt.date]) -> dt.date | None:
    """The first of `days` on which no property record is effective yet (None: every day has one)."""
    known_from = properties["effective_date"].min() if properties.height else None
    if not isinstance(known_from, dt.date):
        return days[0] if days else None
    return next((d for d in days if d < known_from), None)


def snapshot_history(properties: pl.DataFrame, distress_events: pl.DataFrame, days: Sequence[dt.date],
                     previous_rows: int | None, thresholds: QualityThresholds) -> Iterator[DaySnapshot]:
    """Each day's snapshot and gates, in date order; `days` must be consecutive and ascending."""
    if any((b - a).days != 1 for a, b in zip(days, days[1:], strict=False)):
        raise ValueError("a snapshot history takes consecutive days in ascending order")
    for day in days:
        snapshot = build_property_snapshot(properties, distress_events, day)
        gates = snapshot_gates(snapshot, REQUIRED_SNAPSHOT_COLUMNS, day, previous_rows, thresholds)
        yield DaySnapshot(day, snapshot, gates)
        previous_rows = snapshot.height
