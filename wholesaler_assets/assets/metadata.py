"""What every asset module shares: owners, metadata previews, config defaults and gate checks."""

from __future__ import annotations

import base64
import dataclasses
import inspect
import io
import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import dagster as dg
import polars as pl
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,  # not exported by Dagster 1.13; see gate_evaluations
)
from matplotlib.figure import Figure

from wholesaler_assets.domain.gates.result import GateResult

OWNERS = ["team:data-platform"]
# Assets that touch the warehouse, files or MLflow: a locked DuckDB file or a dropped PostgreSQL or
# MLflow connection is tried again after about 2, 4 and 8 s. A data failure (`dg.Failure(...,
# allow_retries=False)`) or a failed blocking gate is not: the same data would fail the same way.
STORAGE_RETRY = dg.RetryPolicy(max_retries=3, delay=2.0, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
T = TypeVar("T")


def preview(frame: pl.DataFrame, rows: int = 5, hide: tuple[str, ...] = ()) -> dg.MetadataValue:
    """A markdown table of the first rows, with PII columns hidden."""
    shown = frame.drop([c for c in hide if c in frame.columns]).head(rows)
    return dg.MetadataValue.md(shown.to_pandas().to_markdown(index=False) if shown.height else "_no rows_")


def counts_table(counts: Mapping[str, Any], key: str, value: str = "rows", limit: int = 20) -> dg.MetadataValue:
    lines = [f"| {key} | {value} |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in list(counts.items())[:limit]]
    return dg.MetadataValue.md("\n".join(lines) if counts else "_none_")


def check_specs(asset: str, checks: Mapping[str, str], blocking: bool = True,
                partitions_def: dg.PartitionsDefinition | None = None) -> list[dg.AssetCheckSpec]:
    """One asset check spec per (name, description); see `check_spec`."""
    return [check_spec(name, asset, text, blocking, partitions_def) for name, text in checks.items()]


def check_spec(name: str, asset: str, description: str, blocking: bool,
               partitions_def: dg.PartitionsDefinition | None = None) -> dg.AssetCheckSpec:
    """An asset check spec. A partitioned asset's checks get its `partitions_def`, so each target's or
    day's verdict is recorded under its partition (the Checks tab shows them apart, not one trend).
    Dagster 1.13 marks partitioned checks as preview; chosen knowingly, so its warning is not repeated."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=dg.PreviewWarning)
        return dg.AssetCheckSpec(name, asset=asset, blocking=blocking, description=description,
                                 partitions_def=partitions_def)


def inline_png(png: bytes, alt: str) -> str:
    """A small PNG as a markdown image the Dagster UI shows in place (a data URI; no file to open)."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})"


def figure_markdown(figure: Figure, alt: str, dpi: int = 80) -> dg.MetadataValue:
    """A matplotlib figure shown inline in the asset's metadata (PNG, a few tens of kB)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return dg.MetadataValue.md(inline_png(buffer.getvalue(), alt))


_COLUMN_TYPES: dict[Any, str] = {pl.String: "string", pl.Boolean: "bool", pl.Date: "date", pl.Float64: "float",
                                  pl.Float32: "float", pl.Int64: "int", pl.Int32: "int"}


def column_schema(frame: pl.DataFrame, descriptions: Mapping[str, str] | None = None) -> dg.TableSchema:
    """The table's columns and types as Dagster shows them (metadata key `dagster/column_schema`)."""
    described = descriptions or {}
    return dg.TableSchema(columns=[
        dg.TableColumn(name, "timestamp" if isinstance(dtype, pl.Datetime)
                       else _COLUMN_TYPES.get(dtype.base_type(), str(dtype).lower()), description=described.get(name))
        for name, dtype in frame.schema.items()])


def as_domain(config: dg.Config, domain_type: type[T], **overrides: Any) -> T:
    """The domain config built from the Dagster config's fields of the same names (validated there)."""
    names = {f.name for f in dataclasses.fields(domain_type)}  # type: ignore[arg-type]
    values = {k: v for k, v in config.model_dump().items() if k in names}
    return domain_type(**{**values, **overrides})


def parameter_default(function: Callable[..., Any], name: str) -> Any:
    """A domain function's own default for one parameter, so a Dagster config does not restate it."""
    return inspect.signature(function).parameters[name].default


def readable(value: float, digits: int = 4) -> float:
    """A figure to `digits` significant digits: what a person reads in the UI (0.2381, not 0.23805463295835527)."""
    return float(f"{value:.{digits}g}")


def _metadata_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return dg.MetadataValue.null()
    if isinstance(value, float):
        return readable(value)
    if isinstance(value, (dict, list, tuple)):
        return dg.MetadataValue.json(value)
    return value


def gate_check(gate: GateResult, *, asset_key: str | None = None, partition: str | None = None,
               severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
               **context: Any) -> dg.AssetCheckResult:
    """The asset check result of a gate; its metadata says why, pass or fail, and names the partition."""
    description = f"[{partition}] {gate.summary}" if partition else gate.summary
    metadata: dict[str, Any] = {"summary": gate.summary}
    if partition:
        metadata["partition"] = partition
    if gate.value is not None:
        metadata["value"] = _metadata_value(float(gate.value))
    if gate.threshold is not None:
        metadata["threshold"] = _metadata_value(float(gate.threshold))
    for key, value in {**gate.details, **context}.items():
        metadata[key] = _metadata_value(value)
    kwargs: dict[str, Any] = {"asset_key": asset_key} if asset_key else {}
    return dg.AssetCheckResult(check_name=gate.name, passed=gate.passed, severity=severity,
                               metadata=metadata, description=description, **kwargs)


def gate_evaluations(context: dg.AssetExecutionContext, gates_by_partition: Mapping[str, Sequence[GateResult]]
                     ) -> Iterator[dg.AssetCheckEvaluation | dg.Output]:
    """The check verdicts of a run over a partition range: one evaluation per selected check and partition.

    Dagster 1.13 records an `AssetCheckResult` under the run's partition only when the run has a
    single one (in a range run it would be one unpartitioned verdict), so a range run yields the
    evaluations themselves, each under its partition and tied to that partition's materialization of
    this run, then each check's (empty) output, as `AssetCheckResult` does inside Dagster. A failed
    blocking ERROR verdict of any partition fails the step after all are recorded, so downstream stops.
    """
    selected = {key.name: key for key in context.selected_asset_check_keys if key.asset_key == context.asset_key}
    blocking = {spec.name: spec.blocking for spec in context.assets_def.check_specs}
    materialized = _materializations_of_this_run(context, list(gates_by_partition))
    for partition, gates in gates_by_partition.items():
        for gate in gates:
            if gate.name not in selected:
                continue
            result = gate_check(gate, partition=partition)
            yield dg.AssetCheckEvaluation(
                asset_key=context.asset_key, check_name=gate.name, passed=result.passed, metadata=result.metadata,
                severity=result.severity, description=result.description, blocking=blocking[gate.name],
                partition=partition, target_materialization_data=materialized.get(partition))
    for key in selected.values():
        yield dg.Output(None, output_name=context.assets_def.get_output_name_for_asset_check_key(key))


def _materializations_of_this_run(context: dg.AssetExecutionContext, partitions: list[str]
                                  ) -> dict[str, AssetCheckEvaluationTargetMaterializationData]:
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=context.asset_key, asset_partitions=partitions), limit=len(partitions)).records
    return {r.partition_key: AssetCheckEvaluationTargetMaterializationData(
        storage_id=r.storage_id, run_id=r.run_id, timestamp=r.timestamp)
        for r in records if r.run_id == context.run_id and r.partition_key is not None}


def failed_partitions(gates_by_partition: Mapping[str, Sequence[GateResult]]) -> dict[str, list[str]]:
    """Each failed gate with the partitions it failed on, in partition order."""
    failed: dict[str, list[str]] = {}
    for partition, gates in gates_by_partition.items():
        for gate in gates:
            if not gate.passed:
                failed.setdefault(gate.name, []).append(partition)
    return failed
