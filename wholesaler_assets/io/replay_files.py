"""Landing files of a replay: the history before its first day, then one file per source and day.

Each file is written under a temporary name and renamed into the inbox with its `.done` marker,
so the sensor never reads half a file (docs/ingestion.md). Names carry the day, so replaying a
day again rewrites its own file instead of adding another. The ground truth (per-contact
probabilities, the market's settings and its planted shifts) goes to `ground_truth/`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import polars as pl

from wholesaler_assets.domain.ingestion.arrival import DONE_SUFFIX
from wholesaler_assets.domain.synthetic.config import MarketConfig
from wholesaler_assets.domain.synthetic.market import SyntheticMarket
from wholesaler_assets.io.landing import DataLayout

SHIFTS_FILE = "shifts.json"


def write_release(layout: DataLayout, label: str, frames: dict[str, pl.DataFrame]) -> dict[str, Path]:
    """Land each non-empty frame as `<source>-<label>.parquet` (with its marker); the paths by source."""
    written = {}
    for source, frame in frames.items():
        if frame.height == 0:
            continue
        inbox = layout.inbox(source)
        inbox.mkdir(parents=True, exist_ok=True)
        path = inbox / f"{source}-{label}.parquet"
        staging = inbox / f".{path.name}.tmp"  # dot files are never taken by the sensor
        frame.write_parquet(staging, compression="zstd", statistics=True)
        staging.replace(path)
        path.with_name(path.name + DONE_SUFFIX).write_text("")
        written[source] = path
    return written


def write_replay_truth(layout: DataLayout, market: SyntheticMarket, config: MarketConfig) -> Path:
    """Per-contact probabilities, the market's settings and its shifts (`shifts.json`, [] when stationary)."""
    folder = layout.ground_truth
    folder.mkdir(parents=True, exist_ok=True)
    market.ground_truth.write_parquet(folder / "contact_probabilities.parquet", compression="zstd")
    shift = getattr(config, "shift", None)
    shifts = [] if shift is None else [_jsonable(dataclasses.asdict(shift))]
    (folder / SHIFTS_FILE).write_text(json.dumps(shifts, indent=2, sort_keys=True) + "\n")
    (folder / "market_config.json").write_text(
        json.dumps({"config": _jsonable(dataclasses.asdict(config))}, indent=2, sort_keys=True) + "\n")
    return folder / SHIFTS_FILE


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value
