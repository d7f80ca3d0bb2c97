"""Expected value, priority, tiers, queue order, report figures and the lead_scores contract."""

from __future__ import annotations

import datetime as dt
import json
import math

import polars as pl
import pytest

from wholesaler_assets.domain.scoring.ranking import (
    TierConfig,
    profitability_report,
    queue_order,
    rank_leads,
    tier_figures,
)
from wholesaler_assets.domain.scoring.score_rows import diff_rows, long_scores, select_rows
from wholesaler_assets.domain.valuation.buy_box_frame import evaluate_deals

CONFIG = TierConfig(ev_scale=500.0, tier_a_min_priority=60, tier_b_min_priority=35, tier_c_min_priority=15)


def leads(**columns) -> pl.DataFrame:
    base = {"lead_id": ["a", "b", "c", "d"], "p_deal_30d": [0.05, 0.05, 0.01, 0.0],
            "conservative_profit": [40_000.0, 19_999.0, 30_000.0, None],
            "passes_buy_box": [True, False, True, False]}
    base.update(columns)
    return pl.DataFrame(base)


def test_expected_value_priority_and_tiers_by_hand():
    ranked = rank_leads(leads(), "p_deal_30d", CONFIG).rows_by_key("lead_id", named=True, unique=True)
    assert ranked["a"]["expected_value"] == pytest.approx(2_000.0)
    assert ranked["a"]["priority_score"] == pytest.approx(round(100 * (1 - math.exp(-4)), 2))
    assert ranked["a"]["tier"] == "A"
    # same probability, profit just under the buy-box: a high score but never tier A
    assert ranked["b"]["priority_score"] > 60 and ranked["b"]["tier"] == "B"
    assert ranked["c"]["expected_value"] == pytest.approx(300.0) and ranked["c"]["tier"] == "B"
    assert ranked["d"]["expected_value"] is None and ranked["d"]["priority_basis"] == "probability_only"
    assert ranked["d"]["tier"] == "D"


def test_a_lost_deal_is_worth_nothing_not_less():
    ranked = rank_leads(leads(conservative_profit=[-50_000.0, 0.0, 1.0, 2.0]), "p_deal_30d", CONFIG)
    assert ranked["expected_value"][0] == 0.0 and ranked["priority_score"][0] == 0.0


def test_tiers_never_put_a_buy_box_failure_in_a():
    n = 2_000
    frame = pl.DataFrame({"lead_id": [str(i) for i in range(n)], "p_deal_30d": [(i % 100) / 100 for i in range(n)],
                          "conservative_profit": [float((i * 7919) % 200_000 - 50_000) for i in range(n)]})
    frame = frame.with_columns(passes_buy_box=pl.col("conservative_profit") >= 20_000)
    ranked = rank_leads(frame, "p_deal_30d", CONFIG)
    assert ranked.filter(pl.col("tier") == "A").height > 0
    assert ranked.filter((pl.col("tier") == "A") & ~pl.col("passes_buy_box")).height == 0


def test_bad_tier_settings_are_refused():
    with pytest.raises(ValueError, match="100 >= A >= B >= C >= 0"):
        TierConfig(tier_a_min_priority=30, tier_b_min_priority=40)
    with pytest.raises(ValueError, match="ev_scale"):
        TierConfig(ev_scale=0)


def test_queue_order_and_report_figures():
    ranked = rank_leads(leads(arv_method=["model", "model", "zip_median", "unavailable"]), "p_deal_30d", CONFIG)
    queue = queue_order(ranked)
    assert queue["lead_id"].to_list()[:2] == ["a", "b"] and queue["queue_rank"].to_list() == [1, 2, 3, 4]
    figures = tier_figures(ranked)
    assert figures["leads_per_tier"] == {"A": 1, "B": 2, "C": 0, "D": 1}
    assert figures["share_passing_buy_box"] == 0.5
    assert figures["arv_fallback_share"] == 0.5


def test_profitability_report_shows_the_whole_calculation():
    deal = pl.DataFrame({"arv": [300_000.0], "condition": ["poor"], "sqft": [1_500.0], "market_value": [150_000.0],
                         "mortgage_balance": [None]}, schema_overrides={"mortgage_balance": pl.Float64})
    audit = evaluate_deals(deal)["buy_box_audit"][0]
    lead = {"lead_id": "L1", "tier": "A", "priority_score": 88.0, "scoring_date": "2025-06-30",
            "p_deal_30d": 0.05, "expected_value": 1_000.0, "arv_method": "model", "narrative": "Equity helps."}
    text = profitability_report(lead, audit)
    assert "maximum allowable offer" in text and "$300,000" in text and "repairs (poor, 1,500 sqft)" in text
    assert f"${json.loads(audit)['figures']['conservative_profit']:,.0f}" in text


def scored(day: dt.date, probability: float = 0.1) -> pl.DataFrame:
    return pl.DataFrame({
        "lead_id": ["L1", "L2"], "scoring_date": [day, day], "p_booked_call_7d": [probability, 0.2],
        "p_deal_30d": [0.01, 0.02], "tier": ["A", "C"], "priority_score": [70.0, 20.0], "split": ["holdout", "train"],
        "model_version": ["lead_scorer v1"] * 2, "scored_at": [dt.datetime(2025, 7, 1, tzinfo=dt.UTC)] * 2})


def test_long_rows_selection_and_diff():
    day = dt.date(2025, 6, 30)
    rows = long_scores(scored(day))
    assert rows.height == 4 and set(rows["target"]) == {"booked_call_7d", "deal_30d"}
    assert rows.filter((pl.col("lead_id") == "L1") & (pl.col("target") == "booked_call_7d"))["probability"][0] == 0.1
    assert select_rows(scored(day), "holdout")["lead_id"].to_list() == ["L1"]
    assert select_rows(scored(day), "training")["lead_id"].to_list() == ["L2"]
    with pytest.raises(ValueError, match="rows must be one of"):
        select_rows(scored(day), "everything")
    assert diff_rows(rows, None).inserts == 4
    same = diff_rows(rows, rows)
    assert (same.inserts, same.updates, same.unchanged) == (0, 0, 4)
    changed = diff_rows(long_scores(scored(day, probability=0.3)), rows)
    assert (changed.inserts, changed.updates, changed.unchanged) == (0, 1, 3)


def test_each_lead_keeps_its_latest_split_and_its_facts():
    from wholesaler_assets.domain.scoring.ranking import latest_splits, with_lead_context
    from wholesaler_assets.domain.valuation.buy_box_config import BuyBoxConfig

    utc = dt.UTC
    rows = pl.DataFrame({"lead_id": ["L1", "L1", "L2"], "split": ["train", "holdout", "train"],
                         "contact_time": [dt.datetime(2025, 1, 1, tzinfo=utc), dt.datetime(2025, 6, 1, tzinfo=utc),
                                          dt.datetime(2025, 2, 1, tzinfo=utc)]})
    splits = latest_splits(rows)
    assert dict(splits.iter_rows()) == {"L1": "holdout", "L2": "train"}
    scored = pl.DataFrame({"lead_id": ["L1", "L3"], "property_id": ["P1", "P3"], "tier": ["A", "D"]})
    records = pl.DataFrame({"lead_id": ["L3", "L1"], "property_id": ["P3", "P1"], "sqft": [900.0, 1500.0]})
    when = dt.datetime(2025, 7, 1, tzinfo=utc)
    out = with_lead_context(scored, records, splits, when, BuyBoxConfig())
    assert out.columns == ["lead_id", "property_id", "tier", "sqft", "split", "scored_at", "buy_box_settings"]
    assert out["sqft"].to_list() == [1500.0, 900.0] and out["split"].to_list() == ["holdout", "unlabelled"]
    assert json.loads(out["buy_box_settings"][0])["arv_share"] == 0.7
