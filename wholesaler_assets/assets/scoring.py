"""Scoring assets: the daily scored leads, the idempotent `lead_scores` sink and the priority queue."""

import datetime as dt
import json

import dagster as dg
import mlflow
import polars as pl
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from wholesaler_assets.assets.common import OWNERS, gate_check, preview
from wholesaler_assets.assets.snapshots import SNAPSHOT_PARTITIONS
from wholesaler_assets.domain.buy_box import BuyBoxConfig, evaluate_deals
from wholesaler_assets.domain.lead_records import records_as_of
from wholesaler_assets.domain.quality import GateResult
from wholesaler_assets.domain.scoring import (
    TIERS,
    latest_splits,
    profitability_report,
    queue_order,
    tier_figures,
    with_lead_context,
)
from wholesaler_assets.domain.sink import SINK_KEY, diff_rows, long_scores, select_rows
from wholesaler_assets.registry import CHAMPION
from wholesaler_assets.resources import DataFolderResource, MlflowResource, WarehouseResource
from wholesaler_assets.scorer import Scorer, score_batch
from wholesaler_assets.warehouse import WarehouseBackend

GROUP = "scoring"
SCORED_TABLE = "scored_leads"
SINK_TABLE = "lead_scores"
SCORING_CHECKS = {
    "every_active_lead_scored": "At least 95% of active leads got a score (the seeds' coverage bar).",
    "tier_a_passes_buy_box": "No tier-A lead fails the buy-box.",
}


class ScoringConfig(dg.Config):
    """Which model scores, which leads count as active, and how much is explained exactly."""

    model_alias: str = CHAMPION
    next_channel: str = "cold_call"  # the first touch of a distressed property nobody has contacted
    include_uncontacted_distressed: bool = True
    max_snapshot_age_days: int = 7
    exact_reasons_top_n: int = 1_000  # the top of the queue (and every tier-A lead) gets exact reasons
    chunk_rows: int = 200_000
    min_scored_share: float = 0.95


def _champion(mlflow_tracking: MlflowResource, alias: str) -> tuple[Scorer, str]:
    """The scorer behind the alias, with its registered version."""
    mlflow_tracking.start()
    name = mlflow_tracking.registered_model
    try:
        version = MlflowClient().get_model_version_by_alias(name, alias)
    except MlflowException:
        raise dg.Failure(f"no {name}@{alias} in the MLflow registry: the gates have not promoted a scorer yet "
                         "(see model_evaluation and registered_scorer)") from None
    model = mlflow.pyfunc.load_model(f"models:/{name}@{alias}").unwrap_python_model()
    scorer = getattr(model, "scorer", None)
    if not isinstance(scorer, Scorer):
        raise dg.Failure(f"{name} v{version.version} predates lead-record scoring: register a new scorer")
    return scorer, str(version.version)


def _active_records(wh: WarehouseBackend, scorer: Scorer, day: dt.date, config: ScoringConfig) -> pl.DataFrame:
    """Lead records of every active lead on `day` (a lead file: each lead's latest row)."""
    if scorer.spec_features is not None:
        contacts = wh.read("lead_contacts", "contact_time < ?", [dt.datetime.combine(day + dt.timedelta(days=1),
                                                                                   dt.time(), tzinfo=dt.UTC)])
        latest = contacts.sort("contact_time").unique("lead_id", keep="last").sort("lead_id")
        return latest.select("lead_id", pl.lit(day).alias("scoring_date"),
                             *[pl.col(c) for c in scorer.spec_features if c in latest.columns])
    snapshot_day = wh.query("select max(snapshot_date) as d from property_snapshots where snapshot_date <= ?",
                            [day])["d"][0] if wh.table_exists("property_snapshots") else None
    if snapshot_day is None or (day - snapshot_day).days > config.max_snapshot_age_days:
        raise dg.Failure(f"no property snapshot within {config.max_snapshot_age_days} days before {day} "
                         f"(latest: {snapshot_day}): materialize property_snapshots for {day} first")
    return records_as_of(day, wh.read("property_snapshots", "snapshot_date = ?", [snapshot_day]),
                         wh.read("lead_contacts"), wh.read("lead_outcomes"), config.next_channel,
                         config.include_uncontacted_distressed)


def _lead_splits(wh: WarehouseBackend, target: str) -> pl.DataFrame:
    """Each lead's split in the value target's training table (see `domain.scoring.latest_splits`)."""
    if not wh.table_exists("training_table"):
        return latest_splits(pl.DataFrame(schema={"lead_id": pl.String, "split": pl.String,
                                                  "contact_time": pl.Datetime("us", "UTC")}))
    return latest_splits(wh.query("select lead_id, split, contact_time from training_table where target = ?",
                                  [target]))


def _previous_reasons(wh: WarehouseBackend, day: dt.date) -> pl.DataFrame | None:
    if not wh.table_exists(SCORED_TABLE):
        return None
    last = wh.query(f"select max(scoring_date) as d from {SCORED_TABLE} where scoring_date < ?", [day])["d"][0]
    if last is None:
        return None
    return wh.query(f"select lead_id, feature_hash, top_reasons, narrative, reasons_method, reasons_as_of "
                    f"from {SCORED_TABLE} "
                    "where scoring_date = ?", [last])


@dg.asset(partitions_def=SNAPSHOT_PARTITIONS, deps=["property_snapshots", "lead_contacts", "lead_outcomes",
                                                    "registered_scorer"],
          group_name=GROUP, kinds={"mlflow", "xgboost", "polars"}, owners=OWNERS,
          check_specs=[dg.AssetCheckSpec(name, asset="scored_leads", blocking=True, description=text)
                       for name, text in SCORING_CHECKS.items()])
def scored_leads(context: dg.AssetExecutionContext, config: ScoringConfig, warehouse: WarehouseResource,
                 mlflow_tracking: MlflowResource) -> dg.MaterializeResult:
    """Every active lead scored by the champion as of the day: probabilities, ARV, buy-box, tier, reasons."""
    day = dt.date.fromisoformat(context.partition_key)
    wh = warehouse.open()
    scorer, version = _champion(mlflow_tracking, config.model_alias)
    records = _active_records(wh, scorer, day, config)
    scored, stats = score_batch(scorer, records, _previous_reasons(wh, day), config.exact_reasons_top_n,
                                config.chunk_rows)
    scored = with_lead_context(scored, records, _lead_splits(wh, scorer.value_model.target),
                               dt.datetime.now(dt.UTC), scorer.buy_box)
    wh.replace_partition(SCORED_TABLE, scored, "scoring_date", day)
    figures = tier_figures(scored)
    scored_share = scored.height / records.height if records.height else 0.0
    tier_a_failing = scored.filter((pl.col("tier") == "A") & ~pl.col("passes_buy_box")).height
    return dg.MaterializeResult(
        metadata={
            "active_leads": records.height,
            "scored_leads": scored.height,
            "model_version": scorer.model_version,
            "model_registry_version": version,
            "model_run_id": scorer.model_run_id,
            **{f"tier_{t}_leads": figures["leads_per_tier"][t] for t in TIERS},
            "share_passing_buy_box": figures["share_passing_buy_box"],
            "p90_priority_score": figures["p90_priority_score"],
            "median_profit_top_decile_priority": figures["median_profit_top_decile_priority"],
            "arv_fallback_share": figures["arv_fallback_share"],
            "reasons_reused": stats.reasons_reused,
            "reasons_exact": stats.reasons_exact,
            "reasons_approximate": stats.reasons_approximate,
            "preview": preview(queue_order(scored).select("queue_rank", "lead_id", "tier", "priority_score",
                                                          "expected_value", "conservative_profit", "narrative")),
        },
        check_results=[
            gate_check("every_active_lead_scored", GateResult(
                scored_share >= config.min_scored_share,
                f"{scored.height:,} of {records.height:,} active leads scored ({scored_share:.1%}); "
                f"needs >= {config.min_scored_share:.0%}",
                {"scored": scored.height, "active": records.height, "share": scored_share})),
            gate_check("tier_a_passes_buy_box", GateResult(
                tier_a_failing == 0, f"{tier_a_failing} tier-A leads fail the buy-box; must be 0",
                {"tier_a_failing": tier_a_failing})),
        ],
    )


class SinkConfig(dg.Config):
    """What `lead_scores` writes: every row or one split of them, or only a report (dry run)."""

    rows: str = "all"  # all | holdout | training
    dry_run: bool = False


@dg.asset(partitions_def=SNAPSHOT_PARTITIONS, deps=["scored_leads"], group_name=GROUP, kinds={"duckdb", "postgres"},
          owners=OWNERS)
def lead_scores(context: dg.AssetExecutionContext, config: SinkConfig,
                warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Upsert of the day's scores into `lead_scores`, keyed (lead id, target, scoring date), in one transaction."""
    day = dt.date.fromisoformat(context.partition_key)
    wh = warehouse.open()
    if not wh.table_exists(SCORED_TABLE) or not wh.row_count(SCORED_TABLE, "scoring_date = ?", [day]):
        raise dg.Failure(f"no scored leads for {day}: materialize scored_leads for {day} first")
    try:
        chosen = select_rows(wh.read(SCORED_TABLE, "scoring_date = ?", [day]), config.rows)
    except ValueError as exc:
        raise dg.Failure(str(exc)) from None
    rows = long_scores(chosen)
    existing = wh.read(SINK_TABLE, "scoring_date = ?", [day]) if wh.table_exists(SINK_TABLE) else None
    diff = diff_rows(rows, existing)
    if not config.dry_run:
        wh.replace_rows(SINK_TABLE, rows, SINK_KEY)
    return dg.MaterializeResult(metadata={
        "dry_run": config.dry_run,
        "rows_selected": config.rows,
        "rows": rows.height,
        "rows_to_insert" if config.dry_run else "rows_inserted": diff.inserts,
        "rows_to_update" if config.dry_run else "rows_updated": diff.updates,
        "rows_unchanged": diff.unchanged,
        "table": f"{warehouse.describe()}:{SINK_TABLE}",
        "preview": preview(rows.head(6)),
    })


class QueueConfig(dg.Config):
    """Where the queue goes and how much of it."""

    top_n: int | None = None  # None: every active lead


@dg.asset(partitions_def=SNAPSHOT_PARTITIONS, deps=["scored_leads"], group_name=GROUP, kinds={"polars"},
          owners=OWNERS)
def priority_queue(context: dg.AssetExecutionContext, config: QueueConfig, warehouse: WarehouseResource,
                   data_folder: DataFolderResource) -> dg.MaterializeResult:
    """The day's ranked outreach list as CSV, and a profitability report for every tier-A lead."""
    day = dt.date.fromisoformat(context.partition_key)
    wh = warehouse.open()
    if not wh.table_exists(SCORED_TABLE) or not wh.row_count(SCORED_TABLE, "scoring_date = ?", [day]):
        raise dg.Failure(f"no scored leads for {day}: materialize scored_leads for {day} first")
    queue = queue_order(wh.read(SCORED_TABLE, "scoring_date = ?", [day]))
    if config.top_n is not None:
        queue = queue.head(config.top_n)
    layout = data_folder.layout()
    exports = layout.root / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    csv_path = exports / f"priority_queue_{day}.csv"
    queue.select(*QUEUE_COLUMNS_FIRST, *[c for c in queue.columns if c not in QUEUE_COLUMNS_FIRST
                                         and c not in ("feature_hash", "buy_box_settings")]).write_csv(csv_path)
    report_dir = layout.reports / "profitability" / day.isoformat()
    reports = _tier_a_reports(queue.filter(pl.col("tier") == "A"), report_dir)
    figures = tier_figures(queue)
    return dg.MaterializeResult(metadata={
        "csv": dg.MetadataValue.path(str(csv_path)),
        "rows": queue.height,
        "tier_a_reports": len(reports),
        "reports_index": dg.MetadataValue.path(str(report_dir / "index.md")),
        "median_profit_top_decile_priority": figures["median_profit_top_decile_priority"],
        "top_of_queue": preview(queue.select("queue_rank", "lead_id", "tier", "priority_score", "expected_value",
                                             "conservative_profit", "top_reasons"), rows=10),
    })


QUEUE_COLUMNS_FIRST = ["queue_rank", "lead_id", "tier", "priority_score", "expected_value", "conservative_profit"]


def _tier_a_reports(tier_a: pl.DataFrame, folder) -> list:  # noqa: ANN001 - a Path
    """One markdown report per tier-A lead, from the buy-box audit of its stored inputs, plus an index."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.md"):
        old.unlink()  # a re-run must not leave reports of leads no longer in tier A
    audited = evaluate_deals(tier_a, _buy_box_of(tier_a), audit=True) if tier_a.height else tier_a
    paths = []
    lines = ["# Tier-A profitability reports", "", "| rank | lead | priority | profit | report |", "|---|---|---|---|---|"]
    for lead in audited.to_dicts():
        path = folder / f"{lead['lead_id']}.md"
        path.write_text(profitability_report(lead, lead["buy_box_audit"]))
        paths.append(path)
        lines.append(f"| {lead['queue_rank']} | {lead['lead_id']} | {lead['priority_score']:.1f} | "
                     f"${lead['conservative_profit']:,.0f} | [{path.name}]({path.name}) |")
    (folder / "index.md").write_text("\n".join(lines) + "\n")
    return paths


def _buy_box_of(scored: pl.DataFrame) -> BuyBoxConfig:
    """The buy-box settings the scores were made with (stored beside them by scored_leads)."""
    settings = scored["buy_box_settings"][0] if "buy_box_settings" in scored.columns else None
    return BuyBoxConfig(**json.loads(settings)) if settings else BuyBoxConfig()


SCORING_ASSETS = [scored_leads, lead_scores, priority_queue]
