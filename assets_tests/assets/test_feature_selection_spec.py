"""The spec's say in feature selection, through Dagster: a sentinel column is kept for its
information value, `keep` and `drop` hold, `selection: off` keeps every feature, and a spec naming
a column the file lacks fails the run with the reason."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest

from wholesaler_assets.assets.snapshots import lead_tables
from wholesaler_assets.assets.training import contact_features, feature_selection, training_table
from wholesaler_assets.resources import DatasetResource

TARGET = "booked_call_7d"
BASE = ("name: crm\npath: crm.csv\nlead_id: lead_id\ncontact_time: contacted_at\n"
        f"targets:\n  {TARGET}: {{label: booked}}\n")


def _crm_file(folder: Path, n: int = 3_000, seed: int = 12) -> None:
    """96% never contacted before (999, booking 9%), the rest booking 64%; plus noise and a notes length."""
    rng = np.random.default_rng(seed)
    contacted = rng.random(n) < 0.04
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    pl.DataFrame({
        "lead_id": [f"L{i:05d}" for i in range(n)],
        "contacted_at": [(start + dt.timedelta(hours=3 * i)).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range(n)],
        "booked": (rng.random(n) < np.where(contacted, 0.64, 0.09)).astype(np.int8),
        "days_since_last_contact": np.where(contacted, rng.integers(1, 60, n), 999),
        "noise": rng.normal(size=n),
        "notes_length": rng.integers(0, 500, n),
    }).write_csv(folder / "crm.csv")


def _select(embedded_resources, folder: Path, extra: str) -> dg.ExecuteInProcessResult:
    (folder / "crm.yaml").write_text(BASE + extra)
    resources = {**embedded_resources, "dataset": DatasetResource(spec_path=str(folder / "crm.yaml"))}
    assert dg.materialize([lead_tables, contact_features], resources=resources).success
    return dg.materialize([training_table, feature_selection], resources=resources, partition_key=TARGET,
                          raise_on_error=False)


def _final_choice(result) -> tuple[list[str], dict]:
    metadata = result.asset_materializations_for_node("feature_selection")[0].metadata
    return metadata["feature_order"].value, metadata


def test_the_sentinel_column_is_selected_keep_holds_and_drop_excludes(embedded_resources, tmp_path):
    _crm_file(tmp_path)
    result = _select(embedded_resources, tmp_path, "keep: [noise]\ndrop: [notes_length]\n")
    assert result.success
    selected, metadata = _final_choice(result)
    assert selected == ["days_since_last_contact", "noise"]  # noise: low IV, kept by the spec
    assert metadata["information_value"].value["days_since_last_contact"] > 0.3
    assert "notes_length" not in metadata["information_value"].value  # dropped: never a feature
    assert metadata["verdict"].value.startswith("selection kept all 2 features")


def test_selection_off_keeps_every_feature(embedded_resources, tmp_path):
    _crm_file(tmp_path)
    result = _select(embedded_resources, tmp_path, "selection: off\n")
    assert result.success
    selected, metadata = _final_choice(result)
    assert selected == ["days_since_last_contact", "noise", "notes_length"]
    assert metadata["verdict"].value == "selection off (the dataset spec): all 3 features kept"


def test_a_spec_naming_a_column_the_file_lacks_fails_the_run_with_the_reason(embedded_resources, tmp_path):
    _crm_file(tmp_path)
    (tmp_path / "crm.yaml").write_text(BASE + "keep: [days_since_contact]\n")
    resources = {**embedded_resources, "dataset": DatasetResource(spec_path=str(tmp_path / "crm.yaml"))}
    result = dg.materialize([lead_tables], resources=resources, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "keep names 'days_since_contact', which the lead file does not have" in \
        failure.event_specific_data.error.message


@pytest.fixture
def embedded_resources(data_root, tmp_path):
    from wholesaler_assets.definitions import embedded_resources as build

    return build(str(data_root), mlruns=str(tmp_path / "mlruns"))
