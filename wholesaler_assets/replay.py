"""`wholesaler replay`: the synthetic market released day by day, each day run through Dagster.

On a fresh data folder the history before `--start` lands first and the platform trains on it
(the demo's jobs: ingestion, snapshots, training tables, gated models, ARV, registration). Then,
for each day: that day's files land (with `.done` markers), the clock moves to the day, and the
`daily_cycle_sensor` decides the run; its request is executed as a `daily_cycle_job` run on the
Dagster instance (the same run the daemon would launch), so every gate and check of the day runs
and shows in the UI. A day already run is skipped (the sensor's cursor), so a replay continues.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wholesaler_assets.domain.contracts.targets import TARGET_NAMES
from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig

QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
HISTORY_DAYS = 730  # two years before the first replayed day, as the demo market has
SNAPSHOT_EVERY_DAYS = 7
STATE_FILE = "replay.json"


@dataclass(frozen=True)
class ReplayPlan:
    """What to replay: the market (its history ends the day before `start`) and the days after it."""

    start: dt.date
    days: int
    properties: int = 50_000
    seed: int = 7
    shift_kind: str | None = None
    shift_on: dt.date | None = None

    def market(self) -> MarketConfig:
        from wholesaler_assets.domain.synthetic.shifts import MarketShift

        shift = MarketShift(kind=self.shift_kind, starts_on=self.shift_on or self.start) if self.shift_kind else None
        return MarketConfig(n_properties=self.properties, seed=self.seed, dirt=DirtConfig.clean(),
                            start_date=self.start - dt.timedelta(days=HISTORY_DAYS),
                            end_date=self.start + dt.timedelta(days=self.days - 1), shift=shift)

    def replayed_days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]


def _run(defs, instance, job: str, partition: str | None = None, run_config: dict | None = None,
         tags: dict | None = None):
    return defs.resolve_job_def(job).execute_in_process(
        instance=instance, partition_key=partition, run_config={**QUIET_RUN, **(run_config or {})},
        tags=tags, raise_on_error=False)


def _failure(result) -> str:
    failures = [e.message for e in result.all_events if e.is_step_failure or e.event_type_value == "ASSET_CHECK_EVALUATION"
                and not e.event_specific_data.evaluation.passed]
    return "; ".join(f for f in failures if f)[:600] or "see the run in the Dagster UI"


def bootstrap(defs, instance, plan: ReplayPlan, say) -> list[str]:
    """Train on the history before the start; returns the targets the champion carries."""
    history_end = plan.start - dt.timedelta(days=1)
    market = plan.market()
    for step, job in (("ingest the history", "ingest_job"),):
        result = _run(defs, instance, job)
        if not result.success:
            raise ReplayFailed(f"{step}: {_failure(result)}")
    day = market.start_date
    snapshot_days = []
    while day <= history_end:
        snapshot_days.append(day)
        day += dt.timedelta(days=SNAPSHOT_EVERY_DAYS)
    if snapshot_days[-1] != history_end:
        snapshot_days.append(history_end)
    for i, day in enumerate(snapshot_days, 1):
        result = _run(defs, instance, "snapshot_job", day.isoformat())
        if not result.success:
            raise ReplayFailed(f"snapshot of {day}: {_failure(result)}")
        if i % 20 == 0 or i == len(snapshot_days):
            say(f"      {i}/{len(snapshot_days)} history snapshots")
    if not _run(defs, instance, "features_job").success:
        raise ReplayFailed("contact_features failed")
    passed = []
    for target in TARGET_NAMES:
        if not _run(defs, instance, "training_data_job", target).success:
            say(f"      {target}: training table refused by its gates")
            continue
        models = _run(defs, instance, "model_training_job", target)
        say(f"      {target}: {'passed its gates' if models.success else 'did not pass its gates'}")
        if models.success:
            passed.append(target)
    _run(defs, instance, "valuation_job")
    if not passed:
        raise ReplayFailed("no target passed its gates on the history: nothing can be scored")
    registration = _run(defs, instance, "registration_job",
                        run_config={"ops": {"registered_scorer": {"config": {"targets": passed}}}})
    if not registration.success:
        raise ReplayFailed(f"registration: {_failure(registration)}")
    return passed


class ReplayFailed(RuntimeError):
    """A step of the replay did not do its job (the message says which and why)."""


def run_day(defs, instance, sensor_cursor: str | None, data_folder, clock) -> tuple[Any, str | None, float]:
    """Evaluate the daily cycle sensor and execute its run request; (result or skip reason, cursor, seconds)."""
    import dagster as dg

    sensor = defs.get_sensor_def("daily_cycle_sensor")
    context = dg.build_sensor_context(instance=instance, cursor=sensor_cursor,
                                      resources={"data_folder": data_folder, "clock": clock})
    started = time.perf_counter()
    evaluation = sensor(context)
    if not isinstance(evaluation, dg.RunRequest):
        return evaluation, context.cursor, time.perf_counter() - started
    result = _run(defs, instance, "daily_cycle_job", evaluation.partition_key, evaluation.run_config,
                  tags={**evaluation.tags, "dagster/sensor_name": "daily_cycle_sensor"})
    return result, context.cursor, time.perf_counter() - started


def load_state(root: Path) -> dict[str, Any]:
    path = root / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def save_state(root: Path, state: dict[str, Any]) -> None:
    (root / STATE_FILE).write_text(json.dumps(state, indent=1, sort_keys=True) + "\n")
