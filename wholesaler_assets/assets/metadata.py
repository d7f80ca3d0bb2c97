"""What every asset module shares: owners, metadata previews, config defaults and gate checks."""

from __future__ import annotations

import base64
import dataclasses
import inspect
import io
import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import dagster as dg
import polars as pl
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
