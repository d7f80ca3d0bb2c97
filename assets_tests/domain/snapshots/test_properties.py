"""Point-in-time snapshots on a hand-built example: changes the day before, on and after the date."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from wholesaler_assets.domain.contracts.sources import CONTRACTS
from wholesaler_assets.domain.snapshots.properties import build_property_snapshot

D = dt.date(2025, 6, 15)


def _properties(rows: list[dict]) -> pl.DataFrame:
    base = {c: None for c in CONTRACTS["properties"].column_names}
    return pl.DataFrame([{**base, **r} for r in rows], schema=CONTRACTS["properties"].polars_schema)


def _events(rows: list[dict]) -> pl.DataFrame:
    base = {c: None for c in CONTRACTS["distress_events"].column_names}
    return pl.DataFrame([{**base, **r} for r in rows], schema=CONTRACTS["distress_events"].polars_schema)


def _record(pid: str, eff: dt.date, value: float, **extra) -> dict:
    return {"property_id": pid, "effective_date": eff, "metro": "Orlando", "zip_code": "32801",
            "property_type": "single_family", "sqft": 1500, "market_value": value, "mortgage_balance": 50_000.0,
            "estimated_equity": value - 50_000, "owner_type": "individual", "owner_occupied": True,
            "last_sale_date": dt.date(2015, 6, 15), **extra}


PROPERTIES = _properties([
    _record("P00000001", dt.date(2025, 1, 1), 200_000.0),
    _record("P00000001", D - dt.timedelta(days=1), 210_000.0),  # the day before: known
    _record("P00000002", dt.date(2025, 1, 1), 300_000.0),
    _record("P00000002", D, 320_000.0),  # on the date: known
    _record("P00000003", dt.date(2025, 1, 1), 400_000.0),
    _record("P00000003", D + dt.timedelta(days=1), 999_000.0),  # the day after: not yet known
    _record("P00000004", D + dt.timedelta(days=1), 500_000.0),  # first known after the date: absent
    # a later record that does not report owner_type keeps the earlier value
    _record("P00000005", dt.date(2025, 1, 1), 100_000.0, owner_type="estate"),
    {**_record("P00000005", dt.date(2025, 3, 1), 110_000.0), "owner_type": None},
])


def test_attribute_takes_latest_value_on_or_before_the_date():
    snap = build_property_snapshot(PROPERTIES, _events([]), D)
    values = dict(zip(snap["property_id"], snap["market_value"], strict=True))
    assert values == {"P00000001": 210_000.0, "P00000002": 320_000.0, "P00000003": 400_000.0,
                      "P00000005": 110_000.0}
    assert "P00000004" not in values
    assert snap.filter(pl.col("property_id") == "P00000005")["owner_type"][0] == "estate"
    assert (snap["record_effective_date"] <= D).all()
    assert (snap["snapshot_date"] == D).all()


def test_pii_never_enters_a_snapshot():
    snap = build_property_snapshot(PROPERTIES, _events([]), D)
    assert not set(CONTRACTS["properties"].pii_columns) & set(snap.columns)


def test_derived_state_is_computed_as_of_the_date():
    snap = build_property_snapshot(PROPERTIES, _events([]), D).filter(pl.col("property_id") == "P00000001")
    assert snap["equity_share"][0] == pytest.approx(160_000 / 210_000)
    assert snap["years_owned"][0] == pytest.approx(3653 / 365.25)
    assert snap["absentee_owner"][0] is False


def test_distress_is_active_only_between_filing_and_resolution():
    events = _events([
        # filed the day before, unresolved: active
        {"event_id": "E00000001", "property_id": "P00000001", "event_type": "tax_delinquency",
         "event_date": D - dt.timedelta(days=1), "tax_amount_owed": 4_000.0, "tax_years_delinquent": 2},
        # filed on the date, auction in 40 days: active
        {"event_id": "E00000002", "property_id": "P00000002", "event_type": "foreclosure",
         "event_date": D, "auction_date": D + dt.timedelta(days=40)},
        # filed the day after: unknown
        {"event_id": "E00000003", "property_id": "P00000003", "event_type": "probate",
         "event_date": D + dt.timedelta(days=1)},
        # resolved on the date: no longer active, but still counted in trailing windows
        {"event_id": "E00000004", "property_id": "P00000005", "event_type": "code_violation",
         "event_date": D - dt.timedelta(days=20), "resolved_date": D, "violation_type": "overgrowth"},
        # resolved after the date: still active as of the date
        {"event_id": "E00000005", "property_id": "P00000005", "event_type": "vacancy",
         "event_date": D - dt.timedelta(days=100), "resolved_date": D + dt.timedelta(days=5)},
    ])
    snap = build_property_snapshot(PROPERTIES, events, D).sort("property_id")
    by_id = {r["property_id"]: r for r in snap.iter_rows(named=True)}
    assert by_id["P00000001"]["tax_delinquent"] is True
    assert by_id["P00000001"]["tax_amount_owed"] == 4_000.0
    assert by_id["P00000001"]["days_since_latest_event"] == 1
    assert by_id["P00000002"]["in_foreclosure"] is True
    assert by_id["P00000002"]["days_to_auction"] == 40
    assert by_id["P00000003"]["in_probate"] is False
    assert by_id["P00000003"]["distress_signal_count"] == 0
    assert by_id["P00000005"]["open_code_violations"] == 0
    assert by_id["P00000005"]["vacant"] is True
    assert by_id["P00000005"]["distress_signal_count"] == 1
    assert by_id["P00000005"]["distress_events_30d"] == 1
    assert by_id["P00000005"]["distress_events_365d"] == 2
    assert (snap["latest_event_date"].drop_nulls() <= D).all()
