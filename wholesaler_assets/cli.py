"""The `wholesaler` command: run the demo, train on a lead file, score a file, read the queue and the registry,
promote or roll back.

`wholesaler COMMAND --help` says what each command does and takes."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from wholesaler_assets.cli_commands.common import register_all
from wholesaler_assets.cli_demo import run_demo
from wholesaler_assets.domain.contracts.sources import CONTRACTS, contract_markdown
from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig
from wholesaler_assets.io.synthetic_files import write_market


def main(argv: Sequence[str] | None = None) -> int:
    """The command's entry point; output piped into a reader that stops early (`| head`) ends quietly."""
    try:
        code = _main(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # The reader has gone: no traceback; stdout is pointed at /dev/null so Python's own final
        # flush at exit does not raise again. 141 is what a shell reports for a command killed by SIGPIPE.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wholesaler", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = commands.add_parser("generate", help="write a synthetic market into landing folders")
    gen.add_argument("--properties", type=int, default=50_000, help="number of properties (1k to 1M)")
    gen.add_argument("--seed", type=int, default=7, help="random seed (same seed and size: same market)")
    gen.add_argument("--format", choices=["parquet", "csv"], default="parquet", help="landing file format")
    gen.add_argument("--data-root", default="data", help="folder holding landing/ and ground_truth/")
    gen.add_argument("--clean", action="store_true", help="no dirt: no missing values, duplicates or bad files")

    demo = commands.add_parser("demo", help="the whole pipeline on a synthetic market: generate, ingest, "
                                  "snapshot, train, gate, register and score (about 4 minutes)")
    demo.add_argument("--properties", type=int, default=50_000, help="size of the synthetic market")
    demo.add_argument("--seed", type=int, default=7, help="random seed of the market")
    demo.add_argument("--data-root", default="data", help="folder for landing files, warehouse and reports")
    demo.add_argument("--snapshot-every-days", type=int, default=7,
                      help="snapshot history: one run per date, every N days back from the data cutoff (default 7); "
                           "1: every day of the market in one backfill run (slower, ~7x the rows: docs/operations.md)")
    demo.add_argument("--dataset-spec", default=None, help=argparse.SUPPRESS)  # refused: see `wholesaler train`

    train = commands.add_parser("train", help="learn from your own lead file (no synthetic market): train, "
                                "register, score its open leads")
    train.add_argument("--dataset-spec", required=True, help="the YAML spec of your lead file "
                       "(docs/bring-your-own-data.md)")
    train.add_argument("--data-root", default="data-leads", help="its own folder (warehouse, models, reports, "
                       "exports, dagster_home, mlruns)")
    train.add_argument("--tracking-uri", default=None, help="MLflow tracking URI (default: <data-root>/mlruns)")

    rep = commands.add_parser("replay", help="release the synthetic market day by day, each day a Dagster run")
    rep.add_argument("--data-root", default="data-replay", help="its own folder (landing, warehouse, reports)")
    rep.add_argument("--mlruns", default=None, help="MLflow store (default: <data-root>/mlruns)")
    rep.add_argument("--start", type=dt.date.fromisoformat, default=None,
                     help="first replayed day; before it is the history trained on (default 2026-05-01; "
                          "with --dataset-spec, the month after 60%% of the file's contacts)")
    rep.add_argument("--days", type=int, default=120)
    rep.add_argument("--shift", choices=["price_shock", "conversion", "base_rate"], default=None,
                     help="plant a market shift (written to ground_truth/shifts.json); none: stationary")
    rep.add_argument("--shift-on", type=dt.date.fromisoformat, default=None, help="the shift's first day")
    rep.add_argument("--properties", type=int, default=50_000)
    rep.add_argument("--seed", type=int, default=7)
    rep.add_argument("--dataset-spec", default=None,
                     help="replay your own lead file by month instead (docs/bring-your-own-data.md)")

    commands.add_parser("contracts", help="print the data contract of every source as markdown")
    commands.add_parser("serving-schema", help="print the lead record the serving endpoint takes as markdown")
    commands.add_parser("serving-example", help="print the README's example request: a lead of the demo market")

    approve = commands.add_parser("approve-recommendation", help="record a person's decision on a campaign "
                                  "recommendation (nothing changes a campaign by itself)")
    approve.add_argument("recommendation_id", help="an id from the campaign_recommendations report")
    approve.add_argument("--by", required=True, help="who decides")
    approve.add_argument("--decision", required=True, choices=["approved", "rejected"])
    approve.add_argument("--note", default=None)
    approve.add_argument("--warehouse", default="data/warehouse.duckdb", help="the DuckDB warehouse file")

    handlers = register_all(commands)  # score, queue, champion, promote, rollback

    args = parser.parse_args(argv)
    if args.command in handlers:
        return handlers[args.command](args)
    if args.command == "approve-recommendation":
        return _approve_recommendation(args)
    if args.command == "generate":
        return _generate(args)
    if args.command == "replay":
        from wholesaler_assets.replay import ReplayPlan, replay

        if args.shift_on and not args.shift:
            parser.error("--shift-on needs --shift")
        if args.dataset_spec:
            from wholesaler_assets.replay_lead_file import replay_lead_file

            if args.shift:
                parser.error("--shift plants a shift in the synthetic market, not in a lead file")
            return replay_lead_file(Path(args.dataset_spec), args.start, Path(args.data_root),
                                    Path(args.mlruns or f"{args.data_root}/mlruns"))
        plan = ReplayPlan(args.start or dt.date(2026, 5, 1), args.days, args.properties, args.seed, args.shift,
                          args.shift_on)
        return replay(plan, Path(args.data_root), Path(args.mlruns or f"{args.data_root}/mlruns"))
    if args.command == "demo":
        if args.dataset_spec:
            print("the demo is the synthetic showcase and does not read a dataset spec: train on your lead file "
                  f"with `wholesaler train --dataset-spec {args.dataset_spec}`", file=sys.stderr)
            return 2
        return run_demo(args)
    if args.command == "train":
        from wholesaler_assets.cli_train import train_lead_file

        return train_lead_file(Path(args.dataset_spec), Path(args.data_root), args.tracking_uri)
    if args.command == "serving-schema":
        from wholesaler_assets.domain.features.record_schema import schema_markdown

        print(schema_markdown())
        return 0
    if args.command == "serving-example":
        from wholesaler_assets.serving.example import example_curl

        print(example_curl(MarketConfig()))
        return 0
    print("\n\n".join(contract_markdown(c) for c in CONTRACTS.values()))
    return 0


def _approve_recommendation(args: argparse.Namespace) -> int:
    from wholesaler_assets.io.experiments import APPROVALS_TABLE, UnknownRecommendation, record_decision
    from wholesaler_assets.io.warehouse import DuckDBWarehouse

    if not Path(args.warehouse).exists():
        print(f"no warehouse at {args.warehouse}", file=sys.stderr)
        return 1
    try:
        row = record_decision(DuckDBWarehouse(args.warehouse), args.recommendation_id, args.by, args.decision,
                              args.note)
    except (UnknownRecommendation, ValueError) as exc:
        print(str(exc).strip("'\""), file=sys.stderr)
        return 1
    print(f"{args.recommendation_id}: {args.decision} by {row['decided_by'][0]} at "
          f"{row['decided_at'][0]:%Y-%m-%d %H:%M} UTC (kept in {APPROVALS_TABLE})")
    return 0


def _generate(args: argparse.Namespace) -> int:
    root = Path(args.data_root)
    config = MarketConfig(n_properties=args.properties, seed=args.seed, file_format=args.format,
                          dirt=DirtConfig.clean() if args.clean else DirtConfig())
    started = time.perf_counter()
    written = write_market(config, root / "landing", root / "ground_truth")
    files = sum(len(v) for v in written.values())
    print(f"wrote {files} files for {args.properties:,} properties to {root / 'landing'} "
          f"in {time.perf_counter() - started:.1f} s (ground truth in {root / 'ground_truth'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
