"""Every partition definition of the platform, so asset modules never import one another.

Snapshots and everything scored or monitored per day share one daily calendar (a history is a
backfill); the per-target assets share one static dimension, the targets of the contract.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from wholesaler_assets.domain.contracts.targets import TARGET_NAMES

FIRST_DAY = "2024-01-01"

DAILY_PARTITIONS = dg.DailyPartitionsDefinition(start_date=FIRST_DAY, timezone="UTC")
"""The days of property snapshots and of scoring (a day is scored from its own snapshot)."""

TARGET_PARTITIONS = dg.StaticPartitionsDefinition(list(TARGET_NAMES))
"""One partition per prediction target: booked_call_7d, qualified_14d, deal_30d."""


def range_tags(first: dt.date, last: dt.date) -> dict[str, str]:
    """Run tags making one run cover every day from `first` to `last`: what the UI's backfill of a date
    range launches for an asset with a single-run backfill policy (property_snapshots)."""
    return {"dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat()}
