"""Model assets: baseline and XGBoost per target, calibration, gated evaluation and the registered scorer."""

import json
import pickle
import tempfile
from pathlib import Path

import dagster as dg
import mlflow
import numpy as np
import pandas as pd
import polars as pl
from mlflow import MlflowClient

from wholesaler_assets.assets.common import OWNERS, preview
from wholesaler_assets.assets.training import TARGET_PARTITIONS, feature_contract_of, load_catalog
from wholesaler_assets.domain import plots
from wholesaler_assets.domain.evaluation import GateThresholds, pr_auc
from wholesaler_assets.domain.explanations import cohort_summary, global_importance, summary_markdown
from wholesaler_assets.domain.ingestion import sha256_of
from wholesaler_assets.domain.modeling import calibrate, cohorts_of, holdout_metrics, holdout_scores, judge
from wholesaler_assets.domain.selection import FINAL_FOLD
from wholesaler_assets.domain.splits import HOLDOUT, TRAIN
from wholesaler_assets.domain.targets import TARGET_NAMES
from wholesaler_assets.domain.training import LABEL, TrainedCandidate, train_baseline, train_xgboost
from wholesaler_assets.registry import CHAMPION, alias_version, decide_promotion, log_lead_scorer
from wholesaler_assets.resources import DataFolderResource, MlflowResource, WarehouseResource
from wholesaler_assets.domain.features import zip_market_levels
from wholesaler_assets.domain.lead_records import records_as_of
from wholesaler_assets.domain.scoring import TierConfig
from wholesaler_assets.domain.valuation import renovated_medians
from wholesaler_assets.scorer import Scorer, TargetModel, score_frame
from wholesaler_assets.warehouse import WarehouseBackend

GROUP = "models"
KINDS = {"xgboost", "scikit-learn", "mlflow"}


class ModelConfig(dg.Config):
    """Search budget, calibration and gate thresholds (defaults from the seeds)."""

    search_configs: int = 4  # grid points tried, each with and without scale_pos_weight
    segment_edges: list[float] = [150_000.0, 400_000.0]  # estimated-value bands calibrated separately
    min_segment_rows: int = 500
    min_relative_pr_auc_gain: float = 0.05
    min_top_decile_lift: float = 1.3
    max_ece: float = 0.05
    max_cv_pr_auc_cov: float = 0.20
    max_train_holdout_gap: float = 0.15

    def thresholds(self) -> GateThresholds:
        return GateThresholds(self.min_relative_pr_auc_gain, self.min_top_decile_lift, self.max_ece,
                              self.min_segment_rows, self.max_cv_pr_auc_cov, self.max_train_holdout_gap)


def _training_inputs(wh: WarehouseBackend, target: str) -> dict:
    """The target's training rows, folds and selected features (final and per fold)."""
    catalog = load_catalog(wh)
    table = wh.read("training_table", "target = ?", [target])
    selection = wh.read("feature_selection", "target = ? and selected", [target]).sort("fold", "position")
    per_fold = {int(f): selection.filter(pl.col("fold") == f)["feature"].to_list()
                for f in selection["fold"].unique().to_list()}
    return {
        "table": table,
        "train": table.filter(pl.col("split") == TRAIN),
        "holdout": table.filter(pl.col("split") == HOLDOUT),
        "folds": wh.read("training_folds", "target = ?", [target]),
        "final": per_fold.get(FINAL_FOLD, []),
        "per_fold": {k: v for k, v in per_fold.items() if k != FINAL_FOLD},
        "kinds": feature_contract_of(catalog).kinds,
    }


def _model_dir(data_folder: DataFolderResource, target: str) -> Path:
    folder = data_folder.layout().root / "models" / target
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _candidate_metadata(candidate: TrainedCandidate, path: Path) -> dict:
    return {
        "cv_pr_auc_mean": candidate.cv.mean_pr_auc,
        "cv_pr_auc_by_fold": dg.MetadataValue.json([round(v, 5) for v in candidate.cv.fold_pr_aucs]),
        "features": dg.MetadataValue.json(list(candidate.space.features)),
        "model_file": dg.MetadataValue.path(str(path)),
    }


def _save(candidate: TrainedCandidate, path: Path) -> None:
    path.write_bytes(pickle.dumps(candidate))


def _load(path: Path) -> TrainedCandidate:
    if not path.exists():
        raise dg.Failure(f"{path} is missing: materialize the model assets of this target first")
    return pickle.loads(path.read_bytes())


@dg.asset(partitions_def=TARGET_PARTITIONS, deps=["feature_selection"], group_name=GROUP, kinds={"scikit-learn"},
          owners=OWNERS)
def baseline_model(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                   data_folder: DataFolderResource) -> dg.MaterializeResult:
    """Logistic-regression baseline on the selected features, cross-validated on the saved blocked folds."""
    inputs = _training_inputs(warehouse.open(), context.partition_key)
    candidate = train_baseline(inputs["train"], inputs["folds"], inputs["per_fold"], inputs["final"], inputs["kinds"])
    path = _model_dir(data_folder, context.partition_key) / "baseline.pkl"
    _save(candidate, path)
    return dg.MaterializeResult(metadata=_candidate_metadata(candidate, path))


@dg.asset(partitions_def=TARGET_PARTITIONS, deps=["feature_selection"], group_name=GROUP, kinds={"xgboost"},
          owners=OWNERS)
def conversion_model(context: dg.AssetExecutionContext, config: ModelConfig, warehouse: WarehouseResource,
                     data_folder: DataFolderResource) -> dg.MaterializeResult:
    """XGBoost searched over depth, rate, rounds and imbalance strategy inside the folds; refit on the training window."""
    inputs = _training_inputs(warehouse.open(), context.partition_key)
    candidate = train_xgboost(inputs["train"], inputs["folds"], inputs["per_fold"], inputs["final"], inputs["kinds"],
                              n_configs=config.search_configs, max_cv_cov=config.max_cv_pr_auc_cov)
    path = _model_dir(data_folder, context.partition_key) / "xgboost.pkl"
    _save(candidate, path)
    return dg.MaterializeResult(metadata={
        **_candidate_metadata(candidate, path),
        "chosen_config": dg.MetadataValue.json(candidate.config.__dict__ if candidate.config else {}),
        "search": dg.MetadataValue.md(pd.DataFrame(candidate.search).drop(columns="fold_pr_aucs")
                                      .to_markdown(index=False, floatfmt=".4f")),
    })


@dg.asset(partitions_def=TARGET_PARTITIONS, deps=["baseline_model", "conversion_model"], group_name=GROUP,
          kinds={"scikit-learn"}, owners=OWNERS)
def calibrator(context: dg.AssetExecutionContext, config: ModelConfig, warehouse: WarehouseResource,
               data_folder: DataFolderResource) -> dg.MaterializeResult:
    """Isotonic or Platt calibration of both candidates, chosen by out-of-fold Brier, global and per value segment."""
    inputs = _training_inputs(warehouse.open(), context.partition_key)
    folder = _model_dir(data_folder, context.partition_key)
    metadata = {}
    fitted = {}
    for kind in ("xgboost", "baseline"):
        candidate = _load(folder / f"{kind}.pkl")
        fitted[kind], scores = calibrate(candidate, inputs["train"], config.min_segment_rows,
                                         tuple(config.segment_edges))
        metadata[f"{kind}_method"] = fitted[kind].method
        metadata[f"{kind}_segments_calibrated"] = dg.MetadataValue.json(sorted(fitted[kind].segment_models))
        metadata.update({f"{kind}_{k}": float(v) for k, v in scores.items()})
    (folder / "calibrators.pkl").write_bytes(pickle.dumps(fitted))
    return dg.MaterializeResult(metadata=metadata)


EVALUATION_CHECKS = {
    "pr_auc_vs_baseline": "Holdout PR-AUC at least 5% above the baseline's (relative).",
    "top_decile_lift": "Positive rate in the top 10% at least 1.3x the overall rate.",
    "ece_global": "Expected calibration error at most 0.05 on the holdout.",
    "ece_segments": "ECE at most 0.05 in every value segment with enough leads.",
    "brier_vs_baseline": "Brier score no worse than the baseline's.",
    "cv_stability": "Coefficient of variation of fold PR-AUC below 20%.",
    "train_holdout_gap": "Cross-validated PR-AUC lift within 15% of the holdout's.",
}


@dg.asset(partitions_def=TARGET_PARTITIONS, deps=["calibrator"], group_name=GROUP, kinds=KINDS, owners=OWNERS,
          check_specs=[dg.AssetCheckSpec(name, asset="model_evaluation", blocking=True, description=text)
                       for name, text in EVALUATION_CHECKS.items()])
def model_evaluation(context: dg.AssetExecutionContext, config: ModelConfig, warehouse: WarehouseResource,
                     data_folder: DataFolderResource, mlflow_tracking: MlflowResource):
    """Both calibrated candidates on the temporal holdout through the gates; the winner, explained, logged to MLflow."""
    target = context.partition_key
    inputs = _training_inputs(warehouse.open(), target)
    dataset = load_catalog(warehouse.open()).name
    folder = _model_dir(data_folder, target)
    candidates = {kind: _load(folder / f"{kind}.pkl") for kind in ("xgboost", "baseline")}
    calibrators = pickle.loads((folder / "calibrators.pkl").read_bytes())
    scores = {kind: holdout_scores(candidates[kind], calibrators[kind], inputs["holdout"])
              for kind in candidates}
    verdict = judge(scores["xgboost"], scores["baseline"], config.thresholds())
    metrics = {kind: holdout_metrics(scores[kind], config.min_segment_rows) for kind in candidates}
    explained = candidates["baseline" if verdict.winner == "baseline" else "xgboost"]
    chosen = TargetModel(target, explained.kind, explained.model, explained.space, calibrators[explained.kind])
    report, importance = _explanations(chosen, inputs["holdout"])

    experiment_id = mlflow_tracking.start()
    with mlflow.start_run(run_name=f"train-{target}") as run:
        mlflow.set_tags({"target": target, "winner": verdict.winner, "dataset": dataset})
        mlflow.log_params({"target": target, "search_configs": config.search_configs,
                           **{f"xgb_{k}": v for k, v in (candidates["xgboost"].config.__dict__.items())},
                           **{f"gate_{k}": v for k, v in config.thresholds().__dict__.items()},
                           "xgboost_calibration": calibrators["xgboost"].method,
                           "baseline_calibration": calibrators["baseline"].method})
        for kind, values in metrics.items():
            mlflow.log_metrics({f"{kind}_{k}": float(v) for k, v in values.items() if np.isfinite(v)})
        for kind, gates in verdict.gates.items():
            mlflow.log_metrics({f"{kind}_gate_{g.name}_passed": float(g.passed) for g in gates})
        reports = data_folder.layout().reports
        pictures = _write_evaluation_files(inputs, target, scores, importance, report, candidates,
                                           reports / "models" / target,
                                           reports / f"feature_contract_{dataset}.json")
        mlflow.log_artifacts(str(reports / "models" / target))
    summary = {"target": target, "winner": verdict.winner, "explanation": verdict.explanation,
               "run_id": run.info.run_id, "holdout_pr_auc": metrics[chosen.kind]["holdout_pr_auc"],
               "artifacts_sha256": _artifact_hashes(folder),
               "gates": {kind: [g.__dict__ for g in gates] for kind, gates in verdict.gates.items()}}
    (folder / "evaluation.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
    yield dg.MaterializeResult(metadata={
        "winner": verdict.winner,
        "why": verdict.explanation,
        "xgboost_holdout_pr_auc": metrics["xgboost"]["holdout_pr_auc"],
        "baseline_holdout_pr_auc": metrics["baseline"]["holdout_pr_auc"],
        "holdout_top_decile_lift": metrics[chosen.kind]["holdout_top_decile_lift"],
        "holdout_ece": metrics[chosen.kind]["holdout_ece"],
        "mlflow_run": dg.MetadataValue.url(mlflow_tracking.run_url(experiment_id, run.info.run_id)),
        "mlflow_run_id": run.info.run_id,
        "explanations": dg.MetadataValue.md(report),
        **{f"plot_{name}": dg.MetadataValue.path(str(path)) for name, path in pictures.items()},
    })
    for gate in verdict.decisive_gates:
        yield dg.AssetCheckResult(check_name=gate.name, passed=gate.passed, description=gate.message,
                                  metadata={"value": float(gate.value) if np.isfinite(gate.value) else None,
                                            "threshold": float(gate.threshold), "candidate": verdict.winner
                                            if verdict.winner != "none" else "xgboost"})


def _artifact_hashes(folder: Path) -> dict[str, str]:
    """Content hashes of the files an evaluation judged, so registration can refuse newer, unjudged ones."""
    return {name: sha256_of((folder / name).read_bytes())
            for name in ("xgboost.pkl", "baseline.pkl", "calibrators.pkl") if (folder / name).exists()}


def _explanations(model: TargetModel, holdout: pl.DataFrame) -> tuple[str, pl.DataFrame]:
    contributions = model.contributions(holdout)
    features = list(model.space.features)
    importance = global_importance(contributions, features)
    summary = cohort_summary(contributions, features, cohorts_of(holdout, model.calibrator.edges),
                             model.probabilities(holdout))
    return summary_markdown(importance, summary, f"What drives {model.target} ({model.kind})"), importance


def _write_evaluation_files(inputs: dict, target: str, scores: dict, importance: pl.DataFrame, report: str,
                            candidates: dict, out: Path, contract_file: Path) -> dict[str, Path]:
    """Plots, fold indices, feature order, search and explanations, written where the UI can link them."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "feature_order.json").write_text(json.dumps({"final": inputs["final"], "per_fold": inputs["per_fold"]}))
    inputs["folds"].write_csv(out / "fold_indices.csv")
    (out / "search.json").write_text(json.dumps(candidates["xgboost"].search, default=float, indent=2))
    (out / "explanations.md").write_text(report)
    if contract_file.exists():
        (out / "feature_contract.json").write_text(contract_file.read_text())
    figures = {
        "pr_curve.png": plots.pr_curves(scores["xgboost"].y, {k: s.prob for k, s in scores.items()},
                                        f"{target}: holdout precision-recall"),
        "calibration_by_segment.png": plots.calibration_curves(
            scores["xgboost"].y, scores["xgboost"].prob, scores["xgboost"].segments, f"{target}: calibration"),
        "lift_chart.png": plots.lift_chart(scores["xgboost"].y, scores["xgboost"].prob, f"{target}: lift"),
        "shap_summary.png": plots.importance_chart(importance, f"{target}: global importance"),
    }
    for name, figure in figures.items():
        figure.savefig(out / name, dpi=90)
    return {name.removesuffix(".png"): out / name for name in figures}


class RegistrationConfig(dg.Config):
    """Which targets the scorer carries (default: every target of the dataset), and its tier settings."""

    targets: list[str] | None = None
    ev_scale: float = 1_500.0  # on the default market: tier A about 9% of active leads (the seeds: 7%)
    tier_a_min_priority: float = 60.0
    tier_b_min_priority: float = 35.0
    tier_c_min_priority: float = 15.0
    exact_reasons_max_rows: int = 100  # a serving request up to this many leads gets exact reasons

    def tiers(self) -> TierConfig:
        return TierConfig(self.ev_scale, self.tier_a_min_priority, self.tier_b_min_priority, self.tier_c_min_priority)


@dg.asset(deps=["model_evaluation", "arv_model"], group_name=GROUP, kinds={"mlflow"}, owners=OWNERS)
def registered_scorer(context: dg.AssetExecutionContext, config: RegistrationConfig, warehouse: WarehouseResource,
                      data_folder: DataFolderResource, mlflow_tracking: MlflowResource) -> dg.MaterializeResult:
    """One pyfunc from lead records to scored leads (models, ARV, buy-box, tiers); champion only when earned."""
    wh = warehouse.open()
    catalog = load_catalog(wh)
    targets = [t for t in TARGET_NAMES if t in catalog.targets and (config.targets is None or t in config.targets)]
    if not targets:
        raise dg.Failure(f"no target to register: dataset {catalog.name} has {sorted(catalog.targets)}, "
                         f"asked for {config.targets}")
    models, holdouts, evaluations = [], {}, {}
    for target in targets:
        folder = data_folder.layout().root / "models" / target
        evaluation = json.loads((folder / "evaluation.json").read_text()) if (folder / "evaluation.json").exists() \
            else None
        if evaluation is None or evaluation["winner"] == "none":
            raise dg.Failure(f"no registrable model for {target}: "
                             + (evaluation["explanation"] if evaluation else "model_evaluation has not run"))
        if evaluation.get("artifacts_sha256") != _artifact_hashes(folder):
            raise dg.Failure(f"the {target} models changed after they were evaluated: materialize "
                             f"model_evaluation for {target} again before registering")
        candidate = _load(folder / f"{evaluation['winner']}.pkl")
        calibrators = pickle.loads((folder / "calibrators.pkl").read_bytes())
        models.append(TargetModel(target, candidate.kind, candidate.model, candidate.space,
                                  calibrators[candidate.kind]))
        holdouts[target] = wh.read("training_table", "target = ? and split = ?", [target, HOLDOUT])
        evaluations[target] = evaluation
    scorer = _scorer(models, catalog, wh, data_folder, config)
    experiment_id = mlflow_tracking.start()
    client = MlflowClient()
    name = mlflow_tracking.registered_model
    champion = alias_version(client, name, CHAMPION)
    champion_pr_auc = _champion_pr_auc(name, champion, holdouts) if champion else None
    challenger_pr_auc = {t: pr_auc(h[LABEL].to_numpy(), score_frame(models, h)[f"p_{t}"].to_numpy())
                         for t, h in holdouts.items()}
    example = _input_example(scorer, wh, holdouts[targets[-1]])
    with tempfile.TemporaryDirectory() as tmp, mlflow.start_run(run_name="register-lead-scorer") as run:
        version = str(_next_version(client, name))
        scorer.model_version, scorer.model_run_id = f"{name} v{version}", run.info.run_id
        info, scored_example = log_lead_scorer(scorer, example, Path(tmp))
        mlflow.log_params({f"{t}_model": e["winner"] for t, e in evaluations.items()})
        mlflow.log_params({f"{t}_training_run": e["run_id"] for t, e in evaluations.items()})
        mlflow.log_params({"arv": "model" if scorer.arv else "fallback medians", **config.tiers().as_dict()})
        mlflow.log_metrics({f"{t}_holdout_pr_auc": v for t, v in challenger_pr_auc.items()})
        registered = mlflow.register_model(info.model_uri, name).version
    if str(registered) != version:
        raise dg.Failure(f"another registration took {name} v{version} meanwhile (got v{registered}): "
                         "register again so the scorer names its own version")
    promotion = decide_promotion(client, name, version, gates_passed=True, challenger_pr_auc=challenger_pr_auc,
                                 champion_pr_auc=champion_pr_auc)
    context.log.info(f"{name} v{version}: {promotion.reason}")
    return dg.MaterializeResult(metadata={
        "registered_model": name,
        "version": version,
        "promoted_to_champion": promotion.promoted,
        "promotion": promotion.reason,
        "previous_champion": promotion.previous_champion or "none",
        "targets": dg.MetadataValue.json({t: e["winner"] for t, e in evaluations.items()}),
        "arv": "model" if scorer.arv else "fallback medians",
        "holdout_pr_auc": dg.MetadataValue.json({t: round(v, 5) for t, v in challenger_pr_auc.items()}),
        "mlflow_run": dg.MetadataValue.url(mlflow_tracking.run_url(experiment_id, run.info.run_id)),
        "model_uri": f"models:/{name}/{version}",
        "serve_command": f"PATH=<venv>/bin:$PATH MLFLOW_TRACKING_URI={mlflow_tracking.tracking_uri} "
                         f"mlflow models serve -m models:/{name}@champion --env-manager local -p 5001",
        "example_output": preview(scored_example.select("lead_id", "tier", "priority_score", "narrative")),
    })


def _scorer(models: list[TargetModel], catalog, wh: WarehouseBackend, data_folder: DataFolderResource,
            config: RegistrationConfig) -> Scorer:
    """The scorer around the chosen models: ARV (or its fallback medians), market levels and settings."""
    if catalog.origin == "dataset_spec":
        return Scorer(models, None, ({}, {}), pl.DataFrame(), {}, tiers=config.tiers(),
                      spec_features=dict(catalog.feature_columns), exact_reasons_max_rows=config.exact_reasons_max_rows)
    sales = wh.read("comparable_sales")
    arv_file = data_folder.layout().root / "models" / "arv" / "arv_model.pkl"
    if not arv_file.exists():
        raise dg.Failure(f"{arv_file} is missing: materialize arv_model (valuation_job) before registering")
    metros = sales.select("zip_code", "metro").unique("zip_code", keep="last").sort("zip_code")
    return Scorer(models, pickle.loads(arv_file.read_bytes()), renovated_medians(sales), zip_market_levels(sales),
                  dict(metros.iter_rows()), tiers=config.tiers(), exact_reasons_max_rows=config.exact_reasons_max_rows)


def _next_version(client: MlflowClient, name: str) -> int:
    versions = client.search_model_versions(f"name = '{name}'")
    return max((int(v.version) for v in versions), default=0) + 1


def _input_example(scorer: Scorer, wh: WarehouseBackend, holdout: pl.DataFrame) -> pd.DataFrame:
    """Three real lead records as a user's system would send them (JSON-friendly types)."""
    if scorer.spec_features is not None:
        rows = holdout.head(3).select("lead_id", *[c for c in scorer.spec_features if c in holdout.columns])
    else:
        day = wh.query("select max(snapshot_date) as d from property_snapshots")["d"][0]
        snapshot = wh.read("property_snapshots", "snapshot_date = ?", [day])
        contacts = wh.read("lead_contacts", "lead_id in (select lead_id from lead_contacts order by contact_time "
                                            "desc limit 3)")
        rows = records_as_of(day, snapshot, contacts, wh.read("lead_outcomes").head(0),
                             include_uncontacted_distressed=False).head(3)
    return rows.with_columns(pl.col(pl.Date).cast(pl.String)).to_pandas()


def _champion_pr_auc(name: str, version: str, holdouts: dict[str, pl.DataFrame]) -> dict[str, float]:
    """The current champion's PR-AUC on today's holdout rows, for the targets it serves."""
    champion = mlflow.pyfunc.load_model(f"models:/{name}/{version}").unwrap_python_model()
    models = {m.target: m for m in getattr(getattr(champion, "scorer", None), "models", [])}
    return {target: pr_auc(holdout[LABEL].to_numpy(), models[target].probabilities(holdout))
            for target, holdout in holdouts.items() if target in models}

