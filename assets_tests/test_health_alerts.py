"""Alerts reach a real HTTP receiver on loopback: a failed run, late scores and stale data, each once."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import polars as pl
import pytest

from wholesaler_assets.definitions import build_definitions, embedded_resources
from wholesaler_assets.io.clock import write_clock
from wholesaler_assets.io.warehouse import DuckDBWarehouse
from wholesaler_assets.resources import AlertResource, RetrainingResource

DAY = dt.date(2026, 6, 10)


class Receiver:
    """A webhook on loopback that keeps what it was sent and answers `status`."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.status == 200:
                    receiver.received.append(json.loads(body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    hook = Receiver()
    yield hook
    hook.server.shutdown()


@pytest.fixture
def platform(tmp_path, receiver):
    resources = {**embedded_resources(str(tmp_path / "data"), mlruns=str(tmp_path / "mlruns")),
                 "retraining": RetrainingResource(), "alerts": AlertResource(webhook_url=receiver.url)}
    with dg.instance_for_test() as instance:
        yield build_definitions(resources), resources, instance, tmp_path


def _plain(resources: dict) -> dict:
    return {k: resources[k] for k in ("warehouse", "mlflow_tracking", "clock", "retraining", "alerts")}


def test_a_failed_run_is_posted_with_the_reason_and_a_link(platform, receiver):
    defs, resources, instance, _ = platform
    result = defs.resolve_job_def("registration_job").execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert_sensor", dagster_instance=instance, dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(), resources=_plain(resources)).for_run_failure()
    defs.resolve_sensor_def("run_failure_alert_sensor")(context)
    [alert] = receiver.received
    assert alert["kind"] == "run_failure" and alert["subject"] == "registration_job"
    assert "no dataset catalog yet" in alert["summary"]
    assert alert["details"]["url"].endswith(f"/runs/{result.run_id}")


def _health(defs, resources, instance, cursor=None):
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=_plain(resources)) as context:
        return defs.resolve_sensor_def("health_sensor")(context), context.cursor


def test_late_scores_and_stale_contacts_are_posted_once_and_retried_when_not_delivered(platform, receiver):
    defs, resources, instance, base = platform
    write_clock(base / "data", DAY)
    wh = DuckDBWarehouse(base / "data" / "warehouse.duckdb")
    wh.replace_table("scored_leads", pl.DataFrame({"scoring_date": [DAY - dt.timedelta(days=3)], "lead_id": ["L1"]}))
    wh.replace_table("lead_contacts", pl.DataFrame({
        "contact_id": ["C1"], "contact_time": [dt.datetime(2026, 6, 5, 10, tzinfo=dt.UTC)]}))

    receiver.status = 503
    result, cursor = _health(defs, resources, instance)
    assert "2 problem(s), 0 new alert(s) sent, 2 not delivered" in (result.skip_message or "")
    receiver.status = 200
    result, cursor = _health(defs, resources, instance, cursor)
    assert sorted(a["kind"] for a in receiver.received) == ["data_stale", "scores_late"]
    late = next(a for a in receiver.received if a["kind"] == "scores_late")
    # The clock's now is the end of DAY: the scores of the day before were due at 07:00.
    assert late["day"] == str(DAY - dt.timedelta(days=1)) and str(DAY - dt.timedelta(days=3)) in late["summary"]
    result, cursor = _health(defs, resources, instance, cursor)
    assert len(receiver.received) == 2 and "0 new alert(s) sent" in (result.skip_message or "")

    wh.replace_table("scored_leads", pl.DataFrame({"scoring_date": [DAY], "lead_id": ["L1"]}))
    wh.replace_table("lead_contacts", pl.DataFrame({
        "contact_id": ["C1"], "contact_time": [dt.datetime(2026, 6, 10, 10, tzinfo=dt.UTC)]}))
    result, _ = _health(defs, resources, instance, cursor)
    assert result.skip_message.startswith("0 problem(s)")
