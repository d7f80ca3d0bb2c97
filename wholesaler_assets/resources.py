"""Dagster resources: warehouse, data folder, clock, active dataset, MLflow, retraining and alerts.

Each is configured in `definitions.py` (embedded default) or `definitions_production.py`
(PostgreSQL, through `EnvVar`s). Nothing here touches disk or the environment until a run uses it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from pathlib import Path
from typing import Literal

import dagster as dg

from wholesaler_assets.domain.contracts.dataset_spec import DatasetSpec
from wholesaler_assets.domain.contracts.sales_spec import SalesSpec
from wholesaler_assets.domain.operations.health import Alert, HealthPolicy
from wholesaler_assets.domain.retraining.triggers import TriggerPolicy
from wholesaler_assets.domain.training.table import RETRAINING_WINDOW_DAYS
from wholesaler_assets.io.alerts import post_json
from wholesaler_assets.io.clock import read_clock
from wholesaler_assets.io.dataset_spec_files import load_dataset_spec
from wholesaler_assets.io.landing import DataLayout
from wholesaler_assets.io.sales_spec_files import load_sales_spec
from wholesaler_assets.io.warehouse import DuckDBWarehouse, WarehouseBackend
from wholesaler_assets.io.warehouse_postgres import PostgresWarehouse


class WarehouseResource(dg.ConfigurableResource):
    """Warehouse tables: a DuckDB file by default, PostgreSQL in production."""

    backend: Literal["duckdb", "postgres"] = "duckdb"
    duckdb_path: str = "data/warehouse.duckdb"
    postgres_url: str | None = None
    postgres_schema: str = "public"

    def open(self) -> WarehouseBackend:
        if self.backend == "postgres":
            if not self.postgres_url:
                raise ValueError("warehouse backend 'postgres' needs postgres_url "
                                 "(set WHOLESALER_POSTGRES_URL in the production profile)")
            return PostgresWarehouse(self.postgres_url, self.postgres_schema)
        return DuckDBWarehouse(self.duckdb_path)

    def describe(self) -> str:
        return f"postgres schema {self.postgres_schema}" if self.backend == "postgres" else self.duckdb_path


class DataFolderResource(dg.ConfigurableResource):
    """The root of landing, processed, quarantine, ground-truth and report folders."""

    root: str = "data"

    def layout(self) -> DataLayout:
        return DataLayout(Path(self.root))


class ClockResource(dg.ConfigurableResource):
    """The platform's "today": the day a replay released (data/clock.json), else the UTC date.

    A replayed day D is complete when the replay has written it, so `now()` is the end of D and
    `last_complete_day()` is D; in real time the day in progress is not complete, so the last
    complete day is yesterday. Everything that decides by date asks this, never `datetime.now()`.
    """

    data_root: str = "data"

    def replayed_day(self) -> dt.date | None:
        return read_clock(Path(self.data_root))

    def today(self) -> dt.date:
        return self.replayed_day() or dt.datetime.now(dt.UTC).date()

    def now(self) -> dt.datetime:
        day = self.replayed_day()
        if day is None:
            return dt.datetime.now(dt.UTC)
        return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC)

    def last_complete_day(self) -> dt.date:
        day = self.replayed_day()
        return day if day is not None else dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


class DatasetResource(dg.ConfigurableResource):
    """Which leads and sales the platform learns from: the landing sources, or a user's files via specs."""

    spec_path: str | None = None
    sales_spec_path: str | None = None  # a sales spec: comparable sales from the user's sales file

    def spec(self) -> DatasetSpec | None:
        # An empty path (how the production profile says "none") means the landing sources.
        return load_dataset_spec(self.spec_path) if self.spec_path else None

    def sales_spec(self) -> SalesSpec | None:
        return load_sales_spec(self.sales_spec_path) if self.sales_spec_path else None


# MLflow 3.17's UI opens every experiment on its GenAI view unless the link asks for the model-training
# one (its GenAI / Model training switch; the experiment kind tag only counts without that switch).
ML_VIEW = "workflowType=machine_learning"
EXPERIMENT_TAGS = {
    # A model-training experiment: without this kind, MLflow 3's UI opens on an empty GenAI traces page.
    "mlflow.experimentKind": "custom_model_development",
    "mlflow.note.content": (
        "Lead scoring for a real-estate wholesaler's outreach team (wholesaler-leads).\n\n"
        "- `train-<target>`: one run per target and training (booked_call_7d, qualified_14d, deal_30d): baseline "
        "and XGBoost, calibration, the gates and holdout metrics, plots and the feature contract as artifacts.\n"
        "- `train-arv`: the after-repair-value model and its holdout error.\n"
        "- `register-lead-scorer`: the scorer registered as `lead_scorer` (Models tab); each version's description "
        "has its gates, holdout PR-AUC and the lead record it takes. Alias `champion` is what the endpoint and "
        "`wholesaler score` use; `wholesaler champion` prints the same from a terminal."),
}


class MlflowResource(dg.ConfigurableResource):
    """MLflow tracking and registry: a SQLite store under mlruns/ by default, a server in production."""

    tracking_uri: str = "sqlite:///mlruns/mlflow.db"
    artifact_location: str = "mlruns/artifacts"
    experiment: str = "wholesaler-leads"
    registered_model: str = "lead_scorer"
    ui_url: str = "http://127.0.0.1:5000"

    def start(self) -> str:
        """Point the MLflow client here and return the experiment id (created on first use)."""
        import mlflow

        if self.tracking_uri.startswith("sqlite:///"):
            Path(self.tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        mlflow.set_tracking_uri(self.tracking_uri)
        found = mlflow.get_experiment_by_name(self.experiment)
        if found is not None:
            experiment_id = found.experiment_id
        else:
            location = Path(self.artifact_location).resolve().as_uri() if "://" not in self.artifact_location \
                else self.artifact_location
            experiment_id = mlflow.create_experiment(self.experiment, artifact_location=location)
        tags = found.tags if found is not None else {}
        for key, value in EXPERIMENT_TAGS.items():  # what the UI opens on and says about the experiment
            if tags.get(key) != value:
                mlflow.MlflowClient().set_experiment_tag(experiment_id, key, value)
        mlflow.set_experiment(experiment_id=experiment_id)
        return experiment_id

    def run_url(self, experiment_id: str, run_id: str) -> str:
        return f"{self.ui_url}/#/experiments/{experiment_id}/runs/{run_id}?{ML_VIEW}"


class RetrainingResource(dg.ConfigurableResource):
    """When evidence launches a retraining (defaults: `TriggerPolicy`) and the window it trains on."""

    drift_days: int = TriggerPolicy.drift_days
    value_shift_days: int = TriggerPolicy.value_shift_days
    psi_limit: float = TriggerPolicy.psi_limit
    pr_auc_floor_share: float = TriggerPolicy.pr_auc_floor_share
    max_ece: float = TriggerPolicy.max_ece
    calibration_z: float = TriggerPolicy.calibration_z
    calibration_ratio: float = TriggerPolicy.calibration_ratio
    min_window_positives: int = TriggerPolicy.min_window_positives
    cooldown_days: int = TriggerPolicy.cooldown_days
    max_evidence_age_days: int = TriggerPolicy.max_evidence_age_days
    window_days: int = RETRAINING_WINDOW_DAYS  # contacts before the cutoff a retraining learns from
    # A target whose retraining failed a gate, or whose retrained model ranks worse than the champion's on
    # holdout contacts neither learned from, keeps the champion's model in the challenger.
    carry_champion_models: bool = True

    def policy(self) -> TriggerPolicy:
        return TriggerPolicy(**{f.name: getattr(self, f.name) for f in fields(TriggerPolicy)})


class AlertResource(dg.ConfigurableResource):
    """Where alerts go (a webhook taking JSON; none: alerts are only logged) and the health thresholds."""

    webhook_url: str | None = None
    timeout_seconds: float = 5.0
    dagster_ui_url: str = "http://127.0.0.1:3000"
    scores_due_hour: int = HealthPolicy.scores_due_hour
    max_data_age_days: int = HealthPolicy.max_data_age_days

    def policy(self) -> HealthPolicy:
        return HealthPolicy(self.scores_due_hour, self.max_data_age_days)

    def send(self, alert: Alert, sent_at: dt.datetime) -> bool:
        """Post the alert; False when no webhook is configured. Raises `AlertNotDelivered` on failure."""
        if not self.webhook_url:
            return False
        post_json(self.webhook_url, alert.payload(sent_at), self.timeout_seconds)
        return True
