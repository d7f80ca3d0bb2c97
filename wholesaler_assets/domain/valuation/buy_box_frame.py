"""The buy-box on a polars frame: :func:`evaluate_deals` (every figure and audit column) and
:func:`deal_figures` (the figures scoring keeps), the same numbers as ``buy_box_deal.evaluate_deal`` per row."""

from __future__ import annotations

import json

import polars as pl

from wholesaler_assets.domain.valuation.buy_box_config import _STRIP, FORMULA, BuyBoxConfig, _Constants
from wholesaler_assets.domain.valuation.buy_box_deal import DealInputs, evaluate_deal, invalid_reason

INPUT_COLUMNS = ("arv", "condition", "sqft", "market_value", "mortgage_balance")
OUTPUT_COLUMNS = ("repairs", "holding_costs", "closing_costs", "buyer_margin_amount",
                  "max_allowable_offer", "seller_price", "spread", "conservative_profit",
                  "passes_buy_box", "buy_box_invalid_reason", "buy_box_audit")

_TMP = "__buy_box_"     # prefix of the scratch columns evaluate_deals drops again


def _cents_expr(expr: pl.Expr) -> pl.Expr:
    return expr.round(2, mode="half_to_even")


def evaluate_deals(frame: pl.DataFrame, config: BuyBoxConfig = BuyBoxConfig(),
                   *, audit: bool = True) -> pl.DataFrame:
    """Run the buy-box on every row of ``frame``; same numbers as :func:`evaluate_deal` per row.

    Needs columns ``arv``, ``condition``, ``sqft``, ``market_value`` and ``mortgage_balance``
    (numeric columns are cast to Float64, condition to String; all may hold nulls). Returns the
    frame with these columns added (replacing any of the same name): ``repairs``,
    ``holding_costs``, ``closing_costs``, ``buyer_margin_amount``, ``max_allowable_offer``,
    ``seller_price``, ``spread``, ``conservative_profit`` (Float64, full precision, null on
    invalid rows), ``passes_buy_box`` (Boolean, False on invalid rows), ``buy_box_invalid_reason``
    (String, null on valid rows) and ``buy_box_audit`` (JSON string, the content of
    :meth:`DealResult.audit`; about 2 KB a row, so ``audit=False`` leaves it out when only the
    figures are needed). Raises ``ValueError`` only when a column is missing.
    """
    missing = [c for c in INPUT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"evaluate_deals needs columns {list(INPUT_COLUMNS)}; missing {missing}")
    k = _Constants.of(config)
    t = {name: f"{_TMP}{name}" for name in (
        "arv", "cond", "sqft", "mv", "mb", "key", "rate", "reason", "valid", "taxes", "insurance",
        "interest", "holding", "closing", "margin", "arv_share", "mao", "from_value",
        "from_debt", "seller", "spread", "profit", "passes")}
    c = {name: pl.col(col) for name, col in t.items()}

    def bad(name: str, col: pl.Expr, strict: bool, required: bool) -> pl.Expr:
        ok = col.is_finite() & ((col > 0.0) if strict else (col >= 0.0))
        text = f"{name} must be a finite number {'> 0' if strict else '>= 0'}"
        none = pl.lit(None, dtype=pl.String)
        if required:
            missing = pl.lit(f"{name} is missing")
            return pl.when(col.is_null()).then(missing).when(~ok).then(pl.lit(text)).otherwise(none)
        return pl.when(col.is_not_null() & ~ok).then(pl.lit(text)).otherwise(none)

    keys = list(config.repair_cost_per_sqft)
    rates = [config.repair_cost_per_sqft[key] for key in keys]
    reason = pl.concat_str([bad("arv", c["arv"], True, True), bad("sqft", c["sqft"], True, True),
                            bad("market_value", c["mv"], False, True),
                            bad("mortgage_balance", c["mb"], False, False)],
                           separator="; ", ignore_nulls=True)

    lf = frame.lazy().with_columns(
        pl.col("arv").cast(pl.Float64).alias(t["arv"]),
        pl.col("condition").cast(pl.String).alias(t["cond"]),
        pl.col("sqft").cast(pl.Float64).alias(t["sqft"]),
        pl.col("market_value").cast(pl.Float64).alias(t["mv"]),
        pl.col("mortgage_balance").cast(pl.Float64).alias(t["mb"]),
    ).with_columns(
        pl.when(c["cond"].str.strip_chars(_STRIP).str.to_lowercase().is_in(keys))
        .then(c["cond"].str.strip_chars(_STRIP).str.to_lowercase()).alias(t["key"]),
        pl.when(reason != "").then(reason).alias(t["reason"]),
    ).with_columns(
        c["key"].replace_strict(keys, rates, default=config.unknown_condition_repair_per_sqft,
                                return_dtype=pl.Float64)
        .fill_null(config.unknown_condition_repair_per_sqft).alias(t["rate"]),
        c["reason"].is_null().alias(t["valid"]),
        (c["arv"] * k.tax_k).alias(t["taxes"]),
        (c["arv"] * k.insurance_k).alias(t["insurance"]),
        (c["arv"] * k.interest_k).alias(t["interest"]),
        (c["arv"] * config.closing_cost_share).alias(t["closing"]),
        (c["arv"] * config.buyer_margin).alias(t["margin"]),
        (c["arv"] * config.arv_share).alias(t["arv_share"]),
        (c["mv"] * config.seller_price_share).alias(t["from_value"]),
        (c["mb"].fill_null(0.0) * config.min_seller_price_over_debt).alias(t["from_debt"]),
    ).with_columns(
        (c["taxes"] + c["insurance"] + k.utilities + c["interest"]).alias(t["holding"]),
        pl.max_horizontal(c["from_value"], c["from_debt"]).alias(t["seller"]),
    ).with_columns(
        (c["arv_share"] - c["rate"] * c["sqft"] - c["holding"] - c["closing"] - c["margin"])
        .alias(t["mao"]),
    ).with_columns(
        (c["mao"] - c["seller"]).alias(t["spread"]),
    ).with_columns(
        (c["spread"] - config.wholesaler_costs).alias(t["profit"]),
    ).with_columns(
        (c["valid"] & (_cents_expr(c["profit"]) >= config.min_profit)).alias(t["passes"]),
    )

    def fig(expr: pl.Expr) -> pl.Expr:  # a figure, null on invalid rows
        return pl.when(c["valid"]).then(expr)

    def money(expr: pl.Expr) -> pl.Expr:
        return pl.when(c["valid"]).then(_cents_expr(expr))

    def shown(col: pl.Expr) -> pl.Expr:  # inputs in the audit: cents, non-finite shown as null
        return pl.when(col.is_finite()).then(_cents_expr(col))

    audit_row = pl.struct(
        c["valid"].alias("valid"),
        c["reason"].alias("invalid_reason"),
        pl.struct(shown(c["arv"]).alias("arv"), c["cond"].alias("condition"),
                  shown(c["sqft"]).alias("sqft"), shown(c["mv"]).alias("market_value"),
                  shown(c["mb"]).alias("mortgage_balance")).alias("inputs"),
        pl.struct(c["key"].alias("condition_matched"),
                  pl.when(c["key"].is_not_null()).then(pl.lit("condition"))
                  .otherwise(pl.lit("unknown_condition")).alias("rate_source"),
                  c["rate"].alias("repair_cost_per_sqft")).alias("repair"),
        pl.struct(
            money(c["arv_share"]).alias("arv_times_share"),
            money(c["rate"] * c["sqft"]).alias("repairs"),
            money(c["taxes"]).alias("holding_taxes"),
            money(c["insurance"]).alias("holding_insurance"),
            money(pl.lit(k.utilities)).alias("holding_utilities"),
            money(c["interest"]).alias("holding_interest"),
            money(c["holding"]).alias("holding_costs"),
            money(c["closing"]).alias("closing_costs"),
            money(c["margin"]).alias("buyer_margin"),
            money(c["mao"]).alias("max_allowable_offer"),
            money(c["from_value"]).alias("seller_price_from_market_value"),
            money(c["from_debt"]).alias("seller_price_floor_from_debt"),
            money(c["seller"]).alias("seller_price"),
            fig(pl.when(c["from_value"] >= c["from_debt"]).then(pl.lit("market_value"))
                .otherwise(pl.lit("mortgage_balance"))).alias("seller_price_basis"),
            money(c["spread"]).alias("spread"),
            money(pl.lit(config.wholesaler_costs)).alias("wholesaler_costs"),
            money(c["profit"]).alias("conservative_profit"),
        ).alias("figures"),
        c["passes"].alias("passes"),
    ).struct.json_encode()
    tail = (f',"min_profit":{json.dumps(config.min_profit)},"config":'
            f'{json.dumps(config.as_dict(), separators=(",", ":"))},"formula":{json.dumps(FORMULA)}}}')

    outputs = [
        fig(c["rate"] * c["sqft"]).alias("repairs"),
        fig(c["holding"]).alias("holding_costs"),
        fig(c["closing"]).alias("closing_costs"),
        fig(c["margin"]).alias("buyer_margin_amount"),
        fig(c["mao"]).alias("max_allowable_offer"),
        fig(c["seller"]).alias("seller_price"),
        fig(c["spread"]).alias("spread"),
        fig(c["profit"]).alias("conservative_profit"),
        c["passes"].alias("passes_buy_box"),
        c["reason"].alias("buy_box_invalid_reason"),
    ]
    if audit:
        outputs.append(pl.concat_str([audit_row.str.strip_suffix("}"), pl.lit(tail)])
                       .alias("buy_box_audit"))
    return lf.with_columns(outputs).drop(list(t.values())).collect()


DEAL_FIGURES = ("max_allowable_offer", "seller_price", "conservative_profit", "passes_buy_box")
SMALL_FRAME_ROWS = 32  # up to here one `evaluate_deal` per row beats the frame plan's fixed cost


def deal_figures(frame: pl.DataFrame, config: BuyBoxConfig = BuyBoxConfig()) -> pl.DataFrame:
    """The buy-box figures scoring keeps (`DEAL_FIGURES`) for every row of ``frame``, in its order.

    The same numbers as :func:`evaluate_deals` (a test holds the two paths equal). A few rows,
    a serving request, go through :func:`evaluate_deal` one by one: the frame plan costs about
    2 ms whatever its length, a tenth of a one-lead request's budget.
    """
    if frame.height > SMALL_FRAME_ROWS:
        return evaluate_deals(frame, config, audit=False).select(DEAL_FIGURES)
    missing = [c for c in INPUT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"deal_figures needs columns {list(INPUT_COLUMNS)}; missing {missing}")
    rows: list[tuple[float | None, float | None, float | None, bool]] = []
    for arv, condition, sqft, market_value, mortgage in zip(*(frame.get_column(c).to_list() for c in INPUT_COLUMNS),
                                                            strict=True):
        inputs = DealInputs(arv, None if condition is None else str(condition), sqft, market_value, mortgage)
        if invalid_reason(inputs) is not None:
            rows.append((None, None, None, False))
            continue
        result = evaluate_deal(inputs, config)
        rows.append((result.max_allowable_offer, result.seller_price, result.conservative_profit, result.passes))
    return pl.DataFrame(rows, schema={"max_allowable_offer": pl.Float64, "seller_price": pl.Float64,
                                      "conservative_profit": pl.Float64, "passes_buy_box": pl.Boolean},
                        orient="row")
