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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wholesaler_assets.domain.contracts.targets import TARGET_NAMES
from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig
from wholesaler_assets.domain.synthetic.shifts import MarketShift, ShiftKind

QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
GATED_MODEL_STEPS = ("conversion_model", "calibrator", "model_evaluation")  # the assets a model_config sets
HISTORY_DAYS = 730  # two years before the first replayed day, as the demo market has
SNAPSHOT_EVERY_DAYS = 7
STATE_FILE = "replay.json"


# A small market cannot pass the default gates (too few positives per fold): the settings replays of
# a few thousand properties train with (the tests', the benchmarks'); the gates' own behaviour is
# tested on their own.
SMALL_MARKET_GATES = {"max_cv_pr_auc_cov": 0.6, "max_train_holdout_gap": 0.6, "min_relative_pr_auc_gain": -1.0,
                      "min_segment_rows": 100_000, "search_configs": 1, "min_top_decile_lift": 0.0, "max_ece": 1.0}
SMALL_MARKET_ARV = {"max_mdape": 0.3, "min_mae_improvement": 0.0}  # ~90 holdout sales: hard to beat the ZIP median


@dataclass(frozen=True)
class ReplayPlan:
    """What to replay: the market (its history ends the day before `start`) and the days after it."""

    start: dt.date
    days: int
    properties: int = 50_000
    seed: int = 7
    shift_kind: ShiftKind | None = None
    shift_on: dt.date | None = None
    snapshot_every_days: int = SNAPSHOT_EVERY_DAYS  # history snapshots the training rows are read from

    def market(self) -> MarketConfig:
        shift = MarketShift(self.shift_kind, self.shift_on or self.start) if self.shift_kind else None
        return MarketConfig(n_properties=self.properties, seed=self.seed, dirt=DirtConfig.clean(),
                            start_date=self.start - dt.timedelta(days=HISTORY_DAYS),
                            end_date=self.start + dt.timedelta(days=self.days - 1), shift=shift)

    def replayed_days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]


def run_job(defs, instance, job: str, partition: str | None = None, run_config: Mapping[str, Any] | None = None,
         tags: dict | None = None):
    return defs.resolve_job_def(job).execute_in_process(
        instance=instance, partition_key=partition, run_config={**QUIET_RUN, **(run_config or {})},
        tags=tags, raise_on_error=False)


def failure_of(result) -> str:
    """Why a run failed: its failed steps' errors (a blocking gate names itself there)."""
    errors = [e.event_specific_data.error.message.strip().splitlines()[0] for e in result.all_events
              if e.is_step_failure and e.event_specific_data.error is not None]
    return "; ".join(errors)[:600] or "see the run in the Dagster UI"


def bootstrap(defs, instance, plan: ReplayPlan, say, model_config: dict[str, Any] | None = None,
              arv_config: dict[str, Any] | None = None) -> list[str]:
    """Train on the history before the start; returns the targets the champion carries.

    `model_config` overrides the model assets' settings (the gates) for every target."""
    history_end = plan.start - dt.timedelta(days=1)
    market = plan.market()
    for step, job in (("ingest the history", "ingest_job"),):
        result = run_job(defs, instance, job)
        if not result.success:
            raise ReplayFailed(f"{step}: {failure_of(result)}")
    day = market.start_date
    snapshot_days = []
    while day <= history_end:
        snapshot_days.append(day)
        day += dt.timedelta(days=plan.snapshot_every_days)
    if snapshot_days[-1] != history_end:
        snapshot_days.append(history_end)
    for i, day in enumerate(snapshot_days, 1):
        result = run_job(defs, instance, "snapshot_job", day.isoformat())
        if not result.success:
            raise ReplayFailed(f"snapshot of {day}: {failure_of(result)}")
        if i % 20 == 0 or i == len(snapshot_days):
            say(f"      {i}/{len(snapshot_days)} history snapshots")
    if not run_job(defs, instance, "features_job").success:
        raise ReplayFailed("contact_features failed")
    passed = train_targets(defs, instance, TARGET_NAMES, say, model_config)
    run_job(defs, instance, "valuation_job",
         run_config={"ops": {"arv_model": {"config": arv_config}}} if arv_config else None)
    register(defs, instance, passed)
    return passed


def train_targets(defs, instance, targets: Sequence[str], say, model_config: dict[str, Any] | None = None) -> list[str]:
    """Training tables and gated models of each target; the targets whose models passed their gates."""
    passed = []
    for target in targets:
        if not run_job(defs, instance, "training_data_job", target).success:
            say(f"      {target}: training table refused by its gates")
            continue
        config = {"ops": {n: {"config": model_config} for n in GATED_MODEL_STEPS}}
        models = run_job(defs, instance, "model_training_job", target, config if model_config else None)
        say(f"      {target}: {'passed its gates' if models.success else 'did not pass its gates'}")
        if models.success:
            passed.append(target)
    return passed


def register(defs, instance, passed: list[str]) -> None:
    """Register the scorer of the targets that passed (promoted to champion when it earned it)."""
    if not passed:
        raise ReplayFailed("no target passed its gates on the history: nothing can be scored")
    registration = run_job(defs, instance, "registration_job",
                        run_config={"ops": {"registered_scorer": {"config": {"targets": passed}}}})
    if not registration.success:
        raise ReplayFailed(f"registration: {failure_of(registration)}")


class ReplayFailed(RuntimeError):
    """A step of the replay did not do its job (the message says which and why)."""


def run_day(defs, instance, sensor_cursor: str | None, data_folder, clock) -> tuple[Any, str | None, float]:
    """Evaluate the daily cycle sensor and execute its run request; (result or skip reason, cursor, seconds)."""
    import dagster as dg

    sensor = defs.resolve_sensor_def("daily_cycle_sensor")
    context = dg.build_sensor_context(instance=instance, cursor=sensor_cursor,
                                      resources={"data_folder": data_folder, "clock": clock})
    started = time.perf_counter()
    evaluation = sensor(context)
    if not isinstance(evaluation, dg.RunRequest):
        return evaluation, context.cursor, time.perf_counter() - started
    result = run_job(defs, instance, "daily_cycle_job", evaluation.partition_key, evaluation.run_config,
                  tags={**evaluation.tags, "dagster/sensor_name": "daily_cycle_sensor"})
    return result, context.cursor, time.perf_counter() - started


def load_state(root: Path) -> dict[str, Any]:
    path = root / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def save_state(root: Path, state: dict[str, Any]) -> None:
    (root / STATE_FILE).write_text(json.dumps(state, indent=1, sort_keys=True) + "\n")


def _day_summary(result) -> dict[str, Any]:
    """The figures of a day's run a replay prints and keeps: drift, gaps, leads scored."""
    def meta(node: str) -> dict[str, Any]:
        found = result.asset_materializations_for_node(node)
        return {k: v.value for k, v in found[0].metadata.items()} if found else {}

    drift, performance, scored = meta("drift_report"), meta("realized_performance"), meta("scored_leads")
    shadow = meta("shadow_scores")
    failed_checks = sorted({e.event_specific_data.check_name for e in result.all_events
                            if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed})
    return {"scored_leads": scored.get("scored_leads"), "drifted_share": drift.get("drifted_share"),
            "dataset_drift": drift.get("dataset_drift"), "windows_closed": performance.get("windows_closed_today"),
            "gaps": performance.get("gaps"), "failed_checks": failed_checks,
            "shadow": shadow.get("shadowing"), "promoted": bool(shadow.get("promoted"))}


def replay(plan: ReplayPlan, data_root: Path, mlruns: Path, say=print, model_config: dict[str, Any] | None = None,
           arv_config: dict[str, Any] | None = None) -> int:
    """Release the market day by day through Dagster; 0 when every day ran, 1 when one did not.

    After each day, the retraining trigger judges the champion's evidence; a retraining it starts
    runs to its end before the next day (`replay_retraining`)."""
    import dagster as dg

    from wholesaler_assets.definitions import build_definitions, embedded_resources
    from wholesaler_assets.domain.synthetic.market import generate_market
    from wholesaler_assets.domain.synthetic.release import released_before, released_on
    from wholesaler_assets.io.clock import write_clock
    from wholesaler_assets.io.landing import DataLayout
    from wholesaler_assets.io.replay_files import write_release, write_replay_truth
    from wholesaler_assets.replay_retraining import retrain_on_evidence

    layout = DataLayout(data_root)
    layout.ensure()
    config = plan.market()
    state = load_state(data_root)
    described = json.loads(json.dumps(plan.__dict__, default=str))
    if state and state.get("plan") != described:
        say(f"{data_root} holds another replay ({state.get('plan')}): use another --data-root or `make clean`")
        return 1
    market = generate_market(config)
    resources = embedded_resources(str(data_root), mlruns=str(mlruns))
    defs = build_definitions(resources)
    instance = dg.DagsterInstance.get()
    try:
        if not state.get("bootstrapped"):
            say(f"history {config.start_date} to {plan.start - dt.timedelta(days=1)}: "
                f"{config.n_properties:,} properties, then training")
            write_release(layout, "history", released_before(market, plan.start))
            write_replay_truth(layout, market, config)
            write_clock(data_root, plan.start - dt.timedelta(days=1))
            targets = bootstrap(defs, instance, plan, say, model_config, arv_config)
            state = {"plan": described, "bootstrapped": True, "targets": targets,
                     "sensor_cursor": None, "days": {}}
            save_state(data_root, state)
        for day in plan.replayed_days():
            if day.isoformat() in state["days"]:
                continue
            write_release(layout, day.isoformat(), released_on(market, day))
            write_clock(data_root, day)
            result, cursor, seconds = run_day(defs, instance, state["sensor_cursor"], resources["data_folder"],
                                              resources["clock"])
            if not isinstance(result, dg.ExecuteInProcessResult):
                raise ReplayFailed(f"{day}: the daily cycle sensor did not launch a run ({result})")
            if not result.success:
                raise ReplayFailed(f"{day}: daily_cycle_job failed: {failure_of(result)}")
            summary = {**_day_summary(result), "seconds": round(seconds, 2), "run_id": result.run_id}
            state["sensor_cursor"], state["days"][day.isoformat()] = cursor, summary
            save_state(data_root, state)
            alarm = " DRIFT" if summary["dataset_drift"] else ""
            gap = f", {summary['gaps']} gap(s)" if summary["gaps"] else ""
            say(f"{day}: {summary['scored_leads']:,} leads scored, {summary['drifted_share']:.0%} of columns "
                f"drifted{alarm}, {summary['windows_closed']} window(s) closed{gap} ({seconds:.1f} s)")
            if summary["promoted"]:
                say(f"      {summary['shadow']}: the challenger earned promotion and scores from tomorrow")
            retrained, state["retraining_cursor"] = retrain_on_evidence(
                defs, instance, resources, state.get("retraining_cursor"), model_config)
            if retrained is not None:
                state["days"][day.isoformat()]["retraining"] = retrained.__dict__
                say(f"      retraining {retrained.retraining_id} ({retrained.reason}): {retrained.outcome}")
            save_state(data_root, state)
    except ReplayFailed as failure:
        save_state(data_root, state)
        say(f"replay stopped: {failure}")
        return 1
    return 0
