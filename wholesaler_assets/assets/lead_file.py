"""A user's lead file: its open leads scored at the cutoff, and its months after the cutoff monitored."""

import datetime as dt

import dagster as dg
import polars as pl

from wholesaler_assets.assets.metadata import OWNERS, STORAGE_RETRY, gate_check, parameter_default, preview
from wholesaler_assets.domain.gates.result import GateResult
from wholesaler_assets.domain.monitoring.drift import DRIFT_SHARE
from wholesaler_assets.domain.monitoring.estimation import N_DRAWS
from wholesaler_assets.domain.monitoring.monthly import MONTH, LabelRule, month_drift, month_figures
from wholesaler_assets.domain.scoring.batch import score_batch
from wholesaler_assets.domain.scoring.caller_queue import caller_export, technical_export
from wholesaler_assets.domain.scoring.lead_file import tier_ranges
from wholesaler_assets.domain.scoring.ranking import queue_order
from wholesaler_assets.domain.snapshots.lead_tables import SYNTHETIC_MARKET
from wholesaler_assets.io.drift_reports import save_drift_report
from wholesaler_assets.io.inputs import load_catalog
from wholesaler_assets.io.registry import CHAMPION
from wholesaler_assets.io.reports import write_priority_queue
from wholesaler_assets.io.scoring_inputs import load_scorer, open_lead_records, scored_lead_file
from wholesaler_assets.resources import DataFolderResource, MlflowResource, WarehouseResource

GROUP = "monitoring"
TABLE = "lead_file_monitoring"
SCORES_TABLE = "lead_file_scores"


class LeadFileScoringConfig(dg.Config):
    """Which model scores, and how many of the best leads get exact reasons."""

    model_alias: str = CHAMPION
    exact_reasons_top_n: int = parameter_default(score_batch, "exact_top_n")
    chunk_rows: int = parameter_default(score_batch, "chunk_rows")



def _lead_file_and_scorer(wh, mlflow_tracking: MlflowResource, alias: str, not_synthetic: str):
    """The dataset's catalog (refused, saying `not_synthetic`, when it is the synthetic market), the scorer
    behind `alias`, its registry version and the file's cutoff."""
    catalog = load_catalog(wh)
    if catalog.origin == SYNTHETIC_MARKET:
        raise dg.Failure(not_synthetic, allow_retries=False)
    scorer, version = load_scorer(mlflow_tracking, alias)
    return catalog, scorer, version, dt.datetime.fromisoformat(catalog.data_cutoff)

@dg.asset(retry_policy=STORAGE_RETRY, deps=["lead_contacts", "lead_outcomes", "registered_scorer"],
          group_name="scoring", kinds={"mlflow", "xgboost", "polars"}, owners=OWNERS, code_version="1")
def lead_file_scores(config: LeadFileScoringConfig, warehouse: WarehouseResource, mlflow_tracking: MlflowResource,
                     data_folder: DataFolderResource) -> dg.MaterializeResult:
    """A lead file's open leads at its cutoff, scored by the champion and ranked within the batch, as a queue."""
    wh = warehouse.open()
    catalog, scorer, version, cutoff = _lead_file_and_scorer(
        wh, mlflow_tracking, config.model_alias,
        "lead_file_scores scores a dataset spec's lead file; the synthetic market is scored day by day by scored_leads")
    records = open_lead_records(wh, scorer, catalog, cutoff)
    if records.height == 0:
        rule = ("no lead's open_column marks it open" if catalog.open_rule == "column" else
                "no lead was contacted within its target window before the cutoff without an outcome and "
                "outside the training tables; name the open leads with open_column in the spec")
        raise dg.Failure(f"nothing to score in {catalog.name} at its cutoff {catalog.data_cutoff}: {rule}",
                         allow_retries=False)
    scored, stats = score_batch(scorer, records, None, config.exact_reasons_top_n, config.chunk_rows)
    queue = queue_order(scored)
    wh.replace_table(SCORES_TABLE, queue)
    csv, _ = write_priority_queue(data_folder.layout().root / "exports", cutoff.date(), caller_export(queue),
                                  technical_export(queue), f"{catalog.name}_queue")
    value = f"p_{scorer.value_model.target}"
    return dg.MaterializeResult(metadata={
        "dataset": catalog.name,
        "as_of": catalog.data_cutoff,
        "open_rule": catalog.open_rule,
        "scored_leads": queue.height,
        "model_version": scorer.model_version,
        "model_registry_version": version,
        "ranked_by": value,
        "tiers": dg.MetadataValue.json(tier_ranges(queue, value)),
        "reasons_exact": stats.reasons_exact,
        "csv": dg.MetadataValue.path(str(csv)),
        "table": f"{warehouse.describe()}:{SCORES_TABLE}",
        "top_of_queue": preview(queue.select("queue_rank", "lead_id", "tier", "priority_score", value,
                                             "top_reasons"), rows=10),
    })


class LeadFileMonitoringConfig(dg.Config):
    """Which model is judged, how many simulated label sets make an interval, when a month drifted."""

    model_alias: str = CHAMPION
    n_draws: int = N_DRAWS
    drift_share: float = DRIFT_SHARE


@dg.asset(retry_policy=STORAGE_RETRY, deps=["lead_contacts", "lead_outcomes", "registered_scorer"], group_name=GROUP,
          kinds={"evidently", "polars"}, owners=OWNERS, code_version="1",
          check_specs=[dg.AssetCheckSpec("lead_file_estimate_holds", asset="lead_file_monitoring", blocking=False,
                                         description="Warns when a month's realized base rate leaves the interval its "
                                                     "estimate gave, or the month's leads drifted.")])
def lead_file_monitoring(context: dg.AssetExecutionContext, config: LeadFileMonitoringConfig,
                         warehouse: WarehouseResource, mlflow_tracking: MlflowResource,
                         data_folder: DataFolderResource):
    """Each month of a lead file after the champion's cutoff: estimated vs realized performance and drift."""
    wh = warehouse.open()
    catalog, scorer, version, cutoff = _lead_file_and_scorer(
        wh, mlflow_tracking, config.model_alias, "lead_file_monitoring judges a dataset spec's lead file; the "
        "synthetic market is monitored day by day by realized_performance and drift_report")
    reference, later, known_until = scored_lead_file(wh, scorer, cutoff)
    if later.height == 0:
        raise dg.Failure(f"no contact after the champion's data cutoff {catalog.data_cutoff}: set data_cutoff in "
                         "the spec where training should stop (`wholesaler replay --dataset-spec` does)",
                         allow_retries=False)
    figures = month_figures(later, wh.read("lead_outcomes"),
                            LabelRule(catalog.targets, known_until, catalog.censor_provided_labels), config.n_draws)
    drift = month_drift(reference, later, catalog.feature_columns, config.drift_share)
    folder = data_folder.layout().reports / "drift" / catalog.name
    reports = {m: save_drift_report(s, folder / m.strftime("%Y-%m"))["html"] for m, s in drift.items()}
    table = figures.join(pl.DataFrame({MONTH: list(drift), "drifted_share": [s.drifted_share for s in drift.values()],
                                       "dataset_drift": [s.dataset_drift for s in drift.values()]},
                                      schema={MONTH: pl.Date, "drifted_share": pl.Float64,
                                              "dataset_drift": pl.Boolean}), on=MONTH, how="left")
    wh.replace_table(TABLE, table)
    off = table.filter(pl.col("base_rate_outside").fill_null(False))
    drifted = sorted({m.isoformat()[:7] for m, s in drift.items() if s.dataset_drift})
    yield dg.Output(None, metadata={
        "dataset": catalog.name,
        "model_registry_version": version,
        "trained_until": catalog.data_cutoff,
        "months": len(drift),
        "contacts_after_cutoff": later.height,
        "months_outside_estimate": off.height,
        "months_drifted": dg.MetadataValue.json(drifted),
        "by_month": preview(table.select("target", MONTH, "n", "labelled", "estimated_base_rate", "base_rate_lower",
                                         "base_rate_upper", "realized_base_rate", "estimated_pr_auc",
                                         "realized_pr_auc", "realized_ece", "drifted_share"), rows=36),
        "drift_reports": dg.MetadataValue.md("\n".join(f"- {m:%Y-%m}: `{p}`" for m, p in reports.items())),
    })
    text = "; ".join(f"{r['target']} {r[MONTH]:%Y-%m}: realized {r['realized_base_rate']:.3f} outside "
                     f"[{r['base_rate_lower']:.3f}, {r['base_rate_upper']:.3f}]" for r in off.iter_rows(named=True))
    yield gate_check(GateResult(
        name="lead_file_estimate_holds", passed=off.height == 0 and not drifted, value=float(off.height),
        threshold=0.0, summary=(text or "every judged month within its interval")
        + (f"; dataset drift in {', '.join(drifted)}" if drifted else ""),
        details={"months_outside": off.height, "months_drifted": drifted}), severity=dg.AssetCheckSeverity.WARN)


LEAD_FILE_ASSETS = [lead_file_scores, lead_file_monitoring]
