from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from wholesaler_assets.domain.experiments.ground_truth import contact_probabilities, property_states
from wholesaler_assets.domain.experiments.simulator import (
    SimulationConfig,
    ab_lanes,
    compare_policies,
    simulate,
)

TEAM = SimulationConfig(days=40, capacity={"cold_call": 15, "sms": 8, "direct_mail": 6, "door_knock": 1}, seed=5)


def _logit(p):
    return np.log(p / (1 - p))


def test_the_public_conversion_function_reproduces_the_markets_ground_truth(small_market):
    """Up to each lead's latent effect (constant per lead), the booking probability of every contact."""
    _, market = small_market
    contacts = market.contacts.join(market.ground_truth, on="contact_id").head(400)
    gaps = []
    for day, rows in contacts.group_by(pl.col("contact_time").dt.date()):
        states = property_states(market.properties, market.distress_events, day[0])
        mine = rows.join(states, on="property_id")
        p, _, _ = contact_probabilities(mine, np.zeros(mine.height, np.int64), mine["channel"].to_numpy(),
                                        mine["campaign_step"].to_numpy(), np.zeros(mine.height))
        gaps.append(mine.select("lead_id").with_columns(gap=pl.Series(_logit(mine["p_booked_call_7d"].to_numpy())
                                                                       - _logit(p))))
    per_lead = pl.concat(gaps).group_by("lead_id").agg(pl.col("gap").std(), pl.col("gap").mean().alias("latent"))
    assert per_lead["gap"].drop_nulls().max() < 1e-9  # the same offset at every step of a lead
    assert per_lead["latent"].abs().max() < 0.5  # latent_sd is 0.1


def test_a_run_is_deterministic_and_keeps_to_the_capacity(market_leads):
    first = compare_policies(market_leads, TEAM)
    assert first.equals(compare_policies(market_leads, TEAM))
    assert first["contacts"].to_list() == [30 * 40] * 3
    other = compare_policies(market_leads, SimulationConfig(**{**TEAM.__dict__, "seed": 6}))
    assert not first.equals(other)


def test_the_queue_in_true_order_beats_as_usual_and_random(market_leads):
    figures = dict(compare_policies(market_leads, TEAM).select("policy", "expected_deals_per_100").iter_rows())
    assert figures["queue"] > 1.5 * figures["as_usual"]
    assert figures["queue"] > 1.5 * figures["random"]


def test_a_lead_is_not_contacted_again_within_the_gap_nor_after_booking(market_leads):
    contacts = simulate(market_leads, ab_lanes(market_leads, np.where(np.arange(market_leads.height) % 2,
                                                                      "treatment", "control"), TEAM.capacity, 0.6),
                        TEAM)
    per_lead = contacts.sort("day").group_by("lead_id").agg(pl.col("day").diff().min().alias("gap"),
                                                            pl.col("booked").cast(pl.Int64).sum().alias("bookings"),
                                                            pl.col("booked").last().alias("last_booked"))
    assert per_lead["gap"].drop_nulls().min() >= TEAM.min_gap_days
    assert per_lead["bookings"].max() <= 1
    assert per_lead.filter(pl.col("bookings") == 1)["last_booked"].all()
    lanes = contacts.group_by("lane").len()
    assert dict(lanes.iter_rows()).keys() == {"treatment_queue", "treatment_as_usual", "control"}


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="capacity"):
        SimulationConfig(capacity={"cold_call": 0})
    with pytest.raises(ValueError, match="adoption"):
        ab_lanes(pl.DataFrame({"lead_id": ["a"]}), np.array(["treatment"]), {"cold_call": 2}, 1.5)
