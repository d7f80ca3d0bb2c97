"""The production profile: warehouse tables on PostgreSQL, configured through environment variables.

Dagster's own storage moves to PostgreSQL through `deploy/production/dagster.yaml`. Variables:
WHOLESALER_POSTGRES_URL (postgresql://user:pass@host:port/db), WHOLESALER_POSTGRES_SCHEMA,
WHOLESALER_DATA_ROOT (landing/quarantine folders) and WHOLESALER_DATASET_SPEC (empty for the
landing sources), MLFLOW_TRACKING_URI (an MLflow server on PostgreSQL) and
WHOLESALER_MLFLOW_ARTIFACTS (its artifact root for new experiments).
"""

from __future__ import annotations

import dagster as dg

from wholesaler_assets.definitions import build_definitions
from wholesaler_assets.resources import (
    AlertResource,
    ClockResource,
    DataFolderResource,
    DatasetResource,
    MlflowResource,
    WarehouseResource,
)

defs = build_definitions(
    {
        "warehouse": WarehouseResource(
            backend="postgres",
            postgres_url=dg.EnvVar("WHOLESALER_POSTGRES_URL"),
            postgres_schema=dg.EnvVar("WHOLESALER_POSTGRES_SCHEMA"),
        ),
        "data_folder": DataFolderResource(root=dg.EnvVar("WHOLESALER_DATA_ROOT")),
        "clock": ClockResource(data_root=dg.EnvVar("WHOLESALER_DATA_ROOT")),
        "dataset": DatasetResource(spec_path=dg.EnvVar("WHOLESALER_DATASET_SPEC")),
        "mlflow_tracking": MlflowResource(tracking_uri=dg.EnvVar("MLFLOW_TRACKING_URI"),
                                          artifact_location=dg.EnvVar("WHOLESALER_MLFLOW_ARTIFACTS")),
        "alerts": AlertResource(webhook_url=dg.EnvVar("WHOLESALER_ALERT_WEBHOOK")),  # empty: alerts only logged
    }
)
