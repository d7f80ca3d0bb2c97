"""Data-quality gates as plain functions: each returns a `GateResult` saying what it found.

Each gate is named after its rule; the asset applying it renames it to its check's name. The
asset checks put `details` in their metadata, so a failed gate says what failed, how often, and
shows examples.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated

import polars as pl
from pydantic import Field
from pydantic.dataclasses import dataclass

from wholesaler_assets.domain.gates.result import GateResult
from wholesaler_assets.domain.scalars import as_float

MAX_EXAMPLES = 5
Share = Annotated[float, Field(ge=0, le=1)]


@dataclass(frozen=True)
class QualityThresholds:
    """The limits of the data-quality gates (validated shares)."""

    min_completeness: Share = 0.95
    max_row_count_change: Annotated[float, Field(ge=0)] = 0.2
    max_bad_row_share: Share = 0.2  # of a dataset spec's lead file, past which the file is refused
    min_snapshot_match: Share = 0.95  # of training contacts that found a property snapshot


def unique_keys(frame: pl.DataFrame, key: Sequence[str]) -> GateResult:
    """No two rows share a key."""
    dupes = frame.group_by(list(key)).len().filter(pl.col("len") > 1)
    rows = int(dupes["len"].sum()) if dupes.height else 0
    examples = dupes.head(MAX_EXAMPLES).select(pl.concat_str(
        [pl.col(k).cast(pl.String) for k in key], separator="/")).to_series().to_list()
    return GateResult(
        name="unique_keys",
        passed=dupes.height == 0,
        value=dupes.height,
        threshold=0,
        summary=f"{dupes.height} duplicated key(s) over {rows} rows" if dupes.height else "keys are unique",
        details={"duplicated_keys": dupes.height, "rows_with_duplicated_keys": rows,
                 "key": ", ".join(key), "examples": examples},
    )


def completeness(frame: pl.DataFrame, columns: Sequence[str], min_share: float) -> GateResult:
    """Every listed column is non-null in at least `min_share` of rows."""
    if frame.height == 0:
        return GateResult(name="completeness", passed=False, summary="no rows to check", threshold=min_share,
                          details={"rows": 0})
    present = [c for c in columns if c in frame.columns]
    absent = [c for c in columns if c not in frame.columns]
    shares = frame.select(pl.col(c).is_not_null().mean().alias(c) for c in present).row(0, named=True)
    failing = {c: round(float(s), 4) for c, s in shares.items() if s < min_share}
    failing.update({c: 0.0 for c in absent})
    return GateResult(
        name="completeness",
        passed=not failing,
        value=0.0 if absent else float(min(shares.values(), default=1.0)),
        threshold=min_share,
        summary=(f"{len(failing)} column(s) below {min_share:.0%} complete: "
                 + ", ".join(f"{c} {s:.1%}" for c, s in failing.items())) if failing
        else f"all {len(columns)} required columns at least {min_share:.0%} complete",
        details={"min_share": min_share, "failing_columns": failing,
                 "completeness": {c: round(float(s), 4) for c, s in shares.items()}},
    )


def nothing_after(frame: pl.DataFrame, columns: Sequence[str], cutoff: dt.date | dt.datetime,
                  id_column: str) -> GateResult:
    """No record in `frame` is dated after `cutoff` (point-in-time correctness)."""
    counts: dict[str, int] = {}
    examples: list[str] = []
    for c in columns:
        late = frame.filter(pl.col(c) > cutoff)
        if late.height:
            counts[c] = late.height
            examples += [f"{r[id_column]}: {c}={r[c]}" for r in late.head(MAX_EXAMPLES).iter_rows(named=True)]
    total = sum(counts.values())
    return GateResult(
        name="nothing_after",
        passed=total == 0,
        value=total,
        threshold=0,
        summary=f"{total} value(s) dated after {cutoff}" if total else f"nothing dated after {cutoff}",
        details={"cutoff": str(cutoff), "late_values_by_column": counts, "examples": examples[:MAX_EXAMPLES]},
    )


def row_count_change(previous: int | None, current: int, max_change_share: float) -> GateResult:
    """The row count moved by at most `max_change_share` against the previous partition."""
    if previous is None:
        return GateResult(name="row_count_change", passed=current > 0, summary=f"first partition: {current} rows",
                          details={"previous_rows": None, "current_rows": current})
    change = (current - previous) / previous if previous else float("inf")
    passed = abs(change) <= max_change_share
    return GateResult(
        name="row_count_change",
        passed=passed,
        value=change,
        threshold=max_change_share,
        summary=f"row count {previous} -> {current} ({change:+.1%}), "
        f"{'within' if passed else 'outside'} the ±{max_change_share:.0%} band",
        details={"previous_rows": previous, "current_rows": current,
                 "change_share": round(change, 4) if previous else None, "max_change_share": max_change_share},
    )


def _no_rows_where(name: str, table: pl.DataFrame, condition: pl.Expr, example: pl.Expr, failed: str,
                   passed: str) -> GateResult:
    """Passes when no row meets `condition`; otherwise counts them and shows a few as examples."""
    offending = table.filter(condition)
    return GateResult(
        name=name,
        passed=offending.height == 0,
        value=offending.height,
        threshold=0,
        summary=f"{offending.height} {failed}" if offending.height else passed,
        details={"rows": offending.height,
                 "examples": offending.head(MAX_EXAMPLES).select(example).to_series().to_list()},
    )


def nothing_known_after_contact(table: pl.DataFrame) -> GateResult:
    """Leakage: no feature value was effective after its contact (snapshots and records by date)."""
    return _no_rows_where(
        "nothing_known_after_contact",
        table,
        (pl.col("feature_known_at") > pl.col("contact_time"))
        | (pl.col("snapshot_date") > pl.col("contact_time").dt.date()),
        pl.format("{} contacted {}, feature known {}", "contact_id", "contact_time", "feature_known_at"),
        "contact(s) have features effective after the contact", "every feature was known at its contact time",
    )


def no_outcome_before_contact(table: pl.DataFrame) -> GateResult:
    """Leakage: the lead had not already reached the target's outcome when it was contacted."""
    return _no_rows_where(
        "no_outcome_before_contact",
        table,
        pl.col("outcome_time") <= pl.col("contact_time"),
        pl.format("{} contacted {}, outcome at {}", "contact_id", "contact_time", "outcome_time"),
        "contact(s) come after the lead's outcome", "no contact comes after its lead's outcome",
    )


def share_in_band(share: float, low: float, high: float, what: str) -> GateResult:
    """A share (e.g. of positive labels) lies inside [low, high]."""
    passed = low <= share <= high
    return GateResult(
        name="share_in_band",
        passed=passed,
        value=share,
        summary=f"{what} {share:.2%} is {'inside' if passed else 'outside'} the band {low:.2%}-{high:.2%}",
        details={"share": round(share, 6), "band_low": low, "band_high": high},
    )


def matched_share(table: pl.DataFrame, column: str, min_share: float, applicable: bool) -> GateResult:
    """At least `min_share` of rows found a match (non-null `column`), where matching applies."""
    if not applicable:
        return GateResult(name="matched_share", passed=True, threshold=min_share,
                          summary="not applicable: this dataset has no property snapshots",
                          details={"applicable": False})
    share = as_float(table[column].is_not_null().mean()) if table.height else 0.0
    passed = share >= min_share
    unmatched = table.filter(pl.col(column).is_null())
    return GateResult(
        name="matched_share",
        passed=passed,
        value=share,
        threshold=min_share,
        summary=f"{share:.1%} of contacts matched a snapshot ({'>=' if passed else '<'} {min_share:.0%})",
        details={"matched_share": round(share, 4), "min_share": min_share, "unmatched_rows": unmatched.height,
                 "examples": unmatched.head(MAX_EXAMPLES)["contact_id"].to_list()},
    )
