"""Point-in-time features of each lead contact.

Every feature is what was known when the contact was made:
- property state comes from the latest snapshot dated on or before the contact date (an as-of
  join, never a later one). A date-stamped record counts as known from the start of its day;
- contact history counts only earlier contacts of the same lead;
- the ZIP price trend uses sales of months that had ended before the contact.

Audit columns travel with the features so the leakage gate can verify all of this on the table:
`snapshot_date` and `feature_known_at` (the newest date any feature value was effective).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from wholesaler_assets.domain.contracts import CHANNELS
from wholesaler_assets.domain.lookups import mapped

AUDIT_COLUMNS = ("contact_id", "lead_id", "property_id", "contact_time", "snapshot_date", "feature_known_at")

SNAPSHOT_COLUMNS = (
    "snapshot_date", "property_id", "record_effective_date", "latest_event_date", "metro", "zip_code",
    "property_type", "beds", "baths", "sqft", "year_built", "condition", "market_value", "equity_share",
    "years_owned", "owner_type", "absentee_owner", "out_of_state_owner", "tax_delinquent", "tax_amount_owed",
    "tax_years_delinquent", "in_foreclosure", "days_to_auction", "open_code_violations", "in_probate", "vacant",
    "distress_signal_count", "distress_events_90d", "distress_events_365d",
)

TREND_WINDOW_MONTHS = 6


def contact_history(contacts: pl.DataFrame) -> pl.DataFrame:
    """Per contact, what earlier contacts of the same lead looked like.

    Computed with running totals over the frame sorted by lead and time, minus each lead's total
    at its first row: the same as a per-lead window, without the cost of grouping.
    """
    ordered = contacts.sort("lead_id", "contact_time", "contact_id")
    first = pl.col("lead_id") != pl.col("lead_id").shift(1, fill_value="")
    row = pl.int_range(pl.len(), dtype=pl.Int64)

    def before_this_row(flag: pl.Expr) -> pl.Expr:
        running = flag.cast(pl.Int64).cum_sum() - flag.cast(pl.Int64)  # total over all earlier rows
        return running - pl.when(first).then(running).forward_fill()  # ... of this lead only

    return ordered.with_columns(
        prior_contacts=row - pl.when(first).then(row).forward_fill(),
        **{f"prior_{c}": before_this_row(pl.col("channel") == c) for c in CHANNELS},
        days_since_previous_contact=pl.when(~first).then(
            (pl.col("contact_time") - pl.col("contact_time").shift(1)).dt.total_seconds() / 86_400),
    )


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
    months = pl.date_range(monthly["month"].min(), monthly["month"].max(), "1mo", eager=True).alias("month")
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


def zip_price_trends(sales: pl.DataFrame) -> pl.DataFrame:
    """Per ZIP and month, the price trend known from `known_from` (see `zip_market_levels`)."""
    return zip_market_levels(sales).drop_nulls("zip_price_trend").select("zip_code", "known_from", "zip_price_trend")


def source_contact_features(contacts: pl.DataFrame, snapshots: pl.DataFrame, sales: pl.DataFrame) -> pl.DataFrame:
    """Features of every contact of the landing-source dataset, with the audit columns first."""
    history = contact_history(contacts).with_columns(contact_date=pl.col("contact_time").dt.date())
    # Join on the keys alone, then fetch the matched snapshot rows: sorting millions of wide
    # snapshot rows costs more than the join itself.
    keys = snapshots.select("property_id", "snapshot_date").with_row_index("_snapshot_row").sort("snapshot_date")
    matched = history.sort("contact_date").join_asof(
        keys, left_on="contact_date", right_on="snapshot_date", by="property_id", strategy="backward",
        check_sortedness=False,
    )
    state = snapshots.select(pl.col(c).gather(matched["_snapshot_row"]) for c in SNAPSHOT_COLUMNS
                             if c != "property_id")
    joined = pl.concat([matched.drop("_snapshot_row", "snapshot_date"), state], how="horizontal")
    trends = zip_price_trends(sales)
    joined = joined.sort("contact_date").join_asof(
        trends, left_on="contact_date", right_on="known_from", by="zip_code", strategy="backward",
        check_sortedness=False,
    )
    day = pl.col("contact_date")
    lag = (day - pl.col("snapshot_date")).dt.total_days()
    known_at = pl.max_horizontal("record_effective_date", "latest_event_date", "known_from")
    return joined.select(
        *AUDIT_COLUMNS[:5],
        known_at.cast(pl.Datetime("us", "UTC")).alias("feature_known_at"),
        "metro", "property_type", "condition", "owner_type", "beds", "baths", "sqft",
        (day.dt.year() - pl.col("year_built")).alias("building_age"),
        "market_value", "equity_share",
        (pl.col("years_owned") + lag / 365.25).alias("years_owned"),
        "absentee_owner", "out_of_state_owner", "tax_delinquent", "tax_years_delinquent",
        pl.when(pl.col("market_value") > 0).then(pl.col("tax_amount_owed") / pl.col("market_value"))
        .alias("tax_owed_share"),
        "in_foreclosure", (pl.col("days_to_auction") - lag).alias("days_to_auction"), "in_probate", "vacant",
        "open_code_violations", "distress_signal_count", "distress_events_90d", "distress_events_365d",
        (day - pl.col("latest_event_date")).dt.total_days().alias("days_since_latest_event"),
        "channel", "campaign_step", "prior_contacts", *[f"prior_{c}" for c in CHANNELS],
        "days_since_previous_contact", "zip_price_trend",
    ).sort("contact_time", "contact_id")


def spec_contact_features(contacts: pl.DataFrame, feature_columns: dict[str, str]) -> pl.DataFrame:
    """Features of a user's lead file: its own attribute columns, known at contact time by declaration."""
    return contacts.select(
        "contact_id", "lead_id", pl.lit(None, pl.String).alias("property_id"), "contact_time",
        pl.lit(None, pl.Date).alias("snapshot_date"), pl.lit(None, pl.Datetime("us", "UTC")).alias("feature_known_at"),
        *feature_columns,
    ).sort("contact_time", "contact_id")
