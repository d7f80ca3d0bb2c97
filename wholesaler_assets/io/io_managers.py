"""IO managers: assets return frames and models, and these persist them, keyed by partition.

`WarehouseTableIOManager` writes a returned polars frame to the warehouse table named after the
asset (DuckDB or PostgreSQL, through `WarehouseResource`). A partitioned asset names its partition
column in its definition metadata (`partition_column`): the partition's rows are replaced in one
transaction and the column is filled in when the frame lacks it. An asset may also return a
mapping of table name to frame, its own table among them, to write companion tables (e.g.
`training_folds` beside `training_table`) by the same rule.

`ModelArtifactIOManager` pickles a returned model to the file its definition metadata names
under <data>/models/ (`artifact_file`, with `{partition}` for the target), where evaluation and
registration read it back (`io.artifacts`).
"""


import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from wholesaler_assets.io.artifacts import models_root, read_pickle, write_pickle
from wholesaler_assets.resources import DataFolderResource, WarehouseResource

PARTITION_COLUMN = "partition_column"
ARTIFACT_FILE = "artifact_file"


def _partition_value(context: dg.OutputContext | dg.InputContext) -> Any:
    """The partition key as the column stores it: a date for daily partitions, else the key."""
    if isinstance(context.asset_partitions_def, dg.TimeWindowPartitionsDefinition):
        return dt.date.fromisoformat(context.asset_partition_key)
    return context.asset_partition_key


def _definition_metadata(context: dg.OutputContext | dg.InputContext) -> Mapping[str, Any]:
    output = context if isinstance(context, dg.OutputContext) else context.upstream_output
    return (output.definition_metadata if output is not None else None) or {}


class WarehouseTableIOManager(dg.ConfigurableIOManager):
    """Warehouse tables named after their assets; a partition's rows replaced in one transaction."""

    warehouse: dg.ResourceDependency[WarehouseResource]

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame | Mapping[str, pl.DataFrame]) -> None:
        own = context.asset_key.path[-1]
        tables = dict(obj) if isinstance(obj, Mapping) else {own: obj}
        if own not in tables:
            raise ValueError(f"{own} returned tables {sorted(tables)} but not its own table {own}")
        column = _definition_metadata(context).get(PARTITION_COLUMN)
        wh = self.warehouse.open()
        for table, frame in tables.items():
            if column is None:
                wh.replace_table(table, frame)
                continue
            value = _partition_value(context)
            if column not in frame.columns:
                frame = frame.with_columns(pl.lit(value).alias(column))
            wh.replace_partition(table, frame, column, value)
        context.add_output_metadata({"tables": dg.MetadataValue.json(
            {t: f"{self.warehouse.describe()}:{t}" for t in tables})})

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        table = context.asset_key.path[-1]
        column = _definition_metadata(context).get(PARTITION_COLUMN)
        wh = self.warehouse.open()
        if column is None or not context.has_asset_partitions:
            return wh.read(table)
        return wh.read(table, f"{column} = ?", [_partition_value(context)])


class ModelArtifactIOManager(dg.ConfigurableIOManager):
    """Pickled models under <data>/models/, one file per asset (and target)."""

    data_folder: dg.ResourceDependency[DataFolderResource]

    def _path(self, context: dg.OutputContext | dg.InputContext) -> Path:
        pattern = _definition_metadata(context).get(ARTIFACT_FILE)
        if pattern is None:
            raise ValueError(f"{context.asset_key.to_user_string()} names no {ARTIFACT_FILE} in its metadata")
        partition = context.asset_partition_key if context.has_asset_partitions else ""
        return models_root(self.data_folder.root) / str(pattern).format(partition=partition)

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        path = write_pickle(self._path(context), obj)
        context.add_output_metadata({"model_file": dg.MetadataValue.path(str(path))})

    def load_input(self, context: dg.InputContext) -> Any:
        return read_pickle(self._path(context), context.asset_key.to_user_string())
