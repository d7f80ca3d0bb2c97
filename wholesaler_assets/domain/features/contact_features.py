"""Point-in-time features of each lead contact: the training rows.

Each contact becomes the lead record it had when it was made (`warehouse_records.
contact_records`: the latest snapshot on or before the contact date, moved to that day, and the
lead's earlier contacts only), and its features are that record's, computed by the same
`lead_features.record_features` the batch and the endpoint use. The ZIP price trend uses sales
of months that had ended before the contact.

Audit columns travel with the features so the leakage gate can verify this on the table:
`snapshot_date` and `feature_known_at` (the newest date any feature value was effective).
"""

from __future__ import annotations

import polars as pl

from wholesaler_assets.domain.features.lead_features import record_features
from wholesaler_assets.domain.features.warehouse_records import contact_records
from wholesaler_assets.domain.features.zip_market import trends_as_of, zip_market_levels, zip_metros

AUDIT_COLUMNS = ("contact_id", "lead_id", "property_id", "contact_time", "snapshot_date", "feature_known_at")


def source_contact_features(contacts: pl.DataFrame, snapshots: pl.DataFrame, sales: pl.DataFrame) -> pl.DataFrame:
    """Features of every contact of the landing-source dataset, with the audit columns first.

    `snapshots` holds `warehouse_records.SNAPSHOT_COLUMNS`; `sales` the comparable sales (their
    ZIP levels and metros, as the registered scorer takes them).
    """
    records = contact_records(contacts, snapshots)
    levels = zip_market_levels(sales)
    features = record_features(records, levels, zip_metros(sales))
    trend_known_from = trends_as_of(records, levels).get_column("known_from")
    known_at = pl.max_horizontal(pl.col("record_effective_date"), pl.col("latest_event_date"), trend_known_from)
    audit = records.select(*AUDIT_COLUMNS[:5], known_at.cast(pl.Datetime("us", "UTC")).alias("feature_known_at"))
    return pl.concat([audit, features.drop("lead_id")], how="horizontal")


def spec_contact_features(contacts: pl.DataFrame, feature_columns: dict[str, str]) -> pl.DataFrame:
    """Features of a user's lead file: its own attribute columns, known at contact time by declaration."""
    return contacts.select(
        "contact_id", "lead_id", pl.lit(None, pl.String).alias("property_id"), "contact_time",
        pl.lit(None, pl.Date).alias("snapshot_date"), pl.lit(None, pl.Datetime("us", "UTC")).alias("feature_known_at"),
        *feature_columns,
    ).sort("contact_time", "contact_id")
