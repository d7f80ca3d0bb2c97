"""`wholesaler score` (a file of lead records through the registered scorer) and `wholesaler queue`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

from wholesaler_assets.cli_commands.common import Handler, add_registry_arguments, tracking_uri
from wholesaler_assets.io.csv_export import csv_text

FILE_KINDS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
INVALID_INPUT = 2  # exit code: the file was refused (bad records, unreadable file); nothing written


def register(commands: argparse._SubParsersAction) -> dict[str, Handler]:
    score = commands.add_parser(
        "score", help="score a CSV or Parquet file of lead records with the champion (or a named version)",
        description="Score a file of lead records (one row a lead, the fields of `wholesaler serving-schema`) "
                    "with the registered scorer, exactly as the serving endpoint does: the same validation "
                    "and messages, the same numbers. ZIP codes and ids are read as text. A file with any "
                    "bad record is refused as a whole (exit code 2), each problem named by row and field.")
    score.add_argument("input", type=Path, help="lead records: .csv or .parquet")
    score.add_argument("-o", "--output", type=Path, required=True, help="scored leads: .csv or .parquet")
    which = score.add_mutually_exclusive_group()
    which.add_argument("--version", default=None, help="a registered version number (default: the champion)")
    which.add_argument("--alias", default="champion", help="a registry alias (default: champion)")
    score.add_argument("--reasons", choices=["auto", "exact", "approximate"], default="auto",
                       help="how reasons are computed (auto: exact up to the scorer's limit of leads, 100 by "
                            "default, else approximate)")
    score.add_argument("--chunk-rows", type=int, default=2_000, help="leads scored at a time (progress steps)")
    add_registry_arguments(score)

    queue = commands.add_parser(
        "queue", help="print the day's priority queue from the warehouse (best lead first)",
        description="The top of a scored day's outreach queue: rank, lead, tier, priority, deal probability, "
                    "expected value, conservative profit and reasons. The day must have been scored "
                    "(scoring_job); the exported files are under data/exports/.")
    queue.add_argument("--date", type=dt.date.fromisoformat, default=None,
                       help="scoring day YYYY-MM-DD (default: the latest scored day)")
    queue.add_argument("--top", type=int, default=20, help="how many leads (default 20)")
    queue.add_argument("--tier", choices=["A", "B", "C", "D"], default=None, help="only this tier")
    queue.add_argument("--format", choices=["table", "csv"], default="table")
    queue.add_argument("--warehouse", default="data/warehouse.duckdb", help="the DuckDB warehouse file")
    return {"score": _score, "queue": _queue}


def _score(args: argparse.Namespace) -> int:
    kinds = {p: FILE_KINDS.get(p.suffix.lower()) for p in (args.input, args.output)}
    if None in kinds.values():
        bad = next(p for p, kind in kinds.items() if kind is None)
        print(f"{bad}: give a .csv or .parquet file", file=sys.stderr)
        return INVALID_INPUT
    if not args.input.exists():
        print(f"{args.input}: no such file", file=sys.stderr)
        return INVALID_INPUT
    try:
        scorer, label = _load_scorer(args)
    except LookupError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    from wholesaler_assets.domain.features.record_validation import InvalidRecords
    from wholesaler_assets.io.lead_files import read_lead_records, write_scored

    try:
        frame = read_lead_records(args.input, scorer.record_fields)
    except (ValueError, OSError) as exc:
        print(f"{args.input}: cannot be read as {kinds[args.input]}: {exc}", file=sys.stderr)
        return INVALID_INPUT
    try:  # the whole file first, so rows are numbered as in the file and nothing is written on a bad one
        records = scorer.validate(frame, dt.datetime.now(dt.UTC).date())
    except InvalidRecords as exc:
        print(f"{args.input}: {exc}", file=sys.stderr)
        return INVALID_INPUT
    scored = _score_in_chunks(scorer, records, args.reasons, args.chunk_rows)
    write_scored(scored, args.output)
    tiers = scored["tier"].value_counts()
    counts = ", ".join(f"{t} {n:,}" for t, n in sorted(tiers.iter_rows()))
    print(f"scored {scored.height:,} leads with {label}: tiers {counts} -> {args.output}")
    return 0


def _load_scorer(args: argparse.Namespace) -> tuple[Any, str]:
    """The registered scorer (the endpoint's own object) behind the alias or version, and its label."""
    import mlflow
    from mlflow.exceptions import MlflowException

    mlflow.set_tracking_uri(tracking_uri(args))
    uri = f"models:/{args.model}/{args.version}" if args.version else f"models:/{args.model}@{args.alias}"
    print(f"loading {uri} from {tracking_uri(args)}", file=sys.stderr, flush=True)
    try:
        model = mlflow.pyfunc.load_model(uri).unwrap_python_model()
    except MlflowException as exc:
        raise LookupError(f"no {uri} at {tracking_uri(args)}: {exc.message.splitlines()[0]}") from None
    scorer = getattr(model, "scorer", None)
    if scorer is None:
        raise LookupError(f"{uri} is not a lead scorer")
    return scorer, scorer.model_version


def _score_in_chunks(scorer: Any, records: Any, reasons: str, chunk_rows: int) -> Any:
    """Score `records` a chunk at a time, with progress on stderr; the reasons method is decided for
    the whole file (as one request of that size would be), so chunking changes no number."""
    import polars as pl

    from wholesaler_assets.domain.scoring.scorer import APPROXIMATE, EXACT
    from wholesaler_assets.serving.pyfunc import response_frame

    method = reasons if reasons != "auto" else (EXACT if records.height <= scorer.exact_reasons_max_rows
                                                else APPROXIMATE)
    parts, started, total = [], time.perf_counter(), records.height
    for start in range(0, total, max(chunk_rows, 1)):
        parts.append(scorer.score(records.slice(start, chunk_rows), method))
        done = min(start + chunk_rows, total)
        _progress(done, total, time.perf_counter() - started)
    return response_frame(pl.concat(parts, how="vertical"))


def _progress(done: int, total: int, seconds: float, width: int = 30) -> None:
    filled = int(width * done / total)
    line = f"scoring [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} leads {seconds:.1f} s"
    if sys.stderr.isatty():
        print("\r" + line, end="\n" if done == total else "", file=sys.stderr, flush=True)
    else:
        print(line, file=sys.stderr, flush=True)


QUEUE_COLUMNS = ("queue_rank", "lead_id", "tier", "priority_score", "p_deal_30d", "expected_value",
                 "conservative_profit", "top_reasons")


def _queue(args: argparse.Namespace) -> int:
    import polars as pl

    from wholesaler_assets.domain.scoring.ranking import queue_order
    from wholesaler_assets.io.inputs import SCORED_TABLE
    from wholesaler_assets.io.warehouse import DuckDBWarehouse

    if not Path(args.warehouse).exists():
        print(f"no warehouse at {args.warehouse} (run `make demo` or the scoring job first)", file=sys.stderr)
        return 1
    wh = DuckDBWarehouse(args.warehouse)
    if not wh.table_exists(SCORED_TABLE):
        print(f"nothing scored yet in {args.warehouse}: materialize scored_leads first", file=sys.stderr)
        return 1
    day = args.date or wh.query(f"select max(scoring_date) as d from {SCORED_TABLE}")["d"][0]
    scored = wh.read(SCORED_TABLE, "scoring_date = ?", [day])
    if not scored.height:
        days = wh.query(f"select distinct scoring_date as d from {SCORED_TABLE} order by 1 desc limit 5")["d"]
        print(f"no scored leads for {day}; latest scored days: {', '.join(map(str, days))}", file=sys.stderr)
        return 1
    queue = queue_order(scored)
    if args.tier:
        queue = queue.filter(pl.col("tier") == args.tier)
    shown = queue.head(args.top).select([c for c in QUEUE_COLUMNS if c in queue.columns])
    if args.format == "csv":
        sys.stdout.write(csv_text(shown))
        return 0
    print(f"priority queue for {day}: top {shown.height:,} of {queue.height:,} leads"
          f"{' in tier ' + args.tier if args.tier else ''} (scored by {scored['model_version'][0]})")
    print(_table(shown))
    return 0


def _table(frame: Any) -> str:
    """An aligned text table: money as whole dollars, probabilities to 3 places, priority to 1."""
    def cell(column: str, value: Any) -> str:
        if value is None:
            return ""
        if column in ("expected_value", "conservative_profit"):
            return f"${value:,.0f}"
        if column.startswith("p_"):
            return f"{value:.3f}"
        if column == "priority_score":
            return f"{value:.1f}"
        return str(value)

    rows = [[cell(c, v) for c, v in zip(frame.columns, row, strict=True)] for row in frame.iter_rows()]
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(frame.columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(frame.columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)
