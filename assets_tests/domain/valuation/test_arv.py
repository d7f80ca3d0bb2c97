"""ARV: the model recovers prices of a synthetic market, the fallback steps in, methods are labelled."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from wholesaler_assets.domain.features.zip_market import zip_market_levels
from wholesaler_assets.domain.snapshots.lead_tables import comparable_sales_from_source
from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig
from wholesaler_assets.domain.synthetic.market import generate_market
from wholesaler_assets.domain.valuation.arv import (
    METRO_MEDIAN,
    MODEL,
    UNAVAILABLE,
    ZIP_MEDIAN,
    estimate_arv,
    evaluate_arv,
    fit_arv_model,
    renovated_medians,
    sale_features,
    temporal_split,
)


@pytest.fixture(scope="module")
def sales() -> pl.DataFrame:
    market = generate_market(MarketConfig(n_properties=20_000, seed=4, dirt=DirtConfig.clean()))
    return comparable_sales_from_source(market.sales)


def test_sale_features_use_only_months_ended_before_the_sale(sales):
    features = sale_features(sales)
    levels = zip_market_levels(sales)
    row = features.filter(pl.col("zip_median_ppsf").is_not_null()).row(500, named=True)
    known = levels.filter((pl.col("zip_code") == row["zip_code"]) & (pl.col("known_from") <= row["sale_date"]))
    assert row["zip_median_ppsf"] == known.sort("known_from")["zip_median_ppsf"][-1]


def test_model_beats_the_zip_median_on_a_temporal_holdout(sales):
    train, holdout = temporal_split(sale_features(sales))
    assert train["sale_date"].max() <= holdout["sale_date"].min()
    evaluation = evaluate_arv(fit_arv_model(train, zip_market_levels(train)), train, holdout)
    assert evaluation.model_mdape <= 0.15
    assert evaluation.mae_improvement >= 0.20


def _houses() -> pl.DataFrame:
    return pl.DataFrame({
        "property_id": ["P1", "P2", "P3", "P4"], "zip_code": ["32801", "99999", "32801", "32801"],
        "metro": ["Orlando", "Orlando", "Orlando", "Orlando"], "sqft": [1_500, 1_000, None, 2_000],
        "beds": [3, 2, 3, 4], "baths": [2.0, 1.0, 2.0, 3.0], "year_built": [1980, 1990, 1970, 2000],
        "property_type": ["single_family"] * 4,
    })


def test_fallback_without_a_model_uses_renovated_comps_and_says_so():
    medians = ({"32801": 200.0}, {"Orlando": 150.0})
    arv = estimate_arv(None, _houses(), dt.date(2026, 1, 1), fallback=medians)
    by_id = {r["property_id"]: r for r in arv.iter_rows(named=True)}
    assert by_id["P1"] == {"property_id": "P1", "arv": 300_000.0, "arv_method": ZIP_MEDIAN}
    assert by_id["P2"] == {"property_id": "P2", "arv": 150_000.0, "arv_method": METRO_MEDIAN}  # unknown ZIP
    assert by_id["P3"]["arv"] is None and by_id["P3"]["arv_method"] == UNAVAILABLE  # no sqft
    assert by_id["P4"]["arv_method"] == ZIP_MEDIAN


def test_model_estimates_are_labelled_with_their_method(sales):
    train, _ = temporal_split(sale_features(sales))
    model = fit_arv_model(train, zip_market_levels(train))
    houses = _houses().with_columns(zip_code=pl.lit(train["zip_code"][0]), metro=pl.lit(train["metro"][0]))
    arv = estimate_arv(model, houses, dt.date(2026, 6, 1))
    assert arv.filter(pl.col("property_id") == "P3")["arv_method"][0] == UNAVAILABLE
    assert set(arv.filter(pl.col("property_id") != "P3")["arv_method"]) == {MODEL}
    zip_medians, _ = renovated_medians(train)
    assert zip_medians and all(v > 0 for v in zip_medians.values())


def test_a_days_known_levels_give_the_as_of_joins_answers(sales):
    """The scorer looks up a day's ZIP figures once (levels_known_on) instead of an as-of join per request."""
    from wholesaler_assets.domain.features.zip_market import levels_known_on, zip_figure_columns

    train, _ = temporal_split(sale_features(sales))
    levels = zip_market_levels(train)
    model = fit_arv_model(train, levels)
    zips = train["zip_code"].unique().sort().head(40)
    houses = pl.concat([_houses().with_columns(zip_code=pl.lit(z), property_id=pl.lit(z) + pl.col("property_id"))
                        for z in zips]).with_columns(metro=pl.lit(train["metro"][0]))
    for day in (dt.date(2025, 2, 14), dt.date(2026, 6, 1), dt.date(2020, 1, 1)):
        joined = estimate_arv(model, houses, day)
        assert estimate_arv(model, houses, day, market_on_day=levels_known_on(levels, day)).equals(joined)
        records = houses.select("zip_code", scoring_date=pl.lit(day))
        as_of = records.join_asof(levels.drop_nulls("zip_price_trend").sort("known_from"), left_on="scoring_date",
                                  right_on="known_from", by="zip_code", check_sortedness=False)
        known = levels_known_on(levels, day, "zip_price_trend")
        trend = zip_figure_columns(records["zip_code"], {"zip_price_trend": known["zip_price_trend"]})[0]
        assert trend.equals(as_of["zip_price_trend"])
    assert joined["arv"].is_null().sum() == 40  # the houses without sqft; every other one priced
