"""ZIP market figures from comparable sales, each known only from the month after its sales.

`zip_market_levels` gives per ZIP and month the price level and trend and the day they became
known (`known_from`); features and valuation look them up as of a day, never later.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from wholesaler_assets.domain.features.lookups import mapped
from wholesaler_assets.domain.scalars import as_date

TREND_WINDOW_MONTHS = 6


def zip_market_levels(sales: pl.DataFrame) -> pl.DataFrame:
    """Per ZIP and month: the 6-month mean of monthly median price per sqft, and its change on the 6 before.

    A month's figures use sales up to the end of that month, so they are known from the first day
    of the next month (`known_from`), the key of the as-of joins.
    """
    monthly = (
        sales.filter(pl.col("price_per_sqft").is_not_null())
        .with_columns(month=pl.col("sale_date").dt.truncate("1mo"))
        .group_by("zip_code", "month")
        .agg(pl.col("price_per_sqft").median().alias("median_ppsf"))
    )
    schema = {"zip_code": pl.String, "known_from": pl.Date, "zip_median_ppsf": pl.Float64,
              "zip_price_trend": pl.Float64}
    if monthly.is_empty():
        return pl.DataFrame(schema=schema)
    first, last = as_date(monthly["month"].min()), as_date(monthly["month"].max())
    months = pl.date_range(first, last, "1mo", eager=True).alias("month")
    grid = monthly.select("zip_code").unique().join(months.to_frame(), how="cross")
    recent = pl.col("median_ppsf").rolling_mean(TREND_WINDOW_MONTHS, min_samples=2).over("zip_code")
    return (
        grid.join(monthly, on=["zip_code", "month"], how="left")
        .sort("zip_code", "month")
        .with_columns(recent=recent)
        .with_columns(prior=pl.col("recent").shift(TREND_WINDOW_MONTHS).over("zip_code"))
        .select(
            "zip_code",
            pl.col("month").dt.offset_by("1mo").alias("known_from"),
            pl.col("recent").alias("zip_median_ppsf"),
            (pl.col("recent") / pl.col("prior") - 1).alias("zip_price_trend"),
        )
        .drop_nulls("zip_median_ppsf")
        .sort("known_from")
    )


ZipFigures = dict[str, dict[str, float | None]]
"""A day's ZIP market figures: figure name -> {ZIP code: value} (looked up with `lookups.mapped`)."""


def levels_known_on(levels: pl.DataFrame, day: dt.date, non_null: str | None = None) -> ZipFigures:
    """Each ZIP's figures of `levels` latest known on `day`: what a backward as-of join on
    `known_from` picks for a row dated `day`. With `non_null`, rows where that figure is null are
    passed over, as an as-of join on levels without them would.

    Worth computing once per day where the same day is looked up many times (serving requests):
    a dict lookup per row costs microseconds where a join costs ~0.4 ms a request.
    """
    known = levels.filter(pl.col("known_from") <= day)
    if non_null is not None:
        known = known.drop_nulls(non_null)
    latest = known.sort("zip_code", "known_from").group_by("zip_code", maintain_order=True).last()
    zips = latest["zip_code"].to_list()
    return {name: dict(zip(zips, latest[name].to_list(), strict=True)) for name in latest.columns
            if name not in ("zip_code", "known_from")}


def zip_figure_columns(zip_codes: pl.Series, figures: ZipFigures) -> list[pl.Series]:
    """Each of a day's ZIP figures looked up for `zip_codes` (null for an unknown ZIP), one series each."""
    return [mapped(zip_codes, values, pl.Float64, name) for name, values in figures.items()]


def trends_as_of(rows: pl.DataFrame, levels: pl.DataFrame, day: str = "scoring_date") -> pl.DataFrame:
    """Per row (in its order): the ZIP price trend latest known on its `day` and the day it became known.

    A backward as-of join on `known_from`, passing over months without a trend.
    """
    trends = levels.select("zip_code", "known_from", "zip_price_trend").drop_nulls("zip_price_trend")
    return (
        rows.select("zip_code", day).with_row_index("_row").sort(day)
        .join_asof(trends.sort("known_from"), left_on=day, right_on="known_from", by="zip_code",
                   strategy="backward", check_sortedness=False)
        .sort("_row")
        .select("zip_price_trend", "known_from")
    )


def zip_metros(sales: pl.DataFrame) -> dict[str, str]:
    """Each ZIP code's metro, from the comparable sales (the latest listed where they disagree)."""
    metros = sales.select("zip_code", "metro").unique("zip_code", keep="last").sort("zip_code")
    return dict(metros.iter_rows())
