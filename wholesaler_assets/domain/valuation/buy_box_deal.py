"""The buy-box on one deal: :func:`evaluate_deal` returns every figure and its JSON audit trail.

The formula, defaults and rounding are in ``buy_box_config``; :func:`invalid_reason` says why inputs
cannot be evaluated, in the same words as the frame path (``buy_box_frame``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from wholesaler_assets.domain.valuation.buy_box_config import FORMULA, BuyBoxConfig, _Constants, round_cents


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
