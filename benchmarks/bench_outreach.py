"""Benchmark: what working the queue brings on the synthetic market, and whether the designed A/B test
detects a lift as often as it should.

Setup (not timed): `wholesaler demo` on a market of `--properties` in a temporary folder (ingest,
snapshots, training with the default gates, registration, scoring of the cutoff day), so the queue is
the one a scorer trained on this very market produces.
Measured:
- the outreach simulator's deals per 100 contacts over `--days` days for the priority queue, business
  as usual (the generator's campaign schedule) and random order, same team, leads and seed;
- the test of `ab_test_design` (30% lift, alpha 0.05, power 0.8, 60% adoption), with the base rate
  business as usual reaches at the test's pace, rehearsed `--runs` times with a planted 30% lift (the
  share detected: its power) and with none (the share significant: its false-positive rate).
The last line is one JSON object of the figures.

    .venv/bin/python benchmarks/bench_outreach.py [--properties 50000] [--runs 200]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from _support import publish  # benchmarks/_support.py, beside this script

from wholesaler_assets.assets.experiments import simulation_leads
from wholesaler_assets.cli import main as wholesaler
from wholesaler_assets.domain.experiments.assignment import blocked_assignment
from wholesaler_assets.domain.experiments.design import DesignConfig, design_test
from wholesaler_assets.domain.experiments.rehearsal import calibrated_design, detection_rate
from wholesaler_assets.domain.experiments.simulator import SimulationConfig, compare_policies
from wholesaler_assets.domain.synthetic.config import MarketConfig
from wholesaler_assets.io.warehouse import DuckDBWarehouse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--properties", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--snapshot-every-days", type=int, default=28)
    args = parser.parse_args()

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # the demo keeps its MLflow store under ./mlruns
        os.environ["DAGSTER_HOME"] = str(Path(tmp) / "dagster_home")
        Path(os.environ["DAGSTER_HOME"]).mkdir()
        if wholesaler(["demo", "--properties", str(args.properties), "--data-root", "data",
                       "--snapshot-every-days", str(args.snapshot_every_days)]) != 0:
            raise SystemExit("the demo failed: no scored queue to simulate")
        wh = DuckDBWarehouse(Path(tmp) / "data" / "warehouse.duckdb")
        day = MarketConfig().end_date
        if not wh.table_exists("scored_leads"):
            raise SystemExit("no scored leads: the gates promoted no scorer on this market (see the demo output)")
        leads = simulation_leads(wh, day)
    print(f"setup: {leads.height:,} active leads scored on {day} ({time.perf_counter() - started:.0f} s)", flush=True)

    team = SimulationConfig(days=args.days)
    figures = dict(compare_policies(leads, team).select("policy", "deals_per_100").iter_rows())
    print(f"deals per 100 contacts over {args.days} days: {figures}", flush=True)

    design_config = DesignConfig()
    assignment = blocked_assignment(leads, seed=7)
    pilot = dict(compare_policies(leads, team, ["as_usual"]).select("policy", "booked_per_100").iter_rows())
    design = calibrated_design(leads, assignment, design_test(pilot["as_usual"] / 100, team.contacts_per_day,
                                                              design_config), team, design_config)
    print(f"design: base rate {design.base_rate:.2%}, {design.contacts_per_arm:,} contacts per arm, "
          f"{design.days_needed} days", flush=True)
    planted = detection_rate(leads, design, team, planted_lift=design_config.relative_lift, runs=args.runs)
    null = detection_rate(leads, design, team, planted_lift=0.0, runs=args.runs, seed=50_000)
    print(f"planted 30% lift: detected in {planted.detected_share:.1%} of {args.runs} runs (mean lift "
          f"{planted.mean_lift:+.1%}); no lift: significant in {null.significant_share:.1%}", flush=True)
    publish("bench_outreach", {
        "properties": args.properties, "active_leads": leads.height, "days": args.days,
        "deals_per_100_queue": round(figures["queue"], 3), "deals_per_100_as_usual": round(figures["as_usual"], 3),
        "deals_per_100_random": round(figures["random"], 3),
        "ratio_vs_as_usual": round(figures["queue"] / figures["as_usual"], 3),
        "ab_base_rate": round(design.base_rate, 4), "ab_contacts_per_arm": design.contacts_per_arm,
        "ab_days": design.days_needed, "ab_runs": args.runs, "ab_target_power": design.target_power,
        "ab_power_simulated": round(planted.detected_share, 3),
        "ab_false_positive_rate": round(null.significant_share, 3),
        "ab_mean_lift_planted": round(planted.mean_lift, 3)})


if __name__ == "__main__":
    main()
