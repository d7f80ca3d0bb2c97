"""The `wholesaler` command as a newcomer runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from wholesaler_assets.cli import main
from wholesaler_assets.cli_demo import DEMO_NOT_SCORED

PROJECT = Path(__file__).parents[1]


def test_generate_writes_every_source_and_the_ground_truth(tmp_path, capsys):
    assert main(["generate", "--properties", "1000", "--data-root", str(tmp_path), "--format", "csv",
                 "--clean"]) == 0
    assert "wrote" in capsys.readouterr().out
    for source in ("properties", "distress_events", "contacts", "outcomes", "sales"):
        assert list((tmp_path / "landing" / source).glob("*.csv")), source
    truth = pl.read_parquet(tmp_path / "ground_truth" / "contact_probabilities.parquet")
    assert {"contact_id", "p_booked_call_7d", "p_qualified_14d", "p_deal_30d"} <= set(truth.columns)


def test_contracts_prints_every_source(capsys):
    assert main(["contracts"]) == 0
    out = capsys.readouterr().out
    for source in ("properties", "distress_events", "contacts", "outcomes", "sales"):
        assert f"**`{source}`**" in out
    readme = (Path(__file__).parents[1] / "docs" / "contracts.md").read_text()
    for table in out.strip().split("\n\n**"):  # the README's tables are the generated ones
        assert table.strip().lstrip("*") in readme, "regenerate docs/contracts.md: wholesaler contracts"


def test_output_piped_into_a_reader_that_stops_early_ends_without_a_traceback():
    """`wholesaler contracts | head`: the reader leaves before the output is written."""
    for command in ("contracts", "serving-schema"):
        done = subprocess.run(f"{sys.executable} -m wholesaler_assets.cli {command} | true", shell=True,
                              capture_output=True, text=True, cwd=PROJECT, timeout=60)
        assert done.returncode == 0 and done.stderr == "", done.stderr  # `true` exits at once: a broken pipe
        done = subprocess.run(["bash", "-o", "pipefail", "-c", f"{sys.executable} -m wholesaler_assets.cli {command}"
                               " | true"], capture_output=True, text=True, cwd=PROJECT, timeout=60)
        assert done.returncode == 141 and done.stderr == "", done.stderr  # as a shell's SIGPIPE exit


def test_the_demo_says_which_warnings_are_expected(capsys):
    from types import SimpleNamespace

    from wholesaler_assets.cli_demo import _report_run

    def warning(name: str, description: str) -> SimpleNamespace:
        return SimpleNamespace(passed=False, severity=SimpleNamespace(value="WARN"), check_name=name,
                               asset_key=SimpleNamespace(to_user_string=lambda: "asset"), description=description)

    run = SimpleNamespace(run_id="0123456789", success=True, get_asset_check_evaluations=lambda: [
        warning("no_rejected_files", "1 file(s) quarantined: x (planted on purpose by the synthetic market)"),
        warning("no_high_vif", "[deal_30d] 9 feature(s) with VIF above 10.0"),
        warning("no_dataset_drift", "[2026-10-31] drift")])
    _report_run(run)
    lines = capsys.readouterr().out.splitlines()
    assert "warning (expected: planted on purpose)" in lines[0]
    assert "warning (expected on the demo market: prior_contacts is the sum" in lines[1]
    assert "no_dataset_drift warning: [2026-10-31] drift" in lines[2]  # not one the demo plants


def test_every_command_says_what_it_does(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    listing = capsys.readouterr().out
    for command in ("score", "queue", "champion", "promote", "rollback", "contracts", "demo"):
        line = next(line for line in listing.splitlines() if line.strip().startswith(command + " ")
                    or line.strip() == command)
        assert command in line


def test_demo_runs_the_whole_pipeline_and_says_what_to_open(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "wholesaler_assets.cli", "demo", "--properties", "2000", "--data-root",
         str(tmp_path / "data"), "--snapshot-every-days", "120"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
    )
    # 2,000 properties are too few for the deal and qualification models to pass their gates, so no
    # scorer is promoted: the demo runs to the end, says why, and exits non-zero (it did not score).
    assert done.returncode == DEMO_NOT_SCORED, done.stdout[-3000:] + done.stderr[-3000:]
    assert "demo incomplete: nothing was scored (no lead_scorer@champion in the MLflow registry" in done.stderr
    for step in ("[1/7]", "[2/7]", "[3/7]", "[4/7]", "[5/7]", "[6/7] scoring_job", "[7/7]", "Dagster UI",
                 "MLflow UI", "demo_data_report.md", "booked_call_7d:", "priority_queue_<date>.csv"):
        assert step in done.stdout, step
    scoring = done.stdout.split("[6/7]")[1].split("[7/7]")[0]
    assert "not scored: no lead_scorer@champion" in scoring and "active leads scored" not in scoring
    models = done.stdout.split("[5/7]")[1].split("[6/7]")[0]
    assert "no scorer registered: the gates decided no model is good enough yet (no registrable model for" in models
    report = (tmp_path / "data" / "reports" / "demo_data_report.md").read_text()
    assert "| property_snapshots |" in report and "rejected" in report
    assert "| booked_call_7d |" in report and "| deal_30d |" in report
    assert ("| model | winner | PR-AUC | ROC-AUC | top-decile lift | Brier | ECE | mean predicted | actual rate "
            "| why |") in report
    # Each target's verdict is printed once: its failed gates are not repeated as failed checks.
    assert "check model_evaluation." not in models and models.count("holdout xgboost: PR-AUC") + models.count(
        "holdout baseline: PR-AUC") >= 1
    # Running it again keeps the data and does not ingest anything twice.
    again = subprocess.run(
        [sys.executable, "-m", "wholesaler_assets.cli", "demo", "--properties", "2000", "--data-root",
         str(tmp_path / "data"), "--snapshot-every-days", "120"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
    )
    assert again.returncode == DEMO_NOT_SCORED, again.stderr[-3000:]
    assert "already there" in again.stdout
    assert (tmp_path / "data" / "reports" / "demo_data_report.md").read_text() == report


def test_the_demo_takes_its_snapshot_history_in_one_backfill_run_or_one_run_per_date(tmp_path, ingest_market,
                                                                                       capsys):
    import datetime as dt
    import time

    import dagster as dg

    from wholesaler_assets.cli_demo import _snapshot_history
    from wholesaler_assets.definitions import build_definitions, embedded_resources
    from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig

    root = tmp_path / "data"
    ingest_market(root, MarketConfig(n_properties=1_000, seed=3, dirt=DirtConfig.clean()), tmp_path / "mlruns",
                  every_days=10_000)
    defs = build_definitions(embedded_resources(str(root), mlruns=str(tmp_path / "mlruns")))
    instance = dg.DagsterInstance.ephemeral()
    first, last = dt.date(2026, 10, 1), dt.date(2026, 10, 10)
    assert _snapshot_history(defs, instance, first, last, 1, time.perf_counter())
    (run,) = instance.get_runs()  # every day of the range in one run
    assert run.tags["dagster/asset_partition_range_start"] == "2026-10-01"
    assert len(instance.get_materialized_partitions(dg.AssetKey("property_snapshots"))) == 10
    assert "one backfill run of every day, 2026-10-01 to 2026-10-10 (10 daily partitions)" in capsys.readouterr().out
    assert _snapshot_history(defs, instance, first, last, 5, time.perf_counter())  # one run per date:
    assert len(instance.get_runs()) == 1 + 3  # the 10th and 5th, and the first day for the earliest contacts
    assert "3 point-in-time partitions, one run each, 2026-10-01 to 2026-10-10" in capsys.readouterr().out
