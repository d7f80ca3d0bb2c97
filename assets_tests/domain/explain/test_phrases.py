"""Phrases of feature values: the known features, and phrases added by other modules."""

from __future__ import annotations

import numpy as np
import pytest

from wholesaler_assets.domain.explain.narratives import narrative
from wholesaler_assets.domain.explain.phrases import FEATURE_PHRASES, describe_feature


@pytest.mark.parametrize(("name", "value", "phrase"), [
    ("equity_share", 0.62, "62% equity"),
    ("tax_years_delinquent", 2, "two years of unpaid taxes"),
    ("tax_years_delinquent", 1.0, "one year of unpaid taxes"),
    ("tax_delinquent", True, "unpaid property taxes"),
    ("tax_delinquent", False, "taxes paid up"),
    ("absentee_owner", False, "owner lives in the house"),
    ("absentee_owner", True, "absentee owner"),
    ("absentee_owner", np.bool_(True), "absentee owner"),
    ("in_foreclosure", True, "a foreclosure filing"),
    ("days_to_auction", 35, "auction in 35 days"),
    ("owner_type", "estate", "an estate owner"),
    ("owner_type", "llc", "an LLC owner"),
    ("channel", "door_knock", "a door knock"),
    ("years_owned", 18.4, "owned for 18 years"),
    ("market_value", 245000, "a $245k home"),
    ("market_value", 1_250_000.0, "a $1.25M home"),
    ("campaign_step", 4, "the 4th touch"),
    ("campaign_step", 2.0, "the 2nd touch"),
    ("prior_contacts", 0, "first contact"),
    ("prior_contacts", 3, "three earlier contacts"),
    ("prior_door_knock", 1, "one earlier door knock"),
    ("distress_events_90d", 0, "no distress events in the last 90 days"),
    ("open_code_violations", 2, "two open code violations"),
    ("zip_price_trend", 0.042, "zip prices up 4.2% in 6 months"),
    ("sqft", 1500.0, "1,500 sq ft"),
    ("metro", "Orlando", "the Orlando metro"),
    ("property_type", "single_family", "a single-family home"),
    ("condition", "poor", "poor condition"),
    ("equity_share", None, "unknown equity"),
    ("years_owned", float("nan"), "unknown years owned"),
])
def test_describe_feature(name, value, phrase):
    assert describe_feature(name, value) == phrase


def test_feature_phrases_can_be_extended(monkeypatch):
    monkeypatch.setitem(FEATURE_PHRASES, "roof_age", lambda v: f"a {int(v)}-year-old roof")
    assert describe_feature("roof_age", 22.0) == "a 22-year-old roof"
    assert narrative([("roof_age", 0.2)], {"roof_age": 22}) == "A 22-year-old roof raises the chance."
