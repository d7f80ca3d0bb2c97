"""A small synthetic market's active leads with their ground-truth state, shared by the experiment tests."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from wholesaler_assets.domain.experiments.assignment import with_value_segment
from wholesaler_assets.domain.experiments.ground_truth import contact_probabilities, property_states
from wholesaler_assets.domain.experiments.simulator import STATE_COLUMNS, outreach_leads
from wholesaler_assets.domain.features.warehouse_records import records_as_of
from wholesaler_assets.domain.snapshots.lead_tables import lead_outcomes_from_source
from wholesaler_assets.domain.snapshots.properties import build_property_snapshot
from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig
from wholesaler_assets.domain.synthetic.market import generate_market


@pytest.fixture(scope="session")
def small_market():
    config = MarketConfig(n_properties=6_000, seed=11, dirt=DirtConfig.clean())
    return config, generate_market(config)


@pytest.fixture(scope="session")
def market_leads(small_market) -> pl.DataFrame:
    """Active leads on the cutoff, ranked by their true deal probability at the next step (an oracle queue)."""
    config, market = small_market
    day = config.end_date
    outcomes = lead_outcomes_from_source(market.outcomes)
    records = records_as_of(day, build_property_snapshot(market.properties, market.distress_events, day),
                            market.contacts.drop("owner_phone"), outcomes)
    booked = outcomes.filter(pl.col("call_booked_at").is_not_null())["lead_id"]
    leads = outreach_leads(records, property_states(market.properties, market.distress_events, day), None, booked)
    p, q, r = contact_probabilities(leads.select(STATE_COLUMNS), np.zeros(leads.height, np.int64),
                                    leads["channel"].to_numpy(), leads["campaign_step"].to_numpy(),
                                    np.zeros(leads.height))
    return with_value_segment(leads.with_columns(priority_score=pl.Series(p * q * r),
                                                 equity_share=pl.col("equity") / pl.col("mv")))
