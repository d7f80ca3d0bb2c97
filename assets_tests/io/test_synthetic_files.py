"""Tests of the synthetic market on disk: same seed, same bytes; dirty landing files; clean files."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from wholesaler_assets.domain.contracts.sources import CONTRACTS, SOURCES
from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig
from wholesaler_assets.domain.synthetic.dirt import BAD_FILE_KINDS
from wholesaler_assets.domain.synthetic.market import generate_market
from wholesaler_assets.io.synthetic_files import write_market

NOW = dt.datetime.combine(MarketConfig().end_date + dt.timedelta(days=1), dt.time(), dt.UTC)


def _digests(*roots: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for root in roots for p in sorted(root.rglob("*")) if p.is_file()}


def _read_landing_csv(path: Path, name: str) -> pl.DataFrame:
    """A landing CSV cast to its contract's dtypes (booleans, dates and UTC times written as text)."""
    raw = pl.read_csv(path, infer_schema=False)
    casts = []
    for column, dtype in CONTRACTS[name].polars_schema.items():
        c = pl.col(column)
        if dtype == pl.Boolean:
            casts.append(c == "true")
        elif dtype == pl.Date:
            casts.append(c.str.to_date("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime):
            casts.append(c.str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_unit="us").dt.replace_time_zone("UTC"))
        else:
            casts.append(c.cast(dtype))
    return raw.select(casts)


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
def test_same_seed_writes_identical_bytes(tmp_path: Path, file_format: str) -> None:
    config = MarketConfig(n_properties=3_000, file_format=file_format, rows_per_file=2_000,
                          dirt=DirtConfig(bad_files=4))
    runs = []
    for run, cfg in enumerate((config, config, replace(config, seed=8))):
        landing, truth = tmp_path / f"run{run}" / "landing", tmp_path / f"run{run}" / "truth"
        write_market(cfg, landing, truth)
        runs.append(_digests(landing, truth))
    assert runs[0] == runs[1]
    assert "contact_probabilities.parquet" in runs[0] and "market_config.json" in runs[0]
    assert len(runs[0]) > 10
    assert runs[0].keys() == runs[2].keys()
    assert runs[0]["properties/properties-part-0001." + file_format] != \
        runs[2]["properties/properties-part-0001." + file_format]


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
def test_default_dirt_lands_dirty_files(tmp_path: Path, file_format: str) -> None:
    config = MarketConfig(n_properties=5_000, file_format=file_format,
                          dirt=DirtConfig(malformed_rate=0.01, bad_files=4))
    written = write_market(config, tmp_path / "landing", tmp_path / "truth")
    bad = {p.name: p for paths in written.values() for p in paths if "-bad-" in p.name}
    assert sorted(int(name.split("-bad-")[1][:2]) for name in bad) == [1, 2, 3, 4]
    folders = {p.parent.name for p in bad.values()}
    assert len(folders) == 4  # one source each
    kinds = {kind: next(p for n, p in bad.items() if kind in n) for kind in BAD_FILE_KINDS}
    assert kinds["empty"].stat().st_size == 0
    raw = kinds["non-utf8"].read_bytes()
    assert b"\xff" in raw and "Muñoz".encode("latin-1") in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    with pytest.raises(Exception):  # noqa: B017 - any reader error will do
        pq.read_table(kinds["truncated-parquet"])
    missing = kinds["missing-column"]
    source = missing.parent.name
    columns = (pl.read_parquet(missing) if missing.suffix == ".parquet" else pl.read_csv(missing)).columns
    assert set(CONTRACTS[source].required_columns) - set(columns)

    market = generate_market(config)
    for name in SOURCES:
        parts = [p for p in written[name] if "-part-" in p.name]
        if file_format == "parquet":
            landed = pl.concat([pl.read_parquet(p) for p in parts])
        else:
            landed = pl.concat([pl.read_csv(p, infer_schema=False) for p in parts])
        clean = market.source(name)
        duplicates = landed.height - landed.unique().height
        assert duplicates >= 1, name
        assert landed.height == clean.height + duplicates
        assert _cells_blanked(landed, clean, name) > 0, name
        assert landed.select(CONTRACTS[name].required_columns).null_count().sum_horizontal().item() == 0
        if file_format == "parquet":
            failures = _contract_failures(landed, name)
            assert failures, name
        else:
            text = landed.select(CONTRACTS[name].column_names)
            numeric = [c for c, t in CONTRACTS[name].polars_schema.items() if t.is_numeric()]
            not_numbers = text.select(pl.any_horizontal(
                pl.col(c).is_not_null() & pl.col(c).cast(pl.Float64, strict=False).is_null()
                for c in numeric))
            assert not_numbers.to_series().any(), name


def _cells_blanked(landed: pl.DataFrame, clean: pl.DataFrame, name: str) -> int:
    """Nullable cells that are filled in the clean frame and null in the landed one."""
    contract = CONTRACTS[name]
    key = list(contract.key)
    nullable = [c.name for c in contract.columns if c.nullable and c.name not in key]
    clean = clean.with_columns(pl.col(k).cast(landed.schema[k]) for k in key)
    joined = landed.unique(key, keep="first").join(clean, on=key, how="inner", suffix="_clean")
    return joined.select(
        pl.sum_horizontal((pl.col(c).is_null() & pl.col(f"{c}_clean").is_not_null()).sum() for c in nullable)
    ).item()


def _contract_failures(df: pl.DataFrame, name: str) -> set[str]:
    try:
        CONTRACTS[name].pandera_schema(NOW).validate(df, lazy=True)
    except Exception as error:  # pandera's SchemaErrors
        return set(error.failure_cases["check"].cast(pl.String))  # type: ignore[attr-defined]
    return set()


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
def test_clean_dirt_writes_only_valid_files(tmp_path: Path, file_format: str) -> None:
    config = MarketConfig(n_properties=3_000, file_format=file_format, rows_per_file=1_500,
                          dirt=DirtConfig.clean())
    written = write_market(config, tmp_path / "landing", tmp_path / "truth")
    market = generate_market(config)
    for name in SOURCES:
        paths = written[name]
        assert paths and all("-part-" in p.name and p.suffix == f".{file_format}" for p in paths)
        assert sorted(p.name for p in (tmp_path / "landing" / name).iterdir()) == [p.name for p in paths]
        read = pl.read_parquet if file_format == "parquet" else lambda p, n=name: _read_landing_csv(p, n)
        landed = pl.concat([read(p) for p in paths])
        assert landed.equals(market.source(name).sort(CONTRACTS[name].time_column, *CONTRACTS[name].key))
        CONTRACTS[name].pandera_schema(NOW).validate(landed)
    truth = pl.read_parquet(tmp_path / "truth" / "contact_probabilities.parquet")
    assert truth.equals(market.ground_truth)
    renovated = pl.read_parquet(tmp_path / "truth" / "renovated_values.parquet")
    assert renovated.equals(market.renovated_values)
    assert renovated.select("property_id", "effective_date").equals(
        market.properties.sort("property_id", "effective_date").select("property_id", "effective_date"))
    assert '"n_properties": 3000' in (tmp_path / "truth" / "market_config.json").read_text()
