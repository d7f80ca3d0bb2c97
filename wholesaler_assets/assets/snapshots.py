"""Point-in-time tables: daily property snapshots, the lead tables and comparable sales."""

import datetime as dt
import warnings
from collections.abc import Iterator
from typing import Any

import dagster as dg
import polars as pl

from wholesaler_assets.assets.metadata import (
    OWNERS,
    STORAGE_RETRY,
    as_domain,
    check_specs,
    counts_table,
    failed_partitions,
    gate_check,
    gate_evaluations,
    preview,
)
from wholesaler_assets.domain.contracts.dataset_spec import DatasetSpecError, lead_tables_from_spec
from wholesaler_assets.domain.contracts.sales_spec import SalesSpecError
from wholesaler_assets.domain.gates.data_quality import QualityThresholds
from wholesaler_assets.domain.gates.result import GateResult
from wholesaler_assets.domain.gates.tables import (
    LEAD_CONTACT_CHECKS,
    LEAD_OUTCOME_CHECKS,
    SALES_CHECKS,
    SNAPSHOT_CHECKS,
    lead_contact_gates,
    lead_outcome_gates,
    sales_gates,
)
from wholesaler_assets.domain.ingestion.validation import FileRejected
from wholesaler_assets.domain.scalars import as_float
from wholesaler_assets.domain.snapshots.history import first_unknown_day, snapshot_history
from wholesaler_assets.domain.snapshots.lead_tables import (
    comparable_sales_from_source,
    lead_contacts_from_source,
    lead_outcomes_from_source,
    source_catalog,
)
from wholesaler_assets.io.dataset_spec_files import validate_lead_file
from wholesaler_assets.io.inputs import catalog_table, previous_snapshot_rows, read_source, sales_catalog_table
from wholesaler_assets.io.landing import quarantine_rows, record_rejected_spec
from wholesaler_assets.io.sales_spec_files import read_sales_file
from wholesaler_assets.partitions import DAILY_PARTITIONS
from wholesaler_assets.resources import ClockResource, DataFolderResource, DatasetResource, WarehouseResource

GROUP = "snapshots"
TABLE_IO = "warehouse_io_manager"
KINDS = {"polars", "duckdb"}
_QUALITY = QualityThresholds()


class QualityConfig(dg.Config):
    """Thresholds of the data-quality gates (defaults: `QualityThresholds`)."""

    min_completeness: float = _QUALITY.min_completeness
    max_row_count_change: float = _QUALITY.max_row_count_change
    max_bad_row_share: float = _QUALITY.max_bad_row_share


with warnings.catch_warnings():  # single-run backfills are beta in Dagster 1.13: chosen knowingly, not repeated
    warnings.simplefilter("ignore", dg.BetaWarning)
    _DAILY_SNAPSHOT = dg.asset(
        retry_policy=STORAGE_RETRY,
        partitions_def=DAILY_PARTITIONS,
        backfill_policy=dg.BackfillPolicy.single_run(),  # a history of any length is one run (docs/operations.md)
        deps=["raw_properties", "raw_distress_events"],
        group_name=GROUP,
        kinds=KINDS,
        owners=OWNERS,
        code_version="1",
        io_manager_key=TABLE_IO,
        metadata={"partition_column": "snapshot_date"},
        check_specs=check_specs("property_snapshots", SNAPSHOT_CHECKS, partitions_def=DAILY_PARTITIONS),
    )


@_DAILY_SNAPSHOT
def property_snapshots(context: dg.AssetExecutionContext, config: QualityConfig, warehouse: WarehouseResource):
    """Each property's state as known on the partition date: latest attributes, active distress, trailing counts."""
    # A run over a range of dates (a single-run backfill) builds, gates and writes them one day at a time.
    days = [dt.date.fromisoformat(key) for key in context.partition_keys]
    wh = warehouse.open()
    properties = read_source(wh, "properties", "effective_date <= ?", [days[-1]])
    if (unknown := first_unknown_day(properties, days)) is not None:
        raise dg.Failure(f"no property record is effective on or before {unknown}: ingest properties first "
                         "(landing/properties/) or pick a later partition", allow_retries=False)
    history = snapshot_history(properties, read_source(wh, "distress_events", "event_date <= ?", [days[-1]]), days,
                               previous_snapshot_rows(wh, days[0]), as_domain(config, QualityThresholds))
    if context.has_partition_key:  # one day (schedule, daily cycle, replay): as before the backfill policy
        (today,) = history
        yield dg.Output(today.snapshot, metadata=_day_metadata(today.day, today.snapshot))
        for gate in today.gates:
            yield gate_check(gate, partition=context.partition_key)
        return
    # A range run (even of one day): Dagster records an AssetCheckResult under no partition there.
    gates: dict[str, list[GateResult]] = {}

    def each_day() -> Iterator[tuple[str, pl.DataFrame]]:  # the IO manager writes a day before the next is built
        for built in history:
            key = built.day.isoformat()
            context.add_asset_metadata(_day_metadata(built.day, built.snapshot), partition_key=key)
            gates[key] = built.gates
            yield key, built.snapshot

    yield dg.Output(each_day(), metadata={"snapshot_range": f"{days[0]} to {days[-1]}", "days": len(days)})
    for name, failed_days in failed_partitions(gates).items():
        context.log.error(f"gate {name} failed on {len(failed_days)} day(s): {', '.join(failed_days[:20])}")
    yield from gate_evaluations(context, gates)


def _day_metadata(day: dt.date, snapshot: pl.DataFrame) -> dict[str, Any]:
    return {
        "dagster/row_count": snapshot.height,
        "snapshot_date": str(day),
        "tax_delinquent": int(snapshot["tax_delinquent"].sum()),
        "in_foreclosure": int(snapshot["in_foreclosure"].sum()),
        "median_equity_share": as_float(snapshot["equity_share"].median() or 0.0),
        "preview": preview(snapshot),
    }


@dg.multi_asset(retry_policy=STORAGE_RETRY,
    specs=[
        dg.AssetSpec("lead_contacts", deps=["raw_contacts"], group_name=GROUP, kinds=KINDS, owners=OWNERS,
                     code_version="1", description="One row per outreach contact (no PII), from the landing sources "
                     "or the dataset spec's lead file.").with_io_manager_key(TABLE_IO),
        dg.AssetSpec("lead_outcomes", deps=["raw_outcomes"], group_name=GROUP, kinds=KINDS, owners=OWNERS,
                     code_version="1", description="One row per lead: first time of each outcome, contract money, "
                     "and any ready labels from a dataset spec.").with_io_manager_key(TABLE_IO),
    ],
    check_specs=[*check_specs("lead_contacts", LEAD_CONTACT_CHECKS),
                 *check_specs("lead_outcomes", LEAD_OUTCOME_CHECKS)],
)
def lead_tables(context: dg.AssetExecutionContext, config: QualityConfig, warehouse: WarehouseResource,
                data_folder: DataFolderResource, dataset: DatasetResource, clock: ClockResource):
    """Build lead_contacts, lead_outcomes and the dataset catalog from the active dataset."""
    spec = dataset.spec()
    extra: dict = {}
    if spec is None:
        wh = warehouse.open()
        contacts = lead_contacts_from_source(read_source(wh, "contacts"))
        outcomes = lead_outcomes_from_source(read_source(wh, "outcomes"))
        catalog = source_catalog(contacts, outcomes)
    else:
        try:
            verdict, catalog = validate_lead_file(spec, clock.now(), config.max_bad_row_share)
        except (FileRejected, DatasetSpecError) as exc:
            reason_file = record_rejected_spec(data_folder.layout(), spec.name, spec.path, str(exc))
            raise dg.Failure(f"lead file of dataset spec {spec.name!r} rejected: {exc}; the previous lead tables "
                             f"stay served", metadata={"reason_file": str(reason_file)}, allow_retries=False) from None
        contacts, outcomes = lead_tables_from_spec(spec, verdict.good_rows, catalog.feature_columns)
        if verdict.bad_rows.height:
            extra["quarantined_rows_file"] = str(quarantine_rows(data_folder.layout(), "dataset_spec",
                                                                 spec.path.name, verdict.bad_rows))
        extra["rows_quarantined"] = verdict.bad_rows.height
        extra["quarantine_reasons"] = counts_table(verdict.reason_counts, "reason")
    context.log.info(f"dataset {catalog.name}: {contacts.height} contacts, targets {sorted(catalog.targets)}")
    yield dg.Output({"lead_contacts": contacts, "dataset_catalog": catalog_table(catalog)},
                    output_name="lead_contacts", metadata={
        "dagster/row_count": contacts.height,
        "dataset": catalog.name,
        "targets": dg.MetadataValue.json(catalog.targets),
        "feature_columns": dg.MetadataValue.json(catalog.feature_columns),
        "excluded_columns": dg.MetadataValue.json(catalog.excluded_columns),
        "data_cutoff": catalog.data_cutoff,
        "preview": preview(contacts),
        **extra,
    })
    yield dg.Output(outcomes, output_name="lead_outcomes", metadata={
        "dagster/row_count": outcomes.height,
        **{f"leads_with_{c}": int(outcomes[c].is_not_null().sum()) for c in outcomes.columns if c != "lead_id"
           and outcomes[c].dtype != pl.Float64},
        "preview": preview(outcomes),
    })
    for gate in lead_contact_gates(contacts, as_domain(config, QualityThresholds)):
        yield gate_check(gate, asset_key="lead_contacts")
    for gate in lead_outcome_gates(outcomes):
        yield gate_check(gate, asset_key="lead_outcomes")


@dg.asset(retry_policy=STORAGE_RETRY,
    deps=["raw_sales"],
    group_name=GROUP,
    kinds=KINDS,
    owners=OWNERS,
    code_version="1",
    io_manager_key=TABLE_IO,
    check_specs=check_specs("comparable_sales", SALES_CHECKS),
)
def comparable_sales(config: QualityConfig, warehouse: WarehouseResource, data_folder: DataFolderResource,
                     dataset: DatasetResource):
    """Closed sales with price per square foot, the comparables for after-repair value (landing or sales spec)."""
    spec = dataset.sales_spec()
    extra: dict = {}
    if spec is None:
        sales = comparable_sales_from_source(read_source(warehouse.open(), "sales"))
        catalog = {"origin": "landing_sources", "extra_features": {}, "excluded_columns": {}}
    else:
        try:
            sales_file = read_sales_file(spec)
        except SalesSpecError as exc:
            raise dg.Failure(f"sales file of sales spec {spec.name!r} rejected: {exc}; the previous comparable "
                             "sales stay served", allow_retries=False) from None
        sales = sales_file.sales
        catalog = {"origin": "sales_spec", "name": spec.name, "extra_features": sales_file.extra_features,
                   "excluded_columns": sales_file.excluded_columns, "facts": sales_file.facts}
        if sales_file.bad_rows.height:
            extra["quarantined_rows_file"] = str(quarantine_rows(data_folder.layout(), "sales_spec", spec.path.name,
                                                                 sales_file.bad_rows))
        extra["rows_set_aside"] = sales_file.bad_rows.height
        extra["extra_features"] = dg.MetadataValue.json(sales_file.extra_features)
        extra["excluded_columns"] = dg.MetadataValue.json(sales_file.excluded_columns)
    by_condition = dict(sales.group_by("condition_at_sale").len().sort("len", descending=True).iter_rows())
    yield dg.Output({"comparable_sales": sales, "sales_catalog": sales_catalog_table(catalog)}, metadata={
        "dagster/row_count": sales.height,
        "median_price_per_sqft": as_float(sales["price_per_sqft"].median() or 0.0),
        "sales_by_condition": counts_table({str(k): v for k, v in by_condition.items()}, "condition_at_sale"),
        "preview": preview(sales),
        **extra,
    })
    for gate in sales_gates(sales, as_domain(config, QualityThresholds)):
        yield gate_check(gate)
