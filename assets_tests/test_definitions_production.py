"""The production profile on a real throwaway PostgreSQL: Dagster storage and warehouse tables."""

from __future__ import annotations

import datetime as dt
import importlib
import shutil
from pathlib import Path

import dagster as dg
import pytest

from wholesaler_assets.domain.synthetic.config import MarketConfig
from wholesaler_assets.io.landing import DataLayout
from wholesaler_assets.io.synthetic_files import write_market
from wholesaler_assets.io.warehouse_postgres import PostgresWarehouse
from wholesaler_assets.partitions import range_tags

pytestmark = pytest.mark.postgres
PROJECT = Path(__file__).parents[1]


@pytest.fixture
def production_env(postgres_cluster, tmp_path, monkeypatch):
    """Environment variables and DAGSTER_HOME exactly as docs/deployment.md's production profile sets them."""
    dagster_url = postgres_cluster.create_database("dagster_prod")
    warehouse_url = postgres_cluster.create_database("warehouse_prod")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT / "deploy" / "production" / "dagster.yaml", home / "dagster.yaml")
    env = {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_USERNAME": "postgres", "DAGSTER_PG_PASSWORD": "", "DAGSTER_PG_HOST": postgres_cluster.host,
        "DAGSTER_PG_PORT": str(postgres_cluster.port), "DAGSTER_PG_DB": dagster_url.rsplit("/", 1)[1],
        "WHOLESALER_POSTGRES_URL": warehouse_url, "WHOLESALER_POSTGRES_SCHEMA": "leads",
        "WHOLESALER_DATA_ROOT": str(tmp_path / "data"), "WHOLESALER_DATASET_SPEC": "", "WHOLESALER_ALERT_WEBHOOK": "",
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlruns/mlflow.db",
        "WHOLESALER_MLFLOW_ARTIFACTS": str(tmp_path / "mlruns" / "artifacts"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return {"dagster_url": dagster_url, "warehouse_url": warehouse_url, "data_root": tmp_path / "data"}


def test_pipeline_runs_on_postgres_storage_and_warehouse(production_env):
    layout = DataLayout(production_env["data_root"])
    write_market(MarketConfig(n_properties=3_000, seed=9), layout.landing, layout.ground_truth)
    defs = importlib.import_module("wholesaler_assets.definitions_production").defs

    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        ingest = defs.resolve_job_def("ingest_job").execute_in_process(instance=instance)
        assert ingest.success
        snapshot = defs.resolve_job_def("snapshot_job").execute_in_process(instance=instance,
                                                                          partition_key="2026-10-31")
        assert snapshot.success
        assert all(e.passed for e in snapshot.get_asset_check_evaluations())
        assert {r.run_id for r in instance.get_runs()} >= {ingest.run_id, snapshot.run_id}
        for day in ("2024-11-01", "2025-03-01", "2025-07-01", "2025-11-01", "2026-03-01", "2026-07-01"):
            assert defs.resolve_job_def("snapshot_job").execute_in_process(instance=instance, partition_key=day).success
        backfill = defs.resolve_job_def("snapshot_job").execute_in_process(  # a range in one run, on PostgreSQL
            instance=instance, tags=range_tags(dt.date(2026, 10, 24), dt.date(2026, 10, 30)))
        assert backfill.success and len(backfill.asset_materializations_for_node("property_snapshots")) == 7
        assert {e.partition for e in backfill.get_asset_check_evaluations()} == {
            f"2026-10-{d}" for d in range(24, 31)}
        assert defs.resolve_job_def("features_job").execute_in_process(instance=instance).success
        training = defs.resolve_job_def("training_data_job").execute_in_process(
            instance=instance, partition_key="booked_call_7d",
            run_config={"ops": {"training_table": {"config": {"min_snapshot_match": 0.9}}}})
        assert training.success
        lenient = {"max_cv_pr_auc_cov": 1.0, "max_train_holdout_gap": 1.0, "min_relative_pr_auc_gain": -1.0,
                   "min_top_decile_lift": 0.0, "max_ece": 1.0}
        models = defs.resolve_job_def("model_training_job").execute_in_process(
            instance=instance, partition_key="booked_call_7d", raise_on_error=False,
            run_config={"ops": {op: {"config": lenient} for op in ("conversion_model", "calibrator",
                                                                    "model_evaluation")}})
        assert models.asset_materializations_for_node("model_evaluation")  # trained from PostgreSQL tables

    warehouse = PostgresWarehouse(production_env["warehouse_url"], "leads")
    for table in ("raw_properties", "raw_contacts", "lead_contacts", "lead_outcomes", "comparable_sales",
                  "property_snapshots", "ingest_manifest", "dataset_catalog", "contact_features", "training_table",
                  "training_folds", "feature_selection"):
        assert warehouse.row_count(table) > 0, table
    runs_in_postgres = PostgresWarehouse(production_env["dagster_url"]).query("select count(*) as n from runs")
    assert runs_in_postgres["n"][0] >= 2
    assert warehouse.row_count("ingest_manifest", "status = ?", ["rejected"]) == 1  # the market's bad file
    assert warehouse.query("select count(distinct snapshot_date) as n from property_snapshots")["n"][0] == 14


def test_production_definitions_validate(production_env):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "dagster", "definitions", "validate", "-m",
                           "wholesaler_assets.definitions_production"], capture_output=True, text=True, cwd=PROJECT,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
