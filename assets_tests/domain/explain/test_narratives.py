"""Narratives: raisers then lowerers, generic and unknown phrases, rows as dicts or a frame."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from wholesaler_assets.domain.explain.narratives import narrative, narratives
from wholesaler_assets.domain.explain.phrases import describe_feature

FEATURES = ["equity_share", "tax_years_delinquent", "absentee_owner", "sqft"]


VALUES = {"equity_share": 0.62, "tax_years_delinquent": 2, "absentee_owner": False, "sqft": 1500}


def test_narrative_raisers_then_lowerer():
    contributions = np.array([[0.8, 0.5, -0.3, 0.01]])
    assert narratives(contributions, FEATURES, [VALUES]) == [
        "62% equity and two years of unpaid taxes raise the chance; owner lives in the house lowers it."]


def test_narrative_only_lowering():
    contributions = np.array([[-0.2, 0.0, -0.6, 0.0]])
    assert narratives(contributions, FEATURES, [VALUES]) == [
        "Owner lives in the house and 62% equity lower the chance."]
    assert narrative([("absentee_owner", -0.6)], VALUES) == "Owner lives in the house lowers the chance."


def test_narrative_only_raising_single_and_three_with_commas():
    assert narrative([("equity_share", 0.4)], VALUES) == "62% equity raises the chance."
    values = {**VALUES, "absentee_owner": True}
    contributions = np.array([[0.3, 0.9, 0.5, -0.1]])
    assert narratives(contributions, FEATURES, [values], k=3) == [
        "Two years of unpaid taxes, absentee owner and 62% equity raise the chance."]


def test_narrative_two_lowerers_after_raiser():
    drivers = [("in_foreclosure", 0.7), ("absentee_owner", -0.4), ("channel", -0.2)]
    values = {"in_foreclosure": True, "absentee_owner": False, "channel": "sms"}
    assert narrative(drivers, values) == (
        "A foreclosure filing raises the chance; owner lives in the house and a text message lower it.")


def test_unknown_feature_gets_generic_phrase():
    names = ["roof_material", "lot_acres", "has_pool", "equity_share"]
    row = {"roof_material": "metal_standing_seam", "lot_acres": 1.23456, "has_pool": True, "equity_share": 0.5}
    text = narratives(np.array([[0.5, -0.4, 0.3, 0.0]]), names, [row])[0]
    assert text == ("Roof material of metal standing seam and has pool of yes raise the chance; "
                    "lot acres of 1.23 lowers it.")
    assert describe_feature("lead_count", 7) == "lead count of 7"
    assert describe_feature("lead_count", 7.0) == "lead count of 7"
    assert describe_feature("lot_sqft", 12500.0) == "lot sqft of 12,500"
    assert describe_feature("score", 0.001234) == "score of 0.0012"
    assert describe_feature("is_flipper", False) == "is flipper of no"
    # a known feature with a value its phrase cannot read falls back to the generic phrase too
    assert describe_feature("owner_type", "corporation") == "owner type of corporation"


def test_null_values_are_unknown():
    values = {"equity_share": None, "tax_years_delinquent": float("nan"), "absentee_owner": False}
    text = narrative([("equity_share", 0.3), ("tax_years_delinquent", 0.2), ("roof_age", -0.1)], values)
    assert text == "Unknown equity and unknown tax years delinquent raise the chance; unknown roof age lowers it."
    assert describe_feature("mystery_score", np.float32("nan")) == "unknown mystery score"


def test_no_drivers():
    assert narrative([], VALUES) == "No single factor stands out."
    assert narratives(np.zeros((2, 4)), FEATURES, [VALUES, VALUES]) == ["No single factor stands out."] * 2


def test_narratives_accepts_polars_rows_and_checks_lengths():
    frame = pl.DataFrame([VALUES, {**VALUES, "equity_share": 0.1}])
    contributions = np.array([[0.8, 0.0, 0.0, 0.0], [-0.8, 0.0, 0.0, 0.0]])
    assert narratives(contributions, FEATURES, frame) == ["62% equity raises the chance.",
                                                             "10% equity lowers the chance."]
    with pytest.raises(ValueError, match="rows"):
        narratives(contributions, FEATURES, [VALUES])
