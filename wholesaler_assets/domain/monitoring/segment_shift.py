"""Value shifts within a segment: has a metro's market moved since the reference day?

A price shock is local. Two metros 15% cheaper move a third of the leads, which the dataset-drift
rule (a share of columns) does not see, and a distribution test of the whole `market_value`
column sees late, because the spread between cheap and dear houses dwarfs the move. Comparing
each lead with itself removes that spread: for the leads present on both days, the median ratio
of today's value to the reference's, per metro. A metro whose median moved by more than `limit`
(default 5%, beyond a year of ordinary appreciation over a few months) has shifted.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from wholesaler_assets.domain.gates.result import GateResult

SHIFT_LIMIT = 0.05
MIN_PAIRED_LEADS = 30  # a metro with fewer leads seen on both days is not judged


@dataclass(frozen=True)
class SegmentShift:
    """The median change of one segment's paired values."""

    segment: str
    paired: int
    median_change: float  # median of current / reference - 1

    def shifted(self, limit: float = SHIFT_LIMIT) -> bool:
        return self.paired >= MIN_PAIRED_LEADS and abs(self.median_change) > limit


def segment_shifts(reference: pl.DataFrame, current: pl.DataFrame, value: str = "market_value",
                   segment: str = "metro", key: str = "lead_id") -> list[SegmentShift]:
    """Per segment (of the current day), the median relative change of `value` for the `key`s on both days.

    Frames without the key, value or segment column (a lead file has no metro or market value) have
    nothing to judge: no shifts."""
    if any(c not in frame.columns for frame in (reference, current) for c in (key, value, segment)):
        return []
    paired = (
        current.select(key, segment, pl.col(value).cast(pl.Float64).alias("_now"))
        .join(reference.select(key, pl.col(value).cast(pl.Float64).alias("_then")), on=key, how="inner")
        .filter((pl.col("_then") > 0) & pl.col("_now").is_not_null() & pl.col(segment).is_not_null())
        .group_by(segment).agg(pl.len().alias("paired"), (pl.col("_now") / pl.col("_then") - 1).median().alias("m"))
        .sort(segment)
    )
    return [SegmentShift(str(s), int(n), float(m)) for s, n, m in paired.iter_rows()]


def shifted_segments(shifts: list[SegmentShift], limit: float = SHIFT_LIMIT) -> list[SegmentShift]:
    return [s for s in shifts if s.shifted(limit)]


def value_shift_gate(shifts: list[SegmentShift], limit: float = SHIFT_LIMIT) -> GateResult:
    """Pass while no metro's paired values moved by more than `limit` since the reference day."""
    judged = [s for s in shifts if s.paired >= MIN_PAIRED_LEADS]
    if not judged:
        return GateResult(name="no_value_shift", passed=True, summary="no metro with enough leads seen on both days")
    moved = shifted_segments(judged, limit)
    worst = max(judged, key=lambda s: abs(s.median_change))
    return GateResult(
        name="no_value_shift", passed=not moved, value=abs(worst.median_change), threshold=limit,
        summary=("; ".join(f"{s.segment}: median value {s.median_change:+.1%} over {s.paired} leads" for s in moved)
                 if moved else f"{len(judged)} metros within {limit:.0%} (largest: {worst.segment} "
                               f"{worst.median_change:+.1%})"),
        details={"shifted": [s.segment for s in moved]})
