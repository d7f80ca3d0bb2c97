"""Conservative wholesaler buy-box: its assumptions (:class:`BuyBoxConfig`), formula and cent rounding.

A wholesaler puts a distressed property under contract with its seller and assigns the contract
to an investor (the end buyer). The investor's maximum allowable offer (MAO) is what the
wholesaler can sell the contract for; the price the seller accepts is the wholesaler's cost; the
difference is the spread, and the conservative profit is the spread minus the wholesaler's own
deal costs. A lead passes the buy-box when that profit is at least ``min_profit`` ($20K).

Every figure is a pure function of the deal inputs and a :class:`BuyBoxConfig`; nothing is read
from anywhere else. ``buy_box_deal.evaluate_deal`` scores one deal, ``buy_box_frame.evaluate_deals``
scores a polars frame with the same arithmetic (same float operations in the same order, so the
numbers agree exactly, not just approximately), and each deal keeps its full calculation as a JSON
audit trail.

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
mortgage_balance non-finite or < 0 (null is fine and means no mortgage). ``evaluate_deal``
raises ``ValueError`` naming every problem; ``evaluate_deals`` never raises on row values:
the row gets ``passes_buy_box = False``, null figures and the reason in the audit (and in
``buy_box_invalid_reason``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

DEFAULT_REPAIR_COST_PER_SQFT: Mapping[str, float] = MappingProxyType(
    {"excellent": 5.0, "good": 15.0, "fair": 30.0, "poor": 50.0, "distressed": 75.0})

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


def round_cents(value: float) -> float:
    """Round to cents: round-half-even of value x 100, divided by 100 (polars' ``round(2)``).

    Polars divides by a scalar as a multiplication by its reciprocal, which is not the same
    float; ``Expr.round(2)`` does the true division, so this and ``buy_box_frame._cents_expr`` agree.
    """
    return round(value * 100.0) / 100.0


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
