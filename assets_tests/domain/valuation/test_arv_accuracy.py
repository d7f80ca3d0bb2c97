"""ARV against the synthetic market's true renovated value, by condition of the house.

The bar (docs/valuation.md): for every condition, the model's median absolute percentage error
against the true renovated value is at most 15% and its median bias lies within -12%..+5% (an ARV
too high is the dangerous side); a distressed house's median ARV is 1.6-2.0x its as-is value (the
market's truth is ~1.8-1.9x). Before the generator fix the bias was +14% to +18% in every condition.
"""

from __future__ import annotations

import polars as pl
import pytest

from wholesaler_assets.domain.features.zip_market import zip_market_levels
from wholesaler_assets.domain.snapshots.lead_tables import comparable_sales_from_source
from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig
from wholesaler_assets.domain.synthetic.market import generate_market
from wholesaler_assets.domain.valuation.accuracy import arv_error_by_condition, renovated_values_on
from wholesaler_assets.domain.valuation.arv import estimate_arv, fit_arv_model, sale_features, temporal_split

MAX_MDAPE_BY_CONDITION = 0.15
BIAS_RANGE = (-0.12, 0.05)


@pytest.fixture(scope="module")
def error_by_condition() -> pl.DataFrame:
    config = MarketConfig(dirt=DirtConfig.clean())  # the default market, 50,000 properties (about 2 s)
    market = generate_market(config)
    train, _ = temporal_split(sale_features(comparable_sales_from_source(market.sales)))
    model = fit_arv_model(train, zip_market_levels(train))
    day = config.end_date
    properties = market.properties.sort("effective_date").unique("property_id", keep="last")
    estimates = estimate_arv(model, properties, day)
    return arv_error_by_condition(estimates, renovated_values_on(market.renovated_values, day))


def test_arv_error_by_condition_stays_under_the_bar(error_by_condition: pl.DataFrame) -> None:
    print(error_by_condition)  # the measured figures, quoted in docs/valuation.md
    by_condition = error_by_condition.filter(pl.col("condition") != "all")
    assert by_condition["condition"].to_list() == ["excellent", "good", "fair", "poor", "distressed"]
    assert (by_condition["properties"] > 1_000).all()
    for row in by_condition.iter_rows(named=True):
        assert row["mdape"] <= MAX_MDAPE_BY_CONDITION, row
        assert BIAS_RANGE[0] <= row["median_bias"] <= BIAS_RANGE[1], row


def test_a_distressed_house_s_arv_is_about_1_8x_its_as_is_value(error_by_condition: pl.DataFrame) -> None:
    distressed = error_by_condition.filter(pl.col("condition") == "distressed").row(0, named=True)
    assert 1.6 <= distressed["median_arv_to_value"] <= 2.0
    assert 1.7 <= distressed["median_true_to_value"] <= 2.0


def test_the_error_is_measured_against_the_truth_not_the_estimate() -> None:
    truth = pl.DataFrame({"property_id": ["P1", "P2", "P3"], "condition": ["good", "good", "distressed"],
                          "market_value": [100.0, 100.0, 50.0], "true_renovated_value": [110.0, 110.0, 90.0]})
    estimates = pl.DataFrame({"property_id": ["P1", "P2", "P3"], "arv": [121.0, 99.0, None]})
    table = arv_error_by_condition(estimates, truth)
    good = table.filter(pl.col("condition") == "good").row(0, named=True)
    assert good["properties"] == 2 and good["mdape"] == pytest.approx(0.1)
    assert good["median_bias"] == pytest.approx(0.0) and good["median_arv_to_value"] == pytest.approx(1.1)
    assert table["condition"].to_list() == ["good", "all"]  # a house without an ARV is not counted
