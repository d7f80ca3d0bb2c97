"""IO managers: assets return frames and models, and these persist them, keyed by partition.

`WarehouseTableIOManager` writes a returned polars frame to the warehouse table named after the
asset (DuckDB or PostgreSQL, through `WarehouseResource`). A partitioned asset names its partition
column in its definition metadata (`partition_column`): the partition's rows are replaced in one
transaction and the column is filled in when the frame lacks it. An asset may also return a
mapping of table name to frame, its own table among them, to write companion tables (e.g.
`training_folds` beside `training_table`) by the same rule.

A run over a partition range (a single-run backfill of a time-partitioned asset) replaces the rows
of every day of the range in one transaction. The asset returns either a frame (or mapping of
frames) holding its partition column, or, to keep memory to one day, an iterator of
`(partition_key, frame)` pairs, wrapped in `dg.Output` (Dagster takes a bare returned generator
for the op's events), that is consumed one day at a time: every key of the range must come
exactly once, or nothing is written (a day never counts as materialized unless it was built).

`ModelArtifactIOManager` pickles a returned model to the file its definition metadata names
under <data>/models/ (`artifact_file`, with `{partition}` for the target), where evaluation and
registration read it back (`io.artifacts`).
"""


import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from wholesaler_assets.io.artifacts import models_root, read_pickle, write_pickle
from wholesaler_assets.resources import DataFolderResource, WarehouseResource

PARTITION_COLUMN = "partition_column"
ARTIFACT_FILE = "artifact_file"


PartitionFrames = Iterable[tuple[str, pl.DataFrame]]
"""A range's rows day by day: (partition key, that partition's frame), made when asked for."""


def _partition_value(context: dg.OutputContext | dg.InputContext, key: str | None = None) -> Any:
    """The partition key as the column stores it: a date for daily partitions, else the key."""
    key = context.asset_partition_key if key is None else key
    if isinstance(context.asset_partitions_def, dg.TimeWindowPartitionsDefinition):
        return dt.date.fromisoformat(key)
    return key


def _is_range(context: dg.OutputContext | dg.InputContext) -> bool:
    return context.has_asset_partitions and len(context.asset_partition_keys) > 1


def _definition_metadata(context: dg.OutputContext | dg.InputContext) -> Mapping[str, Any]:
    output = context if isinstance(context, dg.OutputContext) else context.upstream_output
    return (output.definition_metadata if output is not None else None) or {}


class WarehouseTableIOManager(dg.ConfigurableIOManager):
    """Warehouse tables named after their assets; a partition's rows replaced in one transaction."""

    warehouse: dg.ResourceDependency[WarehouseResource]

    def handle_output(self, context: dg.OutputContext,
                      obj: pl.DataFrame | Mapping[str, pl.DataFrame] | PartitionFrames) -> None:
        own = context.asset_key.path[-1]
        if not isinstance(obj, pl.DataFrame | Mapping) or _is_range(context):
            self._write_range(context, own, obj)
            return
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

    def _write_range(self, context: dg.OutputContext, own: str,
                     obj: pl.DataFrame | Mapping[str, pl.DataFrame] | PartitionFrames) -> None:
        """Every partition of the run's range replaced in one transaction per table."""
        column = _definition_metadata(context).get(PARTITION_COLUMN)
        if column is None or not isinstance(context.asset_partitions_def, dg.TimeWindowPartitionsDefinition):
            raise ValueError(f"{own}: a partition range is written only for a time-partitioned asset that names "
                             f"its {PARTITION_COLUMN}")
        keys = list(context.asset_partition_keys)
        first, last = _partition_value(context, keys[0]), _partition_value(context, keys[-1])
        wh = self.warehouse.open()
        if isinstance(obj, pl.DataFrame | Mapping):
            tables = dict(obj) if isinstance(obj, Mapping) else {own: obj}
            rows = {t: wh.replace_range(t, column, first, last, [f]) for t, f in tables.items()}
        else:
            rows = {own: wh.replace_range(own, column, first, last, _each_key_once(context, keys, column, obj))}
        context.add_output_metadata({
            "tables": dg.MetadataValue.json({t: f"{self.warehouse.describe()}:{t}" for t in rows}),
            "range_rows_written": sum(rows.values()),
        })

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        table = context.asset_key.path[-1]
        column = _definition_metadata(context).get(PARTITION_COLUMN)
        wh = self.warehouse.open()
        if column is None or not context.has_asset_partitions:
            return wh.read(table)
        if _is_range(context):
            keys = context.asset_partition_keys
            return wh.read(table, f"{column} >= ? and {column} <= ?",
                           [_partition_value(context, keys[0]), _partition_value(context, keys[-1])])
        return wh.read(table, f"{column} = ?", [_partition_value(context)])


def _each_key_once(context: dg.OutputContext, keys: list[str], column: str,
                   pairs: PartitionFrames) -> Iterator[pl.DataFrame]:
    """The frames of `pairs`, their partition column filled in; fails unless every key came exactly once."""
    expected, seen = set(keys), set()
    for key, frame in pairs:
        if key not in expected or key in seen:
            raise ValueError(f"partition {key} is {'written twice' if key in seen else 'outside the run'}")
        seen.add(key)
        value = _partition_value(context, key)
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(value).alias(column))
        elif frame.height and not (frame[column] == value).all():
            raise ValueError(f"the frame of partition {key} holds other {column} values")
        yield frame
    if missing := [k for k in keys if k not in seen]:
        raise ValueError(f"{len(missing)} partition(s) of the range were not built (first: {missing[0]}): "
                         "nothing is written")


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
