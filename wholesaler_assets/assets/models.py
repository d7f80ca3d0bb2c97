"""Model assets: baseline and XGBoost per target, calibration and the gated holdout evaluation."""

from typing import Any

import dagster as dg
import pandas as pd
import polars as pl

from wholesaler_assets.assets.metadata import OWNERS, as_domain, check_specs, gate_check, inline_png
from wholesaler_assets.domain.contracts.choices import MODEL_KINDS
from wholesaler_assets.domain.evaluation.gates import GateThresholds
from wholesaler_assets.domain.evaluation.metrics import figures_line
from wholesaler_assets.domain.evaluation.target_evaluation import evaluate_target, evaluation_figures
from wholesaler_assets.domain.evaluation.verdict import DEFAULT_EDGES, calibrate, holdout_score_rows
from wholesaler_assets.domain.training.search import SEARCH_CONFIGS, TrainedCandidate, train_baseline, train_xgboost
from wholesaler_assets.io.artifacts import (
    CALIBRATORS_FILE,
    CANDIDATE_FILES,
    load_calibrators,
    load_candidates,
    write_evaluation,
)
from wholesaler_assets.io.inputs import training_inputs
from wholesaler_assets.io.reports import feature_contract_file, model_reports_folder, write_evaluation_files
from wholesaler_assets.io.tracking import log_evaluation_run
from wholesaler_assets.partitions import TARGET_PARTITIONS
from wholesaler_assets.resources import DataFolderResource, MlflowResource, WarehouseResource

GROUP = "models"
MODEL_IO = "model_io_manager"
_GATES = GateThresholds()
EVALUATION_CHECKS = {
    "pr_auc_vs_baseline": "Holdout PR-AUC at least 5% above the baseline's (relative).",
    "top_decile_lift": "Positive rate in the top 10% at least 1.3x the overall rate.",
    "ece_global": "Expected calibration error at most 0.05 on the holdout.",
    "ece_segments": "ECE at most 0.05 in every value segment with enough leads.",
    "brier_vs_baseline": "Brier score no worse than the baseline's.",
    "cv_stability": "Coefficient of variation of fold PR-AUC below 20%.",
    "train_holdout_gap": "Cross-validated PR-AUC lift within 15% of the holdout's.",
}


# The holdout figures shown beside the verdict (names of `classification_figures`).
FIGURES = ("pr_auc", "roc_auc", "top_decile_lift", "brier", "ece", "mean_predicted", "actual_rate",
           "calibration_in_the_large")


class ModelConfig(dg.Config):
    """Search budget, calibration segments and gate thresholds (defaults: `GateThresholds`, the seeds')."""

    search_configs: int = SEARCH_CONFIGS
    segment_edges: list[float] = list(DEFAULT_EDGES)  # estimated-value bands calibrated separately
    min_segment_rows: int = _GATES.min_segment_rows
    min_relative_pr_auc_gain: float = _GATES.min_relative_pr_auc_gain
    min_top_decile_lift: float = _GATES.min_top_decile_lift
    max_ece: float = _GATES.max_ece
    max_cv_pr_auc_cov: float = _GATES.max_cv_pr_auc_cov
    max_train_holdout_gap: float = _GATES.max_train_holdout_gap


def _candidate_metadata(candidate: TrainedCandidate) -> dict:
    return {
        "cv_pr_auc_mean": candidate.cv.mean_pr_auc,
        "cv_pr_auc_by_fold": dg.MetadataValue.json([round(v, 5) for v in candidate.cv.fold_pr_aucs]),
        "features": dg.MetadataValue.json(list(candidate.space.features)),
    }


def _model_asset(kinds: set[str], artifact: str, deps: list[str]) -> dict:
    return {"partitions_def": TARGET_PARTITIONS, "deps": deps, "group_name": GROUP, "kinds": kinds,
            "owners": OWNERS, "code_version": "1", "io_manager_key": MODEL_IO,
            "metadata": {"artifact_file": "{partition}/" + artifact}}


@dg.asset(**_model_asset({"scikit-learn"}, CANDIDATE_FILES["baseline"], ["feature_selection"]))
def baseline_model(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.Output[TrainedCandidate]:
    """Logistic-regression baseline on the selected features, cross-validated on the saved blocked folds."""
    inputs = training_inputs(warehouse.open(), context.partition_key)
    candidate = train_baseline(inputs["train"], inputs["folds"], inputs["per_fold"], inputs["final"], inputs["kinds"])
    return dg.Output(candidate, metadata=_candidate_metadata(candidate))


@dg.asset(**_model_asset({"xgboost"}, CANDIDATE_FILES["xgboost"], ["feature_selection"]))
def conversion_model(context: dg.AssetExecutionContext, config: ModelConfig,
                     warehouse: WarehouseResource) -> dg.Output[TrainedCandidate]:
    """XGBoost searched over depth, rate, rounds and imbalance inside the folds; refit on the training window."""
    inputs = training_inputs(warehouse.open(), context.partition_key)
    candidate = train_xgboost(inputs["train"], inputs["folds"], inputs["per_fold"], inputs["final"], inputs["kinds"],
                              n_configs=config.search_configs, max_cv_cov=config.max_cv_pr_auc_cov)
    return dg.Output(candidate, metadata={
        **_candidate_metadata(candidate),
        "chosen_config": dg.MetadataValue.json(candidate.config.__dict__ if candidate.config else {}),
        "search": dg.MetadataValue.md(pd.DataFrame(candidate.search).drop(columns="fold_pr_aucs")
                                      .to_markdown(index=False, floatfmt=".4f")),
    })


@dg.asset(**_model_asset({"scikit-learn"}, CALIBRATORS_FILE, ["baseline_model", "conversion_model"]))
def calibrator(context: dg.AssetExecutionContext, config: ModelConfig, warehouse: WarehouseResource,
               data_folder: DataFolderResource) -> dg.Output[dict]:
    """Isotonic or Platt calibration of both candidates, chosen by out-of-fold Brier, global and per value segment."""
    target = context.partition_key
    inputs = training_inputs(warehouse.open(), target)
    metadata: dict[str, Any] = {}
    fitted = {}
    for kind, candidate in load_candidates(data_folder.root, target).items():
        fitted[kind], scores = calibrate(candidate, inputs["train"], config.min_segment_rows,
                                         tuple(config.segment_edges), inputs["segment_column"])
        metadata[f"{kind}_method"] = fitted[kind].method
        metadata[f"{kind}_segments_calibrated"] = dg.MetadataValue.json(sorted(fitted[kind].segment_models))
        metadata.update({f"{kind}_{k}": float(v) for k, v in scores.items()})
    return dg.Output(fitted, metadata=metadata)


@dg.asset(partitions_def=TARGET_PARTITIONS, deps=["calibrator"], group_name=GROUP,
          kinds={"xgboost", "scikit-learn", "mlflow"}, owners=OWNERS, code_version="1",
          check_specs=check_specs("model_evaluation", EVALUATION_CHECKS, partitions_def=TARGET_PARTITIONS))
def model_evaluation(context: dg.AssetExecutionContext, config: ModelConfig, warehouse: WarehouseResource,
                     data_folder: DataFolderResource, mlflow_tracking: MlflowResource):
    """Both calibrated candidates on the temporal holdout through the gates; the winner, explained, logged to MLflow."""
    target = context.partition_key
    inputs = training_inputs(warehouse.open(), target)
    candidates, calibrators = load_candidates(data_folder.root, target), load_calibrators(data_folder.root, target)
    thresholds = as_domain(config, GateThresholds)
    evaluation = evaluate_target(target, candidates, calibrators, inputs["holdout"], thresholds)
    warehouse.open().replace_partition(  # what the gates judged: the parity test holds the scorer to it
        "holdout_scores", holdout_score_rows(inputs["holdout"], evaluation.scores).with_columns(
            target=pl.lit(target)), "target", target)
    verdict, metrics = evaluation.verdict, evaluation.metrics
    reports = data_folder.layout().reports
    pictures = write_evaluation_files(
        model_reports_folder(reports, target), {"final": inputs["final"], "per_fold": inputs["per_fold"]},
        inputs["folds"], candidates["xgboost"].search, evaluation.explanations,
        feature_contract_file(reports, inputs["dataset"]), evaluation_figures(evaluation))
    run_id, run_url = log_evaluation_run(
        mlflow_tracking, target, {"target": target, "winner": verdict.winner, "dataset": inputs["dataset"]},
        {"target": target, "search_configs": config.search_configs,
         **{f"xgb_{k}": v for k, v in candidates["xgboost"].config.__dict__.items()},
         **{f"gate_{k}": v for k, v in thresholds.__dict__.items()},
         **{f"{kind}_calibration": calibrators[kind].method for kind in MODEL_KINDS}},
        metrics, verdict.gates, model_reports_folder(reports, target))
    judged = metrics[verdict.judged_kind]
    figures = {name: judged[f"holdout_{name}"] for name in FIGURES}
    write_evaluation(data_folder.root, target, {
        "target": target, **verdict.as_dict(), "run_id": run_id, "judged": verdict.judged_kind,
        **{f"holdout_{name}": value for name, value in figures.items()}})
    yield dg.MaterializeResult(metadata={
        "winner": verdict.winner,
        "why": verdict.explanation,
        "holdout_figures": f"{verdict.judged_kind}: {figures_line(figures)}",
        "xgboost_holdout_pr_auc": round(metrics["xgboost"]["holdout_pr_auc"], 4),
        "baseline_holdout_pr_auc": round(metrics["baseline"]["holdout_pr_auc"], 4),
        **{f"holdout_{name}": round(value, 4) for name, value in figures.items() if name != "pr_auc"},
        "mlflow_run": dg.MetadataValue.url(run_url),
        "mlflow_run_id": run_id,
        "explanations": dg.MetadataValue.md(evaluation.explanations),
        **{f"plot_{name}": dg.MetadataValue.md(inline_png(path.read_bytes(), f"{name} {target}"))
           for name, path in pictures.items()},  # shown in place; the files stay beside the report
        **{f"plot_{name}_file": dg.MetadataValue.path(str(path)) for name, path in pictures.items()},
    })
    for gate in verdict.decisive_gates:
        yield gate_check(gate, partition=target, candidate=verdict.judged_kind)
