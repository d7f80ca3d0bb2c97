"""Retraining: started by the evidence sensor or the weekly schedule, walked step by step by a sensor.

A retraining starts as a `features_job` run tagged with its id, reason and evidence. The progress
sensor then requests each next step as its own run (each target's gated training, then
registration), so every run holds the checks of the assets it materializes: a failed gate stops
the retraining there. See docs/retraining.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence

import dagster as dg
from mlflow import MlflowClient

from wholesaler_assets.automation import MODEL_ASSETS, TRAINING_DATA_ASSETS, features_job, registration_job
from wholesaler_assets.domain.monitoring.daily import KEY_FEATURES
from wholesaler_assets.domain.retraining.progress import (
    FEATURES,
    RECALIBRATE,
    REGISTER,
    TRAIN,
    StageRun,
    Status,
    next_step,
)
from wholesaler_assets.domain.retraining.triggers import (
    RECALIBRATION,
    Evidence,
    TriggerPolicy,
    drift_evidence,
    performance_evidence,
    repair_for,
    retraining_decision,
)
from wholesaler_assets.io.inputs import DRIFT_TABLE, WINDOW_TABLE, load_catalog
from wholesaler_assets.io.registry import champion_holdout
from wholesaler_assets.partitions import TARGET_PARTITIONS
from wholesaler_assets.resources import ClockResource, MlflowResource, RetrainingResource, WarehouseResource
from wholesaler_assets.run_tags import EVIDENCE_TAG, REASON_TAG, RETRAINING_TAG, STAGE_TAG, TARGET_TAG

MAX_TAG_CHARS = 1000  # a reason longer than this is cut in the tag (the full text is in the sensor's log)
UNFINISHED = ("wait", "train", "register")
MAX_REMEMBERED = 200  # evidence keys the trigger's cursor keeps (a streak older than these has long ended)
RECENT_RETRAININGS = 10  # retrainings the progress sensor keeps walking (older ones are finished)

recalibration_job = dg.define_asset_job(
    "recalibration_job",
    selection=dg.AssetSelection.assets("recalibration", "recalibrated_challenger"),
    description="The champion's calibrators refitted on recent closed contacts and, when the blocking check says "
                "that repairs calibration, registered as a challenger that shadows the champion.",
)

retraining_target_job = dg.define_asset_job(
    "retraining_target_job",
    selection=dg.AssetSelection.assets(*TRAINING_DATA_ASSETS, *MODEL_ASSETS),
    partitions_def=TARGET_PARTITIONS,
    description="One target of a retraining: the training table on the moving window, models, calibration and "
                "the gated holdout evaluation, every blocking check in the same run.",
)


def start_request(retraining_id: str, reason: str, evidence_keys: Sequence[str],
                  repair: str = "retraining") -> dg.RunRequest:
    """The first run of a retraining (the contact features), or the one run of a recalibration, tagged so
    every later step and the registered version can find why."""
    stage, job = (RECALIBRATE, recalibration_job.name) if repair == RECALIBRATION else (FEATURES, features_job.name)
    return dg.RunRequest(run_key=f"retraining-{retraining_id}", job_name=job, tags={
        RETRAINING_TAG: retraining_id, STAGE_TAG: stage, REASON_TAG: reason[:MAX_TAG_CHARS],
        EVIDENCE_TAG: json.dumps(list(evidence_keys))[:MAX_TAG_CHARS]})


def _running_retraining(instance: dg.DagsterInstance, targets: Sequence[str], required: Sequence[str],
                        carry_champion_models: bool = True) -> str | None:
    """The id of a retraining with a run still going or a step still to take (None when all are finished)."""
    for run in instance.get_runs(dg.RunsFilter(tags={STAGE_TAG: RECALIBRATE}), limit=RECENT_RETRAININGS):
        if not run.is_finished:
            return run.tags.get(RETRAINING_TAG, run.run_id)
    for start in instance.get_runs(dg.RunsFilter(tags={STAGE_TAG: FEATURES}), limit=RECENT_RETRAININGS):
        retraining_id = start.tags.get(RETRAINING_TAG)
        if retraining_id and next_step(_stage_runs(instance, retraining_id), targets, required,
                                       carry_champion_models).action in UNFINISHED:
            return retraining_id
    return None


def champion_evidence(warehouse: WarehouseResource, mlflow_tracking: MlflowResource,
                      policy: TriggerPolicy) -> tuple[str, dict[str, float], list[Evidence]] | None:
    """The champion's version, holdout PR-AUC per target and the triggers' evidence on its own
    monitoring rows; None without a champion."""
    mlflow_tracking.start()
    champion = champion_holdout(MlflowClient(), mlflow_tracking.registered_model)
    if champion is None:
        return None
    version, holdout_pr_auc = champion
    wh = warehouse.open()
    history = wh.read(DRIFT_TABLE, "model_version = ?", [version]) if wh.table_exists(DRIFT_TABLE) else None
    windows = wh.read(WINDOW_TABLE, "model_version = ?", [version]) if wh.table_exists(WINDOW_TABLE) else None
    return version, holdout_pr_auc, [
        *(drift_evidence(history, KEY_FEATURES, policy) if history is not None else []),
        *(performance_evidence(windows, holdout_pr_auc, policy) if windows is not None else [])]


@dg.sensor(
    jobs=[features_job, recalibration_job],
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a retraining when the champion's monitoring says so: dataset drift on k consecutive days, "
                "a metro's lead values moved (a price shock), a key feature's PSI above its limit or realized PR-AUC "
                "under its floor; a recalibration when "
                "only its calibration broke (ECE over the gate, positives far from what it promised).",
)
def retraining_trigger_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource,
                              mlflow_tracking: MlflowResource, clock: ClockResource, retraining: RetrainingResource):
    """Read the champion's drift history and matured windows; start one repair per new piece of evidence
    (a recalibration when only calibration broke, else a retraining).

    The cursor keeps the evidence that already launched a retraining and the day of the last launch
    (the cooldown); evidence is named by its trigger and the first day of its streak, so a condition
    that persists never launches twice."""
    policy = retraining.policy()
    today = clock.last_complete_day()
    found = champion_evidence(warehouse, mlflow_tracking, policy)
    if found is None:
        return dg.SkipReason("no champion yet: nothing to retrain")
    version, holdout_pr_auc, evidence = found
    state = json.loads(context.cursor) if context.cursor else {}
    last = state.get("last_launch")
    decision = retraining_decision(evidence, today, set(state.get("launched", [])),
                                   None if last is None else dt.date.fromisoformat(last),
                                   _running_retraining(context.instance, _targets(warehouse), sorted(holdout_pr_auc),
                                                       retraining.carry_champion_models),
                                   policy)
    if not decision.launch:
        return dg.SkipReason(f"{version}: {decision.reason}")
    keys = [e.key for e in decision.evidence]
    retraining_id = f"{today.isoformat()}-{hashlib.sha256('|'.join(keys).encode()).hexdigest()[:8]}"
    launched = [k for k in state.get("launched", []) if k not in keys] + keys
    context.update_cursor(json.dumps({"launched": launched[-MAX_REMEMBERED:],
                                      "last_launch": today.isoformat()}))
    repair = repair_for(decision.evidence)
    context.log.info(f"{repair} {retraining_id} of {version}: {decision.reason}")
    return start_request(retraining_id, decision.reason, keys, repair)


@dg.schedule(
    cron_schedule="0 6 * * 1",
    job=features_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every Monday at 06:00 UTC, a retraining whatever the evidence says (the seeds' weekly rhythm).",
)
def weekly_retraining_schedule(context: dg.ScheduleEvaluationContext, clock: ClockResource,
                               warehouse: WarehouseResource, mlflow_tracking: MlflowResource):
    """Start the week's retraining unless one is still running."""
    running = _running_retraining(context.instance, _targets(warehouse), _champion_targets(mlflow_tracking))
    if running is not None:
        return dg.SkipReason(f"retraining {running} is still running")
    week = clock.last_complete_day().isocalendar()
    return start_request(f"weekly-{week.year}-W{week.week:02d}", "weekly retraining (the seeds' rhythm)", [])


_STATUS: dict[dg.DagsterRunStatus, Status] = {dg.DagsterRunStatus.SUCCESS: "success",
                                               dg.DagsterRunStatus.FAILURE: "failure",
                                               dg.DagsterRunStatus.CANCELED: "failure"}


def _stage_runs(instance: dg.DagsterInstance, retraining_id: str) -> list[StageRun]:
    return [StageRun(run.tags.get(STAGE_TAG, ""), run.tags.get(TARGET_TAG), _STATUS.get(run.status, "running"))
            for run in instance.get_runs(dg.RunsFilter(tags={RETRAINING_TAG: retraining_id}))]


@dg.sensor(
    jobs=[retraining_target_job, registration_job],
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Walks each retraining through its steps: after the features, each target's gated training; "
                "then registration of the challenger with the targets that passed (a target the champion serves "
                "whose retraining failed a gate keeps the champion's model).",
)
def retraining_progress_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource,
                               mlflow_tracking: MlflowResource, retraining: RetrainingResource):
    """Request the next step of every recent retraining (run keys make a repeated request a no-op)."""
    requests, said = [], []
    required, targets = _champion_targets(mlflow_tracking), _targets(warehouse)  # read once per tick
    for start in context.instance.get_runs(dg.RunsFilter(tags={STAGE_TAG: FEATURES}), limit=RECENT_RETRAININGS):
        retraining_id = start.tags.get(RETRAINING_TAG)
        if not retraining_id:
            continue
        step = next_step(_stage_runs(context.instance, retraining_id), targets, required,
                         retraining.carry_champion_models)
        said.append(f"{retraining_id}: {step.action} ({step.reason})")
        carried = {RETRAINING_TAG: retraining_id, REASON_TAG: start.tags.get(REASON_TAG, ""),
                   EVIDENCE_TAG: start.tags.get(EVIDENCE_TAG, "[]")}
        if step.action == "train":
            window = {"ops": {"training_table": {"config": {"window_days": retraining.window_days}}}}
            requests += [dg.RunRequest(job_name=retraining_target_job.name, partition_key=target, run_config=window,
                                       run_key=f"{retraining_id}:{TRAIN}:{target}",
                                       tags={**carried, STAGE_TAG: TRAIN, TARGET_TAG: target})
                         for target in step.targets]
        elif step.action == "register":
            requests.append(dg.RunRequest(
                job_name=registration_job.name, run_key=f"{retraining_id}:{REGISTER}",
                run_config={"ops": {"registered_scorer": {"config": {
                    "targets": list(step.targets), "shadow": True, "carried_from_champion": list(step.carried),
                    "keep_champion_where_better": retraining.carry_champion_models}}}},
                tags={**carried, STAGE_TAG: REGISTER}))
    context.log.info("; ".join(said) or "no retraining")
    return requests or dg.SkipReason("; ".join(said[:3]) or "no retraining started yet")


def _champion_targets(mlflow_tracking: MlflowResource) -> list[str]:
    mlflow_tracking.start()
    champion = champion_holdout(MlflowClient(), mlflow_tracking.registered_model)
    return sorted(champion[1]) if champion else []


def _targets(warehouse: WarehouseResource) -> list[str]:
    wh = warehouse.open()
    return sorted(load_catalog(wh).targets) if wh.table_exists("dataset_catalog") else []
