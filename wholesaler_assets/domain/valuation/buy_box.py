"""Conservative wholesaler buy-box: what an investor would pay, what the seller takes, what is left.

A wholesaler puts a distressed property under contract with its seller and assigns the contract
to an investor (the end buyer). The investor's maximum allowable offer (MAO) is what the
wholesaler can sell the contract for; the price the seller accepts is the wholesaler's cost; the
difference is the spread, and the conservative profit is the spread minus the wholesaler's own
deal costs. A lead passes the buy-box when that profit is at least ``min_profit`` ($20K).

Every figure is a pure function of the deal inputs and a :class:`BuyBoxConfig`; nothing is read
from anywhere else. :func:`evaluate_deal` scores one deal, :func:`evaluate_deals` scores a polars
frame with the same arithmetic (same float operations in the same order, so the numbers agree
exactly, not just approximately), and each deal keeps its full calculation as a JSON audit trail.

Formula (ARV = after-repair value, all money in dollars)
    repairs         = repair_cost_per_sqft[condition] x sqft
                      (unknown_condition_repair_per_sqft when the condition is null or not a key;
                      the condition is matched after stripping whitespace and lower-casing)
    holding_costs   = holding_months x ( ARV x annual_tax_rate / 12          taxes
                                       + ARV x annual_insurance_rate / 12    insurance
                                       + monthly_utilities                  utilities
                                       + ARV x arv_share x annual_interest_rate / 12 )  interest
                      (the investor's hard-money interest is charged on ARV x arv_share, the
                      70%-rule purchase-plus-repairs budget, for the whole holding period)
    closing_costs   = closing_cost_share x ARV        (investor's purchase and resale closing)
    buyer_margin    = buyer_margin x ARV              (extra margin on top of the 70% rule)
    MAO             = ARV x arv_share - repairs - holding_costs - closing_costs - buyer_margin
    seller_price    = max(seller_price_share x market_value,
                          min_seller_price_over_debt x mortgage_balance)   (null balance -> 0)
    spread          = MAO - seller_price
    profit          = spread - wholesaler_costs          ("conservative_profit")
    passes          = round_cents(profit) >= min_profit

Defaults (BuyBoxConfig())
    arv_share 0.70 (the 70% rule); repairs per sqft excellent 5, good 15, fair 30, poor 50,
    distressed 75, unknown 50; holding 6 months at 1.5%/yr taxes and 0.6%/yr insurance of ARV,
    $250/month utilities and 10%/yr interest on ARV x 0.70; closing 3% of ARV; buyer margin 0;
    seller accepts 75% of as-is market value but never less than 1.0 x the mortgage balance;
    wholesaler costs $3,000 per deal; min_profit $20,000.

Holding-cost components are computed as ARV x k with k = rate x holding_months / 12 (and
utilities = monthly_utilities x holding_months), which is the formula above re-associated; the
hand-computed figures agree to well under a cent.

Rounding: figures are kept at full float precision; the audit rounds money to cents
(round-half-even of x x 100, then / 100: identical in Python and polars) and the pass test compares the
cent-rounded profit, so a profit shown as 20000.0 passes a 20000 threshold even when float
noise leaves it at 19999.999999999996.

Invalid inputs: ARV or sqft null, non-finite or <= 0; market_value null, non-finite or < 0;
mortgage_balance non-finite or < 0 (null is fine and means no mortgage). :func:`evaluate_deal`
raises ``ValueError`` naming every problem; :func:`evaluate_deals` never raises on row values:
the row gets ``passes_buy_box = False``, null figures and the reason in the audit (and in
``buy_box_invalid_reason``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

import polars as pl

DEFAULT_REPAIR_COST_PER_SQFT: Mapping[str, float] = MappingProxyType(
    {"excellent": 5.0, "good": 15.0, "fair": 30.0, "poor": 50.0, "distressed": 75.0})

INPUT_COLUMNS = ("arv", "condition", "sqft", "market_value", "mortgage_balance")
OUTPUT_COLUMNS = ("repairs", "holding_costs", "closing_costs", "buyer_margin_amount",
                  "max_allowable_offer", "seller_price", "spread", "conservative_profit",
                  "passes_buy_box", "buy_box_invalid_reason", "buy_box_audit")

FORMULA = (
    "repairs = repair_cost_per_sqft[condition] * sqft (unknown_condition_repair_per_sqft if unknown); "
    "holding_costs = holding_months * (ARV * annual_tax_rate / 12 + ARV * annual_insurance_rate / 12"
    " + monthly_utilities + ARV * arv_share * annual_interest_rate / 12); "
    "closing_costs = closing_cost_share * ARV; buyer_margin = buyer_margin * ARV; "
    "max_allowable_offer = ARV * arv_share - repairs - holding_costs - closing_costs - buyer_margin; "
    "seller_price = max(seller_price_share * market_value, "
    "min_seller_price_over_debt * (mortgage_balance or 0)); "
    "spread = max_allowable_offer - seller_price; conservative_profit = spread - wholesaler_costs; "
    "passes = round_cents(conservative_profit) >= min_profit")

_STRIP = " \t\n\r\f\v"  # whitespace stripped from conditions, the same set in Python and polars
_TMP = "__buy_box_"     # prefix of the scratch columns evaluate_deals drops again


def round_cents(value: float) -> float:
    """Round to cents: round-half-even of value x 100, divided by 100 (polars' ``round(2)``).

    Polars divides by a scalar as a multiplication by its reciprocal, which is not the same
    float; ``Expr.round(2)`` does the true division, so this and :func:`_cents_expr` agree.
    """
    return round(value * 100.0) / 100.0


def _cents_expr(expr: pl.Expr) -> pl.Expr:
    return expr.round(2, mode="half_to_even")


def _finite_number(name: str, value: Any) -> None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"BuyBoxConfig.{name} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(number):
        raise ValueError(f"BuyBoxConfig.{name} must be a finite number, got {value!r}")


@dataclass(frozen=True)
class BuyBoxConfig:
    """Every assumption of the buy-box; the defaults are the conservative ones (see module doc).

    ``repair_cost_per_sqft`` is stored as a read-only mapping with stripped, lower-case keys.
    Rates are shares (0.015 = 1.5%); ``annual_*`` rates are per year, charged for
    ``holding_months``. Raises ``ValueError`` for non-finite or out-of-range values.
    """

    arv_share: float = 0.70
    repair_cost_per_sqft: Mapping[str, float] = field(
        default_factory=lambda: DEFAULT_REPAIR_COST_PER_SQFT)
    unknown_condition_repair_per_sqft: float = 50.0
    holding_months: float = 6.0
    annual_tax_rate: float = 0.015
    annual_insurance_rate: float = 0.006
    monthly_utilities: float = 250.0
    annual_interest_rate: float = 0.10
    closing_cost_share: float = 0.03
    buyer_margin: float = 0.0
    seller_price_share: float = 0.75
    min_seller_price_over_debt: float = 1.0
    wholesaler_costs: float = 3_000.0
    min_profit: float = 20_000.0

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name != "repair_cost_per_sqft":
                _finite_number(f.name, getattr(self, f.name))
                object.__setattr__(self, f.name, float(getattr(self, f.name)))
        if not 0.0 < self.arv_share <= 1.0:
            raise ValueError(f"BuyBoxConfig.arv_share must be in (0, 1], got {self.arv_share}")
        for name in ("unknown_condition_repair_per_sqft", "holding_months", "annual_tax_rate",
                     "annual_insurance_rate", "monthly_utilities", "annual_interest_rate",
                     "closing_cost_share", "buyer_margin", "seller_price_share",
                     "min_seller_price_over_debt", "wholesaler_costs"):
            if getattr(self, name) < 0.0:
                raise ValueError(f"BuyBoxConfig.{name} must be >= 0, got {getattr(self, name)}")
        rates: dict[str, float] = {}
        for key, rate in dict(self.repair_cost_per_sqft).items():
            if not isinstance(key, str):
                raise ValueError(f"repair_cost_per_sqft keys must be strings, got {key!r}")
            norm = key.strip(_STRIP).lower()
            if not norm or norm in rates:
                raise ValueError(f"repair_cost_per_sqft key {key!r} is empty or duplicated "
                                 "after stripping and lower-casing")
            _finite_number(f"repair_cost_per_sqft[{key!r}]", rate)
            if float(rate) < 0.0:
                raise ValueError(f"repair_cost_per_sqft[{key!r}] must be >= 0, got {rate}")
            rates[norm] = float(rate)
        object.__setattr__(self, "repair_cost_per_sqft", MappingProxyType(rates))

    def __hash__(self) -> int:
        return hash(tuple((f.name, tuple(sorted(self.repair_cost_per_sqft.items()))
                           if f.name == "repair_cost_per_sqft" else getattr(self, f.name))
                          for f in fields(self)))

    def as_dict(self) -> dict[str, Any]:
        """The configuration as plain JSON-serialisable values (the audit's ``config``)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = dict(value) if f.name == "repair_cost_per_sqft" else value
        return out

    def repair_rate(self, condition: str | None) -> tuple[float, str | None]:
        """Repair cost per sqft for a condition and the matched key (None: unknown-rate used)."""
        if isinstance(condition, str):
            key = condition.strip(_STRIP).lower()
            if key in self.repair_cost_per_sqft:
                return self.repair_cost_per_sqft[key], key
        return self.unknown_condition_repair_per_sqft, None


@dataclass(frozen=True)
class _Constants:
    """Per-config multipliers, computed once so both paths use the very same floats."""

    tax_k: float
    insurance_k: float
    utilities: float
    interest_k: float

    @classmethod
    def of(cls, c: BuyBoxConfig) -> _Constants:
        return cls(tax_k=c.annual_tax_rate * c.holding_months / 12.0,
                   insurance_k=c.annual_insurance_rate * c.holding_months / 12.0,
                   utilities=c.monthly_utilities * c.holding_months,
                   interest_k=c.arv_share * c.annual_interest_rate * c.holding_months / 12.0)


@dataclass(frozen=True)
class DealInputs:
    """One lead's deal facts. ``market_value`` is the as-is value; None balance = no mortgage."""

    arv: float | None
    condition: str | None
    sqft: float | None
    market_value: float | None
    mortgage_balance: float | None = None


def _as_float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def invalid_reason(inputs: DealInputs) -> str | None:
    """Why these inputs cannot be evaluated ("; "-joined, same text as the frame path) or None."""
    reasons = []
    for name, lower, strict in (("arv", 0.0, True), ("sqft", 0.0, True),
                                ("market_value", 0.0, False), ("mortgage_balance", 0.0, False)):
        value = _as_float(getattr(inputs, name))
        if value is None:
            if name != "mortgage_balance":
                reasons.append(f"{name} is missing")
        elif not math.isfinite(value) or (value <= lower if strict else value < lower):
            reasons.append(f"{name} must be a finite number {'> 0' if strict else '>= 0'}")
    return "; ".join(reasons) if reasons else None


@dataclass(frozen=True)
class DealResult:
    """Every figure of one evaluated deal (full precision), plus what produced it."""

    arv: float
    repairs: float
    holding_costs: float
    closing_costs: float
    buyer_margin: float
    max_allowable_offer: float
    seller_price: float
    spread: float
    conservative_profit: float
    passes: bool
    # breakdown kept for the audit trail
    inputs: DealInputs
    config: BuyBoxConfig
    repair_cost_per_sqft: float
    condition_matched: str | None
    holding_taxes: float
    holding_insurance: float
    holding_utilities: float
    holding_interest: float
    arv_times_share: float
    seller_price_from_market_value: float
    seller_price_floor_from_debt: float

    @property
    def seller_price_basis(self) -> str:
        """"market_value" or "mortgage_balance": which side of the max set the seller price."""
        return ("market_value" if self.seller_price_from_market_value >= self.seller_price_floor_from_debt
                else "mortgage_balance")

    def audit(self) -> dict[str, Any]:
        """The full calculation as JSON-serialisable data (money rounded to cents).

        Same content as the ``buy_box_audit`` column of :func:`evaluate_deals`.
        """
        i = self.inputs
        mortgage = _as_float(i.mortgage_balance)
        return _audit_dict(
            valid=True, reason=None,
            inputs={"arv": round_cents(self.arv), "condition": i.condition,
                    "sqft": round_cents(float(i.sqft)),  # type: ignore[arg-type]
                    "market_value": round_cents(float(i.market_value)),  # type: ignore[arg-type]
                    "mortgage_balance": None if mortgage is None else round_cents(mortgage)},
            repair={"condition_matched": self.condition_matched,
                    "rate_source": "condition" if self.condition_matched is not None else "unknown_condition",
                    "repair_cost_per_sqft": self.repair_cost_per_sqft},
            figures={
                "arv_times_share": round_cents(self.arv_times_share),
                "repairs": round_cents(self.repairs),
                "holding_taxes": round_cents(self.holding_taxes),
                "holding_insurance": round_cents(self.holding_insurance),
                "holding_utilities": round_cents(self.holding_utilities),
                "holding_interest": round_cents(self.holding_interest),
                "holding_costs": round_cents(self.holding_costs),
                "closing_costs": round_cents(self.closing_costs),
                "buyer_margin": round_cents(self.buyer_margin),
                "max_allowable_offer": round_cents(self.max_allowable_offer),
                "seller_price_from_market_value": round_cents(self.seller_price_from_market_value),
                "seller_price_floor_from_debt": round_cents(self.seller_price_floor_from_debt),
                "seller_price": round_cents(self.seller_price),
                "seller_price_basis": self.seller_price_basis,
                "spread": round_cents(self.spread),
                "wholesaler_costs": round_cents(self.config.wholesaler_costs),
                "conservative_profit": round_cents(self.conservative_profit),
            },
            passes=self.passes, config=self.config)


_FIGURE_KEYS = ("arv_times_share", "repairs", "holding_taxes", "holding_insurance",
                "holding_utilities", "holding_interest", "holding_costs", "closing_costs",
                "buyer_margin", "max_allowable_offer", "seller_price_from_market_value",
                "seller_price_floor_from_debt", "seller_price", "seller_price_basis", "spread",
                "wholesaler_costs", "conservative_profit")


def _audit_dict(*, valid: bool, reason: str | None, inputs: dict[str, Any], repair: dict[str, Any],
                figures: dict[str, Any], passes: bool, config: BuyBoxConfig) -> dict[str, Any]:
    return {"valid": valid, "invalid_reason": reason, "inputs": inputs, "repair": repair,
            "figures": figures, "passes": passes, "min_profit": config.min_profit,
            "config": config.as_dict(), "formula": FORMULA}


def evaluate_deal(inputs: DealInputs, config: BuyBoxConfig = BuyBoxConfig()) -> DealResult:
    """Run the buy-box on one deal; raises ``ValueError`` when the inputs are invalid."""
    reason = invalid_reason(inputs)
    if reason is not None:
        raise ValueError(f"cannot evaluate deal: {reason} (got {inputs!r})")
    k = _Constants.of(config)
    arv, sqft = float(inputs.arv), float(inputs.sqft)  # type: ignore[arg-type]
    market_value = float(inputs.market_value)  # type: ignore[arg-type]
    mortgage = _as_float(inputs.mortgage_balance)
    rate, matched = config.repair_rate(inputs.condition)

    repairs = rate * sqft
    taxes, insurance, interest = arv * k.tax_k, arv * k.insurance_k, arv * k.interest_k
    holding = taxes + insurance + k.utilities + interest
    closing = arv * config.closing_cost_share
    margin = arv * config.buyer_margin
    arv_share = arv * config.arv_share
    mao = arv_share - repairs - holding - closing - margin
    from_value = market_value * config.seller_price_share
    from_debt = (0.0 if mortgage is None else mortgage) * config.min_seller_price_over_debt
    seller_price = max(from_value, from_debt)
    spread = mao - seller_price
    profit = spread - config.wholesaler_costs
    return DealResult(
        arv=arv, repairs=repairs, holding_costs=holding, closing_costs=closing, buyer_margin=margin,
        max_allowable_offer=mao, seller_price=seller_price, spread=spread,
        conservative_profit=profit, passes=round_cents(profit) >= config.min_profit,
        inputs=inputs, config=config, repair_cost_per_sqft=rate, condition_matched=matched,
        holding_taxes=taxes, holding_insurance=insurance, holding_utilities=k.utilities,
        holding_interest=interest, arv_times_share=arv_share,
        seller_price_from_market_value=from_value, seller_price_floor_from_debt=from_debt)


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
