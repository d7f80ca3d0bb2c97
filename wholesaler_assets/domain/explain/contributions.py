"""Per-lead feature contributions (SHAP values) and each lead's top drivers.

Contributions are per-row arrays of shape (n_rows, n_features) in log-odds: XGBoost's
`pred_contribs=True` output without its last (bias) column, which equals
`shap.TreeExplainer(booster).shap_values(X)` (see STACK_NOTES §5). A positive contribution
raises the chance of conversion, a negative one lowers it; contributions plus the bias add up to
the model's margin (log-odds), not to the probability.

Nothing happens at import time; xgboost is only needed by `contributions_from_booster` and is
never imported here (the booster and DMatrix are passed in).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import xgboost


def contribution_matrix(contributions: np.ndarray, feature_names: Sequence[str]) -> np.ndarray:
    """Contributions as a 2-D float64 array with one column per feature name (1-D is one row)."""
    matrix = np.asarray(contributions, dtype=np.float64)
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.ndim != 2:
        raise ValueError(f"contributions must be 2-D (rows, features); got shape {matrix.shape}")
    if matrix.shape[1] != len(feature_names):
        raise ValueError(f"contributions have {matrix.shape[1]} columns but {len(feature_names)} "
                         "feature names were given (drop the bias column of pred_contribs first)")
    return matrix


def top_drivers(contributions: np.ndarray, feature_names: list[str], k: int = 3) -> list[list[tuple[str, float]]]:
    """Per row, the k features with the largest |contribution| as (name, contribution).

    Sorted by |contribution| descending; ties keep feature order. Zero (and NaN) contributions
    are never drivers, so a row may have fewer than k (possibly none). A 1-D array is one row.
    """
    matrix = contribution_matrix(contributions, feature_names)
    if k <= 0 or matrix.shape[0] == 0:
        return [[] for _ in range(matrix.shape[0])]
    magnitude = np.nan_to_num(np.abs(matrix), nan=0.0)
    order = np.argsort(-magnitude, axis=1, kind="stable")[:, :k]
    # Python lists, not numpy scalars, in the per-row loop: a tenth of the cost on 1,000 rows.
    values = np.take_along_axis(matrix, order, axis=1).tolist()
    sizes = np.take_along_axis(magnitude, order, axis=1).tolist()
    return [[(feature_names[j], v) for j, v, size in zip(columns, row_values, row_sizes, strict=True) if size > 0]
            for columns, row_values, row_sizes in zip(order.tolist(), values, sizes, strict=True)]


def contributions_from_booster(booster: xgboost.Booster, dmatrix: xgboost.DMatrix,
                               approximate: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(contributions without the bias column, bias per row), both float64, in log-odds.

    Uses `booster.predict(dmatrix, pred_contribs=True, approx_contribs=approximate)`. The exact
    contributions equal `shap.TreeExplainer(booster).shap_values(X)`, and contributions summed
    over features plus the bias give the margin (`output_margin=True`). The bias is the model's
    expected margin (plus any base_margin set on the DMatrix) — use it rather than a freshly built
    explainer's `expected_value` (STACK_NOTES §5). A multi-class booster gives 3-D output
    (rows, classes, features) and (rows, classes); the other functions here take 2-D arrays.
    """
    raw = np.asarray(booster.predict(dmatrix, pred_contribs=True, approx_contribs=approximate), dtype=np.float64)
    return raw[..., :-1], raw[..., -1]
