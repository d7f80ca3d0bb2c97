"""The warehouse reads assets need beyond their own table, each failing with the step to take.

Assets declare these tables as `deps` (so any one asset can be materialized alone against the
warehouse) and read them here; what they write goes through the IO managers.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import dagster as dg
import polars as pl

from wholesaler_assets.domain.contracts.sources import CONTRACTS
from wholesaler_assets.domain.features.contract import FeatureContract
from wholesaler_assets.domain.features.warehouse_records import SNAPSHOT_COLUMNS
from wholesaler_assets.domain.snapshots.lead_tables import DatasetCatalog
from wholesaler_assets.domain.training.selection import FINAL_FOLD
from wholesaler_assets.domain.training.splits import HOLDOUT, TRAIN
from wholesaler_assets.domain.training.table import feature_contract_of
from wholesaler_assets.io.warehouse import WarehouseBackend

SCORED_TABLE = "scored_leads"
# The monitoring's tables (written by the monitoring assets, read by retraining, alerts and shadow).
REALIZED_TABLE = "realized_performance"
ESTIMATED_TABLE = "estimated_performance"
DRIFT_TABLE = "drift_history"
CONTACT_SCORES_TABLE = "contact_scores"
WINDOW_TABLE = "window_performance"
EMPTY_SALES = {"zip_code": pl.String, "metro": pl.String, "sale_date": pl.Date, "price_per_sqft": pl.Float64}


def read_source(wh: WarehouseBackend, source: str, where: str | None = None, params: list | None = None
                ) -> pl.DataFrame:
    """A raw table, or an empty frame of its contract when nothing has been ingested yet."""
    if not wh.table_exists(f"raw_{source}"):
        return pl.DataFrame(schema=CONTRACTS[source].polars_schema)
    return wh.read(f"raw_{source}", where, params or [])


def previous_snapshot_rows(wh: WarehouseBackend, day: dt.date) -> int | None:
    """Rows of the latest snapshot before `day` (None for the first one)."""
    if not wh.table_exists("property_snapshots"):
        return None
    earlier = wh.query("select snapshot_date, count(*) as n from property_snapshots where snapshot_date < ? "
                       "group by snapshot_date order by snapshot_date desc limit 1", [day])
    return int(earlier["n"][0]) if earlier.height else None


def catalog_table(catalog: DatasetCatalog) -> pl.DataFrame:
    return pl.DataFrame({"dataset_name": [catalog.name], "catalog_json": [json.dumps(catalog.to_dict())]})


def sales_catalog_table(catalog: dict[str, Any]) -> pl.DataFrame:
    """One row: where the comparable sales came from and their extra ARV features (with kinds)."""
    return pl.DataFrame({"origin": [catalog["origin"]], "catalog_json": [json.dumps(catalog)]})


def sales_extra_features(wh: WarehouseBackend) -> dict[str, str]:
    """The extra ARV features of the comparable sales (none for landing sales or before a sales catalog)."""
    if not wh.table_exists("sales_catalog"):
        return {}
    return dict(json.loads(wh.read("sales_catalog")["catalog_json"][0])["extra_features"])


def load_catalog(wh: WarehouseBackend) -> DatasetCatalog:
    if not wh.table_exists("dataset_catalog"):
        raise dg.Failure("no dataset catalog yet: materialize lead_contacts first", allow_retries=False)
    return DatasetCatalog.from_dict(json.loads(wh.read("dataset_catalog")["catalog_json"][0]))


# The snapshot rows contacts match: per contacted property and contact day (UTC), the latest snapshot
# on or before it, found as a running max over the property's snapshot dates and contact days in
# date order (a snapshot sorts before a contact of its day). Only these rows leave the warehouse, so
# a daily history of two years (36M rows at 50k properties) costs a sort there (7 s, 1.5 GB on
# DuckDB; a join of contacts to earlier snapshots took 11 GB), not memory here. The point-in-time
# join itself stays in `domain.features.warehouse_records.contact_records`, which finds the same
# rows among them. Plain SQL: DuckDB and PostgreSQL alike.
_MATCHED_SNAPSHOTS = """
with wanted as (
    select distinct property_id, cast(timezone('UTC', contact_time) as date) as day from lead_contacts
), keyed as (
    select property_id, snapshot_date as day, snapshot_date, 0 as is_contact from property_snapshots
    where property_id in (select property_id from wanted)
    union all
    select property_id, day, cast(null as date), 1 from wanted
), latest as (
    select is_contact, property_id, max(snapshot_date) over (
        partition by property_id order by day, is_contact rows unbounded preceding) as snapshot_date
    from keyed
), matched as (
    select distinct property_id, snapshot_date from latest where is_contact = 1 and snapshot_date is not null
)
select {columns} from property_snapshots s
join matched m on s.property_id = m.property_id and s.snapshot_date = m.snapshot_date
"""


def contact_feature_inputs(wh: WarehouseBackend) -> dict[str, pl.DataFrame]:
    """Contacts, the snapshots their contacts match and the comparable sales (source datasets)."""
    if not wh.table_exists("property_snapshots"):
        raise dg.Failure("no property snapshots yet: materialize property_snapshots partitions covering the "
                         "contacts (e.g. `wholesaler demo` backfills every day of its market in one run)",
                         allow_retries=False)
    snapshots = wh.query(_MATCHED_SNAPSHOTS.format(columns=", ".join(f"s.{c}" for c in SNAPSHOT_COLUMNS)))
    sales = wh.read("comparable_sales") if wh.table_exists("comparable_sales") else pl.DataFrame(schema=EMPTY_SALES)
    return {"contacts": wh.read("lead_contacts"), "snapshots": snapshots, "sales": sales}


def target_table(wh: WarehouseBackend, target: str) -> tuple[pl.DataFrame, dict[str, str]]:
    """One target's training table and the kinds of the contract features it holds."""
    table = wh.read("training_table", "target = ?", [target])
    kinds = {f: k for f, k in feature_contract_of(load_catalog(wh)).kinds.items() if f in table.columns}
    return table, kinds


def training_inputs(wh: WarehouseBackend, target: str) -> dict[str, Any]:
    """The target's training rows, folds and selected features (final and per fold)."""
    catalog = load_catalog(wh)
    if target not in catalog.targets:
        raise dg.Failure(f"dataset {catalog.name} has no {target}: nothing to train (its targets: "
                         f"{', '.join(sorted(catalog.targets))})", allow_retries=False)
    table = wh.read("training_table", "target = ?", [target])
    selection = wh.read("feature_selection", "target = ? and selected", [target]).sort("fold", "position")
    per_fold = {int(f): selection.filter(pl.col("fold") == f)["feature"].to_list()
                for f in selection["fold"].unique().to_list()}
    return {
        "dataset": catalog.name,
        "table": table,
        "train": table.filter(pl.col("split") == TRAIN),
        "holdout": table.filter(pl.col("split") == HOLDOUT),
        "folds": wh.read("training_folds", "target = ?", [target]),
        "final": per_fold.get(FINAL_FOLD, []),
        "per_fold": {k: v for k, v in per_fold.items() if k != FINAL_FOLD},
        "kinds": feature_contract_of(catalog).kinds,
        "segment_column": catalog.segment_column,  # a lead file's calibration segments (None: value bands)
    }


def holdout_rows(wh: WarehouseBackend, target: str) -> pl.DataFrame:
    return wh.read("training_table", "target = ? and split = ?", [target, HOLDOUT])


def scored_day(wh: WarehouseBackend, day: dt.date) -> pl.DataFrame:
    """The scored leads of one day; fails when that day has not been scored."""
    if not wh.table_exists(SCORED_TABLE) or not wh.row_count(SCORED_TABLE, "scoring_date = ?", [day]):
        raise dg.Failure(f"no scored leads for {day}: materialize scored_leads for {day} first", allow_retries=False)
    return wh.read(SCORED_TABLE, "scoring_date = ?", [day])


def contract_of(wh: WarehouseBackend) -> FeatureContract:
    return feature_contract_of(load_catalog(wh))
