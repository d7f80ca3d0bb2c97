"""The caller's export: plain headers, rounding, order without ties at the top, and the owner join."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from wholesaler_assets.domain.scoring.caller_queue import (
    CALLER_COLUMNS,
    OwnerFileError,
    attach_owner_contacts,
    caller_export,
    technical_export,
    with_checked_deals,
)
from wholesaler_assets.domain.scoring.ranking import queue_order

ML_COLUMNS = ("split", "reasons_method", "priority_basis", "model_run_id", "reasons_as_of", "model_version",
              "top_reasons", "feature_hash", "buy_box_settings", "arv_method")


def _scored(n: int = 6) -> pl.DataFrame:
    """Scored leads as the warehouse keeps them; the first three share priority 100 (saturated)."""
    ev = [30_000.123456, 25_000.987654, 21_000.5, 900.4, 50.0, None][:n]
    return pl.DataFrame({
        "lead_id": ["L3", "L1", "new-P00000009", "L4", "L5", "L6"][:n],
        "property_id": ["P3", "P1", "P00000009", "P4", "P5", "P6"][:n],
        "scoring_date": [dt.date(2026, 10, 31)] * n,
        "p_booked_call_7d": [0.23805463295835527, 0.5, 0.1, 0.05, 0.01, 0.2][:n],
        "p_deal_30d": [0.31234, 0.25, 0.2, 0.02, 0.001, 0.01][:n],
        "arv": [400_123.7, 300_000.4, 250_000.0, 200_000.0, 150_000.0, None][:n],
        "arv_method": ["model"] * n,
        "max_allowable_offer": [200_000.5] * n, "seller_price": [100_000.0] * n,
        "conservative_profit": [96_000.4, 100_003.96, 105_002.5, 45_020.0, 50_000.0, None][:n],
        "passes_buy_box": [True, True, True, True, True, False][:n],
        "expected_value": ev,
        "priority_score": [100.0, 100.0, 100.0, 45.18, 3.28, 0.0][:n],
        "priority_basis": ["expected_value"] * n, "tier": ["A", "A", "A", "B", "D", "D"][:n],
        "top_reasons": ["equity_share, tax_owed_share"] * n,
        "narrative": ["62% equity and two years of unpaid taxes raise the chance."] * n,
        "reasons_method": ["exact"] * n, "reasons_as_of": [dt.date(2026, 10, 31)] * n,
        "model_version": ["lead_scorer v1"] * n, "model_run_id": ["abc123"] * n,
        "zip_code": ["44101"] * n, "condition": ["distressed"] * n, "sqft": [1_500.0] * n,
        "market_value": [150_000.4] * n, "mortgage_balance": [0.0] * n, "split": ["holdout"] * n,
    })


def test_the_caller_file_has_plain_headers_and_no_ml_columns() -> None:
    export = caller_export(queue_order(_scored()))
    assert export.columns == list(CALLER_COLUMNS)
    assert export.columns[:5] == ["Rank", "Lead ID", "Property ID", "New lead", "Tier"]
    assert not set(export.columns) & set(ML_COLUMNS)
    assert all(" " in c or c in ("Rank", "Tier", "ZIP", "Condition") for c in export.columns)  # words, not ids


def test_money_is_whole_dollars_and_chances_are_percentages() -> None:
    row = caller_export(queue_order(_scored())).row(0, named=True)
    assert row["Lead ID"] == "L3"
    assert row["Expected value ($)"] == 30_000 and row["ARV ($)"] == 400_124 and row["As-is value ($)"] == 150_000
    assert row["Conservative profit ($)"] == 96_000 and row["Tier A profit ($)"] == 96_000
    assert row["Chance of a booked call in 7 days"] == "23.8%" and row["Chance of a deal in 30 days"] == "31.2%"
    assert row["Priority (0-100)"] == 100.0 and row["Why this lead"].startswith("62% equity")
    assert row["Passes buy-box"] == "yes" and row["Scored on"] == "2026-10-31"
    lower = caller_export(queue_order(_scored())).filter(pl.col("Tier") != "A")
    assert lower["Tier A profit ($)"].is_null().all()  # the tier-A profit is tier A's only


def test_saturated_priorities_keep_their_true_order_and_ranks_never_tie() -> None:
    export = caller_export(queue_order(_scored().sample(fraction=1.0, shuffle=True, seed=3)))
    assert export["Rank"].to_list() == list(range(1, 7))
    top = export.filter(pl.col("Priority (0-100)") == 100.0)
    assert top.height == 3  # shown equal after rounding ...
    assert top["Lead ID"].to_list() == ["L3", "L1", "new-P00000009"]  # ... ordered by expected value below it
    assert top["Expected value ($)"].is_sorted(descending=True) and top["Expected value ($)"].n_unique() == 3
    assert export["Priority (0-100)"].is_sorted(descending=True)


def test_new_leads_are_marked() -> None:
    export = caller_export(queue_order(_scored()))
    assert export.filter(pl.col("New lead") == "yes")["Lead ID"].to_list() == ["new-P00000009"]


def test_the_technical_file_keeps_every_ml_column_at_full_precision() -> None:
    queue = queue_order(_scored())
    technical = technical_export(queue)
    assert technical.columns[:2] == ["lead_id", "queue_rank"]
    assert set(ML_COLUMNS) - {"feature_hash", "buy_box_settings"} <= set(technical.columns)
    assert technical["p_booked_call_7d"][0] == 0.23805463295835527
    assert technical["lead_id"].to_list() == caller_export(queue)["Lead ID"].to_list()


def test_owner_contacts_join_by_property_id_and_unknown_properties_stay_empty() -> None:
    export = caller_export(queue_order(_scored()))
    owners = pl.DataFrame({"property_id": [" P1", "P4", "P99"], "owner_name": ["Ann Lee", "Bo Li", "X"],
                           "owner_phone": ["0216-555-0101", "216-555-0199", "1"]})
    joined = attach_owner_contacts(export, owners)
    assert joined.columns == [*export.columns, "owner_name", "owner_phone"]
    assert joined.select(pl.exclude("owner_name", "owner_phone")).equals(export)  # nothing else changes
    by_property = dict(zip(joined["Property ID"], joined["owner_phone"], strict=True))
    assert by_property["P1"] == "0216-555-0101" and by_property["P4"] == "216-555-0199"
    assert by_property["P3"] is None and "X" not in joined["owner_name"].to_list()


@pytest.mark.parametrize(("owners", "message"), [
    (pl.DataFrame({"parcel": ["P1"], "owner_phone": ["1"]}), "needs a property_id column"),
    (pl.DataFrame({"property_id": ["P1"]}), "no contact column"),
    (pl.DataFrame({"property_id": ["P1", "P1"], "owner_phone": ["1", "2"]}), "more than once.*P1"),
    (pl.DataFrame({"property_id": ["P1"], "Tier": ["Z"]}), "clash"),
])
def test_a_bad_owner_file_is_refused_naming_the_problem(owners: pl.DataFrame, message: str) -> None:
    with pytest.raises(OwnerFileError, match=message):
        attach_owner_contacts(caller_export(queue_order(_scored())), owners)


def test_checked_deals_replace_the_tier_a_figures_only() -> None:
    queue = queue_order(_scored())
    checked = pl.DataFrame({"lead_id": ["L3"], "arv": [300_000.0], "model_arv": [400_123.7],
                            "comparables_arv": [300_000.0], "comparables": [4], "arv_source": ["comparables"],
                            "arv_flags": ["far_from_comparables"], "conservative_profit": [10_000.0],
                            "passes_buy_box": [False]})
    patched = with_checked_deals(queue, checked)
    assert patched["lead_id"].to_list() == queue["lead_id"].to_list()
    row = caller_export(patched).row(0, named=True)
    assert row["ARV ($)"] == 300_000 and row["ARV check"] == "far from comparables"
    assert row["Tier A profit ($)"] == 10_000 and row["Passes buy-box"] == "no"
    assert caller_export(patched).row(1, named=True)["ARV ($)"] == 300_000  # L1 keeps its own
