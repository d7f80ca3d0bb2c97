"""What a model's contributions say over many leads: global feature importance, per-cohort
summaries, and a markdown report of both (contributions in log-odds, see `contributions.py`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from wholesaler_assets.domain.explain.contributions import contribution_matrix


def global_importance(contributions: np.ndarray, feature_names: list[str]) -> pl.DataFrame:
    """Mean |contribution| per feature, with its share of the total and a rank (1 = most important).

    Columns: feature, mean_abs_contribution, mean_contribution, share, rank; sorted by rank.
    Ties in mean |contribution| rank in feature order. With no rows (or all contributions zero)
    every share is 0.
    """
    matrix = contribution_matrix(contributions, feature_names)
    if matrix.shape[0] == 0:
        mean_abs = np.zeros(matrix.shape[1])
        mean = np.zeros(matrix.shape[1])
    else:
        mean_abs = np.abs(matrix).mean(axis=0)
        mean = matrix.mean(axis=0)
    total = float(mean_abs.sum())
    share = mean_abs / total if total > 0 else np.zeros_like(mean_abs)
    order = np.argsort(-mean_abs, kind="stable")
    return pl.DataFrame({
        "feature": [feature_names[j] for j in order],
        "mean_abs_contribution": mean_abs[order],
        "mean_contribution": mean[order],
        "share": share[order],
        "rank": np.arange(1, len(order) + 1, dtype=np.int64),
    }, schema={"feature": pl.String, "mean_abs_contribution": pl.Float64, "mean_contribution": pl.Float64,
               "share": pl.Float64, "rank": pl.Int64})


_COHORT_SCHEMA = {"cohort_column": pl.String, "cohort_value": pl.String, "rows": pl.Int64,
                  "mean_probability": pl.Float64, "top_features": pl.String}


def _top_feature_text(mean_abs: np.ndarray, feature_names: Sequence[str], top: int) -> str:
    order = np.argsort(-mean_abs, kind="stable")[:max(top, 0)]
    return ", ".join(feature_names[j] for j in order if mean_abs[j] > 0)


def cohort_summary(contributions: np.ndarray, feature_names: list[str], cohorts: pl.DataFrame,
                   probabilities: np.ndarray, top: int = 3) -> pl.DataFrame:
    """Per cohort of every cohort column: its row count, mean probability and top features.

    `cohorts` holds one or more cohort columns (e.g. value_segment, distress_type, channel), one row
    per contribution row. Output is long: cohort_column, cohort_value (as text; null stays null),
    rows, mean_probability, top_features ("a, b, c": the `top` features by mean |contribution|
    within the cohort, ties in feature order, zero-importance features left out). Cohort columns
    keep their order; values within a column are sorted (nulls last).
    """
    matrix = contribution_matrix(contributions, feature_names)
    probs = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    if cohorts.height != matrix.shape[0] or probs.shape[0] != matrix.shape[0]:
        raise ValueError(f"row counts differ: contributions {matrix.shape[0]}, cohorts {cohorts.height}, "
                         f"probabilities {probs.shape[0]}")
    magnitude = np.abs(matrix)
    records: list[dict[str, object]] = []
    index_name = "__row__"
    while index_name in cohorts.columns:
        index_name += "_"
    for column in cohorts.columns:
        groups = (cohorts.select(column).with_row_index(index_name)
                  .group_by(column).agg(pl.col(index_name))
                  .sort(column, nulls_last=True))
        for value, indices in groups.iter_rows():
            idx = np.asarray(indices, dtype=np.int64)
            records.append({
                "cohort_column": column,
                "cohort_value": None if value is None else str(value),
                "rows": len(idx),
                "mean_probability": float(probs[idx].mean()),
                "top_features": _top_feature_text(magnitude[idx].mean(axis=0), feature_names, top),
            })
    return pl.DataFrame(records, schema=_COHORT_SCHEMA)


def _cell(value: object) -> str:
    if value is None:
        return "(missing)"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def summary_markdown(importance: pl.DataFrame, cohorts: pl.DataFrame, title: str, top: int = 15) -> str:
    """A markdown report: the `top` features of `global_importance` and the `cohort_summary` table."""
    lines = [f"# {title}", "",
             "Contributions are SHAP values in log-odds: positive raises the chance of conversion, "
             "negative lowers it.", "", "## Global feature importance", ""]
    if importance.height == 0:
        lines.append("No features.")
    else:
        shown = importance.sort("rank").head(top)
        lines += _table(["rank", "feature", "mean abs contribution", "mean contribution", "share"],
                        [(r["rank"], r["feature"], f"{r['mean_abs_contribution']:.4f}",
                          f"{r['mean_contribution']:+.4f}", f"{100 * r['share']:.1f}%")
                         for r in shown.iter_rows(named=True)])
        if importance.height > top:
            lines += ["", f"({importance.height - top} more features not shown.)"]
    lines += ["", "## Cohorts", ""]
    if cohorts.height == 0:
        lines.append("No cohorts.")
    else:
        lines += _table(["cohort", "value", "rows", "mean probability", "top features"],
                        [(r["cohort_column"], r["cohort_value"], r["rows"], f"{r['mean_probability']:.3f}",
                          r["top_features"] or "-")
                         for r in cohorts.iter_rows(named=True)])
    return "\n".join(lines) + "\n"
