"""Tests of the synthetic wholesaler market: determinism, contracts, distributions, signal
(the landing files and their dirt: assets_tests/io/test_synthetic_files.py)."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from wholesaler_assets.domain.contracts.sources import CONTRACTS, DISTRESS_TYPES, SOURCES
from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig
from wholesaler_assets.domain.synthetic.market import SyntheticMarket, generate_market

END = MarketConfig().end_date
NOW = dt.datetime.combine(END + dt.timedelta(days=1), dt.time(), dt.UTC)
LABELS = (("call_booked", 7, "p_booked_call_7d"), ("qualified", 14, "p_qualified_14d"),
          ("contract_signed", 30, "p_deal_30d"))


@pytest.fixture(scope="module")
def market() -> SyntheticMarket:
    return generate_market(MarketConfig(n_properties=20_000, dirt=DirtConfig.clean()))


def _labels(market: SyntheticMarket, outcome_type: str, days: int) -> pl.DataFrame:
    """Per contact: did the lead reach `outcome_type` within `days` after the contact."""
    hits = market.outcomes.filter(pl.col("outcome_type") == outcome_type).select("lead_id", "outcome_time")
    after = pl.col("outcome_time") - pl.col("contact_time")
    return (market.contacts.select("contact_id", "lead_id", "contact_time")
            .join(hits, on="lead_id", how="left")
            .with_columns(label=((after > pl.duration()) & (after <= pl.duration(days=days)))
                          .fill_null(False))
            .group_by("contact_id", "contact_time").agg(pl.col("label").any()).sort("contact_id"))


def _with_truth(market: SyntheticMarket, outcome_type: str, days: int) -> pl.DataFrame:
    """Labels of the contacts whose window closes before the cutoff, with their ground truth."""
    cutoff = NOW - dt.timedelta(days=days)
    return (_labels(market, outcome_type, days).filter(pl.col("contact_time") < cutoff)
            .join(market.ground_truth, on="contact_id", how="inner", maintain_order="left"))


# --- determinism ------------------------------------------------------------------------------


def test_generate_market_is_deterministic() -> None:
    a = generate_market(MarketConfig(n_properties=2_000, seed=3))
    b = generate_market(MarketConfig(n_properties=2_000, seed=3))
    assert all(a.source(name).equals(b.source(name)) for name in SOURCES)
    assert a.ground_truth.equals(b.ground_truth)
    with pytest.raises(KeyError):
        a.source("leads")


# --- contracts --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SOURCES)
def test_clean_frames_pass_their_contract(market: SyntheticMarket, name: str) -> None:
    df = market.source(name)
    contract = CONTRACTS[name]
    assert df.columns == contract.column_names
    assert dict(df.schema) == contract.polars_schema
    assert df.height > 0
    contract.pandera_schema(NOW).validate(df)
    assert df[contract.time_column].is_sorted()


def test_ground_truth_covers_every_contact(market: SyntheticMarket) -> None:
    truth = market.ground_truth
    assert truth.columns == ["contact_id", "p_booked_call_7d", "p_qualified_14d", "p_deal_30d"]
    assert all(dtype == pl.Float64 for dtype in truth.schema.dtypes()[1:])
    assert truth["contact_id"].equals(market.contacts["contact_id"])
    p = truth.select(pl.exclude("contact_id")).to_numpy()
    assert ((p > 0) & (p < 1)).all()
    # later steps of the same lead can add to the 14/30-day windows, so the chain only holds on average
    assert p[:, 0].mean() > p[:, 1].mean() > p[:, 2].mean()
    assert np.mean(p[:, 1] <= p[:, 0]) > 0.9


# --- distributions ----------------------------------------------------------------------------


def test_conversion_rates_match_a_wholesaler(market: SyntheticMarket) -> None:
    booked = _with_truth(market, "call_booked", 7)
    share = booked["label"].mean()
    assert 0.03 <= share <= 0.06
    assert booked["p_booked_call_7d"].mean() == pytest.approx(share, rel=0.12)
    deals = _with_truth(market, "contract_signed", 30)["label"].mean()
    assert 0.01 <= deals <= 0.025  # the positive_share_in_band gate takes 0.5-2.5% deals
    contracts = (market.outcomes["outcome_type"] == "contract_signed").sum() / market.contacts.height
    assert 0.006 <= contracts <= 0.014  # deals per contact, from the booking of that contact
    for outcome_type, days, column in LABELS:
        labelled = _with_truth(market, outcome_type, days)
        assert labelled[column].mean() == pytest.approx(labelled["label"].mean(), rel=0.15), outcome_type


def test_properties_look_like_a_market(market: SyntheticMarket) -> None:
    props = market.properties
    first = props.unique("property_id", keep="first", maintain_order=True)
    assert first.height == 20_000
    assert 1.25 <= props.height / first.height <= 1.6  # ~35% have 1-2 later records
    owners = first["owner_type"].value_counts(normalize=True)
    share = dict(zip(owners["owner_type"], owners["proportion"], strict=True))
    for owner_type, expected in {"individual": 0.78, "llc": 0.12, "trust": 0.06, "estate": 0.04}.items():
        assert share[owner_type] == pytest.approx(expected, abs=0.02)
    assert first["property_type"].eq("single_family").mean() == pytest.approx(0.70, abs=0.03)
    assert first["owner_occupied"].mean() == pytest.approx(0.65, abs=0.04)
    assert first["out_of_state_owner"].mean() == pytest.approx(0.10, abs=0.03)
    assert not first.filter(pl.col("owner_type") == "llc")["owner_occupied"].any()
    assert not first.filter(pl.col("owner_occupied"))["out_of_state_owner"].any()
    assert (first["mortgage_balance"] == 0).mean() == pytest.approx(0.35, abs=0.05)
    equity_share = props["estimated_equity"] / props["market_value"]
    assert ((equity_share >= -0.5) & (equity_share <= 1)).mean() > 0.99
    assert (props["estimated_equity"] == props["market_value"] - props["mortgage_balance"]).all()
    assessed = props["assessed_value"] / props["market_value"]
    assert assessed.min() > 0.68 and assessed.max() < 0.97
    medians = dict(props.group_by("metro").agg(pl.col("market_value").median()).iter_rows())
    assert medians["Cleveland"] < medians["Phoenix"]
    assert 60_000 < medians["Cleveland"] < 200_000
    for metro in ("Phoenix", "Dallas", "Atlanta", "Orlando", "Tampa"):
        assert 200_000 < medians[metro] < 550_000, metro
    zips = props.select("metro", "zip_code").unique()
    assert zips.height == 6 * 12
    assert zips.filter(pl.col("metro") == "Orlando")["zip_code"].str.starts_with("328").all()
    assert (props["last_sale_date"] <= props["effective_date"]).all()
    assert re.fullmatch(r"\d+ \w+ \w+", props["address"][0])


def test_distress_events_are_plausible(market: SyntheticMarket) -> None:
    events = market.distress_events
    per_type = dict(events.group_by("event_type").agg(pl.col("property_id").n_unique()).iter_rows())
    targets = dict(zip(DISTRESS_TYPES, (0.08, 0.03, 0.06, 0.025, 0.04), strict=True))
    for event_type, target in targets.items():
        assert per_type[event_type] / 20_000 == pytest.approx(target, rel=0.3), event_type
    resolved = events.filter(pl.col("resolved_date").is_not_null())
    assert (resolved["resolved_date"] > resolved["event_date"]).all()
    tax = events.filter(pl.col("event_type") == "tax_delinquency")
    assert tax["tax_amount_owed"].is_not_null().all() and tax["default_amount"].is_null().all()
    fc = events.filter(pl.col("event_type") == "foreclosure")
    days = (fc["auction_date"] - fc["event_date"]).dt.total_days()
    assert days.min() >= 60 and days.max() <= 240
    assert events.filter(pl.col("event_type") != "code_violation")["violation_type"].is_null().all()


def test_nothing_is_dated_after_the_cutoff(market: SyntheticMarket) -> None:
    end_time = NOW
    assert market.properties["effective_date"].max() <= END
    assert market.properties["last_sale_date"].max() <= END
    assert market.distress_events["event_date"].max() <= END
    assert market.distress_events["resolved_date"].max() <= END
    assert market.distress_events["auction_date"].max() > END  # scheduled in the future is fine
    assert market.contacts["contact_time"].max() < end_time
    assert market.outcomes["outcome_time"].max() < end_time
    assert market.sales["sale_date"].max() <= END


def test_outreach_is_consistent(market: SyntheticMarket) -> None:
    contacts, outcomes = market.contacts, market.outcomes
    assert 0.4 <= contacts["property_id"].n_unique() / 20_000 <= 0.6
    assert set(contacts["property_id"]) <= set(market.properties["property_id"])
    assert set(outcomes["lead_id"]) <= set(contacts["lead_id"])
    assert contacts.group_by("lead_id").agg(pl.col("property_id").n_unique())["property_id"].max() == 1
    assert contacts["campaign_step"].max() <= 6
    assert 20 <= contacts["campaign_id"].n_unique() <= 80
    assert contacts["campaign_id"].str.contains(r"^CMP-\d{4}-\d{2}-[a-z-]+-list$").all()
    assert set(contacts["channel"]) == {"cold_call", "sms", "direct_mail", "door_knock"}
    gaps = (contacts.sort("lead_id", "contact_time")
            .select(pl.col("contact_time").diff().over("lead_id").dt.total_seconds()).drop_nulls())
    assert gaps.min().item() > 7 * 86_400  # so "booked within 7 days" belongs to one contact
    per_lead = outcomes.group_by("lead_id", "outcome_type").len()
    assert per_lead["len"].max() == 1
    deals = outcomes.filter(pl.col("outcome_type") == "contract_signed")
    assert deals["purchase_price"].is_not_null().all()
    assert deals["assignment_fee"].is_between(5_000, 40_000).all()
    assert outcomes.filter(pl.col("outcome_type") != "contract_signed")["purchase_price"].is_null().all()
    sales = market.sales
    assert set(sales["property_id"]) <= set(market.properties["property_id"])
    renovated = sales["condition_at_sale"].eq("renovated").mean()
    assert 0.25 <= renovated <= 0.45
    assert 0.04 <= sales.height / 20_000 / 3 <= 0.08  # per year over the three-year window


# --- signal -----------------------------------------------------------------------------------


def test_ground_truth_carries_signal(market: SyntheticMarket) -> None:
    truth = market.contacts.join(market.ground_truth, on="contact_id", maintain_order="left")
    events = market.distress_events.select("property_id", "event_type")
    tax_props = events.filter(pl.col("event_type") == "tax_delinquency")["property_id"]
    distressed = truth.filter(pl.col("property_id").is_in(tax_props))["p_booked_call_7d"].mean()
    calm = truth.filter(~pl.col("property_id").is_in(events["property_id"]))["p_booked_call_7d"].mean()
    assert distressed > 1.2 * calm
    labelled = _with_truth(market, "call_booked", 7)
    auc = roc_auc_score(labelled["label"].to_numpy(), labelled["p_booked_call_7d"].to_numpy())
    assert auc > 0.65


def test_conversion_is_not_linear_in_the_features(market: SyntheticMarket) -> None:
    """Interactions a linear model cannot express: a door knock reaches owner occupants, a text
    absentee owners; distress only counts with equity to sell."""
    owners = market.properties.unique("property_id", keep="last").select(
        "property_id", "owner_occupied", (pl.col("estimated_equity") / pl.col("market_value")).alias("equity"))
    truth = (market.contacts.join(market.ground_truth, on="contact_id")
             .join(owners, on="property_id"))
    p = dict(truth.group_by("channel", "owner_occupied").agg(pl.col("p_booked_call_7d").mean())
             .select(pl.concat_str("channel", pl.col("owner_occupied").cast(pl.String), separator="/"),
                     "p_booked_call_7d").iter_rows())
    assert p["door_knock/true"] > 2 * p["sms/true"]
    assert p["sms/false"] > 2 * p["door_knock/false"]
    tax = market.distress_events.filter(pl.col("event_type") == "tax_delinquency")["property_id"]
    taxed = truth.with_columns(tax=pl.col("property_id").is_in(tax.implode()))
    lift = {high: taxed.filter((pl.col("equity") >= 0.5) == high).group_by("tax")
            .agg(pl.col("p_booked_call_7d").mean()).sort("tax")["p_booked_call_7d"].to_list()
            for high in (True, False)}
    assert lift[True][1] / lift[True][0] > 1.3 * lift[False][1] / lift[False][0]
