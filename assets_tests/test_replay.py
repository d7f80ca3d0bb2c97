"""`wholesaler replay` through Dagster on a small market: history, training, then each day as a sensor's run."""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import polars as pl
import pytest

from wholesaler_assets.domain.synthetic.release import released_after_day
from wholesaler_assets.io.clock import read_clock
from wholesaler_assets.replay import ReplayPlan, load_state, replay

pytestmark = pytest.mark.slow

LENIENT = {"max_cv_pr_auc_cov": 0.6, "max_train_holdout_gap": 0.6, "min_relative_pr_auc_gain": -1.0,
           "min_segment_rows": 100_000, "search_configs": 1, "min_top_decile_lift": 0.0, "max_ece": 1.0}
PLAN = ReplayPlan(start=dt.date(2026, 5, 1), days=2, properties=2_500, seed=7, snapshot_every_days=28)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory, monkeypatch_module):
    base = tmp_path_factory.mktemp("replay")
    monkeypatch_module.setenv("DAGSTER_HOME", str(base / "dagster_home"))
    (base / "dagster_home").mkdir()
    said: list[str] = []
    rc = replay(PLAN, base / "data", base / "mlruns", said.append, model_config=LENIENT,
                arv_config={"max_mdape": 0.3, "min_mae_improvement": 0.0})  # ~90 holdout sales: see conftest
    return base, rc, said


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_each_day_is_one_daily_cycle_run_launched_by_the_sensor(replayed):
    base, rc, said = replayed
    assert rc == 0, said
    state = load_state(base / "data")
    assert list(state["days"]) == ["2026-05-01", "2026-05-02"]
    runs = dg.DagsterInstance.get().get_runs(dg.RunsFilter(job_name="daily_cycle_job"))
    assert sorted(r.tags["dagster/partition"] for r in runs) == ["2026-05-01", "2026-05-02"]
    assert all(r.tags["dagster/sensor_name"] == "daily_cycle_sensor" and r.is_success for r in runs)
    assert read_clock(base / "data") == dt.date(2026, 5, 2)
    assert all(day["scored_leads"] > 0 and day["drifted_share"] is not None for day in state["days"].values())
    assert any("2026-05-02:" in line and "leads scored" in line for line in said)


def test_nothing_landed_before_its_day(replayed):
    base, _, _ = replayed
    files = sorted((base / "data" / "processed").rglob("*.parquet"))
    assert len(files) >= 6  # the history of five sources and at least one day file
    for path in files:
        source, label = path.parent.name, path.stem.removeprefix(f"{path.parent.name}-")
        day = PLAN.start - dt.timedelta(days=1) if label == "history" else dt.date.fromisoformat(label)
        assert released_after_day(pl.read_parquet(path), source, day).height == 0, path


def test_a_replay_continues_where_it_stopped_and_refuses_another_plan(replayed):
    base, _, _ = replayed
    runs_before = len(dg.DagsterInstance.get().get_runs())
    said: list[str] = []
    assert replay(PLAN, base / "data", base / "mlruns", said.append) == 0  # both days done: nothing to run
    assert len(dg.DagsterInstance.get().get_runs()) == runs_before
    other = ReplayPlan(start=dt.date(2026, 6, 1), days=1, properties=2_500)
    assert replay(other, base / "data", base / "mlruns", said.append) == 1
    assert "holds another replay" in said[-1]


def test_the_sensor_skips_a_day_already_launched(replayed):
    from wholesaler_assets.definitions import build_definitions, embedded_resources

    base, _, _ = replayed
    resources = embedded_resources(str(base / "data"), mlruns=str(base / "mlruns"))
    sensor = build_definitions(resources).resolve_sensor_def("daily_cycle_sensor")
    cursor = load_state(base / "data")["sensor_cursor"]
    context = dg.build_sensor_context(cursor=cursor, resources={"data_folder": resources["data_folder"],
                                                                "clock": resources["clock"]})
    skip = sensor(context)
    assert isinstance(skip, dg.SkipReason) and "already launched" in skip.skip_message
    assert json.loads(context.cursor)["day"] == "2026-05-02"
