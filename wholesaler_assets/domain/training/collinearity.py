"""Collinearity statistics for selecting features: pairwise correlation and variance inflation.

Correlation
    Pearson r on pairwise-complete rows (a row counts for a pair when both values are present),
    the behaviour of pandas.DataFrame.corr, computed for all pairs at once with matrix products.
    Booleans are cast to 0/1. Constant columns have no correlation and are skipped.

Variance inflation factor (VIF)
    statsmodels' variance_inflation_factor on the columns plus a constant (add_constant), so
    VIF_j = 1 / (1 - R_j^2) with R_j^2 the centred R^2 of column j on the others; uncorrelated
    columns give about 1. Nulls are mean-imputed (imputed rows carry no covariance, so this
    understates collinearity of sparse columns a little). Constant columns are left out of the
    design and of the result. statsmodels clips R^2 below 1, so exact collinearity comes out
    near 1e15; anything at or above VIF_INFINITE (1e12) is reported as inf.
    Speed without sampling: R_j^2 with a constant depends only on the centred cross-product
    matrix X'X (up to scale). A chunked QR gives a k x k triangle R with R'R = X'X; the 2k
    rows [R; -R] have mean 0 and cross-products 2 X'X, so statsmodels' regressions on them
    return exactly the VIFs of all N rows, at a cost independent of N after one QR pass.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import polars as pl

VIF_INFINITE = 1e12
VIF_CHUNK_ROWS = 100_000

# Pair variance below this share of the pair's sum of squares counts as constant (rounding noise).
_RELATIVE_VARIANCE_FLOOR = 1e-12


# ---------------------------------------------------------------------------------------------
# Correlation
# ---------------------------------------------------------------------------------------------

def non_constant_columns(frame: pl.DataFrame, columns: list[str]) -> list[str]:
    """Numeric or boolean columns (input order) with at least two distinct non-null, non-NaN values."""
    if not columns:
        return []
    distinct = frame.select(
        pl.col(c).cast(pl.Float64).fill_nan(None).drop_nulls().n_unique() for c in columns
    ).row(0)
    return [c for c, n in zip(columns, distinct, strict=False) if n > 1]


def correlation_matrix(frame: pl.DataFrame, columns: list[str], chunk_rows: int = 100_000) -> np.ndarray:
    """Pairwise-complete Pearson correlation matrix (NaN where a pair has no variance).

    Four sums per pair are accumulated over row chunks (bounded memory): with m the presence
    mask and x centred with zeros where null, n_ij = m_i.m_j, s_ij = x_i.m_j, q_ij = x_i^2.m_j
    and p_ij = x_i.x_j; then cov_ij = p_ij - s_ij s_ji / n_ij, var_i|j = q_ij - s_ij^2 / n_ij.
    """
    floats = frame.select(pl.col(c).cast(pl.Float64).fill_nan(None) for c in columns)
    # Centring on column means first keeps the sums small, so the subtractions lose little.
    means = np.array(floats.mean().row(0), dtype=float) if columns else np.empty(0)
    k = len(columns)
    pair_rows, sums, squares, products = (np.zeros((k, k)) for _ in range(4))
    for start in range(0, floats.height, chunk_rows):
        values = floats.slice(start, chunk_rows).to_numpy()
        present = ~np.isnan(values)
        centred = np.where(present, values - means, 0.0)
        mask = present.astype(float)
        pair_rows += mask.T @ mask
        sums += centred.T @ mask
        squares += (centred * centred).T @ mask
        products += centred.T @ centred
    with np.errstate(divide="ignore", invalid="ignore"):
        covariance = products - sums * sums.T / pair_rows
        variance = squares - sums * sums / pair_rows
        flat = variance <= _RELATIVE_VARIANCE_FLOOR * squares
        r = covariance / np.sqrt(variance * variance.T)
    r[flat | flat.T | (pair_rows < 2)] = np.nan
    return np.clip(r, -1.0, 1.0)


def high_correlation_pairs(frame: pl.DataFrame, numeric_features: list[str],
                           threshold: float = 0.9) -> list[tuple[str, str, float]]:
    """Pairs (a, b, r) with |r| > threshold, by |r| descending then names; a before b in input order.

    Meant for numeric and boolean columns (booleans become 0/1). Constant columns are skipped.
    """
    columns = non_constant_columns(frame, numeric_features)
    r = correlation_matrix(frame, columns)
    pairs = [(columns[i], columns[j], float(r[i, j]))
             for i in range(len(columns)) for j in range(i + 1, len(columns))
             if not np.isnan(r[i, j]) and abs(r[i, j]) > threshold]
    return sorted(pairs, key=lambda p: (-abs(p[2]), p[0], p[1]))


# ---------------------------------------------------------------------------------------------
# Variance inflation factor
# ---------------------------------------------------------------------------------------------

def variance_inflation_factors(frame: pl.DataFrame, numeric_features: list[str]) -> dict[str, float]:
    """VIF per non-constant column (input order), from statsmodels; exact collinearity gives inf.

    Nulls are mean-imputed and constant columns are left out of the result. All rows count:
    statsmodels runs on a 2k-row design with the same centred cross-products (module docstring).
    """
    # statsmodels takes about a second to import and only VIF needs it.
    from statsmodels.stats.outliers_influence import variance_inflation_factor
    from statsmodels.tools.tools import add_constant

    columns = non_constant_columns(frame, numeric_features)
    if not columns:
        return {}
    triangle = centred_triangle(frame, columns)
    # Rows R and -R: mean exactly 0, cross-products 2 R'R = 2 X'X (VIF ignores the scale).
    exog = add_constant(np.vstack([triangle, -triangle]), prepend=True, has_constant="add")
    vifs: dict[str, float] = {}
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # statsmodels warns on ill-conditioned designs; the huge VIF is the answer we report.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        for index, column in enumerate(columns, start=1):
            vif = float(variance_inflation_factor(exog, index))
            vifs[column] = math.inf if not math.isfinite(vif) or vif >= VIF_INFINITE else vif
    return vifs


def centred_triangle(frame: pl.DataFrame, columns: list[str], chunk_rows: int = VIF_CHUNK_ROWS) -> np.ndarray:
    """Upper-triangular R with R'R = X'X, X the mean-imputed, centred columns (chunked QR)."""
    floats = frame.select(pl.col(c).cast(pl.Float64).fill_nan(None) for c in columns)
    means = np.array(floats.mean().row(0), dtype=float)
    triangle = np.zeros((0, len(columns)))
    for start in range(0, floats.height, chunk_rows):
        values = floats.slice(start, chunk_rows).to_numpy()
        centred = np.where(np.isnan(values), 0.0, values - means)  # imputed mean, centred: 0
        # QR of [R_so_far; chunk] keeps R'R equal to the cross-products of every row seen.
        triangle = np.linalg.qr(np.vstack([triangle, centred]), mode="r")  # type: ignore[assignment]  # stub: R alone
    return triangle
