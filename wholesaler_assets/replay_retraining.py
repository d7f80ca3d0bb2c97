"""A replayed day's retraining: the trigger sensor judges the evidence, each step it leads to runs in-process.

The replay drives Dagster's own sensors as the daemon would after each day: `retraining_trigger_sensor`
(its cursor kept in the replay's state), then `retraining_progress_sensor` until it asks for nothing
more. Each requested run executes with the request's tags and config (plus the replay's model
settings on a small market), so its gates run as they would under the daemon.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg

from wholesaler_assets.replay import GATED_MODEL_STEPS, failure_of, run_job
from wholesaler_assets.resources import RetrainingResource
from wholesaler_assets.run_tags import REASON_TAG, RETRAINING_TAG

MAX_STEPS = 10  # features, one run per target, registration: far fewer; a loop beyond this is a bug


@dataclass(frozen=True)
class ReplayedRetraining:
    """What one retraining did during a replayed day."""

    retraining_id: str
    reason: str
    runs: int
    outcome: str  # the registration's promotion verdict, or why the retraining stopped


def _sensor_resources(resources: Mapping[str, Any]) -> dict[str, Any]:
    return {"retraining": RetrainingResource(),
            **{k: resources[k] for k in ("warehouse", "mlflow_tracking", "clock", "data_folder")}}


def _evaluate(defs: dg.Definitions, instance, resources: Mapping[str, Any], name: str, cursor: str | None = None):
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=_sensor_resources(resources)) as context:
        return defs.resolve_sensor_def(name)(context), context.cursor


def _execute(defs, instance, request: dg.RunRequest, job: str, sensor: str,
             model_config: dict[str, Any] | None):
    config = {**(request.run_config or {})}
    if model_config and job == "retraining_target_job":
        config["ops"] = {**config.get("ops", {}), **{step: {"config": model_config} for step in GATED_MODEL_STEPS}}
    return run_job(defs, instance, job, request.partition_key, config,
                   tags={**request.tags, "dagster/sensor_name": sensor})


def retrain_on_evidence(defs: dg.Definitions, instance, resources: Mapping[str, Any], cursor: str | None,
                        model_config: dict[str, Any] | None = None) -> tuple[ReplayedRetraining | None, str | None]:
    """Ask the trigger sensor; when it starts a retraining, run it to its end. Returns (what it did, cursor)."""
    start, cursor = _evaluate(defs, instance, resources, "retraining_trigger_sensor", cursor)
    if not isinstance(start, dg.RunRequest):
        return None, cursor
    retraining_id, reason = start.tags[RETRAINING_TAG], start.tags[REASON_TAG]
    if start.job_name == "recalibration_job":
        return ReplayedRetraining(retraining_id, reason, 1, _recalibrate(defs, instance, start)), cursor
    features = _execute(defs, instance, start, "features_job", "retraining_trigger_sensor", model_config)
    runs, outcome = 1, "" if features.success else f"contact features failed: {failure_of(features)}"
    for _ in range(MAX_STEPS):
        requests, _ = _evaluate(defs, instance, resources, "retraining_progress_sensor")
        if not isinstance(requests, list):
            mine = [part for part in (requests.skip_message or "").split("; ") if part.startswith(retraining_id)]
            outcome = outcome or (mine[0].removeprefix(f"{retraining_id}: ") if mine else "finished")
            break
        for request in requests:
            result = _execute(defs, instance, request, request.job_name or "", "retraining_progress_sensor",
                              model_config)
            runs += 1
            if request.job_name == "registration_job" and result.success:
                verdict = result.asset_materializations_for_node("registered_scorer")[0].metadata["promotion"]
                outcome = str(getattr(verdict, "value", verdict))
    return ReplayedRetraining(retraining_id, reason, runs, outcome), cursor


def _recalibrate(defs: dg.Definitions, instance, start: dg.RunRequest) -> str:
    """Run a recalibration; its outcome is the registration's promotion verdict or the check's refusal."""
    result = _execute(defs, instance, start, "recalibration_job", "retraining_trigger_sensor", None)
    registered = result.asset_materializations_for_node("recalibrated_challenger") if result.success else []
    if registered:
        verdict = registered[0].metadata["promotion"]
        return f"recalibration: {getattr(verdict, 'value', verdict)}"
    checks = [e.event_specific_data for e in result.all_events
              if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    said = [str(getattr(c.metadata.get("why"), "value", "")) for c in checks if not c.passed]
    return said[0] if said else f"recalibration failed: {failure_of(result)}"
