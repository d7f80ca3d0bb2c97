"""The conservative buy-box on hand-computed deals, and the frame path agreeing with it exactly."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import polars as pl
import pytest

from wholesaler_assets.domain.contracts.sources import CONDITIONS
from wholesaler_assets.domain.valuation.buy_box_config import FORMULA, BuyBoxConfig
from wholesaler_assets.domain.valuation.buy_box_deal import DealInputs, DealResult, evaluate_deal, invalid_reason
from wholesaler_assets.domain.valuation.buy_box_frame import (
    DEAL_FIGURES,
    SMALL_FRAME_ROWS,
    deal_figures,
    evaluate_deals,
)

CENT = 0.005  # hand-computed figures agree to within half a cent (float noise is far smaller)

FIGURES = ("repairs", "holding_costs", "closing_costs", "max_allowable_offer", "seller_price",
           "spread", "conservative_profit")
FRAME_OF_FIELD = {"repairs": "repairs", "holding_costs": "holding_costs",
                  "closing_costs": "closing_costs", "buyer_margin": "buyer_margin_amount",
                  "max_allowable_offer": "max_allowable_offer", "seller_price": "seller_price",
                  "spread": "spread", "conservative_profit": "conservative_profit"}


def _check(result: DealResult, **expected: float) -> None:
    for name, value in expected.items():
        assert getattr(result, name) == pytest.approx(value, abs=CENT), name


def _frame(*deals: DealInputs) -> pl.DataFrame:
    return pl.DataFrame(
        [{"arv": d.arv, "condition": d.condition, "sqft": d.sqft, "market_value": d.market_value,
          "mortgage_balance": d.mortgage_balance} for d in deals],
        schema={"arv": pl.Float64, "condition": pl.String, "sqft": pl.Float64,
                "market_value": pl.Float64, "mortgage_balance": pl.Float64})


# --- hand-computed examples (default config) -------------------------------------------------

def test_passing_deal_by_hand():
    deal = DealInputs(arv=300_000, condition="poor", sqft=1_400, market_value=110_000,
                      mortgage_balance=40_000)
    result = evaluate_deal(deal)
    # repairs  = 50 $/sqft (poor) x 1,400 sqft                                    =  70,000
    # holding  = taxes      300,000 x 1.5%/12 x 6                                 =   2,250
    #          + insurance  300,000 x 0.6%/12 x 6                                 =     900
    #          + utilities  250 x 6                                               =   1,500
    #          + interest   300,000 x 70% x 10%/12 x 6                            =  10,500
    #                                                                             =  15,150
    # closing  = 3% x 300,000                                                     =   9,000
    # margin   = 0% x 300,000                                                     =       0
    # MAO      = 300,000 x 70% (210,000) - 70,000 - 15,150 - 9,000 - 0            = 115,850
    # seller   = max(75% x 110,000 = 82,500, 1.0 x 40,000)                        =  82,500
    # spread   = 115,850 - 82,500                                                 =  33,350
    # profit   = 33,350 - 3,000 wholesaler costs                                  =  30,350 >= 20,000
    _check(result, repairs=70_000, holding_costs=15_150, closing_costs=9_000, buyer_margin=0,
           max_allowable_offer=115_850, seller_price=82_500, spread=33_350,
           conservative_profit=30_350)
    _check(result, holding_taxes=2_250, holding_insurance=900, holding_utilities=1_500,
           holding_interest=10_500, arv_times_share=210_000)
    assert result.passes
    assert result.seller_price_basis == "market_value"


def test_typical_fair_condition_deal_fails_by_hand():
    deal = DealInputs(arv=300_000, condition="fair", sqft=1_500, market_value=200_000,
                      mortgage_balance=60_000)
    result = evaluate_deal(deal)
    # repairs 30 x 1,500 = 45,000; holding 15,150 and closing 9,000 as above (same ARV)
    # MAO     = 210,000 - 45,000 - 15,150 - 9,000 - 0 = 140,850
    # seller  = max(75% x 200,000 = 150,000, 60,000)  = 150,000
    # spread  = -9,150; profit = -12,150
    _check(result, repairs=45_000, holding_costs=15_150, max_allowable_offer=140_850,
           seller_price=150_000, spread=-9_150, conservative_profit=-12_150)
    assert not result.passes


# ARV 400,000, good condition, 1,000 sqft (shared by the two threshold examples):
# repairs  = 15 x 1,000                                               =  15,000
# holding  = 400,000 x 1.5%/12 x 6 (3,000) + 400,000 x 0.6%/12 x 6 (1,200)
#          + 250 x 6 (1,500) + 400,000 x 70% x 10%/12 x 6 (14,000)     =  19,700
# closing  = 3% x 400,000                                             =  12,000
# MAO      = 280,000 - 15,000 - 19,700 - 12,000 - 0                   = 233,300
# profit   = 233,300 - seller_price - 3,000, so seller_price 210,300 is exactly the $20K line.

def test_lead_just_under_20k_fails_and_at_20k_passes():
    under = evaluate_deal(DealInputs(400_000, "good", 1_000, market_value=280_401,
                                     mortgage_balance=None))
    # seller = 75% x 280,401 = 210,300.75 (no mortgage); spread 22,999.25; profit 19,999.25
    _check(under, repairs=15_000, holding_costs=19_700, closing_costs=12_000,
           max_allowable_offer=233_300, seller_price=210_300.75, spread=22_999.25,
           conservative_profit=19_999.25)
    assert not under.passes

    at_line = evaluate_deal(DealInputs(400_000, "good", 1_000, market_value=280_400,
                                       mortgage_balance=None))
    # seller = 75% x 280,400 = 210,300; profit exactly 20,000.00: the test is "at least $20K"
    _check(at_line, seller_price=210_300, conservative_profit=20_000)
    assert at_line.passes


def test_mortgage_sets_the_seller_price_and_one_cent_decides():
    # market value 200,000 -> 150,000, but the seller will not go below the 210,300.01 balance
    cent_short = evaluate_deal(DealInputs(400_000, "good", 1_000, market_value=200_000,
                                          mortgage_balance=210_300.01))
    _check(cent_short, max_allowable_offer=233_300, seller_price=210_300.01, spread=22_999.99,
           conservative_profit=19_999.99)
    assert cent_short.seller_price_basis == "mortgage_balance"
    assert not cent_short.passes

    one_cent_less_debt = evaluate_deal(DealInputs(400_000, "good", 1_000, market_value=200_000,
                                                  mortgage_balance=210_300.00))
    _check(one_cent_less_debt, seller_price=210_300, conservative_profit=20_000)
    assert one_cent_less_debt.passes
    assert one_cent_less_debt.audit()["figures"]["conservative_profit"] == 20_000.00


def test_mortgage_limited_deal_fails():
    # the passing deal above, but owing 100,000: seller = max(82,500, 100,000) = 100,000
    result = evaluate_deal(DealInputs(300_000, "poor", 1_400, 110_000, mortgage_balance=100_000))
    # spread = 115,850 - 100,000 = 15,850; profit = 12,850
    _check(result, seller_price=100_000, spread=15_850, conservative_profit=12_850)
    assert result.seller_price_basis == "mortgage_balance"
    assert not result.passes


# --- condition and configuration ---------------------------------------------------------------

def test_default_repair_rates_cover_the_contract_conditions():
    assert set(BuyBoxConfig().repair_cost_per_sqft) == set(CONDITIONS)


@pytest.mark.parametrize("condition", [None, "mystery", ""])
def test_unknown_condition_uses_the_conservative_rate(condition):
    result = evaluate_deal(DealInputs(300_000, condition, 1_400, 110_000, 40_000))
    # 50 $/sqft (unknown) x 1,400 = 70,000: the same as "poor", so the rest matches too
    _check(result, repairs=70_000, conservative_profit=30_350)
    assert result.condition_matched is None
    assert result.audit()["repair"] == {"condition_matched": None, "rate_source": "unknown_condition",
                                        "repair_cost_per_sqft": 50.0}


def test_condition_is_matched_case_and_space_insensitively():
    result = evaluate_deal(DealInputs(300_000, "  Fair ", 1_500, 200_000, 60_000))
    assert result.repair_cost_per_sqft == 30.0 and result.condition_matched == "fair"
    frame = evaluate_deals(_frame(DealInputs(300_000, "  Fair ", 1_500, 200_000, 60_000)))
    assert frame["repairs"][0] == result.repairs


def test_configuration_changes_the_result():
    deal = DealInputs(400_000, "good", 1_000, market_value=280_401, mortgage_balance=None)
    assert not evaluate_deal(deal).passes
    assert evaluate_deal(deal, BuyBoxConfig(min_profit=10_000)).passes  # 19,999.25 >= 10,000

    # a 2% buyer margin takes 8,000 more off the MAO; 65% rule takes 20,000 off ARV x share
    # (and 65% x 10%/12 x 6 x 400,000 = 13,000 interest instead of 14,000)
    _check(evaluate_deal(deal, BuyBoxConfig(buyer_margin=0.02)),
           buyer_margin=8_000, max_allowable_offer=225_300, conservative_profit=11_999.25)
    _check(evaluate_deal(deal, BuyBoxConfig(arv_share=0.65)),
           holding_costs=18_700, max_allowable_offer=214_300, conservative_profit=999.25)
    # custom repair rates (keys normalised) and unknown rate
    custom = BuyBoxConfig(repair_cost_per_sqft={" GOOD": 10}, unknown_condition_repair_per_sqft=99)
    assert dict(custom.repair_cost_per_sqft) == {"good": 10.0}
    _check(evaluate_deal(deal, custom), repairs=10_000)
    _check(evaluate_deal(DealInputs(400_000, "fair", 1_000, 280_401), custom), repairs=99_000)
    # the seller floor factor: 1.1 x 210,000 balance = 231,000
    _check(evaluate_deal(DealInputs(400_000, "good", 1_000, 200_000, 210_000),
                         BuyBoxConfig(min_seller_price_over_debt=1.1)), seller_price=231_000)


def test_config_is_validated_immutable_and_hashable():
    with pytest.raises(ValueError, match="arv_share"):
        BuyBoxConfig(arv_share=0)
    with pytest.raises(ValueError, match="holding_months"):
        BuyBoxConfig(holding_months=-1)
    with pytest.raises(ValueError, match="finite"):
        BuyBoxConfig(min_profit=math.inf)
    with pytest.raises(ValueError, match="repair_cost_per_sqft"):
        BuyBoxConfig(repair_cost_per_sqft={"good": -1})
    with pytest.raises(ValueError, match="duplicated"):
        BuyBoxConfig(repair_cost_per_sqft={"good": 1, "Good": 2})
    config = BuyBoxConfig()
    with pytest.raises(TypeError):
        config.repair_cost_per_sqft["good"] = 0  # type: ignore[index]
    assert hash(config) == hash(BuyBoxConfig()) and config == BuyBoxConfig()
    assert config != BuyBoxConfig(min_profit=10_000)


# --- audit trail ---------------------------------------------------------------------------------

def test_audit_is_json_with_every_input_figure_config_and_the_formula():
    config = BuyBoxConfig(buyer_margin=0.01)
    result = evaluate_deal(DealInputs(300_000, "poor", 1_400, 110_000, 40_000), config)
    audit = json.loads(json.dumps(result.audit(), allow_nan=False))
    assert audit["valid"] is True and audit["invalid_reason"] is None and audit["passes"] is True
    assert audit["formula"] == FORMULA
    assert audit["config"] == config.as_dict()
    assert audit["inputs"] == {"arv": 300_000, "condition": "poor", "sqft": 1_400,
                               "market_value": 110_000, "mortgage_balance": 40_000}
    figures = audit["figures"]
    for name in ("repairs", "holding_costs", "closing_costs", "buyer_margin", "max_allowable_offer",
                 "seller_price", "spread", "conservative_profit", "arv_times_share",
                 "holding_taxes", "holding_insurance", "holding_utilities", "holding_interest",
                 "seller_price_from_market_value", "seller_price_floor_from_debt"):
        assert figures[name] == round(getattr(result, name), 2), name
    assert figures["buyer_margin"] == 3_000 and figures["conservative_profit"] == 27_350
    assert figures["wholesaler_costs"] == 3_000 and figures["seller_price_basis"] == "market_value"


def test_audit_rounds_to_cents():
    result = evaluate_deal(DealInputs(123_456.789, "good", 1_234.567, 98_765.4321, None))
    for key, value in result.audit()["figures"].items():
        if isinstance(value, float):
            assert value == round(value, 2), key
    assert result.audit()["inputs"]["arv"] == 123_456.79


# --- the frame path agrees exactly ---------------------------------------------------------------

def _random_frame(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)

    def numbers(low: float, high: float, null_share: float, bad: tuple[float, ...]) -> list:
        raw, digits = rng.uniform(low, high, n), rng.integers(0, 3, n)  # whole, cents or full
        values: list = np.where(digits == 0, raw.round(0), np.where(digits == 1, raw.round(2), raw)).tolist()
        for i in range(n):
            u = rng.random()
            if u < null_share:
                values[i] = None
            elif u < null_share + 0.03:
                values[i] = float(rng.choice(bad))
        return values

    conditions = [*CONDITIONS, None, "unknown", " Poor", "GOOD"]
    return pl.DataFrame({
        "lead_id": [f"L{i}" for i in range(n)],
        "arv": numbers(60_000, 700_000, 0.03, (0.0, -5.0, math.nan, math.inf)),
        "condition": [conditions[i] for i in rng.integers(0, len(conditions), n)],
        "sqft": pl.Series(numbers(500, 4_000, 0.03, (0.0, -1.0)), dtype=pl.Float64)
        .round(0).cast(pl.Int64),  # an integer column is cast like any other
        "market_value": numbers(20_000, 500_000, 0.03, (-1.0, math.nan)),
        "mortgage_balance": numbers(0, 400_000, 0.35, (-10.0, math.inf)),
    }, schema_overrides={"arv": pl.Float64, "market_value": pl.Float64,
                         "mortgage_balance": pl.Float64})


@pytest.mark.parametrize("config", [
    BuyBoxConfig(),
    BuyBoxConfig(arv_share=0.65, buyer_margin=0.02, holding_months=4.5, min_profit=5_000,
                 seller_price_share=0.6, min_seller_price_over_debt=1.05,
                 repair_cost_per_sqft={"good": 12.5, "poor": 44.0}),
], ids=["default", "custom"])
def test_frame_path_equals_evaluate_deal_row_by_row(config):
    frame = _random_frame(200, seed=7)
    out = evaluate_deals(frame, config)
    assert out.columns[:frame.width] == frame.columns and out.height == frame.height
    assert out.select(frame.columns).equals(frame)
    n_valid = n_passing = 0
    for row in out.iter_rows(named=True):
        deal = DealInputs(row["arv"], row["condition"], row["sqft"], row["market_value"],
                          row["mortgage_balance"])
        audit = json.loads(row["buy_box_audit"])
        assert audit["formula"] == FORMULA and audit["config"] == config.as_dict()
        reason = invalid_reason(deal)
        assert row["buy_box_invalid_reason"] == reason == audit["invalid_reason"]
        if reason is None:
            n_valid += 1
            result = evaluate_deal(deal, config)
            for field, column in FRAME_OF_FIELD.items():
                assert row[column] == getattr(result, field), (field, row)  # exact, not approx
            assert row["passes_buy_box"] is result.passes
            assert audit == result.audit()
            n_passing += result.passes
        else:
            with pytest.raises(ValueError, match="cannot evaluate deal"):
                evaluate_deal(deal, config)
            assert row["passes_buy_box"] is False
            assert all(row[column] is None for column in FRAME_OF_FIELD.values())
            assert audit["valid"] is False and audit["passes"] is False
            assert all(value is None for value in audit["figures"].values())
    assert 100 < n_valid < 200 and n_passing > 0  # both kinds of row were exercised


@pytest.mark.parametrize("config", [BuyBoxConfig(), BuyBoxConfig(arv_share=0.65, min_profit=5_000,
                                                                   repair_cost_per_sqft={"good": 12.5})],
                         ids=["default", "custom"])
def test_deal_figures_of_a_few_rows_equal_the_frame_path(config):
    frame = _random_frame(200, seed=11)
    expected = evaluate_deals(frame, config, audit=False).select(DEAL_FIGURES)
    assert deal_figures(frame, config).equals(expected)  # many rows: the frame plan itself
    pieces = [deal_figures(frame.slice(start, SMALL_FRAME_ROWS), config)
              for start in range(0, frame.height, SMALL_FRAME_ROWS)]  # a few rows: evaluate_deal per row
    assert pl.concat(pieces).equals(expected)
    assert expected["passes_buy_box"].any() and expected["conservative_profit"].is_null().any()
    with pytest.raises(ValueError, match="missing \\['sqft'\\]"):
        deal_figures(frame.head(2).drop("sqft"), config)


def test_frame_path_on_the_hand_computed_deals():
    deals = [DealInputs(300_000, "poor", 1_400, 110_000, 40_000),
             DealInputs(400_000, "good", 1_000, 280_401, None),
             DealInputs(400_000, "good", 1_000, 280_400, None),
             DealInputs(400_000, "good", 1_000, 200_000, 210_300.01),
             DealInputs(400_000, "good", 1_000, 200_000, 210_300.00)]
    out = evaluate_deals(_frame(*deals))
    assert out["passes_buy_box"].to_list() == [True, False, True, False, True]
    assert out["conservative_profit"].to_list() == pytest.approx(
        [30_350, 19_999.25, 20_000, 19_999.99, 20_000], abs=CENT)
    assert out["conservative_profit"].to_list() == [evaluate_deal(d).conservative_profit for d in deals]


def test_invalid_rows_are_marked_not_raised():
    frame = pl.DataFrame({
        "arv": [None, 0.0, 300_000.0, math.nan, 300_000.0],
        "condition": ["good", "good", None, "fair", "poor"],
        "sqft": [1_000.0, 1_000.0, None, -3.0, 1_400.0],
        "market_value": [100_000.0, 100_000.0, None, 100_000.0, 110_000.0],
        "mortgage_balance": [None, None, None, -1.0, 40_000.0],
    })
    out = evaluate_deals(frame)
    assert out["buy_box_invalid_reason"].to_list() == [
        "arv is missing",
        "arv must be a finite number > 0",
        "sqft is missing; market_value is missing",
        ("arv must be a finite number > 0; sqft must be a finite number > 0; "
         "mortgage_balance must be a finite number >= 0"),
        None,
    ]
    assert out["passes_buy_box"].to_list() == [False, False, False, False, True]
    assert out["conservative_profit"].null_count() == 4
    bad = json.loads(out["buy_box_audit"][3])  # a NaN input is shown as null: still strict JSON
    assert bad["inputs"]["arv"] is None and bad["inputs"]["mortgage_balance"] == -1.0
    assert bad["invalid_reason"].startswith("arv must be")
    for value in out["buy_box_audit"]:
        json.loads(value, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))

    with pytest.raises(ValueError, match="arv is missing"):
        evaluate_deal(DealInputs(None, "good", 1_000, 100_000))
    with pytest.raises(ValueError, match="sqft must be a finite number > 0"):
        evaluate_deal(DealInputs(300_000, "good", 0, 100_000))
    with pytest.raises(ValueError, match="market_value is missing"):
        evaluate_deal(DealInputs(300_000, "good", 1_000, None))


def test_frame_needs_the_input_columns_and_handles_edge_shapes():
    with pytest.raises(ValueError, match="mortgage_balance"):
        evaluate_deals(pl.DataFrame({"arv": [1.0], "condition": ["good"], "sqft": [1.0],
                                     "market_value": [1.0]}))
    empty = evaluate_deals(_frame().clear())
    assert empty.height == 0 and "buy_box_audit" in empty.columns
    # an all-null mortgage column (dtype Null) and a categorical condition column
    frame = pl.DataFrame({"arv": [300_000], "condition": pl.Series(["poor"], dtype=pl.Categorical),
                          "sqft": [1_400], "market_value": [110_000], "mortgage_balance": [None]})
    out = evaluate_deals(frame)
    assert out["conservative_profit"][0] == pytest.approx(30_350, abs=CENT)
    assert "buy_box_audit" not in evaluate_deals(frame, audit=False).columns


def test_100k_rows_run_in_a_few_seconds():
    frame = pl.concat([_random_frame(1_000, seed=s) for s in range(4)])
    frame = frame.sample(100_000, with_replacement=True, seed=0)
    start = time.perf_counter()
    out = evaluate_deals(frame)
    elapsed = time.perf_counter() - start
    assert out.height == 100_000 and out["buy_box_audit"].null_count() == 0
    assert elapsed < 5.0, f"100k rows took {elapsed:.1f}s"
