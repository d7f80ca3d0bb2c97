"""Drift and information statistics for validating and selecting features.

Binning (shared by PSI and IV)
    numeric      Interior edges are the 1/bins, 2/bins, ... quantiles (linear interpolation, as
                 numpy and pandas.qcut do) of the reference values' non-null finite entries,
                 deduplicated, so a spike of equal values makes one wider bin instead of empty
                 ones. The outer bins are open (-inf and +inf), so values outside the reference
                 range still land in a bin. Bins are right-closed: (e[i-1], e[i]].
    categorical  One bin per distinct value (booleans are compared as "true"/"false").
    both         Nulls (and float NaN) form their own bin: missingness is a value that drifts and
                 predicts like any other.
    IV only      A numeric value that holds at least `spike_share` of the non-null rows (a sentinel
                 such as 999 "never contacted", a zero-inflated count) and every declared
                 sentinel value get a bin of their own; the other values share the remaining
                 `bins - spikes` quantile bins (at least one). Quantile bins alone would fold a
                 96% spike into one bin with its neighbours and measure no information in a
                 column whose spike itself separates the classes.

Population stability index (PSI)
    PSI = sum_i (a_i - e_i) * ln(a_i / e_i), with e_i and a_i the shares of the expected
    (reference) and actual rows in bin i, bins taken from the expected series. A share of zero
    is replaced by PSI_EPSILON (1e-4) so the logarithm stays finite: a bin that empties or
    appears then costs about (share) * ln(share / 1e-4) instead of infinity. Identical
    distributions give exactly 0; the usual reading is < 0.1 stable, > 0.25 shifted.

Information value (IV)
    Per bin, bad share = bin's label-1 rows / all label-1 rows and good share = bin's label-0
    rows / all label-0 rows; WoE = ln(bad / good) and IV = sum_i (bad_i - good_i) * WoE_i.
    Bins are those holding at least one row. An empty class count in such a bin is replaced
    by IV_SMOOTHING (0.5, Laplace-style) before the shares are taken, and the shares are
    normalised by the smoothed totals so each class still sums to 1. A feature independent
    of the label gives about 0 (plus a small-sample bias of roughly (bins-1) * (1/n_bad +
    1/n_good)); a feature equal to the label gives a large IV. Without both classes there is
    no information to measure and IV is 0.

Correlation and VIF, the collinearity filters, are `collinearity.py`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

NUMERIC, BOOLEAN, CATEGORICAL = "numeric", "boolean", "categorical"
FEATURE_KINDS = (NUMERIC, BOOLEAN, CATEGORICAL)

PSI_EPSILON = 1e-4
IV_SMOOTHING = 0.5
IV_BINS = 10
SPIKE_SHARE = 0.1  # a value holding a decile's worth of rows (or more) is its own IV bin


# ---------------------------------------------------------------------------------------------
# Binning
# ---------------------------------------------------------------------------------------------

def quantile_edges(values: pl.Series, bins: int = 10) -> np.ndarray:
    """Deduplicated interior bin edges: the k/bins quantiles (k = 1..bins-1) of finite values."""
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    finite = _as_float(values)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0 or bins == 1:
        return np.empty(0)
    probabilities = np.arange(1, bins) / bins
    return np.unique(np.quantile(finite, probabilities))


def numeric_bin_codes(values: pl.Series | np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin code per value: 0 for null/NaN, i + 1 for the right-closed bin (edges[i-1], edges[i]]."""
    array = values if isinstance(values, np.ndarray) else _as_float(values)
    codes = np.searchsorted(edges, array, side="left").astype(np.int64) + 1
    codes[np.isnan(array)] = 0
    return codes


def spike_bin_codes(values: pl.Series, bins: int = IV_BINS, spike_share: float = SPIKE_SHARE,
                    sentinels: Sequence[float] = ()) -> np.ndarray:
    """IV bin per value: 0 null/NaN; 1..k the spikes and sentinels present (ascending), each alone;
    then the quantile bins of the other values (see the module docstring)."""
    if bins < 1 or not 0 < spike_share <= 1:
        raise ValueError(f"need bins >= 1 and 0 < spike_share <= 1, got {bins} and {spike_share}")
    array = _as_float(values)
    present = ~np.isnan(array)
    codes = np.zeros(array.size, dtype=np.int64)
    if not present.any():
        return codes
    distinct, counts = np.unique(array[present], return_counts=True)
    spikes = distinct[(counts >= spike_share * present.sum()) | np.isin(distinct, np.asarray(sentinels, float))]
    is_spike = np.isin(array, spikes)
    codes[is_spike] = np.searchsorted(spikes, array[is_spike]) + 1
    rest = present & ~is_spike
    edges = quantile_edges(pl.Series(array[rest]), max(bins - spikes.size, 1))
    codes[rest] = numeric_bin_codes(array[rest], edges) + spikes.size
    return codes


def category_codes(values: pl.Series) -> np.ndarray:
    """Code per value: 0 for null, 1..k for the distinct values (in sorted order)."""
    ranks = values.cast(pl.String).rank("dense")
    return ranks.fill_null(0).cast(pl.Int64).to_numpy()


def _as_float(values: pl.Series) -> np.ndarray:
    """Values as float64 with nulls as NaN (a copy only when polars needs one)."""
    return values.cast(pl.Float64).to_numpy()


def _check_kind(kind: str) -> None:
    if kind not in FEATURE_KINDS:
        raise ValueError(f"unknown feature kind {kind!r}; expected one of {FEATURE_KINDS}")


def _reference_codes(reference: pl.Series, values: pl.Series, kind: str, bins: int) -> np.ndarray:
    """Codes of `values`, with numeric bins taken from the quantiles of `reference`."""
    _check_kind(kind)
    if kind == NUMERIC:
        return numeric_bin_codes(values, quantile_edges(reference, bins))
    return category_codes(values)


# ---------------------------------------------------------------------------------------------
# Population stability index
# ---------------------------------------------------------------------------------------------

def psi_from_counts(expected_counts: np.ndarray, actual_counts: np.ndarray) -> float:
    """PSI of two count vectors over the same bins (zero shares replaced by PSI_EPSILON)."""
    expected_total, actual_total = expected_counts.sum(), actual_counts.sum()
    if expected_total == 0 or actual_total == 0:
        return math.nan
    expected = np.where(expected_counts == 0, PSI_EPSILON, expected_counts / expected_total)
    actual = np.where(actual_counts == 0, PSI_EPSILON, actual_counts / actual_total)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def population_stability_index(expected: pl.Series, actual: pl.Series, kind: str, bins: int = 10) -> float:
    """PSI of `actual` against `expected`; numeric bins from the expected series' quantiles.

    Returns NaN when either series is empty.
    """
    _check_kind(kind)
    if kind == NUMERIC:
        edges = quantile_edges(expected, bins)
        expected_codes = numeric_bin_codes(expected, edges)
        actual_codes = numeric_bin_codes(actual, edges)
    else:
        # One coding over both series so equal values get equal codes.
        both = category_codes(pl.concat([expected.cast(pl.String), actual.cast(pl.String)]))
        expected_codes, actual_codes = both[: expected.len()], both[expected.len():]
    size = int(max(expected_codes.max(initial=0), actual_codes.max(initial=0))) + 1
    return psi_from_counts(np.bincount(expected_codes, minlength=size),
                           np.bincount(actual_codes, minlength=size))


def psi_across_quarters(frame: pl.DataFrame, features: dict[str, str],
                        time_column: str = "contact_time", bins: int = 10) -> pl.DataFrame:
    """PSI of every calendar quarter against the first quarter present, per feature.

    Returns a long frame (feature, quarter, psi) ordered by feature (input order) then quarter;
    the reference quarter's PSI is 0. Rows without a time are ignored.
    """
    schema = {"feature": pl.String, "quarter": pl.String, "psi": pl.Float64}
    times = frame[time_column]
    present = times.is_not_null().to_numpy()
    # year * 4 + quarter - 1 orders quarters chronologically; its dense index numbers the rows.
    ordinal = (times.dt.year().cast(pl.Int64) * 4 + times.dt.quarter().cast(pl.Int64) - 1).to_numpy()
    ordinals = np.unique(ordinal[present]).astype(np.int64)
    if ordinals.size == 0:
        return pl.DataFrame(schema=schema)
    quarter_index = np.searchsorted(ordinals, ordinal[present].astype(np.int64))
    names = [f"{o // 4}Q{o % 4 + 1}" for o in ordinals]
    reference_rows = pl.Series(quarter_index == 0)

    keep = None if present.all() else pl.Series(present)
    rows: list[tuple[str, str, float]] = []
    for feature, kind in features.items():
        values = frame[feature] if keep is None else frame[feature].filter(keep)
        codes = _reference_codes(values.filter(reference_rows), values, kind, bins)
        counts = _counts_by_quarter(quarter_index, codes, len(names))
        reference = counts[0]
        rows.extend((feature, name, 0.0 if q == 0 else psi_from_counts(reference, counts[q]))
                    for q, name in enumerate(names))
    return pl.DataFrame(rows, schema=schema, orient="row")


def _counts_by_quarter(quarter_index: np.ndarray, codes: np.ndarray, quarters: int) -> np.ndarray:
    """Matrix [quarter, code] of row counts (one bincount over a combined index)."""
    size = int(codes.max(initial=0)) + 1
    flat = np.bincount(quarter_index * size + codes, minlength=quarters * size)
    return flat.reshape(quarters, size)


def max_psi_by_feature(psi_frame: pl.DataFrame) -> dict[str, float]:
    """Largest PSI of each feature over its quarters, NaNs ignored (features in first-seen order)."""
    maxima = psi_frame.group_by("feature", maintain_order=True).agg(pl.col("psi").fill_nan(None).max())
    return {row["feature"]: float(row["psi"]) if row["psi"] is not None else math.nan
            for row in maxima.iter_rows(named=True)}


# ---------------------------------------------------------------------------------------------
# Information value
# ---------------------------------------------------------------------------------------------

def iv_from_counts(bad_counts: np.ndarray, good_counts: np.ndarray) -> float:
    """IV from per-bin label-1 (bad) and label-0 (good) counts, with IV_SMOOTHING for empty cells."""
    bad_counts = np.asarray(bad_counts, dtype=float)
    good_counts = np.asarray(good_counts, dtype=float)
    if bad_counts.sum() == 0 or good_counts.sum() == 0:
        return 0.0
    occupied = (bad_counts + good_counts) > 0
    bad = np.where(bad_counts[occupied] == 0, IV_SMOOTHING, bad_counts[occupied])
    good = np.where(good_counts[occupied] == 0, IV_SMOOTHING, good_counts[occupied])
    bad_share, good_share = bad / bad.sum(), good / good.sum()
    return float(np.sum((bad_share - good_share) * np.log(bad_share / good_share)))


def information_value(feature: pl.Series, label: pl.Series, kind: str, bins: int = IV_BINS,
                      spike_share: float = SPIKE_SHARE, sentinels: Sequence[float] = ()) -> float:
    """IV of one feature against a 0/1 label; rows with a null label are ignored."""
    if feature.len() != label.len():
        raise ValueError(f"feature has {feature.len()} rows, label {label.len()}")
    labels = _as_float(label)
    return _iv_of_codes(_iv_codes(feature, kind, bins, spike_share, sentinels), labels == 1, labels == 0)


def _iv_codes(values: pl.Series, kind: str, bins: int, spike_share: float, sentinels: Sequence[float]) -> np.ndarray:
    _check_kind(kind)
    if kind == NUMERIC:
        return spike_bin_codes(values, bins, spike_share, sentinels)
    return category_codes(values)


def _iv_of_codes(codes: np.ndarray, is_bad: np.ndarray, is_good: np.ndarray) -> float:
    size = int(codes.max(initial=0)) + 1
    return iv_from_counts(np.bincount(codes[is_bad], minlength=size),
                          np.bincount(codes[is_good], minlength=size))


def information_values(frame: pl.DataFrame, features: dict[str, str], label: str, bins: int = IV_BINS,
                       spike_share: float = SPIKE_SHARE,
                       sentinels: Mapping[str, Sequence[float]] | None = None) -> dict[str, float]:
    """IV of every feature (input order) against the frame's 0/1 `label` column; `sentinels` names
    each column's declared sentinel values (binned alone whatever their share)."""
    labels = _as_float(frame[label])
    is_bad, is_good = labels == 1, labels == 0
    sentinels = sentinels or {}
    return {feature: _iv_of_codes(_iv_codes(frame[feature], kind, bins, spike_share, sentinels.get(feature, ())),
                                  is_bad, is_good)
            for feature, kind in features.items()}
