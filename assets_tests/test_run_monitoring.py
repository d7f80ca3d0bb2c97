"""Run monitoring and run retries on a real instance with a real `dagster-daemon`.

A daily job (snapshot_job) is launched through the daemon's queue and the default run launcher
on a temporary DAGSTER_HOME holding the project's dagster.yaml. Then every process (daemon, code
server, run worker, step worker) is SIGKILLed, as a crash or an out-of-memory kill of the machine
would; the run is left STARTED with nobody to finish it. A fresh daemon's run monitoring must mark
it FAILURE once it exceeds its `dagster/max_runtime`, and the run retry must re-run it to success
with the snapshot written once. A run whose gate fails is not retried: the same data would fail
the same gate again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.storage.tags import PARENT_RUN_ID_TAG, WILL_RETRY_TAG

from wholesaler_assets.automation import DAILY_RUN_TAGS
from wholesaler_assets.domain.contracts.sources import SOURCES
from wholesaler_assets.domain.snapshots.properties import build_property_snapshot
from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig
from wholesaler_assets.io.landing import DataLayout

pytestmark = pytest.mark.slow
PROJECT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
MARKET = MarketConfig(n_properties=1_500, seed=31, dirt=DirtConfig.clean())
DAY = MARKET.end_date
# The test's own max runtime for the killed run (the daily jobs carry 3600 s) and a fast poll;
# every other setting is the project's.
MAX_RUNTIME_S = 90  # the retry inherits it: room for a run under load
POLL_S = 2


def test_both_profiles_have_the_same_monitoring_and_retry_settings():
    embedded = yaml.safe_load((PROJECT / ".dagster_home" / "dagster.yaml").read_text())
    production = yaml.safe_load((PROJECT / "deploy" / "production" / "dagster.yaml").read_text())
    for block in ("run_monitoring", "run_retries"):
        assert embedded[block] == production[block], block
    assert embedded["run_monitoring"]["enabled"] and embedded["run_retries"]["enabled"]
    assert embedded["run_retries"]["retry_on_asset_or_op_failure"] is False
    assert int(DAILY_RUN_TAGS["dagster/max_retries"]) >= 1


def _start(args: list[str], project: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "DAGSTER_HOME": str(project / "dagster_home"), "TMPDIR": str(project / "tmp"),
           "PYTHONPATH": os.pathsep.join([str(PROJECT), os.environ.get("PYTHONPATH", "")]),
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    with log.open("ab") as out:  # its own process group: the test kills all of it, children included
        return subprocess.Popen(args, cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(10)


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, from /proc/<pid>/stat."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":  # fields: state, ppid, pgrp, ...
            members.append(int(stat.parent.name))
    return members


@pytest.fixture
def project(tmp_path, ingest_market) -> Iterator[Path]:
    """A project folder: ingested market under data/, a DAGSTER_HOME with the project's dagster.yaml
    (poll interval shortened), and a workspace on wholesaler_assets.definitions."""
    ingest_market(tmp_path / "data", MARKET, tmp_path / "mlruns", every_days=14)
    layout = DataLayout(tmp_path / "data")
    assert not any(layout.pending_files(s) for s in SOURCES), "the landing sensor would launch ingestion"
    home, tmp = tmp_path / "dagster_home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    settings = yaml.safe_load((PROJECT / ".dagster_home" / "dagster.yaml").read_text())
    settings["run_monitoring"]["poll_interval_seconds"] = POLL_S
    (home / "dagster.yaml").write_text(yaml.safe_dump(settings))
    (tmp_path / "workspace.yaml").write_text(yaml.safe_dump({"load_from": [{"python_module": {
        "module_name": "wholesaler_assets.definitions", "working_directory": str(tmp_path),
        "location_name": "wholesaler_leads"}}]}))
    yield tmp_path
    shutil.rmtree(tmp, ignore_errors=True)


def _launch(project: Path, run_id: str, tags: dict[str, str], run_config: dict | None = None) -> None:
    process = _start([str(BIN / "dagster"), "job", "launch", "-w", "workspace.yaml", "-j", "snapshot_job",
                      "--run-id", run_id, "--tags", json.dumps(tags), "--config-json", json.dumps(run_config or {})],
                     project, project / "launch.log")
    try:
        assert process.wait(180) == 0, (project / "launch.log").read_text()[-3000:]
    finally:
        _kill_group(process)


def _wait(instance: dg.DagsterInstance, run_id: str, statuses: set[dg.DagsterRunStatus], seconds: float,
          log: Path) -> dg.DagsterRun:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = instance.get_run_by_id(run_id)
        if run is not None and run.status in statuses:
            return run
        time.sleep(0.5)
    run = instance.get_run_by_id(run_id)
    pytest.fail(f"run {run_id} is {run and run.status}, not {statuses} after {seconds} s:\n"
                f"{log.read_text()[-4000:]}")


def _children(instance: dg.DagsterInstance, run_id: str) -> list[dg.DagsterRun]:
    return [r for r in instance.get_runs() if r.tags.get(PARENT_RUN_ID_TAG) == run_id]


def test_a_run_whose_processes_died_is_failed_by_monitoring_and_retried_once(project):
    log = project / "daemon.log"
    instance = dg.DagsterInstance.from_config(str(project / "dagster_home"))
    daemon = _start([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], project, log)
    try:
        run_id = "0d41a5e0-0000-4000-8000-00000000c0de"
        _launch(project, run_id, {"dagster/partition": DAY.isoformat(), "dagster/max_runtime": str(MAX_RUNTIME_S)})
        started = _wait(instance, run_id, {dg.DagsterRunStatus.STARTED}, 180, log)
        assert started.tags["dagster/max_retries"] == DAILY_RUN_TAGS["dagster/max_retries"]
        # Everything dies at once: daemon, code server, run worker (and its step worker if it had one).
        assert len(_group_members(daemon.pid)) >= 3
        _kill_group(daemon)
        time.sleep(1)
        assert _group_members(daemon.pid) == []
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED  # nobody left to fail it

        daemon = _start([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], project, log)
        record = instance.get_run_record_by_id(run_id)
        failed = _wait(instance, run_id, {dg.DagsterRunStatus.FAILURE}, MAX_RUNTIME_S + 120, log)
        failed_at = instance.get_run_record_by_id(run_id).end_time
        # failed by run monitoring within the run's max runtime plus a few poll intervals (and daemon start)
        assert failed_at - record.start_time <= MAX_RUNTIME_S + 60, failed_at - record.start_time
        messages = [e.message for e in instance.all_logs(run_id)]
        assert any("maximum runtime" in (m or "") for m in messages), messages[-10:]

        deadline = time.monotonic() + 240
        while not (retries := _children(instance, failed.run_id)) and time.monotonic() < deadline:
            time.sleep(1)
        assert len(retries) == 1, f"expected one retry:\n{log.read_text()[-4000:]}"
        retry = _wait(instance, retries[0].run_id, {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE},
                      240, log)
        assert retry.status == dg.DagsterRunStatus.SUCCESS, log.read_text()[-4000:]
        assert retry.tags["dagster/partition"] == DAY.isoformat()

        # Written once: one row per property for the day, as many as the snapshot has.
        from wholesaler_assets.definitions import embedded_resources

        warehouse = embedded_resources(str(project / "data"), mlruns=str(project / "mlruns"))["warehouse"].open()
        rows = warehouse.read("property_snapshots", "snapshot_date = ?", [DAY])
        expected = build_property_snapshot(warehouse.read("raw_properties", "effective_date <= ?", [DAY]),
                                           warehouse.read("raw_distress_events", "event_date <= ?", [DAY]), DAY)
        assert rows.height == expected.height == rows["property_id"].n_unique()

        # A run whose gate fails is not retried (completeness above 100% cannot be met).
        doomed = "0d41a5e0-0000-4000-8000-0000000000ff"
        _launch(project, doomed, {"dagster/partition": (DAY - dt.timedelta(days=1)).isoformat()},
                {"ops": {"property_snapshots": {"config": {"min_completeness": 1.01}}}})
        gated = _wait(instance, doomed, {dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS}, 240, log)
        assert gated.status == dg.DagsterRunStatus.FAILURE
        assert any(e.is_step_failure for e in (r.dagster_event for r in instance.all_logs(doomed)
                                                if r.dagster_event is not None))
        deadline = time.monotonic() + 30
        while WILL_RETRY_TAG not in instance.get_run_by_id(doomed).tags and time.monotonic() < deadline:
            time.sleep(1)
        assert instance.get_run_by_id(doomed).tags.get(WILL_RETRY_TAG) == "false"
        time.sleep(2 * POLL_S)
        assert _children(instance, doomed) == []
    finally:
        _kill_group(daemon)
        instance.dispose()
