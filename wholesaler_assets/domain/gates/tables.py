"""The gates of each warehouse table, by check name, with the sentence each check shows in the UI.

Every function applies the generic data-quality gates of `data_quality` under its checks' names,
so the asset that builds a table returns exactly these verdicts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from wholesaler_assets.domain.gates import data_quality as quality
from wholesaler_assets.domain.gates.data_quality import QualityThresholds
from wholesaler_assets.domain.gates.result import GateResult

SNAPSHOT_CHECKS = {
    "unique_property_per_date": "One row per property and snapshot date.",
    "required_columns_complete": "Each required column is non-null in at least 95% of rows (configurable).",
    "nothing_after_snapshot_date": "No record or event effective after the snapshot date entered.",
    "row_count_change_within_band": "Row count within ±20% of the previous snapshot (configurable).",
}
LEAD_CONTACT_CHECKS = {
    "unique_contact_id": "No contact appears twice.",
    "required_columns_complete": "contact_id, lead_id and contact_time are filled in at least 95% of rows.",
}
LEAD_OUTCOME_CHECKS = {"unique_lead_id": "One outcome row per lead."}
SALES_CHECKS = {
    "unique_sale_id": "No sale appears twice.",
    "required_columns_complete": "Price, sqft, ZIP (or area) and date filled in at least 95% of sales.",
}
TRAINING_TABLE_CHECKS = {
    "nothing_known_after_contact": "Leakage: no feature value was effective after its contact.",
    "no_outcome_before_contact": "Leakage: no contact comes after its lead already reached the outcome.",
    "no_duplicated_leads": "One row per lead contact.",
    "positive_share_in_band": "Positive share inside the configured band (seeds: 3-6% booked calls).",
    "snapshot_match_share": "At least 95% of contacts matched a property snapshot.",
    "matches_feature_contract": "The table meets the versioned feature contract; offenders are named.",
}
SALE_COLUMNS = ["sale_price", "sqft", "zip_code", "sale_date"]  # property_type is optional: the model does without
CONTACT_COLUMNS = ["contact_id", "lead_id", "contact_time"]


def snapshot_gates(snapshot: pl.DataFrame, required: Sequence[str], day: dt.date, previous_rows: int | None,
                   t: QualityThresholds) -> list[GateResult]:
    return [
        quality.unique_keys(snapshot, ["snapshot_date", "property_id"]).named("unique_property_per_date"),
        quality.completeness(snapshot, required, t.min_completeness).named("required_columns_complete"),
        quality.nothing_after(snapshot, ["record_effective_date", "latest_event_date"], day, "property_id")
        .named("nothing_after_snapshot_date"),
        quality.row_count_change(previous_rows, snapshot.height, t.max_row_count_change)
        .named("row_count_change_within_band"),
    ]


def lead_contact_gates(contacts: pl.DataFrame, t: QualityThresholds) -> list[GateResult]:
    return [quality.unique_keys(contacts, ["contact_id"]).named("unique_contact_id"),
            quality.completeness(contacts, CONTACT_COLUMNS, t.min_completeness).named("required_columns_complete")]


def lead_outcome_gates(outcomes: pl.DataFrame) -> list[GateResult]:
    return [quality.unique_keys(outcomes, ["lead_id"]).named("unique_lead_id")]


def sales_gates(sales: pl.DataFrame, t: QualityThresholds) -> list[GateResult]:
    return [quality.unique_keys(sales, ["sale_id"]).named("unique_sale_id"),
            quality.completeness(sales, SALE_COLUMNS, t.min_completeness).named("required_columns_complete")]


def training_table_gates(table: pl.DataFrame, target: str, positive_share: float, band: tuple[float, float],
                         violations: dict[str, str], contract_features: int, contract_version: str,
                         snapshots_apply: bool, t: QualityThresholds) -> list[GateResult]:
    """The leakage, duplicate, band, snapshot-match and contract gates of one target's table."""
    return [
        quality.nothing_known_after_contact(table).named("nothing_known_after_contact"),
        quality.no_outcome_before_contact(table).named("no_outcome_before_contact"),
        quality.unique_keys(table, ["contact_id"]).named("no_duplicated_leads"),
        quality.share_in_band(positive_share, *band, f"{target} positive share").named("positive_share_in_band"),
        quality.matched_share(table, "snapshot_date", t.min_snapshot_match, applicable=snapshots_apply)
        .named("snapshot_match_share"),
        GateResult(
            name="matches_feature_contract", passed=not violations, value=len(violations), threshold=0,
            summary=("columns break the feature contract: " + "; ".join(f"{c}: {v}" for c, v in violations.items()))
            if violations else f"all {contract_features} features meet contract {contract_version}",
            details={"offending_columns": violations, "contract_version": contract_version}),
    ]


def not_applicable(names: list[str], reason: str) -> list[GateResult]:
    """Passing verdicts for checks that must answer although their asset had nothing to build."""
    return [GateResult(name=n, passed=True, summary=f"not applicable: {reason}", details={"skipped": True})
            for n in names]
