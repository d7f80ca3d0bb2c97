"""The day's scores as pictures: the priority-score histogram by tier and the leads per tier
(matplotlib object API: no global pyplot state, no backend)."""

from __future__ import annotations

import numpy as np
import polars as pl
from matplotlib.figure import Figure

from wholesaler_assets.domain.scoring.ranking import TIERS

TIER_COLOURS = {"A": "#1a9850", "B": "#91cf60", "C": "#fee08b", "D": "#d9d9d9"}


def score_histogram(scored: pl.DataFrame, title: str, bins: int = 40) -> Figure:
    """Priority scores (0-100) stacked by tier: where the tier cut-offs fall in the day's leads."""
    fig = Figure(figsize=(6, 3.2))
    ax = fig.subplots()
    edges = np.linspace(0.0, 100.0, bins + 1)
    by_tier = [scored.filter(pl.col("tier") == t)["priority_score"].drop_nulls().to_numpy() for t in TIERS]
    ax.hist(by_tier, bins=list(edges), stacked=True, label=[f"tier {t}" for t in TIERS],
            color=[TIER_COLOURS[t] for t in TIERS])
    ax.set(xlabel="priority score", ylabel="leads", title=title)
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def tier_chart(scored: pl.DataFrame, title: str) -> Figure:
    """Leads per tier, and how many of them pass the buy-box (a lead file has no buy-box: counts only)."""
    fig = Figure(figsize=(4.5, 3.2))
    ax = fig.subplots()
    counts = [scored.filter(pl.col("tier") == t).height for t in TIERS]
    bars = ax.bar(TIERS, counts, color=[TIER_COLOURS[t] for t in TIERS], edgecolor="grey", label="leads")
    if "passes_buy_box" in scored.columns:
        passing = [scored.filter((pl.col("tier") == t) & pl.col("passes_buy_box").fill_null(False)).height
                   for t in TIERS]
        ax.bar(TIERS, passing, fill=False, hatch="//", edgecolor="black", label="pass the buy-box")
    ax.bar_label(bars, labels=[f"{c:,}" for c in counts], fontsize=8)
    ax.set(xlabel="tier", ylabel="leads", title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
