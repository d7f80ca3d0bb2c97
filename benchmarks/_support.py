"""What the benchmarks share: peak memory, and a synthetic market with monthly lead snapshots."""

from __future__ import annotations

import datetime as dt
import resource
from dataclasses import dataclass

import polars as pl

from wholesaler_assets.domain.features import SNAPSHOT_COLUMNS
from wholesaler_assets.domain.snapshots import build_property_snapshot
from wholesaler_assets.domain.synthetic_market import (
    DirtConfig,
    MarketConfig,
    SyntheticMarket,
    generate_market,
)

CONTACTS_PER_PROPERTY = 1.6  # measured on the default market: 80k contacts for 50k properties


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def month_ends(start: dt.date, end: dt.date) -> list[dt.date]:
    days, day = [], start
    while day <= end:
        following = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        days.append(min(following - dt.timedelta(days=1), end))
        day = following
    return days


@dataclass(frozen=True)
class BenchMarket:
    config: MarketConfig
    market: SyntheticMarket
    snapshots: pl.DataFrame  # month-end snapshots of the properties that became leads


def market_for_contacts(contacts: int) -> BenchMarket:
    """A clean synthetic market sized for about `contacts` contacts, with monthly lead snapshots."""
    config = MarketConfig(n_properties=int(contacts / CONTACTS_PER_PROPERTY), dirt=DirtConfig.clean())
    market = generate_market(config)
    leads = market.contacts["property_id"].unique().implode()
    properties = market.properties.filter(pl.col("property_id").is_in(leads))
    events = market.distress_events.filter(pl.col("property_id").is_in(leads))
    snapshots = pl.concat([build_property_snapshot(properties, events, day).select(SNAPSHOT_COLUMNS)
                           for day in month_ends(config.start_date, config.end_date)])
    return BenchMarket(config, market, snapshots)
