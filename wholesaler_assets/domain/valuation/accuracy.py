"""ARV against a known true renovated value (the synthetic market's ground truth), by condition.

    error            = ARV / true renovated value - 1
    mdape            = median |error|            (per condition of the house)
    median_bias      = median error              (> 0: ARV too high, the dangerous side)
    p90_ape          = 90th percentile of |error|
    median_arv_to_value, median_true_to_value = median ARV (true value) / as-is market value
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from wholesaler_assets.domain.contracts.sources import CONDITIONS
from wholesaler_assets.domain.valuation.arv import ArvModel, estimate_arv

ERROR_COLUMNS = ("condition", "properties", "mdape", "median_bias", "p90_ape", "median_arv_to_value",
                 "median_true_to_value")


def arv_error_by_condition(estimates: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Join `estimates` (property_id, arv) to `truth` (property_id, condition, market_value,
    true_renovated_value) and summarise the error per condition, in `CONDITIONS` order, then `all`."""
    joined = truth.join(estimates.select("property_id", "arv"), on="property_id", how="inner").filter(
        pl.col("arv").is_not_null() & (pl.col("true_renovated_value") > 0)).with_columns(
        error=pl.col("arv") / pl.col("true_renovated_value") - 1)

    def summary(frame: pl.DataFrame, name: str) -> dict[str, object]:
        return {"condition": name, "properties": frame.height,
                "mdape": frame["error"].abs().median(), "median_bias": frame["error"].median(),
                "p90_ape": frame["error"].abs().quantile(0.9),
                "median_arv_to_value": (frame["arv"] / frame["market_value"]).median(),
                "median_true_to_value": (frame["true_renovated_value"] / frame["market_value"]).median()}

    rows = [summary(joined.filter(pl.col("condition") == c), c) for c in CONDITIONS
            if joined.filter(pl.col("condition") == c).height]
    return pl.DataFrame([*rows, summary(joined, "all")], schema={
        "condition": pl.String, "properties": pl.Int64, "mdape": pl.Float64, "median_bias": pl.Float64,
        "p90_ape": pl.Float64, "median_arv_to_value": pl.Float64, "median_true_to_value": pl.Float64})


def renovated_values_on(truth: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """Each property's true renovated value on `day`: its latest record effective by then, grown by
    the ZIP's annual trend from the record's date to `day` (how the market's prices move)."""
    latest = (truth.filter(pl.col("effective_date") <= day).sort("property_id", "effective_date")
              .unique("property_id", keep="last", maintain_order=True))
    years = (pl.lit(day) - pl.col("effective_date")).dt.total_days() / 365.25
    return latest.with_columns(
        pl.col("true_renovated_value") * (1 + pl.col("zip_annual_trend")).pow(years))


def arv_error_against_truth(model: ArvModel, properties: pl.DataFrame, truth: pl.DataFrame,
                            day: dt.date) -> pl.DataFrame:
    """The model's ARV of every property (its latest record by `day`, as a snapshot would hold it)
    against the true renovated value on `day`, by condition (`arv_error_by_condition`)."""
    latest = (properties.filter(pl.col("effective_date") <= day).sort("property_id", "effective_date")
              .unique("property_id", keep="last", maintain_order=True))
    return arv_error_by_condition(estimate_arv(model, latest, day), renovated_values_on(truth, day))


def error_table_markdown(table: pl.DataFrame) -> str:
    """The error-by-condition table as markdown (percentages with one decimal)."""
    lines = ["| condition | properties | MdAPE | median bias | p90 APE | ARV / as-is | true / as-is |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['condition']} | {r['properties']:,} | {r['mdape']:.1%} | {r['median_bias']:+.1%} | "
              f"{r['p90_ape']:.1%} | {r['median_arv_to_value']:.2f} | {r['median_true_to_value']:.2f} |"
              for r in table.iter_rows(named=True)]
    return "\n".join(lines)
