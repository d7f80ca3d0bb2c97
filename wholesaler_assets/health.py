"""Alerts to a webhook: every failed run, and a health look at the scores, the data and the monitoring.

See docs/operations.md ("Alerts"). With no webhook configured, alerts are written to the sensors'
logs only, so a fresh clone runs without one.
"""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg

from wholesaler_assets.domain.operations.health import (
    Alert,
    data_stale,
    monitoring_alarm,
    run_failure,
    scores_late,
)
from wholesaler_assets.io.alerts import AlertNotDelivered
from wholesaler_assets.io.inputs import SCORED_TABLE
from wholesaler_assets.resources import (
    AlertResource,
    ClockResource,
    MlflowResource,
    RetrainingResource,
    WarehouseResource,
)
from wholesaler_assets.retraining import champion_evidence

MAX_REMEMBERED = 500  # alert keys the health sensor's cursor keeps


def _step_errors(context: dg.RunFailureSensorContext) -> str:
    """The first line of each failed step's error (a blocking gate names itself there)."""
    errors = []
    for event in context.get_step_failure_events():
        error = getattr(event.event_specific_data, "error", None)
        message = getattr(error, "message", None)
        if message:
            errors.append(message.strip().splitlines()[0])
    return "; ".join(errors)[:600] or (context.failure_event.message or "see the run in the Dagster UI")


@dg.run_failure_sensor(
    name="run_failure_alert_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Posts every failed run (job, the gate or error that stopped it, a link) to the alert webhook.",
)
def run_failure_alert_sensor(context: dg.RunFailureSensorContext, alerts: AlertResource, clock: ClockResource):
    """One alert per failed run of this code location."""
    run = context.dagster_run
    alert = run_failure(run.job_name, run.run_id, _step_errors(context),
                        f"{alerts.dagster_ui_url}/runs/{run.run_id}", dict(run.tags))
    delivered = alerts.send(alert, clock.now())
    context.log.info(f"{'posted' if delivered else 'no webhook configured; logged'}: {alert.summary}")


@dg.sensor(
    minimum_interval_seconds=600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Every 10 minutes: alerts when the day's scores are late, the newest contacts are too old, "
                "or the champion's monitoring raised an alarm (drift, PR-AUC under its floor, ECE over the gate).",
)
def health_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource, clock: ClockResource,
                  alerts: AlertResource, mlflow_tracking: MlflowResource, retraining: RetrainingResource):
    """Post each new problem once (its key is kept in the cursor); one not delivered is tried again."""
    now, policy = clock.now(), alerts.policy()
    wh = warehouse.open()
    last_scored = wh.query(f"select max(scoring_date) as d from {SCORED_TABLE}")["d"][0] \
        if wh.table_exists(SCORED_TABLE) else None
    newest = wh.query("select max(contact_time) as t from lead_contacts")["t"][0] \
        if wh.table_exists("lead_contacts") else None
    if isinstance(newest, dt.datetime) and newest.tzinfo is None:
        newest = newest.replace(tzinfo=dt.UTC)
    found: list[Alert] = [a for a in (scores_late(last_scored, now, policy),
                                      data_stale(newest, now, policy, "lead_contacts")) if a is not None]
    champion = champion_evidence(warehouse, mlflow_tracking, retraining.policy())
    if champion is not None:
        found += [monitoring_alarm(f"{champion[0]} {e.trigger} {e.subject}", e.since, e.summary, e.figures)
                  for e in champion[2]]
    sent = list(json.loads(context.cursor)["sent"]) if context.cursor else []
    posted, failed = [], []
    for alert in (a for a in found if a.key not in sent):
        try:
            alerts.send(alert, now)
            posted.append(alert.key)
        except AlertNotDelivered as exc:
            failed.append(f"{alert.key}: {exc}")
    context.update_cursor(json.dumps({"sent": (sent + posted)[-MAX_REMEMBERED:]}))
    for line in failed:
        context.log.error(f"alert not delivered (tried again next look): {line}")
    return dg.SkipReason(f"{len(found)} problem(s), {len(posted)} new alert(s) sent"
                         + (f", {len(failed)} not delivered" if failed else "")
                         + (": " + "; ".join(a.summary for a in found)[:800] if found else ""))
