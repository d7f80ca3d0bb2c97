"""Benchmark: generate, ingest and snapshot a synthetic market (default 1M properties).

Prints rows per second of ingestion + snapshot, peak memory, and the ratio of that time against
polars reading the same landing files with no checks, measured in the same run. The last line is
one JSON object of the figures.

    .venv/bin/python benchmarks/bench_ingest.py [--properties 1000000] [--format csv|parquet]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import polars as pl
from _support import peak_rss_mb, publish  # benchmarks/_support.py, beside this script

from wholesaler_assets.domain.contracts.sources import SOURCES
from wholesaler_assets.domain.snapshots.properties import build_property_snapshot
from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig
from wholesaler_assets.io.landing import DataLayout, ingest_source
from wholesaler_assets.io.synthetic_files import write_market
from wholesaler_assets.io.warehouse import DuckDBWarehouse


def _raw_read(layout: DataLayout) -> tuple[float, int]:
    """Polars reading every landing file with no checks (CSV cells as text, as ingestion reads them)."""
    started = time.perf_counter()
    rows = 0
    for source in SOURCES:
        for path in layout.pending_files(source):
            try:
                frame = pl.read_csv(path, infer_schema=False) if path.suffix == ".csv" else pl.read_parquet(path)
            except Exception:  # the market's deliberately broken files: the baseline skips them
                continue
            rows += frame.height
    return time.perf_counter() - started, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--properties", type=int, default=1_000_000)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        layout = DataLayout(Path(tmp) / "data")
        config = MarketConfig(n_properties=args.properties, file_format=args.format, dirt=DirtConfig())
        started = time.perf_counter()
        write_market(config, layout.landing, layout.ground_truth)
        generate_s = time.perf_counter() - started
        print(f"generated {args.properties:,} properties as {args.format} in {generate_s:.1f} s", flush=True)

        raw_read_s, raw_rows = _raw_read(layout)
        print(f"baseline: polars read {raw_rows:,} rows with no checks in {raw_read_s:.2f} s", flush=True)

        warehouse = DuckDBWarehouse(layout.root / "warehouse.duckdb")
        now = dt.datetime.now(dt.UTC)
        started = time.perf_counter()
        loaded = 0
        for source in SOURCES:
            t0 = time.perf_counter()
            report = ingest_source(source, layout, warehouse, now)
            loaded += report.rows_upserted
            print(f"  ingest {source}: {report.rows_upserted:,} rows, {report.rows_quarantined:,} quarantined, "
                  f"{len(report.rejected)} file(s) rejected, {time.perf_counter() - t0:.2f} s", flush=True)
        ingest_s = time.perf_counter() - started
        t0 = time.perf_counter()
        properties = warehouse.read("raw_properties", "effective_date <= ?", [config.end_date])
        events = warehouse.read("raw_distress_events", "event_date <= ?", [config.end_date])
        snapshot = build_property_snapshot(properties, events, config.end_date)
        warehouse.replace_partition("property_snapshots", snapshot, "snapshot_date", config.end_date)
        snapshot_s = time.perf_counter() - t0
        print(f"  snapshot {config.end_date}: {snapshot.height:,} properties in {snapshot_s:.2f} s", flush=True)

    total_s = ingest_s + snapshot_s
    figures = {
        "properties": args.properties,
        "format": args.format,
        "rows_ingested": loaded,
        "generate_s": round(generate_s, 2),
        "raw_read_s": round(raw_read_s, 2),
        "ingest_s": round(ingest_s, 2),
        "snapshot_s": round(snapshot_s, 2),
        "rows_per_s": round(raw_rows / total_s),
        "peak_rss_mb": round(peak_rss_mb()),
        "ratio_vs_raw_read": round(total_s / raw_read_s, 2),
    }
    print(f"ingest + snapshot: {raw_rows / total_s:,.0f} rows/s, {figures['ratio_vs_raw_read']}x the raw read, "
          f"peak RSS {figures['peak_rss_mb']} MB (aim: within 3x, under 4096 MB)")
    publish("bench_ingest", figures)


if __name__ == "__main__":
    main()
