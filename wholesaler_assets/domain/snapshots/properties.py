"""Point-in-time property snapshots.

A snapshot answers "what did we know about each property on this date?". Nothing dated after
the snapshot date may enter: each attribute takes its latest non-null value among records with
`effective_date <= snapshot_date`; a distress event counts when `event_date <= snapshot_date`
and is active until its `resolved_date` (a resolution recorded after the snapshot date is not
yet known, so the event is still open in that snapshot).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from wholesaler_assets.domain.contracts.sources import PROPERTIES

TRAILING_WINDOWS_DAYS = (30, 90, 365)
SNAPSHOT_KEY = ("snapshot_date", "property_id")
# Columns a usable snapshot must have for nearly every property.
REQUIRED_SNAPSHOT_COLUMNS = (
    "metro", "zip_code", "property_type", "sqft", "year_built", "market_value",
    "estimated_equity", "owner_type", "owner_occupied",
)
_ATTRIBUTES = [c.name for c in PROPERTIES.columns if not c.pii and c.name not in PROPERTIES.key]


def build_property_snapshot(
    properties: pl.DataFrame | pl.LazyFrame,
    distress_events: pl.DataFrame | pl.LazyFrame,
    snapshot_date: dt.date,
) -> pl.DataFrame:
    """Each property's state as known at the end of `snapshot_date` (PII left out)."""
    state = _attributes_as_of(properties.lazy(), snapshot_date)
    distress = _distress_as_of(distress_events.lazy(), snapshot_date)
    day = pl.lit(snapshot_date)
    return (
        state.join(distress, on="property_id", how="left")
        .with_columns(
            pl.col(_DISTRESS_COUNTS).fill_null(0),
            pl.col(_DISTRESS_FLAGS).fill_null(False),
        )
        .with_columns(
            snapshot_date=day,
            equity_share=pl.when(pl.col("market_value") > 0)
            .then(pl.col("estimated_equity") / pl.col("market_value")),
            years_owned=(day - pl.col("last_sale_date")).dt.total_days() / 365.25,
            absentee_owner=~pl.col("owner_occupied"),
            days_since_latest_event=(day - pl.col("latest_event_date")).dt.total_days(),
        )
        .select("snapshot_date", "property_id", pl.exclude("snapshot_date", "property_id"))
        .sort("property_id")
        .collect()
    )


def _attributes_as_of(properties: pl.LazyFrame, day: dt.date) -> pl.LazyFrame:
    known = properties.filter(pl.col("effective_date") <= day).sort("property_id", "effective_date")
    return known.group_by("property_id").agg(
        pl.col("effective_date").max().alias("record_effective_date"),
        *[pl.col(c).drop_nulls().last().alias(c) for c in _ATTRIBUTES],
    )


_DISTRESS_FLAGS = ["tax_delinquent", "in_foreclosure", "in_probate", "vacant"]
_DISTRESS_COUNTS = [
    "open_code_violations", "distress_signal_count",
    *[f"distress_events_{w}d" for w in TRAILING_WINDOWS_DAYS],
]


def _distress_as_of(events: pl.LazyFrame, day: dt.date) -> pl.LazyFrame:
    known = events.filter(pl.col("event_date") <= day)
    active = pl.col("resolved_date").is_null() | (pl.col("resolved_date") > day)
    is_type = {t: (pl.col("event_type") == t) & active for t in
               ("tax_delinquency", "foreclosure", "code_violation", "probate", "vacancy")}
    age_days = (pl.lit(day) - pl.col("event_date")).dt.total_days()
    return known.group_by("property_id").agg(
        is_type["tax_delinquency"].any().alias("tax_delinquent"),
        pl.col("tax_amount_owed").filter(is_type["tax_delinquency"]).sum().alias("tax_amount_owed"),
        pl.col("tax_years_delinquent").filter(is_type["tax_delinquency"]).max().alias("tax_years_delinquent"),
        is_type["foreclosure"].any().alias("in_foreclosure"),
        (pl.col("auction_date") - pl.lit(day)).dt.total_days()
        .filter(is_type["foreclosure"] & (pl.col("auction_date") >= day)).min().alias("days_to_auction"),
        is_type["code_violation"].sum().cast(pl.Int64).alias("open_code_violations"),
        is_type["probate"].any().alias("in_probate"),
        is_type["vacancy"].any().alias("vacant"),
        pl.col("event_type").filter(active).n_unique().cast(pl.Int64).alias("distress_signal_count"),
        *[(age_days < w).sum().cast(pl.Int64).alias(f"distress_events_{w}d") for w in TRAILING_WINDOWS_DAYS],
        pl.col("event_date").max().alias("latest_event_date"),
    )
