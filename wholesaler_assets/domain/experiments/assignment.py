"""Blocked randomization of active leads into treatment (worked in priority order) and control (as usual).

Within each segment (the value segment by default, as the seeds block by tier), leads are shuffled and
dealt out in blocks that hold as many treatment as control slots, so every segment's arms differ by at
most half a block. The draw depends only on the seed, the segment and the sorted lead ids: the same
leads give the same assignment on every run and every machine.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from wholesaler_assets.domain.evaluation.verdict import segments_of
from wholesaler_assets.domain.scalars import as_int

ARMS = ("treatment", "control")
BALANCE_COVARIATES = ("priority_score", "market_value", "equity_share", "campaign_step", "days_since_contact",
                      "foreclosure", "tax_delinquency")


def with_value_segment(leads: pl.DataFrame) -> pl.DataFrame:
    """The leads with `value_segment` (under_150k, 150k_400k, over_400k, unknown) from their market value."""
    return leads.with_columns(pl.Series("value_segment", segments_of(leads)))


def blocked_assignment(leads: pl.DataFrame, segment_column: str = "value_segment", seed: int = 7,
                       block_size: int = 4) -> pl.DataFrame:
    """lead_id, segment, arm and block of every lead: a balanced block shuffle within each segment."""
    if block_size < 2 or block_size % 2:
        raise ValueError(f"block_size must be an even number >= 2, got {block_size}")
    if segment_column not in leads.columns:
        raise ValueError(f"no column {segment_column!r} to block on; the leads have {leads.columns}")
    parts = []
    for segment in sorted(leads[segment_column].cast(pl.String).fill_null("unknown").unique().to_list()):
        ids = np.sort(leads.filter(pl.col(segment_column).cast(pl.String).fill_null("unknown") == segment)
                      ["lead_id"].to_numpy().astype(str))
        rng = np.random.default_rng([seed, zlib.crc32(segment.encode())])
        n_blocks = -(-ids.size // block_size)
        slots = np.concatenate([rng.permutation(np.repeat([0, 1], block_size // 2)) for _ in range(n_blocks)])
        order = rng.permutation(ids.size)
        parts.append(pl.DataFrame({"lead_id": ids[order], "segment": segment,
                                   "arm": np.array(ARMS)[slots[: ids.size]],
                                   "block": np.arange(ids.size) // block_size}))
    schema = pl.Schema({"lead_id": pl.String, "segment": pl.String, "arm": pl.String, "block": pl.Int64})
    return (pl.concat(parts) if parts else pl.DataFrame(schema=schema)).cast(schema).sort("lead_id")


@dataclass(frozen=True)
class Balance:
    """Standardized mean differences of the covariates between arms, and the arms' sizes."""

    smd: dict[str, float]
    arm_sizes: dict[str, int]
    largest_segment_gap: int  # most |treatment - control| leads within one segment

    def passed(self, max_smd: float = 0.1, max_gap: int = 2) -> bool:
        return all(abs(v) < max_smd for v in self.smd.values()) and self.largest_segment_gap <= max_gap


def standardized_mean_difference(treated: np.ndarray, control: np.ndarray) -> float:
    """(mean_t - mean_c) / sqrt((var_t + var_c) / 2); 0 when both arms are constant and equal."""
    t, c = treated[~np.isnan(treated)], control[~np.isnan(control)]
    if not t.size or not c.size:
        return float("nan")
    spread = np.sqrt((t.var(ddof=1 if t.size > 1 else 0) + c.var(ddof=1 if c.size > 1 else 0)) / 2)
    diff = t.mean() - c.mean()
    return 0.0 if spread == 0 and diff == 0 else float(diff / spread) if spread > 0 else float("inf")


def balance(leads: pl.DataFrame, assignment: pl.DataFrame,
            covariates: Sequence[str] = BALANCE_COVARIATES) -> Balance:
    """How alike the arms are on the covariates the leads have (booleans as 0/1)."""
    joined = leads.join(assignment.select("lead_id", "segment", "arm"), on="lead_id", how="inner")
    is_t = (joined["arm"] == "treatment").to_numpy()
    smd = {}
    for name in covariates:
        if name in joined.columns:
            values = joined[name].cast(pl.Float64).fill_null(float("nan")).to_numpy()
            smd[name] = standardized_mean_difference(values[is_t], values[~is_t])
    sizes = assignment.group_by("segment", "arm").len().with_columns(pl.col("len").cast(pl.Int64))
    gaps = sizes.pivot(on="arm", index="segment", values="len").fill_null(0)
    gap = as_int((gaps.get_column("treatment") - gaps.get_column("control")).abs().max() or 0) \
        if {"treatment", "control"} <= set(gaps.columns) else assignment.height
    counts = dict(assignment.group_by("arm").len().iter_rows())
    return Balance(smd, {arm: int(counts.get(arm, 0)) for arm in ARMS}, gap)
