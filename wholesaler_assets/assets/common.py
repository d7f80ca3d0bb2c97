"""Small helpers every asset module shares: owners, metadata previews and gate results."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
import polars as pl

from wholesaler_assets.domain.quality import GateResult

OWNERS = ["team:data-platform"]


def preview(frame: pl.DataFrame, rows: int = 5, hide: tuple[str, ...] = ()) -> dg.MetadataValue:
    """A markdown table of the first rows, with PII columns hidden."""
    shown = frame.drop([c for c in hide if c in frame.columns]).head(rows)
    return dg.MetadataValue.md(shown.to_pandas().to_markdown(index=False) if shown.height else "_no rows_")


def counts_table(counts: Mapping[str, int], key: str, value: str = "rows", limit: int = 20) -> dg.MetadataValue:
    lines = [f"| {key} | {value} |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in list(counts.items())[:limit]]
    return dg.MetadataValue.md("\n".join(lines) if counts else "_none_")


def gate_check(name: str, gate: GateResult, asset_key: str | None = None,
               severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR) -> dg.AssetCheckResult:
    """An asset check result whose metadata says what the gate found, pass or fail."""
    metadata: dict[str, Any] = {"summary": gate.summary}
    for key, value in gate.details.items():
        if value is None:
            metadata[key] = dg.MetadataValue.null()
        elif isinstance(value, (dict, list)):
            metadata[key] = dg.MetadataValue.json(value)
        else:
            metadata[key] = value
    kwargs: dict[str, Any] = {"asset_key": asset_key} if asset_key else {}
    return dg.AssetCheckResult(check_name=name, passed=gate.passed, severity=severity,
                               metadata=metadata, description=gate.summary, **kwargs)
