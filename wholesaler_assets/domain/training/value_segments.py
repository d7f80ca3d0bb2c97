"""Value segments: bands of a lead's estimated value, the segments calibrators and the ECE gate use.

Bands are left-closed ('under_150k' < 150k <= '150k_400k' < 400k <= 'over_400k' by default),
labelled from their edges; a lead without a value is 'unknown'.
"""

from __future__ import annotations

import math

import numpy as np

UNKNOWN_SEGMENT = "unknown"


def _readable_amount(value: float) -> str:
    """150000 -> '150k', 1500000 -> '1.5m', 2e9 -> '2b', 500 -> '500'."""
    for divisor, suffix in ((1e9, "b"), (1e6, "m"), (1e3, "k")):
        if abs(value) >= divisor:
            return f"{value / divisor:g}{suffix}"
    return f"{value:g}"


def value_segment_labels(edges: tuple[float, ...] = (150_000, 400_000)) -> list[str]:
    """Labels `value_segments` produces for `edges`, lowest band first (without 'unknown')."""
    names = [_readable_amount(float(e)) for e in edges]
    if not names:
        return ["all"]
    middle = [f"{lo}_{hi}" for lo, hi in zip(names[:-1], names[1:], strict=False)]
    return [f"under_{names[0]}", *middle, f"over_{names[-1]}"]


def value_segments(estimated_value: np.ndarray,
                   edges: tuple[float, ...] = (150_000, 400_000)) -> np.ndarray:
    """Value band per row: 'under_150k' (< 150k), '150k_400k' ([150k, 400k)), 'over_400k' (>= 400k).

    Bands are left-closed: a value equal to an edge belongs to the band above it. Labels are
    generated from `edges` (strictly increasing, finite). None and NaN give 'unknown'.
    Returns a 1-D numpy str array.
    """
    edge_arr = np.asarray(edges, dtype=np.float64)
    if not np.all(np.isfinite(edge_arr)) or np.any(np.diff(edge_arr) <= 0):
        raise ValueError("edges must be finite and strictly increasing")
    names = np.array(value_segment_labels(tuple(edges)) + [UNKNOWN_SEGMENT], dtype=object)
    values = np.asarray(estimated_value).ravel()
    if values.dtype != np.float64:  # None among the values, or another number type
        values = np.array([math.nan if v is None else float(v) for v in values.astype(object)], dtype=np.float64)
    codes = np.searchsorted(edge_arr, values, side="right")
    codes[np.isnan(values)] = len(names) - 1
    return names[codes].astype(str)
