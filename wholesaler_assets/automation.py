"""Jobs, schedules and sensors: new landing files trigger ingestion; snapshots are taken daily."""


import datetime as dt
import hashlib
import json
import warnings

import dagster as dg

from wholesaler_assets.domain.contracts.sources import SOURCES
from wholesaler_assets.domain.ingestion.arrival import cursor_of, previous_look, ready_files
from wholesaler_assets.partitions import DAILY_PARTITIONS, TARGET_PARTITIONS
from wholesaler_assets.resources import ClockResource, DataFolderResource

DOWNSTREAM_OF_RAW = ["lead_contacts", "lead_outcomes", "comparable_sales"]
TRAINING_DATA_ASSETS = ("training_table", "statistical_validation", "feature_selection")
MODEL_ASSETS = ("baseline_model", "conversion_model", "calibrator", "model_evaluation")

# The daily jobs are retried when their run process dies (killed, out of memory, machine restart),
# never when an asset or a gate failed: the same data would fail the same gate again. A run whose
# worker died with its code server is failed by run monitoring once it exceeds `dagster/max_runtime`
# (the default run launcher cannot check a worker's health). See docs/operations.md.
DAILY_RUN_TAGS = {
    "dagster/max_retries": "2",
    "dagster/retry_on_asset_or_op_failure": "false",
    "dagster/max_runtime": "3600",
}

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups("ingestion") | dg.AssetSelection.assets(*DOWNSTREAM_OF_RAW),
    description="Validate landing files into raw tables, then rebuild the lead tables and comparable sales.",
)

snapshot_job = dg.define_asset_job(
    "snapshot_job",
    selection=dg.AssetSelection.assets("property_snapshots"),
    partitions_def=DAILY_PARTITIONS,
    tags=DAILY_RUN_TAGS,
    description="Take the point-in-time property snapshot of one date.",
)

features_job = dg.define_asset_job(
    "features_job",
    selection=dg.AssetSelection.assets("contact_features"),
    description="Rebuild the point-in-time features of every contact from the lead tables and all snapshots.",
)

training_data_job = dg.define_asset_job(
    "training_data_job",
    selection=dg.AssetSelection.assets(*TRAINING_DATA_ASSETS),
    partitions_def=TARGET_PARTITIONS,
    description="For one target: build the training table (gates), its statistical report and feature selection.",
)

model_training_job = dg.define_asset_job(
    "model_training_job",
    selection=dg.AssetSelection.assets(*MODEL_ASSETS),
    partitions_def=TARGET_PARTITIONS,
    description="For one target: baseline and XGBoost on the saved folds, calibration, gated holdout evaluation.",
)

registration_job = dg.define_asset_job(
    "registration_job",
    selection=dg.AssetSelection.assets("registered_scorer"),
    description="Register the scorer in MLflow as challenger; promote it to champion when it has earned it.",
)

valuation_job = dg.define_asset_job(
    "valuation_job",
    selection=dg.AssetSelection.assets("arv_model"),
    description="Train and gate the after-repair value model on comparable sales.",
)

scoring_job = dg.define_asset_job(
    "scoring_job",
    selection=dg.AssetSelection.assets("scored_leads", "lead_scores", "priority_queue"),
    partitions_def=DAILY_PARTITIONS,
    tags=DAILY_RUN_TAGS,
    description="For one day: score every active lead with the champion, upsert lead_scores, export the queue.",
)

monitoring_job = dg.define_asset_job(
    "monitoring_job",
    selection=dg.AssetSelection.assets("realized_performance", "drift_report", "shadow_scores"),
    partitions_def=DAILY_PARTITIONS,
    tags=DAILY_RUN_TAGS,
    description="For one day: estimated and realized performance of the scores, the Evidently drift report, and "
                "the challenger in shadow (promoted once it has earned it).",
)

lead_file_job = dg.define_asset_job(
    "lead_file_job",
    selection=dg.AssetSelection.assets("lead_contacts", "lead_outcomes", "contact_features"),
    description="A dataset spec's lead file: validate it into lead_contacts and lead_outcomes, then the "
                "training features (no landing folders, no snapshots).",
)

lead_file_scoring_job = dg.define_asset_job(
    "lead_file_scoring_job",
    selection=dg.AssetSelection.assets("lead_file_scores"),
    description="A lead file's open leads at its cutoff: scored by the champion, ranked, exported as a queue.",
)

lead_file_monitoring_job = dg.define_asset_job(
    "lead_file_monitoring_job",
    selection=dg.AssetSelection.assets("lead_file_monitoring"),
    description="A lead file's months after the champion's cutoff: estimated vs realized performance, drift.",
)

DAILY_CYCLE = ["property_snapshots", "scored_leads", "lead_scores", "priority_queue", "realized_performance",
               "drift_report", "shadow_scores"]

# The day's cycle mixes property_snapshots (single-run backfills) with assets run one day per run;
# Dagster warns and gives the job one day per run, which is what the cycle is for.
warnings.filterwarnings("ignore", message="Asset job daily_cycle_job materializes assets with varying Backfill",
                        category=UserWarning)
daily_cycle_job = dg.define_asset_job(
    "daily_cycle_job",
    selection=(dg.AssetSelection.groups("ingestion") | dg.AssetSelection.assets(*DOWNSTREAM_OF_RAW, *DAILY_CYCLE)),
    partitions_def=DAILY_PARTITIONS,
    tags=DAILY_RUN_TAGS,
    description="One whole day in one run: ingest what landed, snapshot, score, upsert, queue, then monitor and "
                "shadow the challenger (every gate of each step in the same run).",
)

daily_snapshot_schedule = dg.build_schedule_from_partitioned_job(
    snapshot_job,
    name="daily_snapshot_schedule",
    hour_of_day=2,
    default_status=dg.DefaultScheduleStatus.RUNNING,  # runs under `make dev` without a click
    description="Every night at 02:00 UTC, snapshot every property as of the day that just ended.",
)

daily_scoring_schedule = dg.build_schedule_from_partitioned_job(
    scoring_job,
    name="daily_scoring_schedule",
    hour_of_day=4,
    default_status=dg.DefaultScheduleStatus.RUNNING,  # runs under `make dev` without a click
    description="Every morning at 04:00 UTC (after the 02:00 snapshot), score the day that just ended.",
)


daily_monitoring_schedule = dg.build_schedule_from_partitioned_job(
    monitoring_job,
    name="daily_monitoring_schedule",
    hour_of_day=5,
    default_status=dg.DefaultScheduleStatus.RUNNING,  # runs under `make dev` without a click
    description="Every morning at 05:00 UTC (after the 04:00 scoring), estimate, judge closed windows, report drift.",
)


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches ingestion of landing files that have finished arriving (two equal looks, or a .done marker).",
)
def landing_file_sensor(context: dg.SensorEvaluationContext, data_folder: DataFolderResource):
    """Ask for an ingestion run of the files in landing/<source>/ that are stable.

    A file is taken when its `<name>.done` marker exists or when this look and the previous one
    (kept in the cursor) saw the same size and modification time; a file still being copied waits.
    The run is told exactly which files (and sizes and times) to take.
    """
    layout = data_folder.layout()
    looks = [look for source in SOURCES for look in layout.looks(source)]
    ready, arriving = ready_files(looks, previous_look(context.cursor))
    context.update_cursor(cursor_of(looks))
    if not ready:
        if arriving:
            return dg.SkipReason(f"{len(arriving)} file(s) still arriving (size or time changed since the last "
                                 f"look): {', '.join(a.path_key for a in arriving[:5])}")
        return dg.SkipReason(f"no files waiting under {layout.landing}")
    by_source = _by_source(ready)
    # The run key names the exact files, sizes and times: the same files never launch two runs,
    # while a file dropped again later does.
    signature = "|".join(f"{look.path_key}:{look.size}:{look.mtime_ns}" for look in ready)
    run_key = hashlib.sha256(signature.encode()).hexdigest()[:16]
    selection = [dg.AssetKey(f"raw_{s}") for s in by_source] + [dg.AssetKey(k) for k in DOWNSTREAM_OF_RAW]
    context.log.info(f"files ready: { {s: len(f) for s, f in by_source.items()} }; still arriving: {len(arriving)}")
    return dg.RunRequest(run_key=run_key, asset_selection=selection, run_config=_files_config(by_source),
                         tags={"wholesaler/sources": ",".join(sorted(by_source))})


def _by_source(ready: list) -> dict[str, list]:
    by_source: dict[str, list] = {}
    for look in ready:
        by_source.setdefault(look.source, []).append(look)
    return by_source


def _files_config(by_source: dict[str, list]) -> dict:
    """Run config telling each raw asset exactly which files (names, sizes, times) to take."""
    return {"ops": {f"raw_{s}": {"config": {"files": [
        {"name": look.name, "size": look.size, "mtime_ns": look.mtime_ns} for look in files]}}
        for s, files in by_source.items()}}


@dg.sensor(
    job=daily_cycle_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Runs the whole day (ingest, snapshot, score, queue, monitor) once the clock's day is complete "
                "and every file that landed for it is stable; one run per day.",
)
def daily_cycle_sensor(context: dg.SensorEvaluationContext, data_folder: DataFolderResource, clock: ClockResource):
    """Ask for one daily_cycle_job run per completed day of the platform's clock.

    The day is the clock's last complete day (a replay's released day, or yesterday in UTC); the
    cursor holds the last day launched, so a day is never run twice and a clock that jumped ahead
    (a replay of many days at once) launches each missed day in order. Files still arriving wait.
    """
    day = clock.last_complete_day()
    state = json.loads(context.cursor) if context.cursor else {}
    last = dt.date.fromisoformat(state["day"]) if state.get("day") else None
    if last is not None and day <= last:
        return dg.SkipReason(f"{day} already launched (the clock's last complete day)")
    layout = data_folder.layout()
    looks = [look for source in SOURCES for look in layout.looks(source)]
    ready, arriving = ready_files(looks, previous_look(json.dumps(state.get("looks", {}))))
    if arriving:
        context.update_cursor(json.dumps({"day": state.get("day"), "looks": json.loads(cursor_of(looks))}))
        return dg.SkipReason(f"{len(arriving)} file(s) for {day} still arriving: looking again")
    following = day if last is None else last + dt.timedelta(days=1)
    context.update_cursor(json.dumps({"day": following.isoformat(), "looks": json.loads(cursor_of(looks))}))
    return dg.RunRequest(run_key=f"daily-cycle-{following.isoformat()}", partition_key=following.isoformat(),
                         run_config=_files_config(_by_source(ready)) if ready else {},
                         tags={"wholesaler/day": following.isoformat()})
