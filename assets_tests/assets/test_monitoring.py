"""Monitoring through Dagster on the champion market: estimated and realized performance, the drift report."""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import polars as pl
import pytest

from wholesaler_assets.assets.monitoring import drift_report
from wholesaler_assets.assets.monitoring import realized_performance as performance_asset
from wholesaler_assets.assets.scoring import scored_leads
from wholesaler_assets.io.inputs import CONTACT_SCORES_TABLE, DRIFT_TABLE, ESTIMATED_TABLE, REALIZED_TABLE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def monitored(champion_market, tmp_path_factory):
    """The cutoff and the week before scored, then monitored day by day."""
    resources = champion_market.resources(tmp_path_factory.mktemp("monitoring") / "data")
    week_before = champion_market.scoring_day - dt.timedelta(days=7)
    runs = {}
    for day in (week_before, champion_market.scoring_day):
        assert dg.materialize([scored_leads], resources=resources, partition_key=day.isoformat()).success
        runs[day] = dg.materialize([performance_asset, drift_report], resources=resources,
                                   partition_key=day.isoformat(), raise_on_error=False)
    return resources, runs, week_before


def _metadata(result, node: str) -> dict:
    return {k: v.value for k, v in result.asset_materializations_for_node(node)[0].metadata.items()}


def test_a_day_gets_its_estimate_and_the_day_whose_window_closed_its_realized_figures(monitored, champion_market):
    resources, runs, week_before = monitored
    first, last = runs[week_before], runs[champion_market.scoring_day]
    assert first.success and last.success
    assert _metadata(first, "realized_performance")["windows_closed_today"] == 0  # nothing scored 7 days before
    meta = _metadata(last, "realized_performance")
    assert meta["windows_closed_today"] == 1  # booked_call_7d of the week before; deal_30d needs 30 days
    assert 0 < meta["estimated_booked_call_7d_base_rate"] < 1
    wh = resources["warehouse"].open()
    realized = wh.read(REALIZED_TABLE)
    assert realized.filter(realized["segment"] == "all").select("target", "scoring_date").rows() == [
        ("booked_call_7d", week_before)]
    overall = realized.filter(realized["segment"] == "all").row(0, named=True)
    contacts = wh.read("lead_contacts").filter(pl.col("contact_time").dt.date() == week_before)
    assert overall["n"] == contacts.height > 0  # the week before's contacts, each scored as of its contact
    assert 0 <= overall["base_rate"] < 1 and overall["expected_positives"] > 0
    scored = wh.read(CONTACT_SCORES_TABLE, "scoring_date = ?", [week_before])
    assert sorted(scored["contact_id"]) == sorted(contacts["contact_id"])
    assert meta["contacts_scored"] == wh.row_count(CONTACT_SCORES_TABLE, "scoring_date = ?",
                                                   [champion_market.scoring_day])
    estimated = wh.read(ESTIMATED_TABLE)
    assert estimated.height == 4  # two targets on two days
    assert (estimated["base_rate_lower"] <= estimated["base_rate"]).all()
    assert (estimated["base_rate"] <= estimated["base_rate_upper"]).all()
    assert open(meta["plot_path"], "rb").read(4) == b"\x89PNG"
    check = last.get_asset_check_evaluations()
    assert {c.check_name for c in check} == {"estimate_matches_realized", "no_dataset_drift", "no_value_shift"}


def test_the_drift_report_compares_each_day_with_the_champions_first(monitored, champion_market):
    resources, runs, week_before = monitored
    first = _metadata(runs[week_before], "drift_report")
    assert first["drifted_share"] == 0.0 and first["dataset_drift"] is False  # the reference itself
    assert first["reference_date"] == week_before.isoformat()
    last = _metadata(runs[champion_market.scoring_day], "drift_report")
    assert last["reference_date"] == week_before.isoformat()
    assert last["dataset_drift"] is False  # a week of a stationary market
    assert "psi_market_value" in last and "psi_day_over_day_p_booked_call_7d" in last
    assert last["psi_day_over_day_p_booked_call_7d"] < 0.05  # the seeds' shadow bar between two quiet days
    shift = next(c for c in runs[champion_market.scoring_day].get_asset_check_evaluations()
                 if c.check_name == "no_value_shift")
    assert shift.passed and "metros within 5%" in shift.metadata["summary"].value  # a stationary week
    report = json.loads(open(last["report_json"]).read())
    assert {"metrics", "tests"} <= set(report)
    assert open(last["report_html"]).read(200).lower().lstrip().startswith("<!doctype html") or \
        "<html" in open(last["report_html"]).read(2_000).lower()
    history = resources["warehouse"].open().read(DRIFT_TABLE).sort("report_date")
    assert history["report_date"].to_list() == [week_before, champion_market.scoring_day]
    assert set(json.loads(history["psi"][1])) >= {"market_value", "p_booked_call_7d", "day_over_day_p_booked_call_7d"}
    assert history["value_shift"].to_list() == ["{}", "{}"]  # no metro moved: no value-shift evidence


def test_a_day_without_a_property_snapshot_fails_with_the_reason(monitored):
    resources, _, _ = monitored
    result = dg.materialize([performance_asset], resources=resources, raise_on_error=False,
                            partition_key="2024-06-01")
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure).event_specific_data.error.message
    assert "no property snapshot" in failure
