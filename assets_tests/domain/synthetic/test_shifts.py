"""Planted shifts: each changes what it says from its day on, and nothing before it."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig
from wholesaler_assets.domain.synthetic.market import generate_market
from wholesaler_assets.domain.synthetic.shifts import MarketShift

DAY = dt.date(2026, 3, 1)
BASE = {"n_properties": 6_000, "seed": 7, "dirt": DirtConfig.clean(), "start_date": dt.date(2024, 9, 1),
        "end_date": dt.date(2026, 6, 30)}


@pytest.fixture(scope="module")
def markets():
    return {kind: generate_market(MarketConfig(**BASE, shift=MarketShift(kind, DAY) if kind else None))
            for kind in (None, "price_shock", "conversion", "base_rate")}


def _booking(market, after: bool, channels: tuple[str, ...] | None = None) -> float:
    rows = market.contacts.join(market.ground_truth, on="contact_id").filter(
        (pl.col("contact_time").dt.date() >= DAY) == after)
    if channels:
        rows = rows.filter(pl.col("channel").is_in(list(channels)))
    return float(rows["p_booked_call_7d"].mean())


def test_before_its_day_a_shifted_market_is_the_stationary_one(markets):
    before = pl.col("contact_time").dt.date() < DAY
    for kind in ("conversion", "base_rate"):
        assert markets[kind].contacts.filter(before).equals(markets[None].contacts.filter(before))
        truth = markets[kind].ground_truth.join(markets[kind].contacts.filter(before).select("contact_id"),
                                                on="contact_id")
        stationary = markets[None].ground_truth.join(truth.select("contact_id"), on="contact_id")
        assert truth["p_booked_call_7d"].equals(stationary["p_booked_call_7d"])
    early = pl.col("effective_date") < DAY
    assert markets["price_shock"].properties.filter(early).equals(markets[None].properties.filter(early))


def test_base_rate_doubles_the_booking_probability(markets):
    ratio = _booking(markets["base_rate"], True) / _booking(markets[None], True)
    assert 1.7 < ratio <= 2.0


def test_conversion_halves_door_knocks_and_cold_calls_only(markets):
    halved = ("door_knock", "cold_call")
    assert _booking(markets["conversion"], True, halved) / _booking(markets[None], True, halved) == pytest.approx(
        0.5, abs=0.05)
    others = ("sms", "direct_mail")
    assert _booking(markets["conversion"], True, others) == pytest.approx(_booking(markets[None], True, others),
                                                                          rel=0.05)


def test_the_price_shock_lowers_values_in_two_metros_and_files_more_foreclosures(markets):
    shocked, calm = markets["price_shock"], markets[None]
    later = DAY + dt.timedelta(days=20)

    def value_as_of(market, day):
        latest = market.properties.filter(pl.col("effective_date") <= day).sort("effective_date").unique(
            "property_id", keep="last")
        return latest.select("property_id", "market_value")

    after = value_as_of(shocked, later).join(value_as_of(calm, later), on="property_id", suffix="_calm")
    ratio = (after["market_value"] / after["market_value_calm"]).to_numpy()
    fell = ratio < 0.95
    assert 0.15 < fell.mean() < 0.6  # two of six metros
    assert float(pl.Series(ratio[fell]).median()) == pytest.approx(0.85, abs=0.03)
    fc = pl.col("event_type") == "foreclosure"
    assert shocked.distress_events.filter(fc & (pl.col("event_date") >= DAY)).height > 1.5 * \
        calm.distress_events.filter(fc & (pl.col("event_date") >= DAY)).height


def test_a_bad_shift_is_refused():
    with pytest.raises(ValueError, match="unknown shift kind"):
        MarketShift("tsunami", DAY)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must lie after the market's start"):
        generate_market(MarketConfig(**BASE, shift=MarketShift("base_rate", dt.date(2030, 1, 1))))
