"""The model's features of lead records: the one definition training, the batch and serving share.

Training rows (`contact_features.source_contact_features`), the daily batch (`warehouse_records.
records_as_of`) and the serving endpoint (`record_validation.validate_records`) all hand lead
records to `record_features`, so a lead with the same record gets the same features everywhere.
"""

from __future__ import annotations

import polars as pl

from wholesaler_assets.domain.contracts.sources import CHANNELS
from wholesaler_assets.domain.features.lookups import mapped
from wholesaler_assets.domain.features.zip_market import ZipFigures, trends_as_of, zip_figure_columns


def record_features(records: pl.DataFrame, levels: pl.DataFrame, zip_metros: dict[str, str],
                    trends_on_day: ZipFigures | None = None) -> pl.DataFrame:
    """`lead_id` and the model's features of each record, in the records' order.

    `levels` are the ZIP market levels (`zip_market.zip_market_levels`); `zip_metros` maps a ZIP
    code to its metro (`zip_market.zip_metros`). Where every record has the same scoring date,
    `trends_on_day` may carry that day's trends (`levels_known_on(levels, day, "zip_price_trend")`,
    computed once a day by the scorer) in place of the as-of join. A feature the record cannot
    give stays null (the models take missing values). Each feature, as of the scoring date:

    - `metro`: the record's, else the ZIP code's metro.
    - `building_age`: the scoring year minus `year_built`.
    - `equity_share`: (market value - mortgage balance) / market value; null without a positive
      value or a known balance. A record built from the warehouse takes the balance as market
      value minus estimated equity, floored at 0 (a loan balance is never negative), so the share
      is at most 1, as in the market's own conversion function.
    - `years_owned`: as the record gives it (warehouse records move the snapshot's figure forward
      to the scoring date, at 365.25 days a year).
    - `tax_years_delinquent`: the record's years of unpaid taxes while the taxes are delinquent;
      null otherwise (no delinquency, no years to count; the flag itself is a feature).
    - `tax_owed_share`: unpaid taxes / market value. 0 for a property whose taxes are not
      delinquent: a county's delinquency list not listing a property means nothing is owed, not
      that the amount is unknown. Null for a delinquent property whose amount is not known, as
      a guessed 0 would say it owes nothing.
    - `days_to_auction`: days from the scoring date to the scheduled foreclosure auction, while a
      foreclosure is open and the auction is on or after the scoring date. Null otherwise: an
      auction already passed is no deadline any more, and a negative countdown would make a lead
      look more urgent than one with an auction still ahead.
    - `distress_signal_count`: how many of the five distress kinds are open (tax delinquency,
      foreclosure, code violations, probate, vacancy): the snapshot's count of open event types.
    - `days_since_latest_event` and `days_since_previous_contact`: whole days from the date of the
      latest distress event / of the previous contact to the scoring date. Dates, not
      timestamps: a CRM records the day of a contact, and a training row counts its previous
      contact the same way. Null without one.
    - `prior_<channel>`: earlier contacts by that channel; 0 when the record leaves it out (a
      CRM that does not list a channel has not used it).
    - `zip_price_trend`: the ZIP's 6-month price trend latest known on the scoring date.
    - The rest as the record gives them: property facts, owner and distress flags, open code
      violations, recent distress event counts, the contact's channel and campaign step, prior
      contacts.
    """
    day = pl.col("scoring_date")
    if trends_on_day is not None:
        trend = zip_figure_columns(records.get_column("zip_code"),
                                   {"zip_price_trend": trends_on_day["zip_price_trend"]})[0]
    else:
        trend = trends_as_of(records, levels).get_column("zip_price_trend")
    value = pl.col("market_value")
    open_kinds = (pl.col("tax_delinquent").cast(pl.Int64) + pl.col("in_foreclosure").cast(pl.Int64)
                  + (pl.col("open_code_violations") > 0).cast(pl.Int64) + pl.col("in_probate").cast(pl.Int64)
                  + pl.col("vacant").cast(pl.Int64))
    delinquent = pl.col("tax_delinquent")
    owed = pl.when(delinquent).then(pl.col("tax_amount_owed")).when(~delinquent).then(0.0)
    features = records.select(
        "lead_id",
        pl.coalesce("metro", mapped(records["zip_code"], zip_metros, pl.String)).alias("metro"),
        "property_type", "condition", "owner_type", "beds", "baths", "sqft",
        (day.dt.year() - pl.col("year_built")).alias("building_age"),
        "market_value",
        pl.when(value > 0).then((value - pl.col("mortgage_balance")) / value).alias("equity_share"),
        "years_owned", "absentee_owner", "out_of_state_owner", "tax_delinquent",
        pl.when(delinquent).then(pl.col("tax_years_delinquent")).alias("tax_years_delinquent"),
        pl.when(value > 0).then(owed / value).cast(pl.Float64).alias("tax_owed_share"),
        "in_foreclosure",
        pl.when(pl.col("in_foreclosure") & (pl.col("auction_date") >= day))
        .then((pl.col("auction_date") - day).dt.total_days()).alias("days_to_auction"),
        "in_probate", "vacant", "open_code_violations",
        open_kinds.alias("distress_signal_count"),
        "distress_events_90d", "distress_events_365d",
        (day - pl.col("latest_event_date")).dt.total_days().alias("days_since_latest_event"),
        "channel", "campaign_step", "prior_contacts",
        *[pl.col(f"prior_{c}").fill_null(0) for c in CHANNELS],
        (day - pl.col("last_contact_date")).dt.total_days().cast(pl.Float64).alias("days_since_previous_contact"),
    )
    return features.with_columns(trend.alias("zip_price_trend"))


def property_facts(records: pl.DataFrame, zip_metros: dict[str, str]) -> pl.DataFrame:
    """The columns valuation and the buy-box read, one row per record."""
    return records.select(
        pl.col("lead_id").alias("property_id"),  # `estimate_arv` names its rows by property_id
        "zip_code",
        pl.coalesce("metro", mapped(records["zip_code"], zip_metros, pl.String)).alias("metro"),
        "property_type", "beds", "baths", "sqft", "year_built", "condition", "market_value", "mortgage_balance",
    )
