"""Report and export files under the data folder, where the UI and the outreach team open them.

reports/feature_contract_<dataset>.json, reports/statistical_validation_<target>.md,
reports/feature_order_<target>.json, reports/models/<target>/ (plots, folds, feature order,
search and explanations, also logged to MLflow), exports/priority_queue_<date>.csv (the caller's
file) with priority_queue_<date>_technical.csv beside it, and
reports/profitability/<date>/<lead_id>.md with an index.md.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from wholesaler_assets.io.csv_export import write_csv


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def feature_contract_file(reports: Path, dataset: str) -> Path:
    return reports / f"feature_contract_{dataset}.json"


def write_feature_contract(reports: Path, dataset: str, contract_json: str) -> Path:
    return _write(feature_contract_file(reports, dataset), contract_json + "\n")


def write_statistical_report(reports: Path, target: str, markdown: str) -> Path:
    return _write(reports / f"statistical_validation_{target}.md", markdown)


def write_feature_order(reports: Path, target: str, order: Mapping[str, Any]) -> Path:
    return _write(reports / f"feature_order_{target}.json", json.dumps({"target": target, **order}, indent=2) + "\n")


def model_reports_folder(reports: Path, target: str) -> Path:
    return reports / "models" / target


def write_evaluation_files(out: Path, feature_order: Mapping[str, Any], folds: pl.DataFrame,
                           search: list[dict], explanations: str, contract_file: Path,
                           figures: Mapping[str, Any]) -> dict[str, Path]:
    """Plots, fold indices, feature order, search and explanations; returns the plot paths by name."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "feature_order.json").write_text(json.dumps(dict(feature_order)))
    write_csv(folds, out / "fold_indices.csv")
    (out / "search.json").write_text(json.dumps(search, default=float, indent=2))
    (out / "explanations.md").write_text(explanations)
    if contract_file.exists():
        (out / "feature_contract.json").write_text(contract_file.read_text())
    for name, figure in figures.items():
        figure.savefig(out / f"{name}.png", dpi=90)
    return {name: out / f"{name}.png" for name in figures}


def write_priority_queue(exports: Path, day: dt.date, caller: pl.DataFrame, technical: pl.DataFrame,
                         name: str = "priority_queue") -> tuple[Path, Path]:
    """The caller's file (<name>_<date>.csv) and the technical file beside it (<name>_<date>_technical.csv)."""
    exports.mkdir(parents=True, exist_ok=True)
    return (write_csv(caller, exports / f"{name}_{day}.csv"),
            write_csv(technical, exports / f"{name}_{day}_technical.csv"))


def read_owner_file(path: str | Path) -> pl.DataFrame:
    """The user's owner file (CSV or Parquet), every column as text so ids and phones keep their zeros."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"owner file {path} does not exist")
    if path.suffix.lower() == ".parquet":
        owners = pl.read_parquet(path)
        return owners.with_columns(pl.col(c).cast(pl.String) for c in owners.columns)
    if path.suffix.lower() != ".csv":
        raise ValueError(f"owner file {path} must be .csv or .parquet")
    return pl.read_csv(path, infer_schema=False)


def write_lead_reports(folder: Path, leads: list[dict[str, Any]], report_of: Callable[[dict[str, Any]], str]
                       ) -> list[Path]:
    """One markdown report per lead (audited tier-A leads), plus an index; older reports are removed."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.md"):
        old.unlink()  # a re-run must not leave reports of leads no longer in tier A
    paths = []
    lines = ["# Tier-A profitability reports", "", "| rank | lead | priority | profit | report |",
             "|---|---|---|---|---|"]
    for lead in leads:
        path = folder / f"{lead['lead_id']}.md"
        path.write_text(report_of(lead))
        paths.append(path)
        lines.append(f"| {lead['queue_rank']} | {lead['lead_id']} | {lead['priority_score']:.1f} | "
                     f"${lead['conservative_profit']:,.0f} | [{path.name}]({path.name}) |")
    (folder / "index.md").write_text("\n".join(lines) + "\n")
    return paths
