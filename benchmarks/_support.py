"""What the benchmarks share: peak memory, publishing figures, and a synthetic market with monthly lead snapshots."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import resource
import subprocess
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from wholesaler_assets.domain.features.warehouse_records import SNAPSHOT_COLUMNS
from wholesaler_assets.domain.snapshots.properties import build_property_snapshot
from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig
from wholesaler_assets.domain.synthetic.market import SyntheticMarket, generate_market

CONTACTS_PER_PROPERTY = 1.6  # measured on the default market: 80k contacts for 50k properties


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


RESULTS = Path(__file__).parent / "results"


def publish(benchmark: str, figures: dict) -> None:
    """Print the figures as the last line (one JSON object) and keep them, with when and where they
    were measured, in `benchmarks/results/<benchmark>.json` (the only place measurements live)."""
    RESULTS.mkdir(exist_ok=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip()
    record = {"benchmark": benchmark, "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "commit": commit or None, "cores": os.cpu_count(), "python": platform.python_version(),
              "load_average_1m": round(os.getloadavg()[0], 2), "figures": figures}
    (RESULTS / f"{benchmark}.json").write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(figures))


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
