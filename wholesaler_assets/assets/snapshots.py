"""Point-in-time tables: daily property snapshots, the lead tables and comparable sales."""


import datetime as dt
import json
from collections.abc import Iterator

import dagster as dg
import polars as pl

from wholesaler_assets.assets.common import OWNERS, counts_table, gate_check, preview
from wholesaler_assets.domain import quality
from wholesaler_assets.domain.contracts import CONTRACTS
from wholesaler_assets.domain.dataset_spec import DatasetSpecError, lead_tables_from_spec, validate_lead_file
from wholesaler_assets.domain.ingestion import FileRejected
from wholesaler_assets.domain.leads import (
    comparable_sales_from_source,
    lead_contacts_from_source,
    lead_outcomes_from_source,
    source_catalog,
)
from wholesaler_assets.domain.snapshots import REQUIRED_SNAPSHOT_COLUMNS, build_property_snapshot
from wholesaler_assets.landing import quarantine_rows, record_rejected_spec
from wholesaler_assets.resources import DataFolderResource, DatasetResource, WarehouseResource
from wholesaler_assets.warehouse import WarehouseBackend

GROUP = "snapshots"
SNAPSHOT_PARTITIONS = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone="UTC")
SNAPSHOT_CHECKS = {
    "unique_property_per_date": "One row per property and snapshot date.",
    "required_columns_complete": "Each required column is non-null in at least 95% of rows (configurable).",
    "nothing_after_snapshot_date": "No record or event effective after the snapshot date entered.",
    "row_count_change_within_band": "Row count within ±20% of the previous snapshot (configurable).",
}


class QualityConfig(dg.Config):
    """Thresholds of the data-quality gates."""

    min_completeness: float = 0.95
    max_row_count_change: float = 0.2
    max_bad_row_share: float = 0.2  # of a dataset spec's lead file, past which the file is refused


def _read_source(warehouse: WarehouseBackend, source: str, where: str | None = None,
                 params: list | None = None) -> pl.DataFrame:
    """A raw table, or an empty frame of its contract when nothing has been ingested yet."""
    if not warehouse.table_exists(f"raw_{source}"):
        return pl.DataFrame(schema=CONTRACTS[source].polars_schema)
    return warehouse.read(f"raw_{source}", where, params or [])


@dg.asset(
    partitions_def=SNAPSHOT_PARTITIONS,
    deps=["raw_properties", "raw_distress_events"],
    group_name=GROUP,
    kinds={"polars", "duckdb"},
    owners=OWNERS,
    check_specs=[dg.AssetCheckSpec(name, asset="property_snapshots", blocking=True, description=text)
                 for name, text in SNAPSHOT_CHECKS.items()],
)
def property_snapshots(context: dg.AssetExecutionContext, config: QualityConfig,
                       warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Each property's state as known on the partition date: latest attributes, active distress, trailing counts."""
    day = dt.date.fromisoformat(context.partition_key)
    wh = warehouse.open()
    properties = _read_source(wh, "properties", "effective_date <= ?", [day])
    if properties.is_empty():
        raise dg.Failure(f"no property record is effective on or before {day}: ingest properties first "
                         "(landing/properties/) or pick a later partition")
    events = _read_source(wh, "distress_events", "event_date <= ?", [day])
    snapshot = build_property_snapshot(properties, events, day)
    previous_rows = None
    if wh.table_exists("property_snapshots"):
        earlier = wh.query("select snapshot_date, count(*) as n from property_snapshots where snapshot_date < ? "
                           "group by snapshot_date order by snapshot_date desc limit 1", [day])
        previous_rows = int(earlier["n"][0]) if earlier.height else None
    wh.replace_partition("property_snapshots", snapshot, "snapshot_date", day)
    gates = {
        "unique_property_per_date": quality.unique_keys(snapshot, ["snapshot_date", "property_id"]),
        "required_columns_complete": quality.completeness(snapshot, REQUIRED_SNAPSHOT_COLUMNS, config.min_completeness),
        "nothing_after_snapshot_date": quality.nothing_after(
            snapshot, ["record_effective_date", "latest_event_date"], day, "property_id"),
        "row_count_change_within_band": quality.row_count_change(previous_rows, snapshot.height,
                                                                 config.max_row_count_change),
    }
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": snapshot.height,
            "snapshot_date": str(day),
            "tax_delinquent": int(snapshot["tax_delinquent"].sum()),
            "in_foreclosure": int(snapshot["in_foreclosure"].sum()),
            "median_equity_share": float(snapshot["equity_share"].median() or 0.0),
            "preview": preview(snapshot),
        },
        check_results=[gate_check(name, gate) for name, gate in gates.items()],
    )


LEAD_CHECKS = [
    dg.AssetCheckSpec("unique_contact_id", asset="lead_contacts", blocking=True,
                      description="No contact appears twice."),
    dg.AssetCheckSpec("required_columns_complete", asset="lead_contacts", blocking=True,
                      description="contact_id, lead_id and contact_time are filled in at least 95% of rows."),
    dg.AssetCheckSpec("unique_lead_id", asset="lead_outcomes", blocking=True,
                      description="One outcome row per lead."),
]


@dg.multi_asset(
    specs=[
        dg.AssetSpec("lead_contacts", deps=["raw_contacts"], group_name=GROUP, kinds={"polars", "duckdb"},
                     owners=OWNERS, description="One row per outreach contact (no PII), from the landing sources "
                     "or the dataset spec's lead file."),
        dg.AssetSpec("lead_outcomes", deps=["raw_outcomes"], group_name=GROUP, kinds={"polars", "duckdb"},
                     owners=OWNERS, description="One row per lead: first time of each outcome, contract money, "
                     "and any ready labels from a dataset spec."),
    ],
    check_specs=LEAD_CHECKS,
)
def lead_tables(context: dg.AssetExecutionContext, config: QualityConfig, warehouse: WarehouseResource,
                data_folder: DataFolderResource, dataset: DatasetResource) -> Iterator:
    """Build lead_contacts, lead_outcomes and the dataset catalog from the active dataset."""
    wh = warehouse.open()
    spec = dataset.spec()
    extra: dict = {}
    if spec is None:
        contacts = lead_contacts_from_source(_read_source(wh, "contacts"))
        outcomes = lead_outcomes_from_source(_read_source(wh, "outcomes"))
        catalog = source_catalog(contacts, outcomes)
    else:
        try:
            verdict, catalog = validate_lead_file(spec, dt.datetime.now(dt.UTC), config.max_bad_row_share)
        except (FileRejected, DatasetSpecError) as exc:
            reason_file = record_rejected_spec(data_folder.layout(), spec.name, spec.path, str(exc))
            raise dg.Failure(f"lead file of dataset spec {spec.name!r} rejected: {exc}; the previous lead tables "
                             f"stay served", metadata={"reason_file": str(reason_file)}) from None
        contacts, outcomes = lead_tables_from_spec(spec, verdict.good_rows, catalog.feature_columns)
        if verdict.bad_rows.height:
            extra["quarantined_rows_file"] = str(quarantine_rows(data_folder.layout(), "dataset_spec",
                                                                 spec.path.name, verdict.bad_rows))
        extra["rows_quarantined"] = verdict.bad_rows.height
        extra["quarantine_reasons"] = counts_table(verdict.reason_counts, "reason")
    wh.replace_table("lead_contacts", contacts)
    wh.replace_table("lead_outcomes", outcomes)
    wh.replace_table("dataset_catalog", pl.DataFrame({"dataset_name": [catalog.name],
                                                      "catalog_json": [json.dumps(catalog.to_dict())]}))
    context.log.info(f"dataset {catalog.name}: {contacts.height} contacts, targets {sorted(catalog.targets)}")
    yield dg.MaterializeResult(asset_key="lead_contacts", metadata={
        "dagster/row_count": contacts.height,
        "dataset": catalog.name,
        "targets": dg.MetadataValue.json(catalog.targets),
        "feature_columns": dg.MetadataValue.json(catalog.feature_columns),
        "excluded_columns": dg.MetadataValue.json(catalog.excluded_columns),
        "data_cutoff": catalog.data_cutoff,
        "preview": preview(contacts),
        **extra,
    })
    yield dg.MaterializeResult(asset_key="lead_outcomes", metadata={
        "dagster/row_count": outcomes.height,
        **{f"leads_with_{c}": int(outcomes[c].is_not_null().sum()) for c in outcomes.columns if c != "lead_id"
           and outcomes[c].dtype != pl.Float64},
        "preview": preview(outcomes),
    })
    yield gate_check("unique_contact_id", quality.unique_keys(contacts, ["contact_id"]), "lead_contacts")
    yield gate_check("required_columns_complete",
                     quality.completeness(contacts, ["contact_id", "lead_id", "contact_time"], config.min_completeness),
                     "lead_contacts")
    yield gate_check("unique_lead_id", quality.unique_keys(outcomes, ["lead_id"]), "lead_outcomes")


@dg.asset(
    deps=["raw_sales"],
    group_name=GROUP,
    kinds={"polars", "duckdb"},
    owners=OWNERS,
    check_specs=[dg.AssetCheckSpec("unique_sale_id", asset="comparable_sales", blocking=True,
                                   description="No sale appears twice."),
                 dg.AssetCheckSpec("required_columns_complete", asset="comparable_sales", blocking=True,
                                   description="Price, sqft, ZIP, date and type filled in at least 95% of sales.")],
)
def comparable_sales(config: QualityConfig, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Closed sales with price per square foot, the comparables for after-repair value."""
    wh = warehouse.open()
    sales = comparable_sales_from_source(_read_source(wh, "sales"))
    wh.replace_table("comparable_sales", sales)
    by_condition = dict(sales.group_by("condition_at_sale").len().sort("len", descending=True).iter_rows())
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sales.height,
            "median_price_per_sqft": float(sales["price_per_sqft"].median() or 0.0),
            "sales_by_condition": counts_table({str(k): v for k, v in by_condition.items()}, "condition_at_sale"),
            "preview": preview(sales),
        },
        check_results=[
            gate_check("unique_sale_id", quality.unique_keys(sales, ["sale_id"])),
            gate_check("required_columns_complete",
                       quality.completeness(sales, ["sale_price", "sqft", "zip_code", "sale_date", "property_type"],
                                            config.min_completeness)),
        ],
    )
