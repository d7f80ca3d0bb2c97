"""Canonical lead tables, from the landing sources or from a user's own lead file.

Every later stage reads the same three shapes, whatever the origin:
- `lead_contacts`: one row per contact (contact_id, lead_id, contact_time, ...), no PII;
- `lead_outcomes`: one row per lead with the first time of each outcome, and for a user's file
  any ready 0/1 labels as `label_<target>`;
- a `DatasetCatalog` saying which targets exist, how each is labelled, and which columns are
  features (with their kind), ids or PII.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl

from wholesaler_assets.domain.contracts.sources import CONTACTS
from wholesaler_assets.domain.contracts.targets import TARGETS

SYNTHETIC_MARKET = "synthetic_market"


@dataclass(frozen=True)
class DatasetCatalog:
    """What the active dataset holds; stored beside the tables and read by training."""

    name: str
    origin: str  # synthetic_market | dataset_spec
    targets: dict[str, str]  # target -> "outcome_time" | "provided_label"
    feature_columns: dict[str, str]  # column -> numeric | boolean | categorical
    excluded_columns: dict[str, str]  # column -> why it is not a feature
    data_cutoff: str  # ISO timestamp: nothing after it is known
    positive_share_bands: dict[str, list[float]] = field(default_factory=dict)
    # Ready labels are taken as final unless the spec declared a cutoff to censor them against.
    censor_provided_labels: bool = False
    # The spec's say in feature selection (`training.selection.SelectionControls.from_dict`):
    # {"enabled": bool, "keep": [...], "sentinel_values": {column: [values]}}; empty: the defaults.
    feature_selection: dict[str, Any] = field(default_factory=dict)
    open_rule: str = "window"  # which leads are scored at the cutoff: window | column (see open_leads)
    tier_shares: list[float] = field(default_factory=lambda: [0.1, 0.3, 0.6])  # cumulative top shares A, B, C
    segment_column: str | None = None  # a lead file's calibration and ECE segments (a feature column)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetCatalog:
        return cls(**data)


def lead_contacts_from_source(raw_contacts: pl.DataFrame) -> pl.DataFrame:
    """Contacts for modelling: PII and lineage dropped, ordered by time."""
    keep = [c for c in CONTACTS.column_names if c not in CONTACTS.pii_columns]
    return raw_contacts.select(keep).sort("contact_time", "contact_id")


def lead_outcomes_from_source(raw_outcomes: pl.DataFrame) -> pl.DataFrame:
    """One row per lead: the first time of each outcome, and the first contract's money."""
    first_time = {
        t.outcome_time_column: pl.col("outcome_time").filter(pl.col("outcome_type") == t.outcome).min()
        for t in TARGETS.values()
    }
    contract = pl.col("outcome_type") == "contract_signed"
    return (
        raw_outcomes.sort("outcome_time")
        .group_by("lead_id")
        .agg(
            pl.col("property_id").first(),
            **first_time,
            purchase_price=pl.col("purchase_price").filter(contract).first(),
            assignment_fee=pl.col("assignment_fee").filter(contract).first(),
        )
        .sort("lead_id")
    )


def comparable_sales_from_source(raw_sales: pl.DataFrame) -> pl.DataFrame:
    """Closed sales ready for ARV: price per square foot added, ordered by date."""
    return (
        raw_sales.drop("source_file", strict=False)
        .with_columns(price_per_sqft=pl.when(pl.col("sqft") > 0).then(pl.col("sale_price") / pl.col("sqft")))
        .sort("sale_date", "sale_id")
    )


def source_catalog(lead_contacts: pl.DataFrame, lead_outcomes: pl.DataFrame) -> DatasetCatalog:
    """The catalog of the landing-source dataset: all three targets, labelled from outcome times."""
    cutoff = max(
        _max_time(lead_contacts, "contact_time"),
        *(_max_time(lead_outcomes, t.outcome_time_column) for t in TARGETS.values()),
    )
    return DatasetCatalog(
        name=SYNTHETIC_MARKET,
        origin="landing_sources",
        targets={name: "outcome_time" for name in TARGETS},
        feature_columns={"channel": "categorical", "campaign_step": "numeric"},
        excluded_columns={"contact_id": "id", "lead_id": "id", "property_id": "id (joins snapshots)",
                          "campaign_id": "id", "contact_time": "time of the contact",
                          "owner_phone": "PII"},
        data_cutoff=cutoff.isoformat(),
    )


def _max_time(frame: pl.DataFrame, column: str) -> dt.datetime:
    value = frame.get_column(column).max() if frame.height else None
    return value if isinstance(value, dt.datetime) else dt.datetime.min.replace(tzinfo=dt.UTC)
