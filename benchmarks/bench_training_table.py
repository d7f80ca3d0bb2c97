"""Benchmark: build the three training tables from ~1M contacts.

Setup (not timed): a synthetic market sized for about 1M contacts and monthly property snapshots
of the leads' properties. Timed: point-in-time contact features plus the three labelled, split
and folded tables, against a bare polars `join_asof` of the same contacts and snapshots measured
in the same run. The last line is one JSON object of the figures.

    .venv/bin/python benchmarks/bench_training_table.py [--contacts 1000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import polars as pl
from _support import market_for_contacts, peak_rss_mb, publish  # benchmarks/_support.py, beside this script

from wholesaler_assets.domain.contracts.targets import TARGETS
from wholesaler_assets.domain.features.contact_features import source_contact_features
from wholesaler_assets.domain.features.contract import source_feature_contract
from wholesaler_assets.domain.snapshots.lead_tables import (
    comparable_sales_from_source,
    lead_outcomes_from_source,
)
from wholesaler_assets.domain.training.table import build_training_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    args = parser.parse_args()

    started = time.perf_counter()
    bench = market_for_contacts(args.contacts)
    config, market, snapshots = bench.config, bench.market, bench.snapshots
    contacts = market.contacts.drop("owner_phone")
    outcomes = lead_outcomes_from_source(market.outcomes)
    sales = comparable_sales_from_source(market.sales)
    print(f"setup: {contacts.height:,} contacts, {snapshots.height:,} snapshot rows "
          f"in {time.perf_counter() - started:.1f} s", flush=True)

    def bare_join_asof() -> float:
        started = time.perf_counter()
        left = contacts.with_columns(contact_date=pl.col("contact_time").dt.date()).sort("contact_date")
        left.join_asof(snapshots.sort("snapshot_date"), left_on="contact_date", right_on="snapshot_date",
                       by="property_id", strategy="backward", check_sortedness=False)
        return time.perf_counter() - started

    bare_join_asof()  # warm-up: the first large join pays for allocator growth, which is not the join's cost
    join_asof_s = min(bare_join_asof(), bare_join_asof())
    print(f"baseline: bare join_asof of {contacts.height:,} contacts in {join_asof_s:.2f} s (best of 2)", flush=True)

    started = time.perf_counter()
    features = source_contact_features(contacts, snapshots, sales)
    features_s = time.perf_counter() - started
    cutoff = dt.datetime.combine(config.end_date + dt.timedelta(days=1), dt.time(), dt.UTC)
    contract = source_feature_contract()
    rows = {}
    for name, target in TARGETS.items():
        t0 = time.perf_counter()
        built = build_training_table(features, outcomes, target, "outcome_time", cutoff, contract)
        rows[name] = built.table.height
        print(f"  {name}: {built.table.height:,} rows, {built.positive_share:.2%} positive, "
              f"{built.censored:,} censored, {built.folds.height:,} fold rows, {time.perf_counter() - t0:.2f} s",
              flush=True)
    seconds = time.perf_counter() - started
    figures = {
        "contacts": contacts.height,
        "snapshot_rows": snapshots.height,
        "features_s": round(features_s, 2),
        "seconds": round(seconds, 2),
        "join_asof_s": round(join_asof_s, 2),
        "peak_rss_mb": round(peak_rss_mb()),
        "ratio_vs_join_asof": round(seconds / join_asof_s, 2),
    }
    print(f"three tables in {seconds:.1f} s, {figures['ratio_vs_join_asof']}x the bare join_asof "
          f"(aim: within 2x), peak RSS {figures['peak_rss_mb']} MB")
    publish("bench_training_table", figures)


if __name__ == "__main__":
    main()
