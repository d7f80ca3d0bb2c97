"""`wholesaler train --dataset-spec`: a lead file trained, registered and scored with no synthetic market.

The file is a CRM export of one year: bookings follow a logistic function of the lead's columns;
`list_source` takes few values so the calibrated probabilities tie in blocks. It has one target
(booked_call_7d), so the other two must be neither in the training tables nor trained.
"""

from __future__ import annotations

import datetime as dt
import math

import mlflow
import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from wholesaler_assets.cli import main
from wholesaler_assets.cli_train import NOT_PROMOTED, UNUSABLE, train_lead_file
from wholesaler_assets.io.warehouse import DuckDBWarehouse
from wholesaler_assets.replay import SMALL_MARKET_GATES as LENIENT

FIRST = dt.datetime(2023, 1, 2, tzinfo=dt.UTC)  # before the daily partitions' first day: no partition needed
VALUATION_COLUMNS = {"arv", "arv_method", "expected_value", "conservative_profit", "passes_buy_box",
                     "max_allowable_offer", "priority_basis"}


def lead_file(folder, n: int = 3_000, signal: float = 1.0, seed: int = 5, extra: str = ""):
    """A one-year CRM export of `n` leads and its spec; `signal` 0 gives bookings unrelated to the columns."""
    rng = np.random.default_rng(seed)
    times = [FIRST + dt.timedelta(minutes=int(m)) for m in np.sort(rng.uniform(0, 365 * 24 * 60, n))]
    equity = rng.uniform(-0.2, 0.9, n)
    absentee = rng.random(n) < 0.4
    source = rng.choice(["tax_list", "probate", "absentee", "code_violation"], n)
    logit = -2.4 + signal * (2.2 * equity + 0.8 * absentee + np.where(source == "probate", 0.7, 0.0))
    booked = rng.random(n) < 1 / (1 + np.exp(-logit))
    booked_at = [t + dt.timedelta(hours=float(h)) if b else None
                 for t, b, h in zip(times, booked, rng.uniform(2, 150, n), strict=True)]
    pl.DataFrame({"lead_id": [f"L{i:05d}" for i in range(n)], "contacted_at": times, "booked_at": booked_at,
                  "equity_pct": equity.round(3), "absentee": absentee, "list_source": source,
                  "owner_phone": [f"555-{i:04d}" for i in range(n)]}).write_csv(folder / "crm.csv")
    (folder / "crm.yaml").write_text(
        "name: crm_export\npath: crm.csv\nlead_id: lead_id\ncontact_time: contacted_at\n"
        "targets:\n  booked_call_7d: {outcome_time: booked_at}\npii_columns: [owner_phone]\n" + extra)
    return folder / "crm.yaml"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The file trained without DAGSTER_HOME (the command sets up its own under the data root)."""
    base = tmp_path_factory.mktemp("train")
    said: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DAGSTER_HOME", raising=False)
        patch.chdir(base)  # anything written to a default (relative) place would land here
        spec = lead_file(base, extra="data_cutoff: 2023-12-20T00:00:00Z\nsegment_column: list_source\n")
        rc = train_lead_file(spec, base / "data", say=said.append, model_config=LENIENT)
    return base, rc, said


@pytest.mark.slow
def test_a_lead_file_is_trained_registered_and_scored_without_the_synthetic_market(trained):
    base, rc, said = trained
    assert rc == 0, said
    data = base / "data"
    assert (data / "dagster_home").is_dir() and (data / "mlruns" / "mlflow.db").exists()
    # Nothing synthetic: no landing folders, no ground truth, no market tables, nothing outside the data root.
    written = {p.relative_to(base).parts[0] for p in base.iterdir()}
    assert written == {"data", "crm.csv", "crm.yaml"}, written
    assert not any((data / folder).exists() for folder in ("landing", "ground_truth", "processed"))
    wh = DuckDBWarehouse(data / "warehouse.duckdb")
    for table in ("raw_properties", "property_snapshots", "comparable_sales", "scored_leads"):
        assert not wh.table_exists(table), table
    assert any("open leads scored as of 2023-12-20" in line for line in said), said


@pytest.mark.slow
def test_targets_absent_from_the_file_are_neither_in_the_training_tables_nor_trained(trained):
    base, _, said = trained
    wh = DuckDBWarehouse(base / "data" / "warehouse.duckdb")
    assert set(wh.query("select distinct target from training_table")["target"]) == {"booked_call_7d"}
    assert sorted(p.name for p in (base / "data" / "models").iterdir()) == ["booked_call_7d"]
    mlflow.set_tracking_uri(f"sqlite:///{base / 'data' / 'mlruns' / 'mlflow.db'}")
    runs = mlflow.search_runs(search_all_experiments=True)
    assert set(runs["tags.mlflow.runName"]) == {"train-booked_call_7d", "register-lead-scorer"}
    assert not any("deal_30d" in line or "qualified_14d" in line for line in said)


@pytest.mark.slow
def test_the_scores_fit_a_lead_file_no_valuation_columns_no_ties_tiers_by_quantile(trained):
    base, _, _ = trained
    wh = DuckDBWarehouse(base / "data" / "warehouse.duckdb")
    scores = wh.read("lead_file_scores").sort("queue_rank")
    queue = pl.read_csv(next((base / "data" / "exports").glob("crm_export_queue_*.csv")))
    for frame in (scores, queue):
        assert not VALUATION_COLUMNS & set(frame.columns), frame.columns
    n = scores.height
    assert n > 30
    assert scores["priority_score"].n_unique() == n  # no ties anywhere, so none at the top
    assert scores["priority_score"].is_sorted(descending=True) and scores["priority_score"][0] == 100.0
    counts = dict(scores.group_by("tier").len().iter_rows())
    assert counts["A"] == math.ceil(0.1 * n) and counts["A"] + counts["B"] == math.ceil(0.3 * n)
    assert scores.filter(pl.col("tier") == "A")["p_booked_call_7d"].min() >= \
        scores.filter(pl.col("tier") == "B")["p_booked_call_7d"].max()
    # Open leads: contacted within the 7-day window before the cutoff, with no booking by then, none a training row.
    training = set(wh.query("select contact_id from training_table")["contact_id"])
    assert not training & set(scores["lead_id"])
    cutoff = dt.datetime(2023, 12, 20, tzinfo=dt.UTC)
    contacts = wh.read("lead_contacts").filter(pl.col("lead_id").is_in(scores["lead_id"].implode()))
    assert (contacts["contact_time"] > cutoff - dt.timedelta(days=7)).all()
    assert (contacts["contact_time"] <= cutoff).all()


@pytest.mark.slow
def test_the_holdout_figures_match_sklearn_and_reach_mlflow_and_the_report(trained):
    base, _, said = trained
    import json

    evaluation = json.loads((base / "data" / "models" / "booked_call_7d" / "evaluation.json").read_text())
    wh = DuckDBWarehouse(base / "data" / "warehouse.duckdb")
    rows = wh.read("holdout_scores").filter(pl.col("candidate") == evaluation["judged"])
    assert evaluation["holdout_roc_auc"] == pytest.approx(roc_auc_score(rows["label"], rows["probability"]))
    assert evaluation["holdout_mean_predicted"] == pytest.approx(rows["probability"].mean())
    assert evaluation["holdout_actual_rate"] == pytest.approx(rows["label"].mean())
    mlflow.set_tracking_uri(f"sqlite:///{base / 'data' / 'mlruns' / 'mlflow.db'}")
    run = mlflow.get_run(evaluation["run_id"])
    kind = evaluation["judged"]
    assert run.data.metrics[f"{kind}_holdout_roc_auc"] == pytest.approx(evaluation["holdout_roc_auc"])
    assert f"{kind}_holdout_calibration_in_the_large" in run.data.metrics
    assert not any("unknown" in name for name in run.data.metrics)  # a lead file has no value segments
    # The segments are the ones the spec names (segment_column: list_source), not value bands.
    assert set(rows["segment"]) == {"tax_list", "probate", "absentee", "code_violation"}
    report = (base / "data" / "reports" / "crm_export_report.md").read_text()
    assert "| ROC-AUC |" in report and f"{evaluation['holdout_roc_auc']:.4f}" in report
    verdicts = [line for line in said if line.strip().startswith("booked_call_7d:")]
    assert len(verdicts) == 1 and "ROC-AUC" in verdicts[0] and "mean predicted" in verdicts[0]


@pytest.mark.slow
def test_no_model_promoted_exits_non_zero_saying_why(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    said: list[str] = []
    strict = {**LENIENT, "min_top_decile_lift": 5.0}  # no model of bookings lifts the top decile 5x
    rc = train_lead_file(lead_file(tmp_path, n=1_500, seed=9), tmp_path / "data", say=said.append,
                         model_config=strict)
    assert rc == NOT_PROMOTED, said
    assert "no model passed its gates" in said[-1]
    assert any("top_decile_lift" in line for line in said)
    assert not (tmp_path / "data" / "exports").exists()


@pytest.mark.parametrize(("spec", "says"), [
    ("name: Bad Name\npath: crm.csv\nlead_id: lead_id\ncontact_time: contacted_at\n"
     "targets:\n  booked_call_7d: {outcome_time: booked_at}\n", "name"),
    ("name: crm\npath: crm.csv\nlead_id: lead_id\ncontact_time: contacted_at\n"
     "targets:\n  booked_call_7d: {outcome_time: booked_at}\ntier_shares: [0.5, 0.3, 0.6]\n", "tier_shares"),
    ("name: crm\npath: crm.csv\nlead_id: lead_id\ncontact_time: contacted_at\n"
     "targets:\n  booked_call_30d: {outcome_time: booked_at}\n", "booked_call_30d"),
    ("name: crm\npath: crm.csv\nlead_id: lead_id\ncontact_time: contacted_at\n"
     "targets:\n  booked_call_7d: {outcome_time: booked_at}\npii_columns: [owner_phone]\n"
     "segment_column: owner_phone\n", "segment_column owner_phone must be a categorical feature column"),
    ("name: crm\npath: missing.csv\nlead_id: lead_id\ncontact_time: contacted_at\n"
     "targets:\n  booked_call_7d: {outcome_time: booked_at}\n", "lead file not found"),
])
def test_a_bad_spec_or_file_stops_with_a_clear_reason_and_writes_nothing(tmp_path, monkeypatch, spec, says):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    lead_file(tmp_path, n=50)
    (tmp_path / "bad.yaml").write_text(spec)
    said: list[str] = []
    assert train_lead_file(tmp_path / "bad.yaml", tmp_path / "data", say=said.append) == UNUSABLE
    assert said[-1].startswith("train stopped:") and says in said[-1], said
    assert not (tmp_path / "data").exists()


def test_a_spec_naming_a_missing_column_stops_before_training(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    lead_file(tmp_path, n=50, extra="open_column: still_open\n")
    said: list[str] = []
    assert train_lead_file(tmp_path / "crm.yaml", tmp_path / "data", say=said.append) == UNUSABLE
    assert "still_open" in said[-1] and not (tmp_path / "data").exists()


def test_the_demo_refuses_a_dataset_spec_and_points_at_train(tmp_path, capsys):
    spec = lead_file(tmp_path, n=50)
    assert main(["demo", "--dataset-spec", str(spec), "--data-root", str(tmp_path / "data")]) == 2
    assert f"wholesaler train --dataset-spec {spec}" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


@pytest.mark.slow
def test_from_the_launchpad_a_target_the_file_lacks_is_refused_with_the_reason(trained):
    import dagster as dg

    from wholesaler_assets.cli_train import lead_file_definitions
    from wholesaler_assets.replay import failure_of

    base, _, _ = trained
    defs = lead_file_definitions(base / "data", base / "crm.yaml", None)
    with dg.DagsterInstance.ephemeral() as instance:
        tables = defs.resolve_job_def("training_data_job").execute_in_process(
            instance=instance, partition_key="deal_30d", raise_on_error=False)
        models = defs.resolve_job_def("model_training_job").execute_in_process(
            instance=instance, partition_key="deal_30d", raise_on_error=False)
    assert tables.success and not tables.asset_materializations_for_node("training_table")
    assert not models.success and "dataset crm_export has no deal_30d: nothing to train" in failure_of(models)
    assert not (base / "data" / "models" / "deal_30d").exists()
