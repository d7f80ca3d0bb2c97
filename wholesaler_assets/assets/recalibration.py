"""Recalibration: the champion's calibrators refitted on recent closed contacts, registered as a challenger
when that repairs its calibration (`domain/retraining/recalibration.py`)."""

import dataclasses
import math

import dagster as dg
import polars as pl
from mlflow import MlflowClient

from wholesaler_assets.assets.metadata import OWNERS, STORAGE_RETRY, as_domain, preview
from wholesaler_assets.domain.contracts.targets import TARGET_NAMES
from wholesaler_assets.domain.retraining.recalibration import (
    RecalibrationPolicy,
    recalibrate_models,
    recalibration_verdict,
    rows_needed,
)
from wholesaler_assets.domain.scoring.scorer import Scorer
from wholesaler_assets.domain.training.calibration import SegmentedCalibrator
from wholesaler_assets.io.inputs import holdout_rows
from wholesaler_assets.io.recalibration_inputs import contact_feature_rows
from wholesaler_assets.io.registration import champion_pr_auc, holdout_pr_auc, input_example, register_scorer
from wholesaler_assets.io.registry import CHAMPION, decide_promotion
from wholesaler_assets.io.scoring_inputs import load_scorer
from wholesaler_assets.resources import ClockResource, MlflowResource, WarehouseResource
from wholesaler_assets.run_tags import REPAIR_TAG, retraining_tags

CHECK = "recalibration_repairs_calibration"


@dataclasses.dataclass(frozen=True)
class Recalibrated:
    """What the recalibration hands to registration: the champion it started from and the refitted calibrators."""

    champion_version: str
    calibrators: dict[str, SegmentedCalibrator]
_POLICY = RecalibrationPolicy()


class RecalibrationConfig(dg.Config):
    """Which closed contacts the calibrators are refitted on and what they must show (`RecalibrationPolicy`)."""

    window_days: int = _POLICY.window_days
    blocks: int = _POLICY.blocks
    min_rows: int = _POLICY.min_rows
    min_positives: int = _POLICY.min_positives
    max_ece: float = _POLICY.max_ece
    min_ece_improvement: float = _POLICY.min_ece_improvement
    min_slope: float = _POLICY.min_slope
    max_snapshot_age_days: int = 31  # a contact matches the latest snapshot at most this old (a monthly county file)


@dg.asset(
    retry_policy=STORAGE_RETRY, deps=["lead_contacts", "lead_outcomes", "property_snapshots"], group_name="models",
    kinds={"scikit-learn", "mlflow"}, owners=OWNERS, code_version="1", io_manager_key="model_io_manager",
    metadata={"artifact_file": "recalibration/calibrators.pkl"},
    check_specs=[dg.AssetCheckSpec(CHECK, asset="recalibration", blocking=True,
                                   description="Some target's recalibrated probabilities have ECE within the gate and "
                                               "better than the champion's on days the curve was not fitted on; "
                                               "otherwise nothing is registered and the champion stays.")],
)
def recalibration(context: dg.AssetExecutionContext, config: RecalibrationConfig, warehouse: WarehouseResource,
                  mlflow_tracking: MlflowResource, clock: ClockResource):
    """The champion's calibrators refitted on each target's latest closed contacts, where that repairs them."""
    policy = as_domain(config, RecalibrationPolicy)
    champion, version = load_scorer(mlflow_tracking, CHAMPION)
    as_of = clock.last_complete_day()
    wh = warehouse.open()
    first, last = rows_needed([m.target for m in champion.models], as_of, policy)
    rows = contact_feature_rows(wh, champion, first, last, config.max_snapshot_age_days)
    models, results = recalibrate_models(champion.models, rows, wh.read("lead_outcomes"), as_of, policy)
    passed, verdict = recalibration_verdict(results)
    context.log.info(verdict)
    figures = {r.target: r.figures() for r in results}
    refitted = {m.target: m.calibrator for m, r in zip(models, results, strict=True) if r.accepted}
    yield dg.Output(Recalibrated(version, refitted), metadata={
        "champion": f"v{version}", "as_of": as_of.isoformat(), "contacts_read": rows.height,
        "recalibrated": ", ".join(r.target for r in results if r.accepted) or "none",
        "verdict": verdict, "by_target": dg.MetadataValue.json(figures)})
    yield dg.AssetCheckResult(check_name=CHECK, passed=passed, metadata={
        "why": verdict, "by_target": dg.MetadataValue.json(figures),
        **{f"{r.target}_ece_after": r.ece_after for r in results if r.rows},
        **{f"{r.target}_ece_before": r.ece_before for r in results if r.rows}})


@dg.asset(retry_policy=STORAGE_RETRY, group_name="models", kinds={"mlflow"}, owners=OWNERS, code_version="1")
def recalibrated_challenger(context: dg.AssetExecutionContext, recalibration: Recalibrated,
                            warehouse: WarehouseResource, mlflow_tracking: MlflowResource) -> dg.MaterializeResult:
    """The champion with its refitted calibrators, registered as challenger: it shadows until it earns promotion."""
    champion_scorer, champion = load_scorer(mlflow_tracking, CHAMPION)
    if champion != recalibration.champion_version:
        raise dg.Failure(f"the champion changed (v{recalibration.champion_version} -> v{champion}) since the "
                         "calibrators were refitted: run the recalibration again", allow_retries=False)
    recalibrated = dataclasses.replace(champion_scorer, models=[
        dataclasses.replace(m, calibrator=recalibration.calibrators.get(m.target, m.calibrator))
        for m in champion_scorer.models])
    wh = warehouse.open()
    targets = [t for t in TARGET_NAMES if t in {m.target for m in recalibrated.models}]
    holdouts = {t: holdout_rows(wh, t) for t in targets}
    pr_aucs = holdout_pr_auc(recalibrated.models, holdouts)
    experiment_id = mlflow_tracking.start()
    client, name = MlflowClient(), mlflow_tracking.registered_model
    params = {"repair": "recalibration", "recalibrated_from": f"v{champion}",
              **{f"{m.target}_recalibration": m.calibrator.recalibration for m in recalibrated.models
                 if m.calibrator.recalibration is not None},
              "recalibrated_targets": ", ".join(sorted(recalibration.calibrators))}
    version, run_id, _ = register_scorer(client, name, recalibrated,
                                         input_example(recalibrated, wh, holdouts[targets[-1]]), params,
                                         {f"{t}_holdout_pr_auc": v for t, v in pr_aucs.items()})
    tags = retraining_tags(dict(context.run.tags)) | {REPAIR_TAG: "recalibration"}
    for tag, value in tags.items():
        client.set_model_version_tag(name, version, tag, value)
    promotion = decide_promotion(client, name, version, gates_passed=True, challenger_pr_auc=pr_aucs,
                                 champion_pr_auc=champion_pr_auc(name, str(champion), holdouts), shadow=True)
    context.log.info(f"{name} v{version}: {promotion.reason}")
    return dg.MaterializeResult(metadata={
        "registered_model": name, "version": version, "promotion": promotion.reason,
        "recalibrated_from": f"v{champion}", "retraining": dg.MetadataValue.json(tags),
        "holdout_pr_auc": dg.MetadataValue.json({t: round(v, 5) for t, v in pr_aucs.items()}),
        "mlflow_run": dg.MetadataValue.url(mlflow_tracking.run_url(experiment_id, run_id)),
        "calibrators": preview_calibrators(recalibrated)})


def preview_calibrators(scorer: Scorer) -> dg.MetadataValue:
    curves = [m.calibrator.recalibration or (math.nan, math.nan) for m in scorer.models]
    return preview(pl.DataFrame({"target": [m.target for m in scorer.models],
                                 "calibration": [m.calibrator.method for m in scorer.models],
                                 "recalibration_slope": [round(c[0], 3) for c in curves],
                                 "recalibration_intercept": [round(c[1], 3) for c in curves]}), rows=5)
