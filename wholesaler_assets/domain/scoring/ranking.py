"""Turn probabilities, ARV and the buy-box into what the outreach team works from.

Per lead: expected value = P(deal) x conservative profit (never below zero), a priority score
from 0 to 100 that grows with expected value, and a tier A-D. Tier A requires passing the
buy-box, whatever the score. The priority depends on the lead alone (not on the rest of the
day's list), so the serving endpoint and the daily batch give the same number for the same lead.

    priority_score = 100 x (1 - exp(-expected_value / ev_scale))
    tier A: passes the buy-box and priority >= tier_a_min_priority
    tier B: priority >= tier_b_min_priority;  C: >= tier_c_min_priority;  D: the rest

Without a profit (no ARV for the property, e.g. a lead file with no property facts) the expected
value is unknown; the priority then values a deal at the buy-box minimum (`assumed_profit`) and
says so in `priority_basis`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from typing import Any

import polars as pl
from pydantic.dataclasses import dataclass

from wholesaler_assets.domain.scalars import as_float
from wholesaler_assets.domain.valuation.buy_box_config import BuyBoxConfig

TIERS = ("A", "B", "C", "D")


@dataclass(frozen=True)
class TierConfig:
    """How expected value becomes priority and tiers; every figure is configurable and validated."""

    ev_scale: float = 1_500.0  # expected value (dollars) at which priority reaches 63
    tier_a_min_priority: float = 60.0
    tier_b_min_priority: float = 35.0
    tier_c_min_priority: float = 15.0
    assumed_profit: float = 20_000.0  # deal value when the profit is unknown
    # A lead file (no property facts): tiers are the batch's probability quantiles, these cumulative
    # top shares in A, B and C (domain.scoring.lead_file.rank_in_batch).
    quantile_shares: tuple[float, float, float] = (0.1, 0.3, 0.6)

    def __post_init__(self) -> None:
        if self.ev_scale <= 0:
            raise ValueError(f"ev_scale must be > 0, got {self.ev_scale}")
        if not 100 >= self.tier_a_min_priority >= self.tier_b_min_priority >= self.tier_c_min_priority >= 0:
            raise ValueError("tier thresholds must satisfy 100 >= A >= B >= C >= 0, got "
                             f"{self.tier_a_min_priority}, {self.tier_b_min_priority}, {self.tier_c_min_priority}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_TIERS = TierConfig()


def rank_leads(frame: pl.DataFrame, deal_probability: str, config: TierConfig = DEFAULT_TIERS) -> pl.DataFrame:
    """Add expected_value, priority_score, priority_basis and tier.

    Needs `deal_probability` (the column holding P(deal)), `conservative_profit` and
    `passes_buy_box`.
    """
    p = pl.col(deal_probability)
    profit = pl.col("conservative_profit")
    known = profit.is_not_null()
    ev = pl.when(known).then(p * profit.clip(lower_bound=0.0))
    value_for_priority = pl.when(known).then(ev).otherwise(p * config.assumed_profit)
    priority = (100.0 * (1.0 - (-value_for_priority / config.ev_scale).exp())).round(2)
    score = priority.fill_null(0.0)
    return frame.with_columns(  # one pass: each frame operation counts on a one-lead request
        ev.alias("expected_value"),
        priority.alias("priority_score"),
        pl.when(known).then(pl.lit("expected_value")).otherwise(pl.lit("probability_only")).alias("priority_basis"),
        pl.when(pl.col("passes_buy_box").fill_null(False) & (score >= config.tier_a_min_priority)).then(pl.lit("A"))
        .when(score >= config.tier_b_min_priority).then(pl.lit("B"))
        .when(score >= config.tier_c_min_priority).then(pl.lit("C"))
        .otherwise(pl.lit("D")).alias("tier"),
    )


LEAD_FACTS = ("property_id", "zip_code", "condition", "sqft", "market_value", "mortgage_balance")
UNLABELLED = "unlabelled"


def latest_splits(rows: pl.DataFrame) -> pl.DataFrame:
    """Each lead's split (train | gap | holdout) from rows of a training table: its latest contact's."""
    return rows.sort("contact_time").unique("lead_id", keep="last").select("lead_id", "split")


def with_lead_context(scored: pl.DataFrame, records: pl.DataFrame, splits: pl.DataFrame, scored_at: dt.datetime,
                      buy_box: BuyBoxConfig) -> pl.DataFrame:
    """What the daily table keeps beside the scores: the facts the buy-box audit re-reads, each lead's
    split (`unlabelled` when it never was in a training table), when it was scored and the buy-box used."""
    facts = [c for c in LEAD_FACTS if c in records.columns and c not in scored.columns]
    return (
        scored.join(records.select("lead_id", *facts), on="lead_id", how="left", maintain_order="left")
        .join(splits, on="lead_id", how="left", maintain_order="left")
        .with_columns(pl.col("split").fill_null(UNLABELLED),
                      pl.lit(scored_at).alias("scored_at"),
                      pl.lit(json.dumps(buy_box.as_dict(), sort_keys=True)).alias("buy_box_settings"))
    )


def queue_order(frame: pl.DataFrame) -> pl.DataFrame:
    """The outreach order: priority, then expected value (a lead file: the model's score), then lead id."""
    keys = [c for c in ("priority_score", "expected_value", "model_score", "lead_id") if c in frame.columns]
    return frame.sort(keys, descending=[c != "lead_id" for c in keys],
                      nulls_last=True).with_columns(pl.int_range(1, pl.len() + 1).alias("queue_rank"))


def tier_figures(scored: pl.DataFrame) -> dict[str, Any]:
    """The report figures: leads per tier, share passing the buy-box, top-decile profit, ARV fallback share
    (a lead file: leads per tier only)."""
    n = scored.height
    counts = dict(scored.group_by("tier").len().iter_rows()) if n else {}
    tiers = {"leads": n, "leads_per_tier": {t: int(counts.get(t, 0)) for t in TIERS}}
    if "passes_buy_box" not in scored.columns:  # a lead file: no buy-box, profit or ARV to report
        return tiers
    top = scored.filter(pl.col("priority_score") >= scored["priority_score"].quantile(0.9)) if n else scored
    return {
        **tiers,
        "share_passing_buy_box": as_float(scored["passes_buy_box"].mean()) if n else 0.0,
        "p90_priority_score": as_float(scored["priority_score"].quantile(0.9)) if n else 0.0,
        # the seeds' aim: the top decile of priority carries >= $35K of projected profit
        "median_profit_top_decile_priority": as_float(top["conservative_profit"].median() or 0.0) if n else 0.0,
        "arv_fallback_share": float(scored.select((pl.col("arv_method") != "model").mean()).item()) if n else 0.0,
    }


def comparables_section(audit: dict[str, Any], comparables: list[dict[str, Any]]) -> list[str]:
    """The ARV check of a report: the comparable renovated sales with prices and dates, which ARV the
    buy-box used and the flags (`valuation.comparables`)."""
    choice = audit.get("arv_choice")
    if choice is None:
        return []

    def money(value: Any) -> str:
        return "n/a" if value is None else f"${value:,.0f}"

    lines = ["## ARV check: comparable renovated sales", ""]
    if comparables:
        lines += ["| # | sale | sold on | price | sqft | $/sqft | beds | baths |", "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {c['comparable_rank']} | {c['sale_id']} | {c['sale_date']} | {money(c['sale_price'])} | "
                  f"{c['sqft']:,.0f} | {money(c['price_per_sqft'])} | {c['beds']} | {c['baths']} |"
                  for c in comparables]
        lines.append("")
    else:
        lines += ["No renovated sale of similar size in this ZIP: the ARV cannot be checked.", ""]
    lines += [f"Model ARV {money(choice['model_arv'])}; comparables ARV {money(choice['comparables_arv'])} "
              f"({choice['comparables']} sales, median $/sqft x sqft); the buy-box used the "
              f"**{choice['used']}** ARV ({choice['rule']}; band {choice['band']:.0%}).",
              f"Flags: **{', '.join(f.replace('_', ' ') for f in choice['flags'])}**." if choice["flags"]
              else "Flags: none.", ""]
    return lines


def profitability_report(lead: dict[str, Any], audit_json: str, comparables: list[dict[str, Any]] | None = None
                         ) -> str:
    """A readable profitability report (markdown) of one lead from its buy-box audit (and its ARV check)."""
    audit = json.loads(audit_json)
    figures, inputs = audit["figures"], audit["inputs"]

    def money(value: Any) -> str:
        return "n/a" if value is None else f"${value:,.0f}"

    lines = [
        f"# Lead {lead['lead_id']}: tier {lead['tier']}, priority {lead['priority_score']:.1f}",
        "",
        f"Scored {lead['scoring_date']} by {lead.get('model_version', 'the champion')}.",
        f"{lead.get('narrative', '')}",
        "",
        "| | |", "|---|---|",
        f"| P(call booked in 7 days) | {_pct(lead.get('p_booked_call_7d'))} |",
        f"| P(qualified in 14 days) | {_pct(lead.get('p_qualified_14d'))} |",
        f"| P(deal in 30 days) | {_pct(lead.get('p_deal_30d'))} |",
        f"| Expected value | {money(lead.get('expected_value'))} |",
        "",
        "## Buy-box",
        "",
        "| figure | amount |", "|---|---|",
        f"| ARV ({lead.get('arv_method')}) | {money(inputs['arv'])} |",
        f"| ARV x {audit['config']['arv_share']:.0%} | {money(figures['arv_times_share'])} |",
        f"| - repairs ({inputs['condition']}, {inputs['sqft']:,.0f} sqft) | {money(figures['repairs'])} |",
        f"| - holding costs | {money(figures['holding_costs'])} |",
        f"| - closing costs | {money(figures['closing_costs'])} |",
        f"| - buyer margin | {money(figures['buyer_margin'])} |",
        f"| = maximum allowable offer | {money(figures['max_allowable_offer'])} |",
        f"| - seller price (basis: {figures['seller_price_basis']}) | {money(figures['seller_price'])} |",
        f"| = spread | {money(figures['spread'])} |",
        f"| - wholesaler costs | {money(figures['wholesaler_costs'])} |",
        f"| = **conservative profit** | **{money(figures['conservative_profit'])}** |",
        "",
        f"Passes the buy-box (profit >= {money(audit['min_profit'])}): **{'yes' if audit['passes'] else 'no'}**.",
        "",
        *comparables_section(audit, comparables or []),
        f"Formula: `{audit['formula']}`",
        "",
    ]
    return "\n".join(lines)


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{value:.1%}"
