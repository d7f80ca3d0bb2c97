"""Population stability index: how far a column's distribution moved from its reference.

PSI = sum over bins of (cur - ref) * ln(cur / ref), with ref and cur the bins' shares. Numeric
bins are the reference's deciles (interior quantiles, deduplicated so tied values never straddle
a bin; bins left-closed, the outer bins open-ended so current values outside the reference's
range still land in one). A string (or boolean) column compares category shares over the union of
categories. An empty bin's share is floored at EPSILON so a category or range that appears or
vanishes gives a large, finite figure. Nulls are left out (the data-quality gates count them).
Reading: < 0.1 stable, 0.1-0.25 a moderate shift, > 0.25 a major one (the usual rule of thumb).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import polars as pl

EPSILON = 1e-4
MODERATE_PSI = 0.1
MAJOR_PSI = 0.25


def _index(ref_share: np.ndarray, cur_share: np.ndarray) -> float:
    ref, cur = np.maximum(ref_share, EPSILON), np.maximum(cur_share, EPSILON)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def _numeric(values: np.ndarray | pl.Series | list[float], name: str) -> np.ndarray:
    arr = np.asarray(values.drop_nulls().cast(pl.Float64).to_numpy() if isinstance(values, pl.Series) else values,
                     dtype=np.float64).ravel()
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        raise ValueError(f"{name} has no non-null values")
    return arr


def psi(reference: np.ndarray | pl.Series | list[float], current: np.ndarray | pl.Series | list[float],
        bins: int = 10) -> float:
    """PSI of a numeric column over `bins` quantile bins of the reference."""
    if bins < 2:
        raise ValueError("bins must be at least 2")
    ref, cur = _numeric(reference, "reference"), _numeric(current, "current")
    edges = np.unique(np.quantile(ref, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
    n_bins = edges.size + 1
    ref_counts = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=n_bins)
    cur_counts = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=n_bins)
    return _index(ref_counts / ref.size, cur_counts / cur.size)


def categorical_psi(reference: Iterable[object] | pl.Series, current: Iterable[object] | pl.Series) -> float:
    """PSI of a categorical column over the categories of both samples (as strings)."""
    ref = pl.Series(list(reference) if not isinstance(reference, pl.Series) else reference).drop_nulls()
    cur = pl.Series(list(current) if not isinstance(current, pl.Series) else current).drop_nulls()
    if ref.len() == 0 or cur.len() == 0:
        raise ValueError("reference and current need non-null values")
    ref, cur = ref.cast(pl.String), cur.cast(pl.String)
    categories = sorted(set(ref.unique().to_list()) | set(cur.unique().to_list()))

    def shares(s: pl.Series) -> np.ndarray:
        counts = dict(zip(*s.value_counts().to_dict(as_series=False).values(), strict=True))
        return np.array([counts.get(c, 0) for c in categories], dtype=np.float64) / s.len()

    return _index(shares(ref), shares(cur))


def is_categorical(dtype: pl.DataType) -> bool:
    return dtype in (pl.String, pl.Boolean) or isinstance(dtype, (pl.Categorical, pl.Enum))


def psi_by_column(reference: pl.DataFrame, current: pl.DataFrame, columns: Iterable[str],
                  bins: int = 10) -> dict[str, float]:
    """PSI per column: categorical for string/boolean/categorical columns, quantile bins otherwise."""
    names = list(columns)
    missing = sorted({c for c in names if c not in reference.columns or c not in current.columns})
    if missing:
        raise ValueError(f"columns missing in reference or current: {missing}")
    return {c: categorical_psi(reference[c], current[c]) if is_categorical(reference.schema[c])
            else psi(reference[c], current[c], bins) for c in names}
