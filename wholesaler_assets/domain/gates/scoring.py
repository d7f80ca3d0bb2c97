"""The daily scoring run's gates: coverage of the active leads, and tier A inside the buy-box."""

from __future__ import annotations

from typing import Annotated

import polars as pl
from pydantic import Field
from pydantic.dataclasses import dataclass

from wholesaler_assets.domain.gates.result import GateResult


@dataclass(frozen=True)
class ScoringThresholds:
    """How much of the active leads a scoring run must cover (the seeds' coverage bar)."""

    min_scored_share: Annotated[float, Field(ge=0, le=1)] = 0.95


def scoring_gates(scored: pl.DataFrame, active_leads: int, thresholds: ScoringThresholds) -> list[GateResult]:
    """every_active_lead_scored and tier_a_passes_buy_box, in that order."""
    share = scored.height / active_leads if active_leads else 0.0
    need = thresholds.min_scored_share
    # A lead file has no buy-box: its tiers are the batch's quantiles, so no tier-A lead can fail one.
    tier_a_failing = (scored.filter((pl.col("tier") == "A") & ~pl.col("passes_buy_box")).height
                      if "passes_buy_box" in scored.columns else 0)
    return [
        GateResult(name="every_active_lead_scored", passed=share >= need, value=share, threshold=need,
                   summary=f"{scored.height:,} of {active_leads:,} active leads scored ({share:.1%}); "
                           f"needs >= {need:.0%}",
                   details={"scored": scored.height, "active": active_leads, "share": share}),
        GateResult(name="tier_a_passes_buy_box", passed=tier_a_failing == 0, value=tier_a_failing, threshold=0,
                   summary=f"{tier_a_failing} tier-A leads fail the buy-box; must be 0",
                   details={"tier_a_failing": tier_a_failing}),
    ]
