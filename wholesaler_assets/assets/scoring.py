"""Scoring assets: the daily scored leads, the idempotent `lead_scores` sink and the priority queue."""

import datetime as dt
import json

import dagster as dg
import polars as pl

from wholesaler_assets.assets.metadata import (
    OWNERS,
    STORAGE_RETRY,
    as_domain,
    check_specs,
    column_schema,
    figure_markdown,
    gate_check,
    parameter_default,
    preview,
)
from wholesaler_assets.domain.contracts.choices import RowSelection
from wholesaler_assets.domain.features.warehouse_records import records_as_of
from wholesaler_assets.domain.gates.scoring import ScoringThresholds, scoring_gates
from wholesaler_assets.domain.scoring.batch import score_batch
from wholesaler_assets.domain.scoring.plots import score_histogram, tier_chart
from wholesaler_assets.domain.scoring.ranking import (
    TIERS,
    profitability_report,
    queue_order,
    tier_figures,
    with_lead_context,
)
from wholesaler_assets.domain.scoring.score_rows import SINK_KEY, diff_rows, long_scores, select_rows
from wholesaler_assets.domain.valuation.buy_box import BuyBoxConfig, evaluate_deals
from wholesaler_assets.io.inputs import scored_day
from wholesaler_assets.io.registry import CHAMPION
from wholesaler_assets.io.reports import write_lead_reports, write_priority_queue
from wholesaler_assets.io.scoring_inputs import active_records, lead_splits, load_scorer, previous_reasons
from wholesaler_assets.partitions import DAILY_PARTITIONS
from wholesaler_assets.resources import ClockResource, DataFolderResource, MlflowResource, WarehouseResource

GROUP = "scoring"
SINK_TABLE = "lead_scores"
SCORING_CHECKS = {
    "every_active_lead_scored": "At least 95% of active leads got a score (the seeds' coverage bar).",
    "tier_a_passes_buy_box": "No tier-A lead fails the buy-box.",
}


class ScoringConfig(dg.Config):
    """Which model scores, which leads count as active, and how much is explained exactly."""

    model_alias: str = CHAMPION
    next_channel: str = parameter_default(records_as_of, "next_channel")  # first touch of an uncontacted lead
    include_uncontacted_distressed: bool = parameter_default(records_as_of, "include_uncontacted_distressed")
    max_snapshot_age_days: int = 7
    exact_reasons_top_n: int = parameter_default(score_batch, "exact_top_n")  # and every tier-A lead
    chunk_rows: int = parameter_default(score_batch, "chunk_rows")
    min_scored_share: float = ScoringThresholds().min_scored_share


@dg.asset(retry_policy=STORAGE_RETRY,
          partitions_def=DAILY_PARTITIONS, deps=["property_snapshots", "lead_contacts", "lead_outcomes",
                                                 "registered_scorer"],
          group_name=GROUP, kinds={"mlflow", "xgboost", "polars"}, owners=OWNERS, code_version="1",
          io_manager_key="warehouse_io_manager", metadata={"partition_column": "scoring_date"},
          check_specs=check_specs("scored_leads", SCORING_CHECKS, partitions_def=DAILY_PARTITIONS))
def scored_leads(context: dg.AssetExecutionContext, config: ScoringConfig, warehouse: WarehouseResource,
                 mlflow_tracking: MlflowResource, clock: ClockResource):
    """Every active lead scored by the champion as of the day: probabilities, ARV, buy-box, tier, reasons."""
    day = dt.date.fromisoformat(context.partition_key)
    wh = warehouse.open()
    scorer, version = load_scorer(mlflow_tracking, config.model_alias)
    records = active_records(wh, scorer, day, config.max_snapshot_age_days, config.next_channel,
                             config.include_uncontacted_distressed)
    scored, stats = score_batch(scorer, records, previous_reasons(wh, day), config.exact_reasons_top_n,
                                config.chunk_rows)
    scored = with_lead_context(scored, records, lead_splits(wh, scorer.value_model.target),
                               clock.now(), scorer.buy_box)
    figures = tier_figures(scored)
    experiment_id = mlflow_tracking.start()
    yield dg.Output(scored, metadata={
        "active_leads": records.height,
        "scored_leads": scored.height,
        "model_version": scorer.model_version,
        "model_registry_version": version,
        "model_run": dg.MetadataValue.url(mlflow_tracking.run_url(experiment_id, scorer.model_run_id)),
        **{f"tier_{t}_leads": figures["leads_per_tier"][t] for t in TIERS},
        "share_passing_buy_box": round(figures["share_passing_buy_box"], 4),
        "p90_priority_score": round(figures["p90_priority_score"], 2),
        "median_profit_top_decile_priority": round(figures["median_profit_top_decile_priority"] or 0.0),
        "arv_fallback_share": round(figures["arv_fallback_share"], 4),
        "score_histogram": figure_markdown(score_histogram(scored, f"priority scores {day}"), "priority scores"),
        "tier_chart": figure_markdown(tier_chart(scored, f"leads per tier {day}"), "leads per tier"),
        "dagster/column_schema": column_schema(scored),
        "reasons_reused": stats.reasons_reused,
        "reasons_exact": stats.reasons_exact,
        "reasons_approximate": stats.reasons_approximate,
        "preview": preview(queue_order(scored).select("queue_rank", "lead_id", "tier", "priority_score",
                                                      "expected_value", "conservative_profit", "narrative")),
    })
    for gate in scoring_gates(scored, records.height, as_domain(config, ScoringThresholds)):
        yield gate_check(gate, partition=context.partition_key)


class SinkConfig(dg.Config):
    """What `lead_scores` writes: every row or one split of them, or only a report (dry run)."""

    rows: RowSelection = "all"
    dry_run: bool = False


@dg.asset(retry_policy=STORAGE_RETRY,
          partitions_def=DAILY_PARTITIONS, deps=["scored_leads"], group_name=GROUP, kinds={"duckdb", "postgres"},
          owners=OWNERS, code_version="1")
def lead_scores(context: dg.AssetExecutionContext, config: SinkConfig,
                warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Upsert of the day's scores into `lead_scores`, keyed (lead id, target, scoring date), in one transaction."""
    day = dt.date.fromisoformat(context.partition_key)
    wh = warehouse.open()
    rows = long_scores(select_rows(scored_day(wh, day), config.rows))
    diff = diff_rows(rows, wh.read(SINK_TABLE, "scoring_date = ?", [day]) if wh.table_exists(SINK_TABLE) else None)
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
        "dagster/column_schema": column_schema(rows),
    })


class QueueConfig(dg.Config):
    """How much of the queue to export."""

    top_n: int | None = None  # None: every active lead


def _buy_box_of(scored: pl.DataFrame) -> BuyBoxConfig:
    """The buy-box settings the scores were made with (stored beside them by scored_leads)."""
    settings = scored["buy_box_settings"][0] if "buy_box_settings" in scored.columns else None
    return BuyBoxConfig(**json.loads(settings)) if settings else BuyBoxConfig()


@dg.asset(retry_policy=STORAGE_RETRY,
          partitions_def=DAILY_PARTITIONS, deps=["scored_leads"], group_name=GROUP, kinds={"polars"},
          owners=OWNERS, code_version="1")
def priority_queue(context: dg.AssetExecutionContext, config: QueueConfig, warehouse: WarehouseResource,
                   data_folder: DataFolderResource) -> dg.MaterializeResult:
    """The day's ranked outreach list as CSV, and a profitability report for every tier-A lead."""
    day = dt.date.fromisoformat(context.partition_key)
    queue = queue_order(scored_day(warehouse.open(), day))
    if config.top_n is not None:
        queue = queue.head(config.top_n)
    layout = data_folder.layout()
    csv_path = write_priority_queue(layout.root / "exports", day, queue)
    tier_a = queue.filter(pl.col("tier") == "A")
    audited = evaluate_deals(tier_a, _buy_box_of(tier_a), audit=True) if tier_a.height else tier_a
    report_dir = layout.reports / "profitability" / day.isoformat()
    reports = write_lead_reports(report_dir, audited.to_dicts(),
                                 lambda lead: profitability_report(lead, lead["buy_box_audit"]))
    return dg.MaterializeResult(metadata={
        "csv": dg.MetadataValue.path(str(csv_path)),
        "rows": queue.height,
        "tier_a_reports": len(reports),
        "reports_index": dg.MetadataValue.path(str(report_dir / "index.md")),
        "median_profit_top_decile_priority": round(tier_figures(queue)["median_profit_top_decile_priority"] or 0.0),
        "dagster/column_schema": column_schema(queue),
        "top_of_queue": preview(queue.select("queue_rank", "lead_id", "tier", "priority_score", "expected_value",
                                             "conservative_profit", "top_reasons"), rows=10),
    })

