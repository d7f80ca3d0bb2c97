"""Training tables by hand: the as-of join, labels and censoring, temporal splits and the contract."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from wholesaler_assets.domain.contracts.targets import TARGETS
from wholesaler_assets.domain.features.contact_features import source_contact_features
from wholesaler_assets.domain.features.contract import (
    FeatureContract,
    contract_violations,
    source_feature_contract,
    spec_feature_contract,
)
from wholesaler_assets.domain.features.warehouse_records import SNAPSHOT_COLUMNS, contact_history
from wholesaler_assets.domain.gates import data_quality as quality
from wholesaler_assets.domain.training.labels import label_contacts
from wholesaler_assets.domain.training.splits import SplitConfig, assign_splits, blocked_folds
from wholesaler_assets.domain.training.table import build_training_table


def _ts(day: str, hour: int = 15) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)


def _snapshot(day: str, pid: str, market_value: float, **extra) -> dict:
    row = {c: None for c in SNAPSHOT_COLUMNS}
    row.update(snapshot_date=dt.date.fromisoformat(day), property_id=pid, metro="Tampa", zip_code="33601",
               market_value=market_value, record_effective_date=dt.date.fromisoformat(day),
               estimated_equity=market_value / 2,
               years_owned=10.0, tax_delinquent=False, in_foreclosure=False, distress_signal_count=0)
    row.update(extra)
    return row


SNAPSHOT_SCHEMA = {"snapshot_date": pl.Date, "property_id": pl.String, "record_effective_date": pl.Date,
                   "latest_event_date": pl.Date, "market_value": pl.Float64, "estimated_equity": pl.Float64,
                   "years_owned": pl.Float64, "tax_delinquent": pl.Boolean, "in_foreclosure": pl.Boolean,
                   "distress_signal_count": pl.Int64, "beds": pl.Int64, "baths": pl.Float64, "sqft": pl.Int64,
                   "year_built": pl.Int64, "tax_amount_owed": pl.Float64, "tax_years_delinquent": pl.Int64,
                   "days_to_auction": pl.Int64, "open_code_violations": pl.Int64, "distress_events_90d": pl.Int64,
                   "distress_events_365d": pl.Int64, "absentee_owner": pl.Boolean, "out_of_state_owner": pl.Boolean,
                   "in_probate": pl.Boolean, "vacant": pl.Boolean}
SNAPSHOTS = pl.DataFrame([
    _snapshot("2025-03-01", "P00000001", 100_000.0),
    _snapshot("2025-03-08", "P00000001", 200_000.0),  # the contact's own date: used
    _snapshot("2025-03-09", "P00000001", 900_000.0),  # the day after: never used
    _snapshot("2025-03-01", "P00000002", 300_000.0),
], schema_overrides=SNAPSHOT_SCHEMA)


def _contacts(rows: list[tuple[str, str, str, dt.datetime, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["contact_id", "lead_id", "property_id", "contact_time", "channel"],
                        orient="row").with_columns(campaign_step=pl.int_range(pl.len()).over("lead_id") + 1,
                                                   campaign_id=pl.lit("CMP"))


CONTACTS = _contacts([
    ("C00000001", "L00000001", "P00000001", _ts("2025-03-08"), "sms"),
    ("C00000002", "L00000002", "P00000002", _ts("2025-03-05"), "cold_call"),
    ("C00000003", "L00000002", "P00000002", _ts("2025-03-20"), "door_knock"),
    ("C00000004", "L00000003", "P00000099", _ts("2025-03-05"), "sms"),  # no snapshot for this property
])
NO_SALES = pl.DataFrame(schema={"zip_code": pl.String, "metro": pl.String, "sale_date": pl.Date,
                                "price_per_sqft": pl.Float64})


def test_as_of_join_takes_the_latest_snapshot_on_or_before_the_contact_date():
    features = source_contact_features(CONTACTS, SNAPSHOTS, NO_SALES)
    by_id = {r["contact_id"]: r for r in features.iter_rows(named=True)}
    assert by_id["C00000001"]["market_value"] == 200_000.0
    assert by_id["C00000001"]["snapshot_date"] == dt.date(2025, 3, 8)
    assert by_id["C00000003"]["market_value"] == 300_000.0
    assert by_id["C00000003"]["years_owned"] == pytest.approx(10 + 19 / 365.25)  # aged to the contact date
    assert by_id["C00000004"]["snapshot_date"] is None
    assert features["contact_time"].is_sorted()
    assert quality.nothing_known_after_contact(features).passed


def test_contact_history_counts_only_earlier_contacts():
    history = contact_history(CONTACTS).filter(pl.col("lead_id") == "L00000002").sort("contact_time")
    assert history["prior_contacts"].to_list() == [0, 1]
    assert history["prior_cold_call"].to_list() == [0, 1]
    assert history["prior_door_knock"].to_list() == [0, 0]
    assert history["last_contact_date"].to_list() == [None, dt.date(2025, 3, 5)]


def test_planted_future_feature_is_caught_by_the_leakage_gate():
    features = source_contact_features(CONTACTS, SNAPSHOTS, NO_SALES)
    planted = features.with_columns(
        feature_known_at=pl.when(pl.col("contact_id") == "C00000002")
        .then(pl.col("contact_time") + dt.timedelta(days=3)).otherwise(pl.col("feature_known_at")))
    gate = quality.nothing_known_after_contact(planted)
    assert not gate.passed
    assert gate.details["rows"] == 1
    assert "C00000002" in gate.details["examples"][0]


OUTCOMES = pl.DataFrame({
    "lead_id": ["L00000001", "L00000002", "L00000003"],
    "call_booked_at": [_ts("2025-03-10"), _ts("2025-03-25"), None],
    "qualified_at": [None, None, None],
    "contract_signed_at": [None, None, None],
}, schema_overrides={"call_booked_at": pl.Datetime("us", "UTC"), "qualified_at": pl.Datetime("us", "UTC"),
                     "contract_signed_at": pl.Datetime("us", "UTC")})


def test_labels_come_from_the_window_after_the_contact_and_censor_open_windows():
    features = source_contact_features(CONTACTS, SNAPSHOTS, NO_SALES)
    labelled = label_contacts(features, OUTCOMES, TARGETS["booked_call_7d"], "outcome_time",
                              data_cutoff=_ts("2025-03-26", 0))
    labels = dict(zip(labelled.frame["contact_id"], labelled.frame["label"], strict=True))
    # C1 booked 2 days later: 1. C2's booking came 20 days later: 0. C3 (Mar 20) has its window open
    # at the Mar 26 cutoff: censored, not a negative. C4 never booked: 0.
    assert labels == {"C00000001": 1, "C00000002": 0, "C00000004": 0}
    assert labelled.censored == 1


def test_outcome_before_contact_is_caught():
    early = OUTCOMES.with_columns(call_booked_at=pl.lit(_ts("2025-03-01")).dt.cast_time_unit("us"))
    features = source_contact_features(CONTACTS, SNAPSHOTS, NO_SALES)
    labelled = label_contacts(features, early, TARGETS["booked_call_7d"], "outcome_time", _ts("2025-12-31"))
    gate = quality.no_outcome_before_contact(labelled.frame)
    assert not gate.passed and gate.details["rows"] == 4  # every contact came after the planted outcome


def test_provided_labels_are_taken_as_given_with_censoring():
    features = CONTACTS.select("contact_id", "lead_id", "contact_time")
    outcomes = pl.DataFrame({"lead_id": ["L00000001", "L00000002", "L00000003"],
                             "label_booked_call_7d": [1, 0, None]}, schema_overrides={"label_booked_call_7d": pl.Int8})
    labelled = label_contacts(features, outcomes, TARGETS["booked_call_7d"], "provided_label", _ts("2025-03-26", 0))
    assert dict(zip(labelled.frame["contact_id"], labelled.frame["label"], strict=True)) == {
        "C00000001": 1, "C00000002": 0}
    assert labelled.censored == 1


def _timeline(days: int) -> pl.DataFrame:
    start = _ts("2025-01-01")
    return pl.DataFrame({"contact_id": [f"C{i:08d}" for i in range(days)],
                         "contact_time": [start + dt.timedelta(days=i) for i in range(days)]})


def test_holdout_is_the_latest_share_and_label_windows_do_not_reach_into_it():
    table = assign_splits(_timeline(100), SplitConfig(holdout_share=0.2, label_window_days=7))
    split = table["split"].to_list()
    assert split[80:] == ["holdout"] * 20
    assert split[73:80] == ["gap"] * 7
    assert set(split[:73]) == {"train"}


def test_fold_boundaries_respect_the_gap():
    config = SplitConfig(holdout_share=0.2, n_folds=4, gap_days=30, label_window_days=7)
    table = assign_splits(_timeline(400), config)
    folds = blocked_folds(table, config).join(table, on="contact_id")
    assert sorted(folds["fold"].unique()) == [1, 2, 3, 4]
    for fold in range(1, 5):
        part = folds.filter(pl.col("fold") == fold)
        train = part.filter(pl.col("role") == "train")["contact_time"]
        validation = part.filter(pl.col("role") == "validation")["contact_time"]
        assert train.max() + dt.timedelta(days=30) < validation.min()
    holdout = set(table.filter(pl.col("split") != "train")["contact_id"])
    assert not holdout & set(folds["contact_id"])  # folds never touch the gap or the holdout


def test_feature_contract_names_offending_columns_and_round_trips():
    contract = source_feature_contract()
    assert FeatureContract.from_json(contract.to_json()) == contract
    assert contract.version.startswith("fc-")
    table = pl.DataFrame({f.name: pl.Series([], dtype=pl.Float64) for f in contract.features
                          if f.kind == "numeric"})
    violations = contract_violations(table, contract)
    assert violations["channel"] == "missing from the table"
    broken = pl.DataFrame({"sqft": [1500.0, -3.0], "channel": ["sms", "pigeon"]})
    small = FeatureContract("t", tuple(f for f in contract.features if f.name in ("sqft", "channel")))
    violations = contract_violations(broken, small)
    assert set(violations) == {"sqft", "channel"}
    assert "in 1 rows" in violations["sqft"] and "pigeon" in violations["channel"]
    assert spec_feature_contract("x", {"a": "numeric"}).version != small.version


def test_training_table_keeps_no_pii_and_orders_columns():
    features = source_contact_features(CONTACTS, SNAPSHOTS, NO_SALES)
    built = build_training_table(features, OUTCOMES, TARGETS["booked_call_7d"], "outcome_time",
                                 _ts("2025-12-31"), source_feature_contract(), n_folds=2)
    assert built.table.columns[:9] == ["contact_id", "lead_id", "property_id", "contact_time", "snapshot_date",
                                       "feature_known_at", "outcome_time", "label", "split"]
    assert not {"owner_name", "owner_phone", "address"} & set(built.table.columns)
    assert built.table["market_value"].dtype == pl.Float64
