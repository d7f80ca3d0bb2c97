"""What a recalibration reads: the contacts of recent days, with their features as of each contact."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import polars as pl

from wholesaler_assets.domain.monitoring.daily import contact_features
from wholesaler_assets.domain.monitoring.labels import end_of
from wholesaler_assets.domain.scoring.scorer import Scorer
from wholesaler_assets.io.warehouse import WarehouseBackend


def contact_feature_rows(wh: WarehouseBackend, scorer: Scorer, first: dt.date, last: dt.date,
                         max_snapshot_age_days: int) -> pl.DataFrame:
    """Every contact of `first`..`last` with its lead's model features as of the contact, rebuilt from
    the property snapshots of those days (and up to `max_snapshot_age_days` before)."""
    if scorer.spec_features is not None:
        raise dg.Failure("recalibration refits on contacts rebuilt from property snapshots; a lead file's "
                         "scorer is retrained on its next file instead", allow_retries=False)
    snapshots = wh.read("property_snapshots", "snapshot_date >= ? and snapshot_date <= ?",
                        [first - dt.timedelta(days=max_snapshot_age_days), last])
    return contact_features(scorer, wh.read("lead_contacts", "contact_time < ?", [end_of(last)]), snapshots,
                            first, last)
