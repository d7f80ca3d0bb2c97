"""The synthetic market on disk: dirty landing files in parts, bad files, and the ground truth.

`write_market` generates a market (`domain/synthetic/market.py`), dirties every source
(`domain/synthetic/dirt.py`) and writes landing_root/<source>/<source>-part-0001.<ext> files, the
bad files, and ground_truth_dir/contact_probabilities.parquet (label probabilities per contact),
renovated_values.parquet (the true after-repair value per property record) and market_config.json. Same config,
same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import asdict
from pathlib import Path

import polars as pl

from wholesaler_assets.domain.contracts.sources import CONTRACTS, SOURCES, SourceContract
from wholesaler_assets.domain.synthetic.config import MarketConfig
from wholesaler_assets.domain.synthetic.conversion import (
    BOOKING_COEFFICIENTS,
    DEAL_COEFFICIENTS,
    QUALIFY_COEFFICIENTS,
)
from wholesaler_assets.domain.synthetic.dirt import BAD_FILE_KINDS, dirty
from wholesaler_assets.domain.synthetic.market import SyntheticMarket, generate_market

RENOVATED_VALUES_FILE = "renovated_values.parquet"  # the true ARV of every property record
CSV_DATETIME_FORMAT, CSV_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"
_LATIN1_NAMES = ("José Muñoz", "Renée Peña", "Begoña Ibáñez", "Raúl Núñez")


def write_market(config: MarketConfig, landing_root: Path, ground_truth_dir: Path) -> dict[str, list[Path]]:
    """Generate, apply dirt, write landing_root/<source>/<source>-part-0001.<ext> files (sorted by the
    source's time column, then key), plus bad files, plus ground_truth_dir/contact_probabilities.parquet,
    renovated_values.parquet and market_config.json. Returns the written landing files per source."""
    if config.file_format not in ("parquet", "csv"):
        raise ValueError(f"file_format must be 'parquet' or 'csv', not {config.file_format!r}")
    market = generate_market(config)
    written = write_landing(market, config, Path(landing_root))
    gt_dir = Path(ground_truth_dir)
    gt_dir.mkdir(parents=True, exist_ok=True)
    market.ground_truth.write_parquet(gt_dir / "contact_probabilities.parquet", compression="zstd",
                                      statistics=True)
    market.renovated_values.write_parquet(gt_dir / RENOVATED_VALUES_FILE, compression="zstd", statistics=True)
    meta = {"config": _jsonable(asdict(config)),
            "row_counts": {name: market.source(name).height for name in SOURCES},
            "booking_coefficients": BOOKING_COEFFICIENTS, "qualify_coefficients": QUALIFY_COEFFICIENTS,
            "deal_coefficients": DEAL_COEFFICIENTS}
    (gt_dir / "market_config.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return written


def read_renovated_values(ground_truth_dir: Path) -> pl.DataFrame | None:
    """The true renovated values a synthetic market wrote, or None (a user's own data has none)."""
    path = Path(ground_truth_dir) / RENOVATED_VALUES_FILE
    return pl.read_parquet(path) if path.is_file() else None


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value


PLANTED_FILE = re.compile(r"^[a-z_]+-bad-\d{2}-[a-z0-9_-]+\.")  # the broken files write_landing plants on purpose


def is_planted_file(file_name: str) -> bool:
    """A broken file the synthetic market lands on purpose (its quarantine is the demo, not a problem)."""
    return bool(PLANTED_FILE.match(file_name))


def write_landing(market: SyntheticMarket, config: MarketConfig, landing_root: Path) -> dict[str, list[Path]]:
    """Write every source in parts sorted by time column then key, dirtied, plus the bad files."""
    csv, ext = config.file_format == "csv", config.file_format
    written: dict[str, list[Path]] = {}
    for name in SOURCES:
        contract = CONTRACTS[name]
        folder = landing_root / name
        folder.mkdir(parents=True, exist_ok=True)
        for stale in [*folder.glob(f"{name}-part-*"), *folder.glob(f"{name}-bad-*")]:
            stale.unlink()  # a rerun replaces its own files, never anything else
        clean = market.source(name).sort(contract.time_column, *contract.key)
        df = dirty(clean, contract, config, csv)
        size = max(config.rows_per_file, 1)
        written[name] = []
        for part in range(max(1, -(-df.height // size))):
            path = folder / f"{name}-part-{part + 1:04d}.{ext}"
            _write(df.slice(part * size, size), path, csv)
            written[name].append(path)
    for i in range(config.dirt.bad_files):
        kind, name = BAD_FILE_KINDS[i % len(BAD_FILE_KINDS)], SOURCES[i % len(SOURCES)]
        if market.source(name).height == 0:
            name = "properties"  # never empty
        stem = landing_root / name / f"{name}-bad-{i + 1:02d}-{kind}"
        written[name].append(_bad_file(kind, market.source(name), CONTRACTS[name], stem, ext))
    return written


def _write(df: pl.DataFrame, path: Path, csv: bool) -> None:
    if csv:
        df.write_csv(path, datetime_format=CSV_DATETIME_FORMAT, date_format=CSV_DATE_FORMAT)
    else:
        df.write_parquet(path, compression="zstd", statistics=True)


def _bad_file(kind: str, clean: pl.DataFrame, contract: SourceContract, path_stem: Path, ext: str) -> Path:
    sample = clean.head(200)
    if kind == "missing-column":
        dropped = next(c for c in contract.required_columns if c not in contract.key)
        path = path_stem.with_name(f"{path_stem.name}.{ext}")
        _write(sample.drop(dropped), path, ext == "csv")
    elif kind == "non-utf8":  # a latin-1 CRM export: owner names with accents and a stray 0xff
        names = pl.Series("owner_name", [_LATIN1_NAMES[i % len(_LATIN1_NAMES)] for i in range(sample.height)])
        body = sample.with_columns(names).write_csv(datetime_format=CSV_DATETIME_FORMAT,
                                                    date_format=CSV_DATE_FORMAT)
        path = path_stem.with_name(f"{path_stem.name}.csv")
        path.write_bytes(body.encode("latin-1").replace(b"\xf1", b"\xf1\xff", 1))
    elif kind == "truncated-parquet":
        buffer = io.BytesIO()
        sample.write_parquet(buffer, compression="zstd", statistics=True)
        data = buffer.getvalue()
        path = path_stem.with_name(f"{path_stem.name}.parquet")
        path.write_bytes(data[: len(data) // 2])
    else:
        path = path_stem.with_name(f"{path_stem.name}.{ext}")
        path.write_bytes(b"")
    return path
