"""Lead records built from warehouse tables: the daily batch's active leads and every contact's record.

Both take the property state from a snapshot row (`_property_state`), moved forward to the
scoring date the same way (`_records`), and the outreach from earlier contacts of the lead, so a
contact's training row and the batch's record of the same lead on the same day are one record.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from wholesaler_assets.domain.contracts.sources import CHANNELS
from wholesaler_assets.domain.features.record_schema import RECORD_SCHEMA

# The property_snapshots columns lead records are built from (and the audit's record date).
SNAPSHOT_COLUMNS = (
    "snapshot_date", "property_id", "record_effective_date", "latest_event_date", "metro", "zip_code",
    "property_type", "beds", "baths", "sqft", "year_built", "condition", "market_value", "estimated_equity",
    "years_owned", "owner_type", "absentee_owner", "out_of_state_owner", "tax_delinquent", "tax_amount_owed",
    "tax_years_delinquent", "in_foreclosure", "days_to_auction", "open_code_violations", "in_probate", "vacant",
    "distress_signal_count", "distress_events_90d", "distress_events_365d",
)
NEW_LEAD_PREFIX = "new-"
DAYS_PER_YEAR = 365.25


def _property_state() -> list[str | pl.Expr]:
    """The property fields of a lead record from a snapshot row (`snapshot_date` kept for `_records`).

    The mortgage balance is market value minus estimated equity, floored at 0 (a loan balance is
    never negative); the auction date is the snapshot's countdown from its own date.
    """
    return [
        "snapshot_date", "zip_code", "metro", "property_type", "beds", "baths", "sqft", "year_built",
        "condition", "market_value",
        (pl.col("market_value") - pl.col("estimated_equity")).clip(lower_bound=0.0).alias("mortgage_balance"),
        "years_owned", "owner_type", "absentee_owner", "out_of_state_owner", "tax_delinquent", "tax_amount_owed",
        "tax_years_delinquent", "in_foreclosure",
        (pl.col("snapshot_date") + pl.duration(days=pl.col("days_to_auction"))).alias("auction_date"),
        "open_code_violations", "in_probate", "vacant", "latest_event_date", "distress_events_90d",
        "distress_events_365d",
    ]


def _records(scoring_date: pl.Expr) -> list[pl.Expr]:
    """Every record field, typed, with the snapshot's years owned moved forward to `scoring_date`."""
    lag_days = (scoring_date - pl.col("snapshot_date")).dt.total_days()
    moved = {"scoring_date": scoring_date.alias("scoring_date"),
             "years_owned": (pl.col("years_owned") + lag_days / DAYS_PER_YEAR).cast(pl.Float64).alias("years_owned")}
    return [moved[name] if name in moved else pl.col(name).cast(dtype) for name, dtype in RECORD_SCHEMA.items()]


def contact_history(contacts: pl.DataFrame) -> pl.DataFrame:
    """Per contact, what earlier contacts of the same lead looked like: their count in all and by
    channel, and the date of the previous one (`last_contact_date`, null for the first).

    Running totals over the frame sorted by lead and time, minus each lead's total at its first
    row: the same as a per-lead window, without the cost of grouping.
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
        last_contact_date=pl.when(~first).then(pl.col("contact_time").shift(1).dt.date()),
    )


def contact_records(contacts: pl.DataFrame, snapshots: pl.DataFrame) -> pl.DataFrame:
    """The lead record of every contact as of its contact, sorted by contact time.

    The scoring date is the contact's (UTC) date; the property state comes from the latest
    snapshot dated on or before it (a date-stamped record counts as known from the start of its
    day), moved forward to that day; prior contacts and the last contact date from earlier
    contacts of the same lead; channel and campaign step are the contact's own. A contact no
    snapshot matched keeps null property fields. Audit columns first: `contact_id`,
    `contact_time`, the matched `snapshot_date` and its `record_effective_date`.
    """
    history = contact_history(contacts).with_columns(scoring_date=pl.col("contact_time").dt.date())
    # Join on the keys alone, then fetch the matched snapshot rows: sorting millions of wide
    # snapshot rows costs more than the join itself.
    keys = snapshots.select("property_id", "snapshot_date").with_row_index("_snapshot_row").sort("snapshot_date")
    matched = history.sort("scoring_date").join_asof(
        keys, left_on="scoring_date", right_on="snapshot_date", by="property_id", strategy="backward",
        check_sortedness=False,
    )
    rows = matched["_snapshot_row"]
    state = snapshots.select(pl.col(c).gather(rows) for c in SNAPSHOT_COLUMNS if c != "property_id")
    joined = pl.concat([matched.drop("_snapshot_row", "snapshot_date"), state], how="horizontal")
    return (
        joined.with_columns(*_property_state(), pl.col("campaign_step").cast(pl.Int64))
        .select("contact_id", "contact_time", "snapshot_date", "record_effective_date",
                *_records(pl.col("scoring_date")))
        .sort("contact_time", "contact_id")
    )


def records_as_of(day: dt.date, snapshot: pl.DataFrame, contacts: pl.DataFrame, outcomes: pl.DataFrame,
                  next_channel: str = "cold_call", include_uncontacted_distressed: bool = True) -> pl.DataFrame:
    """The lead records of every active lead on `day`, built from the warehouse.

    Active: contacted on or before `day` and without a signed contract by the end of it; with
    `include_uncontacted_distressed`, also every distressed property nobody has contacted yet (its
    lead id is `new-<property_id>`, its next contact the first step on `next_channel`). The
    property state is the `snapshot` (the latest on or before `day`), moved forward to `day` as
    for a contact's record. A worked lead's next contact repeats its last channel.
    """
    end_of_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    known = contacts.filter(pl.col("contact_time") < end_of_day)
    closed = outcomes.filter(pl.col("contract_signed_at") < end_of_day).select("lead_id") \
        if "contract_signed_at" in outcomes.columns else pl.DataFrame(schema={"lead_id": pl.String})
    worked = (
        known.sort("contact_time", "contact_id")
        .group_by("lead_id", maintain_order=True)
        .agg(
            pl.col("property_id").last(),
            pl.len().cast(pl.Int64).alias("prior_contacts"),
            *[(pl.col("channel") == c).sum().cast(pl.Int64).alias(f"prior_{c}") for c in CHANNELS],
            pl.col("contact_time").last().dt.date().alias("last_contact_date"),
            pl.col("channel").last().alias("channel"),
            (pl.col("campaign_step").last() + 1).cast(pl.Int64).alias("campaign_step"),
        )
        .join(closed, on="lead_id", how="anti")
    )
    if include_uncontacted_distressed:
        distressed = snapshot.filter(pl.col("distress_signal_count") > 0).select("property_id")
        fresh = distressed.join(known.select("property_id").unique(), on="property_id", how="anti").select(
            (pl.lit(NEW_LEAD_PREFIX) + pl.col("property_id")).alias("lead_id"), "property_id",
            pl.lit(0, pl.Int64).alias("prior_contacts"),
            *[pl.lit(0, pl.Int64).alias(f"prior_{c}") for c in CHANNELS],
            pl.lit(None, pl.Date).alias("last_contact_date"), pl.lit(next_channel).alias("channel"),
            pl.lit(1, pl.Int64).alias("campaign_step"),
        )
        worked = pl.concat([worked, fresh], how="vertical_relaxed")
    state = snapshot.select("property_id", *_property_state())
    return worked.join(state, on="property_id", how="inner").select(_records(pl.lit(day))).sort("lead_id")
