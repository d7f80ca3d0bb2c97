"""The monitoring's verdicts over a market's days, called as plain functions.

What the daily assets decide (`drift_report`'s dataset drift, `realized_performance`'s calibration
gate), computed from in-memory frames for many days at once, so tests and `bench_replay` can ask
how soon a planted shift raises an alarm and how often a stationary market raises one by chance.
Every verdict comes from the assets' own functions (`drift.drift_report`, `daily.pools_checks`,
`daily.calibration_gate`, `records_as_of`, `record_features`); only the reading and writing of the
warehouse is left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import polars as pl

from wholesaler_assets.domain.features.contract import source_feature_contract
from wholesaler_assets.domain.features.lead_features import record_features
from wholesaler_assets.domain.features.warehouse_records import records_as_of
from wholesaler_assets.domain.features.zip_market import levels_known_on, zip_market_levels, zip_metros
from wholesaler_assets.domain.gates.result import GateResult
from wholesaler_assets.domain.monitoring.daily import (
    LONG_POOL_DAYS,
    POOL_DAYS,
    Z_LIMIT,
    calibration_gate,
    drift_columns,
    pools_checks,
    scored_targets,
)
from wholesaler_assets.domain.monitoring.drift import DRIFT_SHARE, DriftSummary, drift_report
from wholesaler_assets.domain.monitoring.labels import end_of
from wholesaler_assets.domain.monitoring.segment_shift import SegmentShift, segment_shifts, shifted_segments
from wholesaler_assets.domain.snapshots.lead_tables import (
    comparable_sales_from_source,
    lead_contacts_from_source,
    lead_outcomes_from_source,
)
from wholesaler_assets.domain.snapshots.properties import build_property_snapshot


@dataclass(frozen=True)
class WarehouseFrames:
    """What the warehouse holds after ingestion of a market's sources (rows of every day)."""

    properties: pl.DataFrame
    distress_events: pl.DataFrame
    contacts: pl.DataFrame  # lead_contacts
    outcomes: pl.DataFrame  # lead_outcomes
    sales: pl.DataFrame  # comparable_sales


def warehouse_frames(sources: Mapping[str, pl.DataFrame]) -> WarehouseFrames:
    """The lead tables and comparable sales of raw sources (`SyntheticMarket.source(name)` or landing files)."""
    return WarehouseFrames(sources["properties"], sources["distress_events"],
                           lead_contacts_from_source(sources["contacts"]),
                           lead_outcomes_from_source(sources["outcomes"]),
                           comparable_sales_from_source(sources["sales"]))


def outcomes_known_by(outcomes: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """lead_outcomes as the warehouse holds them at the end of `day` (later outcome times unknown yet)."""
    end = end_of(day)
    return outcomes.with_columns(pl.when(pl.col(c) < end).then(pl.col(c)).alias(c)
                                 for c in outcomes.columns if c.endswith("_at"))


def active_lead_features(frames: WarehouseFrames, day: dt.date) -> pl.DataFrame:
    """The features of every active lead on `day` (the scored_leads population), from what was known by then."""
    end = end_of(day)
    sales = frames.sales.filter(pl.col("sale_date") <= day)
    levels = zip_market_levels(sales)
    snapshot = build_property_snapshot(frames.properties, frames.distress_events, day)
    records = records_as_of(day, snapshot, frames.contacts.filter(pl.col("contact_time") < end),
                            outcomes_known_by(frames.outcomes, day))
    return record_features(records, levels, zip_metros(sales), levels_known_on(levels, day, "zip_price_trend"))


@dataclass(frozen=True)
class DayDrift:
    """What `drift_report` finds on a day: Evidently's summary and the metros' paired value shifts."""

    summary: DriftSummary
    shifts: list[SegmentShift]


@dataclass(frozen=True)
class DayVerdict:
    """The monitoring's alarms of one day."""

    day: dt.date
    drift: DayDrift | None
    calibration: GateResult | None

    @property
    def dataset_drift(self) -> bool:
        return self.drift is not None and self.drift.summary.dataset_drift

    @property
    def value_shift(self) -> bool:
        return self.drift is not None and bool(shifted_segments(self.drift.shifts))

    @property
    def calibration_broke(self) -> bool:
        return self.calibration is not None and not self.calibration.passed

    @property
    def alarm(self) -> bool:
        return self.dataset_drift or self.value_shift or self.calibration_broke


def drift_verdicts(frames: WarehouseFrames, reference_day: dt.date, days: Iterable[dt.date],
                   drift_share: float = DRIFT_SHARE) -> dict[dt.date, DayDrift]:
    """Dataset drift and metro value shifts of each day's active leads against those of `reference_day`
    (the champion's first day)."""
    kinds = {f.name: f.kind for f in source_feature_contract().features}
    reference = active_lead_features(frames, reference_day)
    numerical, categorical, _ = drift_columns(reference, kinds)
    verdicts = {}
    for day in days:
        current = active_lead_features(frames, day)
        verdicts[day] = DayDrift(drift_report(reference, current, numerical, categorical, [], drift_share=drift_share),
                                 segment_shifts(reference, current))
    return verdicts


def calibration_verdicts(scored: pl.DataFrame, outcomes: pl.DataFrame, days: Iterable[dt.date],
                         pool_lengths: tuple[int, ...] = (POOL_DAYS, LONG_POOL_DAYS),
                         z_limit: float = Z_LIMIT) -> dict[dt.date, GateResult]:
    """The calibration gate of each day over scored contacts (`daily.scored_contacts` rows of any days)."""
    verdicts = {}
    for day in days:
        known = outcomes_known_by(outcomes, day)
        checks = [c for target in scored_targets(scored)
                  for c in pools_checks(scored, known, target, day, pool_lengths)]
        verdicts[day] = calibration_gate(checks, z_limit)
    return verdicts


def days_to_first(verdicts: Iterable[DayVerdict], since: dt.date, alarm: str = "alarm") -> int | None:
    """Days from `since` to the first verdict on or after it whose `alarm` property is true (None: never)."""
    hits = sorted(v.day for v in verdicts if v.day >= since and getattr(v, alarm))
    return (hits[0] - since).days if hits else None
