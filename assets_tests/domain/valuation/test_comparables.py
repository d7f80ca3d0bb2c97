"""Comparable renovated sales and the conservative ARV the buy-box uses (domain.valuation.comparables)."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from wholesaler_assets.domain.valuation.buy_box_config import BuyBoxConfig
from wholesaler_assets.domain.valuation.comparables import (
    ArvCheckConfig,
    checked_arv,
    checked_deals,
    find_comparables,
)

DAY = dt.date(2026, 10, 31)


def _sales(rows: list[tuple]) -> pl.DataFrame:
    """(sale_id, property_id, zip, days before DAY, price, sqft, condition_at_sale)"""
    frame = pl.DataFrame(rows, schema=["sale_id", "property_id", "zip_code", "days_ago", "sale_price", "sqft",
                                       "condition_at_sale"], orient="row")
    return frame.with_columns((pl.lit(DAY) - pl.duration(days=pl.col("days_ago"))).alias("sale_date"),
                              (pl.col("sale_price") / pl.col("sqft")).alias("price_per_sqft"),
                              pl.lit(3).alias("beds"), pl.lit(2.0).alias("baths")).drop("days_ago")


def _lead(arv: float | None, market_value: float = 160_000.0, sqft: float = 1_500.0, zip_code: str = "44101",
          condition: str = "distressed") -> pl.DataFrame:
    return pl.DataFrame({"lead_id": ["L1"], "property_id": ["P1"], "zip_code": [zip_code], "sqft": [sqft],
                         "arv": [arv], "market_value": [market_value], "condition": [condition],
                         "mortgage_balance": [0.0]})


SALES = _sales([
    ("S1", "P2", "44101", 30, 300_000.0, 1_500.0, "renovated"),
    ("S2", "P3", "44101", 90, 330_000.0, 1_650.0, "renovated"),
    ("S3", "P4", "44101", 200, 280_000.0, 1_400.0, "renovated"),
    ("S4", "P5", "44101", 10, 150_000.0, 1_500.0, "distressed"),  # not renovated
    ("S5", "P6", "44102", 10, 900_000.0, 1_500.0, "renovated"),  # another ZIP
    ("S6", "P7", "44101", 20, 500_000.0, 2_500.0, "renovated"),  # far bigger
    ("S7", "P8", "44101", 500, 200_000.0, 1_500.0, "renovated"),  # older than a year
    ("S8", "P1", "44101", 40, 310_000.0, 1_500.0, "renovated"),  # the house itself
    ("S9", "P9", "44101", -5, 310_000.0, 1_500.0, "renovated"),  # after the day
])


def test_comparables_are_renovated_same_zip_similar_size_recent_and_not_the_house() -> None:
    comps = find_comparables(_lead(300_000.0), SALES, DAY)
    assert comps["sale_id"].to_list() == ["S1", "S3", "S2"]  # closest in size first (then newest)
    assert comps["comparable_rank"].to_list() == [1, 2, 3] and (comps["search"] == "narrow").all()
    assert comps.columns[:6] == ["lead_id", "comparable_rank", "search", "sale_id", "sale_date", "sale_price"]


def test_with_too_few_recent_sales_the_wider_search_looks_two_years_back() -> None:
    comps = find_comparables(_lead(300_000.0), SALES.filter(pl.col("sale_id") != "S3"), DAY)
    assert set(comps["sale_id"]) == {"S1", "S2", "S7"} and (comps["search"] == "wide").all()


def test_agreeing_comparables_leave_the_model_arv() -> None:
    lead = _lead(310_000.0)
    checked = checked_arv(lead, find_comparables(lead, SALES, DAY)).row(0, named=True)
    assert checked["comparables_arv"] == pytest.approx(200.0 * 1_500)  # median $/sqft 200 x 1,500 sqft
    assert checked["arv"] == 310_000.0 and checked["arv_source"] == "model" and checked["arv_flags"] is None


def test_a_model_arv_far_above_the_comparables_gives_way_to_them_and_is_flagged() -> None:
    lead = _lead(450_000.0)  # 50% above the comparables, 3x the as-is value
    checked = checked_arv(lead, find_comparables(lead, SALES, DAY)).row(0, named=True)
    assert checked["arv"] == pytest.approx(300_000.0) and checked["arv_source"] == "comparables"
    assert checked["model_arv"] == 450_000.0 and checked["arv_flags"] == "far_from_comparables"
    low = _lead(200_000.0)  # far below: the model's lower figure stays, still flagged
    checked = checked_arv(low, find_comparables(low, SALES, DAY)).row(0, named=True)
    assert checked["arv"] == 200_000.0 and checked["arv_source"] == "model"
    assert checked["arv_flags"] == "far_from_comparables"


def test_an_arv_far_above_the_as_is_value_and_missing_comparables_are_flagged() -> None:
    lead = _lead(300_000.0, market_value=100_000.0)  # 3x the as-is value, comparables agree
    checked = checked_arv(lead, find_comparables(lead, SALES, DAY)).row(0, named=True)
    assert checked["arv_flags"] == "far_above_as_is"
    alone = _lead(300_000.0, zip_code="99999")
    checked = checked_arv(alone, find_comparables(alone, SALES, DAY)).row(0, named=True)
    assert checked["comparables"] == 0 and checked["comparables_arv"] is None
    assert checked["arv"] == 300_000.0 and checked["arv_flags"] == "few_comparables"


def test_how_far_above_the_as_is_value_an_arv_may_go_depends_on_the_condition() -> None:
    for condition, flagged in (("distressed", False), (" Good ", True), ("unheard-of", False)):
        lead = _lead(300_000.0, market_value=187_500.0, condition=condition)  # ARV 1.6x the as-is value
        checked = checked_arv(lead, find_comparables(lead, SALES, DAY)).row(0, named=True)
        assert (checked["arv_flags"] == "far_above_as_is") is flagged, condition
    audited, _ = checked_deals(_lead(300_000.0, market_value=187_500.0, condition="good"), SALES, DAY, BuyBoxConfig())
    assert json.loads(audited["buy_box_audit"][0])["arv_choice"]["max_arv_to_value"] == 1.4


def test_the_band_is_configurable_and_validated() -> None:
    lead = _lead(330_000.0)  # 10% above the comparables
    assert checked_arv(lead, find_comparables(lead, SALES, DAY))["arv_source"][0] == "model"
    tight = ArvCheckConfig(band=0.05)
    assert checked_arv(lead, find_comparables(lead, SALES, DAY, tight), tight)["arv_source"][0] == "comparables"
    with pytest.raises(ValueError, match="max_arv_to_value"):
        ArvCheckConfig(max_arv_to_value={"good": 0.9})
    with pytest.raises(ValueError, match="min_comparables"):
        ArvCheckConfig(min_comparables=6)


def test_the_buy_box_runs_on_the_conservative_arv_and_its_audit_says_which() -> None:
    audited, comps = checked_deals(_lead(450_000.0), SALES, DAY, BuyBoxConfig())
    audit = json.loads(audited["buy_box_audit"][0])
    assert audit["inputs"]["arv"] == pytest.approx(300_000.0)
    assert audit["arv_choice"]["used"] == "comparables" and audit["arv_choice"]["model_arv"] == 450_000.0
    assert audit["arv_choice"]["flags"] == ["far_from_comparables"] and audit["arv_choice"]["band"] == 0.15
    assert audited["conservative_profit"][0] == pytest.approx(audit["figures"]["conservative_profit"], abs=0.01)
    assert comps.height == 3
