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
from wholesaler_assets.domain.scoring.caller_queue import (
    attach_owner_contacts,
    caller_export,
    technical_export,
    with_checked_deals,
)
from wholesaler_assets.domain.scoring.plots import score_histogram, tier_chart
from wholesaler_assets.domain.scoring.ranking import (
    TIERS,
    profitability_report,
    queue_order,
    tier_figures,
    with_lead_context,
)
from wholesaler_assets.domain.scoring.score_rows import SINK_KEY, diff_rows, long_scores, select_rows
from wholesaler_assets.domain.valuation.buy_box_config import BuyBoxConfig
from wholesaler_assets.domain.valuation.comparables import ArvCheckConfig, checked_deals
from wholesaler_assets.io.inputs import scored_day
from wholesaler_assets.io.registry import CHAMPION
from wholesaler_assets.io.reports import read_owner_file, write_lead_reports, write_priority_queue
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
    figures, ordered = tier_figures(scored), queue_order(scored)
    experiment_id = mlflow_tracking.start()
    yield dg.Output(scored, metadata={
        "active_leads": records.height,
        "scored_leads": scored.height,
        "model_version": scorer.model_version,
        "model_registry_version": version,
        "model_run": dg.MetadataValue.url(mlflow_tracking.run_url(experiment_id, scorer.model_run_id)),
        **{f"tier_{t}_leads": figures["leads_per_tier"][t] for t in TIERS},
        **{k: round(figures[k] or 0.0, digits) for k, digits in (
            ("share_passing_buy_box", 4), ("p90_priority_score", 2), ("median_profit_top_decile_priority", 0),
            ("arv_fallback_share", 4)) if k in figures},  # none for a lead file but the priority
        "score_histogram": figure_markdown(score_histogram(scored, f"priority scores {day}"), "priority scores"),
        "tier_chart": figure_markdown(tier_chart(scored, f"leads per tier {day}"), "leads per tier"),
        "dagster/column_schema": column_schema(scored),
        "reasons_reused": stats.reasons_reused,
        "reasons_exact": stats.reasons_exact,
        "reasons_approximate": stats.reasons_approximate,
        "preview": preview(ordered.select(*_present(ordered, "queue_rank", "lead_id", "tier", "priority_score",
                                                    "expected_value", "conservative_profit", "narrative"))),
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
    """How much of the queue to export, how tier-A ARVs are checked, and the opt-in owner file."""

    top_n: int | None = None  # None: every active lead
    owner_file: str | None = None  # CSV/Parquet with property_id + contact columns, joined at export only
    comparables_band: float = ArvCheckConfig().band
    max_arv_to_value: dict[str, float] = dict(ArvCheckConfig().max_arv_to_value)  # by condition
    comparables_lookback_days: int = ArvCheckConfig().lookback_days
    comparables_sqft_tolerance: float = ArvCheckConfig().sqft_tolerance


def _present(frame: pl.DataFrame, *columns: str) -> list[str]:
    """The columns `frame` has (a lead file's scores carry no expected value or profit)."""
    return [c for c in columns if c in frame.columns]


def _buy_box_of(scored: pl.DataFrame) -> BuyBoxConfig:
    """The buy-box settings the scores were made with (stored beside them by scored_leads)."""
    settings = scored["buy_box_settings"][0] if "buy_box_settings" in scored.columns else None
    return BuyBoxConfig(**json.loads(settings)) if settings else BuyBoxConfig()


@dg.asset(retry_policy=STORAGE_RETRY,
          partitions_def=DAILY_PARTITIONS, deps=["scored_leads", "comparable_sales"], group_name=GROUP,
          kinds={"polars"}, owners=OWNERS, code_version="2")
def priority_queue(context: dg.AssetExecutionContext, config: QueueConfig, warehouse: WarehouseResource,
                   data_folder: DataFolderResource) -> dg.MaterializeResult:
    """The caller's queue (CSV, plain headers) and its technical file; a report with comparables per tier-A lead."""
    day = dt.date.fromisoformat(context.partition_key)
    wh = warehouse.open()
    queue = queue_order(scored_day(wh, day))
    if config.top_n is not None:
        queue = queue.head(config.top_n)
    check = ArvCheckConfig(band=config.comparables_band, max_arv_to_value=config.max_arv_to_value,
                           lookback_days=config.comparables_lookback_days,
                           sqft_tolerance=config.comparables_sqft_tolerance)
    # A lead file has no property facts: no buy-box to check, no profitability report, no comparables.
    tier_a = queue.filter(pl.col("tier") == "A") if "passes_buy_box" in queue.columns else queue.clear()
    audited, comparables = (checked_deals(tier_a, wh.read("comparable_sales"), day, _buy_box_of(tier_a), check)
                            if tier_a.height else (tier_a, pl.DataFrame()))
    queue = with_checked_deals(queue, audited) if audited.height else queue
    caller = export = caller_export(queue)  # `export`: without owner contacts, for the metadata
    if config.owner_file:  # opt-in: contact details join the caller's file here and nowhere else
        try:
            caller = attach_owner_contacts(caller, read_owner_file(config.owner_file))
        except (OSError, ValueError) as error:
            raise dg.Failure(f"cannot attach owner contacts: {error}", allow_retries=False) from error
    layout = data_folder.layout()
    csv_path, technical_path = write_priority_queue(layout.root / "exports", day, caller, technical_export(queue))
    report_dir = layout.reports / "profitability" / day.isoformat()
    by_lead = comparables.partition_by("lead_id", as_dict=True) if comparables.height else {}
    reports = write_lead_reports(report_dir, audited.to_dicts(), lambda lead: profitability_report(
        lead, lead["buy_box_audit"], by_lead.get((lead["lead_id"],), pl.DataFrame()).to_dicts()))
    flagged = audited.filter(pl.col("arv_flags").is_not_null()).height if audited.height else 0
    return dg.MaterializeResult(metadata={
        "csv": dg.MetadataValue.path(str(csv_path)),
        "technical_csv": dg.MetadataValue.path(str(technical_path)),
        "rows": queue.height,
        "owner_contacts_attached": bool(config.owner_file),
        "tier_a_reports": len(reports),
        "tier_a_arv_from_comparables": int((audited["arv_source"] == "comparables").sum()) if audited.height else 0,
        "tier_a_arv_flagged": flagged,
        "tier_a_failing_on_checked_arv": int((~audited["passes_buy_box"]).sum()) if audited.height else 0,
        "reports_index": dg.MetadataValue.path(str(report_dir / "index.md")),
        **{k: round(v or 0.0) for k, v in tier_figures(queue).items() if k == "median_profit_top_decile_priority"},
        "dagster/column_schema": column_schema(export),
        "top_of_queue": preview(export.head(10).select(*_present(
            export, "Rank", "Lead ID", "Tier", "Priority (0-100)", "Expected value ($)", "Conservative profit ($)",
            "Why this lead")), rows=10),
    })
