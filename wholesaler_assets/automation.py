"""Jobs, schedules and sensors: new landing files trigger ingestion; snapshots are taken daily."""


import hashlib

import dagster as dg

from wholesaler_assets.assets.snapshots import SNAPSHOT_PARTITIONS
from wholesaler_assets.assets.training import TARGET_PARTITIONS
from wholesaler_assets.domain.contracts import SOURCES
from wholesaler_assets.resources import DataFolderResource

DOWNSTREAM_OF_RAW = ["lead_contacts", "lead_outcomes", "comparable_sales"]

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups("ingestion") | dg.AssetSelection.assets(*DOWNSTREAM_OF_RAW),
    description="Validate landing files into raw tables, then rebuild the lead tables and comparable sales.",
)

snapshot_job = dg.define_asset_job(
    "snapshot_job",
    selection=dg.AssetSelection.assets("property_snapshots"),
    partitions_def=SNAPSHOT_PARTITIONS,
    description="Take the point-in-time property snapshot of one date.",
)

features_job = dg.define_asset_job(
    "features_job",
    selection=dg.AssetSelection.assets("contact_features"),
    description="Rebuild the point-in-time features of every contact from the lead tables and all snapshots.",
)

training_data_job = dg.define_asset_job(
    "training_data_job",
    selection=dg.AssetSelection.assets("training_table", "statistical_validation", "feature_selection"),
    partitions_def=TARGET_PARTITIONS,
    description="For one target: build the training table (gates), its statistical report and feature selection.",
)

model_training_job = dg.define_asset_job(
    "model_training_job",
    selection=dg.AssetSelection.assets("baseline_model", "conversion_model", "calibrator", "model_evaluation"),
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
    partitions_def=SNAPSHOT_PARTITIONS,
    description="For one day: score every active lead with the champion, upsert lead_scores, export the queue.",
)

daily_snapshot_schedule = dg.build_schedule_from_partitioned_job(
    snapshot_job,
    name="daily_snapshot_schedule",
    hour_of_day=2,
    description="Every night at 02:00 UTC, snapshot every property as of the day that just ended.",
)

daily_scoring_schedule = dg.build_schedule_from_partitioned_job(
    scoring_job,
    name="daily_scoring_schedule",
    hour_of_day=4,
    description="Every morning at 04:00 UTC (after the 02:00 snapshot), score the day that just ended.",
)


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches ingestion of the sources whose landing folder holds new files.",
)
def landing_file_sensor(context: dg.SensorEvaluationContext, data_folder: DataFolderResource):
    """Ask for an ingestion run when files wait in landing/<source>/."""
    layout = data_folder.layout()
    waiting = {source: layout.pending_files(source) for source in SOURCES}
    waiting = {source: files for source, files in waiting.items() if files}
    if not waiting:
        return dg.SkipReason(f"no files waiting under {layout.landing}")
    # The run key names the exact files (and their sizes and times), so the same files never
    # launch two runs, while a file dropped again later does.
    signature = "|".join(f"{p.parent.name}/{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
                         for files in waiting.values() for p in files)
    run_key = hashlib.sha256(signature.encode()).hexdigest()[:16]
    selection = [dg.AssetKey(f"raw_{s}") for s in waiting] + [dg.AssetKey(k) for k in DOWNSTREAM_OF_RAW]
    context.log.info(f"files waiting: { {s: len(f) for s, f in waiting.items()} }")
    return dg.RunRequest(run_key=run_key, asset_selection=selection,
                         tags={"wholesaler/sources": ",".join(sorted(waiting))})
