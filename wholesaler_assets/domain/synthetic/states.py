"""Public access to the market's conversion function for a property state on a day (the outreach simulator's).

Built from the contract frames (properties, distress events), read exactly as the generator reads
them, so a simulated contact converts with the market's own ground-truth probabilities.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from wholesaler_assets.domain.contracts.sources import CHANNELS, CONDITIONS, DISTRESS_TYPES, OWNER_TYPES
from wholesaler_assets.domain.synthetic.config import epoch_day
from wholesaler_assets.domain.synthetic.conversion import MAX_STEPS, conversion_probabilities

MAX_CAMPAIGN_STEPS = MAX_STEPS
CAMPAIGN_GAP_DAYS = (8, 21)  # the generator's days between two steps of a lead
OUTCOME_DELAY_DAYS = {"booking": (0, 7), "qualification": (1, 6), "deal": (2, 12)}


def property_states(properties: pl.DataFrame, distress_events: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """Every property's state on `day` as the conversion function reads it, from the contract frames:
    its latest record effective on or before `day` and the distress events open on it. One row per
    property_id (internal codes: condition and owner type as indexes, dates as days since 1970)."""
    d = epoch_day(day)
    rec = (properties.filter(pl.col("effective_date") <= day).sort("effective_date")
           .unique("property_id", keep="last").select(
               "property_id", pl.lit(d, pl.Int64).alias("day"), pl.col("market_value").alias("mv"),
               pl.col("estimated_equity").alias("equity"),
               pl.col("condition").replace_strict(list(CONDITIONS), list(range(len(CONDITIONS)))).alias("cond"),
               pl.col("owner_type").replace_strict(list(OWNER_TYPES), list(range(len(OWNER_TYPES)))).alias("owner"),
               pl.col("owner_occupied").alias("occupied"), pl.col("out_of_state_owner").alias("oos"),
               (pl.col("last_sale_date").cast(pl.Int64).fill_null(d)).alias("last_sale")))
    auction = pl.col("auction_date").cast(pl.Int64) - d
    open_events = (distress_events.filter((pl.col("event_date") <= day)
                                          & (pl.col("resolved_date").is_null() | (pl.col("resolved_date") > day)))
                   .group_by("property_id").agg(
                       *[(pl.col("event_type") == name).sum().alias(name) for name in DISTRESS_TYPES],
                       pl.col("tax_years_delinquent").filter(pl.col("event_type") == "tax_delinquency").max()
                       .alias("tax_years"),
                       auction.filter((pl.col("event_type") == "foreclosure") & (auction >= 0)).min()
                       .alias("days_to_auction"),
                       pl.col("event_type").n_unique().alias("distress_types")))
    return (rec.join(open_events, on="property_id", how="left")
            .with_columns(pl.col(*DISTRESS_TYPES, "tax_years", "distress_types").fill_null(0),
                          pl.col("days_to_auction").fill_null(-1)).sort("property_id"))


def contact_probabilities(states: pl.DataFrame, days_ahead: np.ndarray, channels: np.ndarray, steps: np.ndarray,
                          latent: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p_book, p_qual (given booked) and p_deal (given qualified) of contacts made `days_ahead` days after the
    day of `states` (one state row per contact) on `channels` (names) at campaign `steps` (beyond the last
    step: the last step's effect), with each lead's latent effect. The state stays as of its day except
    the clock: years owned and the days to an auction move on."""
    ahead = np.asarray(days_ahead, dtype=np.int64)
    to_auction = states["days_to_auction"].to_numpy() - ahead
    frame = states.with_columns(
        day=pl.Series(states["day"].to_numpy() + ahead),
        days_to_auction=pl.Series(np.where(to_auction >= 0, to_auction, -1)),
        channel=pl.Series([CHANNELS.index(c) for c in channels], dtype=pl.Int64),
        step=pl.Series(np.clip(np.asarray(steps, dtype=np.int64), 1, MAX_STEPS)))
    return conversion_probabilities(frame, np.asarray(latent, dtype=np.float64))
