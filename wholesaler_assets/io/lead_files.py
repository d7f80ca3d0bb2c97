"""Lead-record files a person scores with `wholesaler score`: read them as the endpoint would, write the scores."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import polars as pl

from wholesaler_assets.domain.features.record_schema import RecordField
from wholesaler_assets.io.csv_export import write_csv


def read_lead_records(path: Path, fields: Sequence[RecordField]) -> pd.DataFrame:
    """The file's rows as the validator takes them (pandas: the library edge it was written for).

    A CSV is read the way `mlflow models serve` reads a text/csv body, except that every text field
    (ZIP codes and ids included) is read as text, so "02134" keeps its zero. Parquet keeps its own types.
    """
    if path.suffix.lower() == ".csv":
        header = pd.read_csv(path, nrows=0).columns
        text = {f.name: str for f in fields if f.kind == "text" and f.name in header}
        return pd.read_csv(path, dtype=text)
    return pd.read_parquet(path)


def write_scored(scored: pl.DataFrame, path: Path) -> None:
    """The scored leads as CSV or Parquet (by the suffix); the folder is created when missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        write_csv(scored, path)  # formula-like text defused, as every CSV a person opens
    else:
        scored.write_parquet(path)
