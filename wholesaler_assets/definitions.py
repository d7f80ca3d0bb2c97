"""The embedded default profile: DuckDB warehouse and files under ./data, no server to start.

This is the only place that lists assets, checks, jobs, schedules, sensors and resources;
`definitions_production.py` reuses `build_definitions` with PostgreSQL resources.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from wholesaler_assets.assets.experiments import EXPERIMENT_ASSETS
from wholesaler_assets.assets.ingestion import raw_assets
from wholesaler_assets.assets.lead_file import LEAD_FILE_ASSETS
from wholesaler_assets.assets.models import baseline_model, calibrator, conversion_model, model_evaluation
from wholesaler_assets.assets.monitoring import MONITORING_ASSETS
from wholesaler_assets.assets.recalibration import recalibrated_challenger, recalibration
from wholesaler_assets.assets.registration import registered_scorer
from wholesaler_assets.assets.scoring import lead_scores, priority_queue, scored_leads
from wholesaler_assets.assets.shadow import shadow_scores
from wholesaler_assets.assets.snapshots import comparable_sales, lead_tables, property_snapshots
from wholesaler_assets.assets.training import (
    contact_features,
    feature_selection,
    statistical_validation,
    training_table,
)
from wholesaler_assets.assets.valuation import arv_model
from wholesaler_assets.automation import (
    daily_cycle_job,
    daily_cycle_sensor,
    daily_monitoring_schedule,
    daily_scoring_schedule,
    daily_snapshot_schedule,
    features_job,
    ingest_job,
    landing_file_sensor,
    lead_file_job,
    lead_file_monitoring_job,
    lead_file_scoring_job,
    model_training_job,
    monitoring_job,
    registration_job,
    scoring_job,
    snapshot_job,
    training_data_job,
    valuation_job,
)
from wholesaler_assets.health import health_sensor, run_failure_alert_sensor
from wholesaler_assets.io.io_managers import ModelArtifactIOManager, WarehouseTableIOManager
from wholesaler_assets.resources import (
    AlertResource,
    ClockResource,
    DataFolderResource,
    DatasetResource,
    MlflowResource,
    RetrainingResource,
    WarehouseResource,
)
from wholesaler_assets.retraining import (
    recalibration_job,
    retraining_progress_sensor,
    retraining_target_job,
    retraining_trigger_sensor,
    weekly_retraining_schedule,
)


def with_io_managers(resources: Mapping[str, Any]) -> dict[str, Any]:
    """The resources plus the IO managers that persist asset outputs through them."""
    return {**resources,
            "warehouse_io_manager": WarehouseTableIOManager(warehouse=resources["warehouse"]),
            "model_io_manager": ModelArtifactIOManager(data_folder=resources["data_folder"])}


def build_definitions(resources: Mapping[str, Any]) -> dg.Definitions:
    """All of the platform's definitions, bound to one set of resources (IO managers added)."""
    return dg.Definitions(
        assets=[*raw_assets, property_snapshots, lead_tables, comparable_sales,
                contact_features, training_table, statistical_validation, feature_selection,
                baseline_model, conversion_model, calibrator, model_evaluation, registered_scorer, arv_model,
                scored_leads, lead_scores, priority_queue, shadow_scores, recalibration, recalibrated_challenger,
                *MONITORING_ASSETS, *LEAD_FILE_ASSETS, *EXPERIMENT_ASSETS],
        jobs=[ingest_job, snapshot_job, features_job, training_data_job, model_training_job, registration_job,
              valuation_job, scoring_job, monitoring_job, daily_cycle_job, lead_file_job, lead_file_scoring_job,
              lead_file_monitoring_job, retraining_target_job, recalibration_job],
        schedules=[daily_snapshot_schedule, daily_scoring_schedule, daily_monitoring_schedule,
                   weekly_retraining_schedule],
        sensors=[landing_file_sensor, daily_cycle_sensor, retraining_trigger_sensor, retraining_progress_sensor,
                 run_failure_alert_sensor, health_sensor],
        resources=with_io_managers({"retraining": RetrainingResource(), "alerts": AlertResource(), **resources}),
    )


def embedded_resources(data_root: str = "data", dataset_spec: str | None = None,
                       mlruns: str = "mlruns") -> dict[str, Any]:
    """DuckDB file and data folder under the project, MLflow under mlruns/; optionally a dataset spec."""
    return with_io_managers({
        "warehouse": WarehouseResource(backend="duckdb", duckdb_path=f"{data_root}/warehouse.duckdb"),
        "data_folder": DataFolderResource(root=data_root),
        "clock": ClockResource(data_root=data_root),
        "dataset": DatasetResource(spec_path=dataset_spec),
        "mlflow_tracking": MlflowResource(tracking_uri=f"sqlite:///{mlruns}/mlflow.db",
                                          artifact_location=f"{mlruns}/artifacts"),
    })


defs = build_definitions(embedded_resources())
