"""`wholesaler replay --dataset-spec`: a lead file trained before a month, then judged month by month.

The file is a CRM export of 20 months: bookings follow a fixed logistic function of the lead's
columns, except that from month 17 on twice as many leads book (a campaign season) and from month
19 on the equity column of new leads is 0.3 higher (a different list bought). The monitoring must
keep the months before the change inside their estimate, find the doubled bookings, and flag the
new list as drift.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import numpy as np
import polars as pl
import pytest

from wholesaler_assets.io.warehouse import DuckDBWarehouse
from wholesaler_assets.replay import SMALL_MARKET_GATES as LENIENT
from wholesaler_assets.replay_lead_file import default_start, replay_lead_file

pytestmark = pytest.mark.slow

FIRST = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
START = dt.date(2025, 1, 1)  # month 13: twelve months to train on
SEASON = dt.date(2025, 5, 1)  # month 17: bookings double
NEW_LIST = dt.date(2025, 7, 1)  # month 19: another list, with more equity


def _lead_file(folder, n: int = 12_000):
    rng = np.random.default_rng(3)
    times = [FIRST + dt.timedelta(minutes=int(m)) for m in np.sort(rng.uniform(0, 600 * 24 * 60, n))]
    days = np.array([t.date() for t in times])
    equity = rng.uniform(-0.2, 0.9, n) + np.where(days >= NEW_LIST, 0.3, 0.0)
    absentee = rng.random(n) < 0.4
    source = rng.choice(["tax_list", "probate", "absentee", "code_violation"], n)
    logit = -2.6 + 1.8 * equity + 0.7 * absentee + np.where(source == "probate", 0.6, 0.0)
    p = 1 / (1 + np.exp(-logit))
    p = np.where(days >= SEASON, np.minimum(2 * p, 1.0), p)
    booked = rng.random(n) < p
    booked_at = [t + dt.timedelta(hours=float(h)) if b else None
                 for t, b, h in zip(times, booked, rng.uniform(2, 150, n), strict=True)]
    pl.DataFrame({"lead_id": [f"L{i:05d}" for i in range(n)], "contacted_at": times, "booked_at": booked_at,
                  "equity_pct": equity.round(3), "absentee": absentee, "list_source": source,
                  "owner_phone": [f"555-{i:04d}" for i in range(n)]}).write_csv(folder / "crm.csv")
    (folder / "crm.yaml").write_text(
        "name: crm_export\npath: crm.csv\nlead_id: lead_id\ncontact_time: contacted_at\n"
        "targets:\n  booked_call_7d: {outcome_time: booked_at}\npii_columns: [owner_phone]\n")
    return folder / "crm.yaml"


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    base = tmp_path_factory.mktemp("byo")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(base / "dagster_home"))
        (base / "dagster_home").mkdir()
        said: list[str] = []
        rc = replay_lead_file(_lead_file(base), START, base / "data", base / "mlruns", said.append,
                              model_config=LENIENT)
        yield base, rc, said


def test_each_month_after_training_is_judged_and_the_changes_are_found(replayed):
    base, rc, said = replayed
    assert rc == 0, said
    table = DuckDBWarehouse(base / "data" / "warehouse.duckdb").read("lead_file_monitoring").sort("month")
    assert table["month"].to_list() == [dt.date(2025, m, 1) for m in range(1, 9)]
    calm = table.filter(pl.col("month") < SEASON)
    season = table.filter(pl.col("month") >= SEASON).drop_nulls("realized_base_rate")
    print(table.select("month", "n", "estimated_base_rate", "base_rate_lower", "base_rate_upper",
                       "realized_base_rate", "drifted_share", "dataset_drift"))
    assert not calm["base_rate_outside"].fill_null(False).any()
    # Every season month whose contacts all have their 7 days in the file shows the doubled bookings.
    judged = season.filter(pl.col("base_rate_outside").is_not_null())
    assert judged.height >= 2 and judged["base_rate_outside"].all()
    assert (season["realized_base_rate"] > 1.5 * season["estimated_base_rate"]).all()
    assert not calm["dataset_drift"].any()
    assert table.filter(pl.col("month") >= NEW_LIST)["dataset_drift"].all()
    assert (base / "data" / "reports" / "drift" / "crm_export" / "2025-07" / "report.html").exists()
    assert any("month(s) judged" in line for line in said)


def test_the_champion_trained_only_on_contacts_before_the_start(replayed):
    base, _, _ = replayed
    spec = (base / "data" / "crm_export.replay.yaml").read_text()
    assert "data_cutoff: '2025-01-01T00:00:00+00:00'" in spec
    wh = DuckDBWarehouse(base / "data" / "warehouse.duckdb")
    newest = wh.query("select max(contact_time) as t from training_table")["t"][0]
    assert newest < dt.datetime(2025, 1, 1, tzinfo=dt.UTC) - dt.timedelta(days=7) + dt.timedelta(seconds=1)


def test_the_monitoring_run_warns_in_the_ui(replayed):
    runs = dg.DagsterInstance.get().get_runs(dg.RunsFilter(job_name="lead_file_monitoring_job"))
    assert runs and runs[0].is_success
    check = dg.DagsterInstance.get().event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("lead_file_monitoring"), "lead_file_estimate_holds")])
    evaluation = next(iter(check.values())).evaluation
    assert evaluation is not None and not evaluation.passed
    summary = evaluation.metadata["summary"].value
    assert "booked_call_7d 2025-05: realized" in summary and "dataset drift in" in summary and "2025-07" in summary


def test_a_start_after_every_contact_and_a_missing_file_stop_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    said: list[str] = []
    (tmp_path / "missing.yaml").write_text("name: gone\npath: nowhere.csv\nlead_id: id\ncontact_time: at\n"
                                           "targets:\n  booked_call_7d: {label: booked}\n")
    assert replay_lead_file(tmp_path / "missing.yaml", None, tmp_path / "data", tmp_path / "mlruns",
                            said.append) == 1
    assert "nowhere.csv" in said[-1]


def test_the_default_start_is_the_month_after_sixty_percent_of_contacts():
    times = pl.Series([dt.datetime(2024, m, 15, tzinfo=dt.UTC) for m in range(1, 11)])
    assert default_start(times) == dt.date(2024, 8, 1)
