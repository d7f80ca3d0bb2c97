"""Monitoring files: a day's drift report and the realized-vs-estimated performance chart.

data/reports/drift/<date>/ holds report.html and report.json (Evidently's own, for people and
for Evidently tooling) and summary.json (our figures: drift share, per-column scores, flags,
PSI, skipped columns). The performance chart is a PNG of the last 90 days per target.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path
from typing import Any

import polars as pl

from wholesaler_assets.domain.monitoring.drift import DriftSummary
from wholesaler_assets.domain.monitoring.estimation import ESTIMATED_METRICS

PLOT_DAYS = 90


def _plain(value: Any) -> Any:
    """NaN and inf become null so summary.json is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def save_drift_report(summary: DriftSummary, folder: Path) -> dict[str, Path]:
    """Write report.html, report.json and summary.json under `folder`; their paths by name."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"html": folder / "report.html", "json": folder / "report.json", "summary": folder / "summary.json"}
    summary.snapshot.save_html(str(paths["html"]))
    paths["json"].write_text(summary.snapshot.json())
    paths["summary"].write_text(json.dumps(_plain(summary.as_dict()), indent=2, sort_keys=True) + "\n")
    return paths


def reference_path(folder: Path, model_version: str) -> Path:
    """Where a model's drift reference (its first scored day's frame) is kept."""
    return folder / (re.sub(r"[^A-Za-z0-9_.-]+", "_", model_version) + ".parquet")


def load_or_keep_reference(folder: Path, model_version: str, current: pl.DataFrame) -> pl.DataFrame:
    """The model's reference frame; on its first day `current` becomes it (and is returned)."""
    path = reference_path(folder, model_version)
    if path.exists():
        return pl.read_parquet(path)
    folder.mkdir(parents=True, exist_ok=True)
    current.write_parquet(path)
    return current


def save_performance_plot(table: pl.DataFrame, path: Path, days: int = PLOT_DAYS) -> Path:
    """PNG of realized vs estimated figures (a `performance_over_time` table) over the last `days` days.

    One row of panels per target, one column per metric: the estimate as a line with its interval
    as a band, the realized figure as points once its window has closed.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if table.height == 0:
        raise ValueError("no performance rows to plot")
    last = table.get_column("scoring_date").max()
    assert isinstance(last, dt.date)
    recent = table.filter(pl.col("scoring_date") > last - dt.timedelta(days=days))
    targets = sorted(recent.get_column("target").unique().to_list())
    fig = Figure(figsize=(4 * len(ESTIMATED_METRICS), 3 * len(targets)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(targets), len(ESTIMATED_METRICS), squeeze=False)
    for i, target in enumerate(targets):
        for j, metric in enumerate(ESTIMATED_METRICS):
            ax = axes[i][j]
            rows = recent.filter((pl.col("target") == target) & (pl.col("metric") == metric)).sort("scoring_date")
            days_ = rows.get_column("scoring_date").to_list()
            ax.fill_between(days_, rows.get_column("lower").fill_null(float("nan")).to_numpy(),
                            rows.get_column("upper").fill_null(float("nan")).to_numpy(),
                            alpha=0.25, label="estimate interval")
            ax.plot(days_, rows.get_column("estimate").fill_null(float("nan")).to_numpy(), label="estimated")
            ax.plot(days_, rows.get_column("realized").fill_null(float("nan")).to_numpy(), "o", markersize=3,
                    color="black", label="realized")
            ax.set_title(f"{target}: {metric}", fontsize=9)
            ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    axes[0][0].legend(fontsize=7)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=80)
    return path
