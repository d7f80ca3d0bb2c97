"""The experiment assets on the champion market: simulate, design, assign, rehearse, analyze, recommend, approve."""

from __future__ import annotations

import dagster as dg
import pytest

from wholesaler_assets.assets.experiments import (
    ab_test_analysis,
    ab_test_assignments,
    ab_test_design,
    ab_test_rehearsal,
    campaign_recommendations,
    outreach_simulation,
)
from wholesaler_assets.assets.scoring import scored_leads
from wholesaler_assets.cli import main

TEAM = {"days": 30, "capacity": {"cold_call": 30, "sms": 15, "direct_mail": 10, "door_knock": 3}, "seed": 3}


@pytest.fixture
def scored(champion_market, tmp_path):
    resources = champion_market.resources(tmp_path / "data")
    assert dg.materialize([scored_leads], resources=resources,
                          partition_key=champion_market.scoring_day.isoformat()).success
    return resources


def test_the_ab_test_runs_end_to_end_on_the_scored_queue(scored, champion_market):
    day = champion_market.scoring_day.isoformat()
    design_config = {"contacts_per_day": 58, "relative_lift": 0.6, "adoption": 1.0}
    result = dg.materialize(
        [outreach_simulation, ab_test_design, ab_test_assignments, ab_test_rehearsal, ab_test_analysis],
        resources=scored, partition_key=day, run_config={"ops": {
            "outreach_simulation": {"config": TEAM}, "ab_test_design": {"config": design_config},
            "ab_test_rehearsal": {"config": TEAM}}})
    assert result.success
    meta = {e.asset_key.path[-1]: e.step_materialization_data.materialization.metadata
            for e in result.get_asset_materialization_events()}
    simulation = meta["outreach_simulation"]
    assert {"deals_per_100_queue", "deals_per_100_as_usual", "deals_per_100_random"} <= set(simulation)
    expected = dict(scored["warehouse"].open().read("outreach_simulation")
                    .select("policy", "expected_deals_per_100").iter_rows())
    # Whether the trained queue wins is a property of the model: the domain tests show the queue in
    # true order wins, benchmarks/bench_outreach.py measures the trained one on the default market;
    # this small market's leniently gated model need not. Here: every policy ran on the same leads.
    assert set(expected) == {"queue", "as_usual", "random"} and all(0 <= v < 100 for v in expected.values())
    assert len(set(expected.values())) == 3  # the orders differ, so do their outcomes
    design = meta["ab_test_design"]
    assert 0 < design["base_rate"].value < 0.5 and design["days_needed"].value >= 1
    checks = result.get_asset_check_evaluations()
    assert [c.check_name for c in checks] == ["arms_balanced"] and checks[0].passed
    analysis = meta["ab_test_analysis"]
    assert analysis["decision"].value in ("roll out", "escalate", "do not roll out", "stop")
    assert analysis["adoption_observed"].value == pytest.approx(1.0)
    report = analysis["report"].value
    assert "Decision:" in open(report).read()
    assert open(report.replace(".md", ".png"), "rb").read(4) == b"\x89PNG"


def test_recommendations_wait_for_a_person_and_record_the_decision(scored, tmp_path, capsys):
    result = dg.materialize([campaign_recommendations], resources=scored,
                            run_config={"ops": {"campaign_recommendations": {"config": {"max_p_value": 0.2,
                                                                                       "min_contacts": 50}}}})
    assert result.success
    warehouse = scored["warehouse"].open()
    recs = warehouse.read("campaign_recommendations")
    assert recs.height > 0
    rec_id = recs.sort("rank")["recommendation_id"][0]
    report = (tmp_path / "data" / "reports" / "experiments" / "campaign_recommendations.md").read_text()
    assert "REQUIRES APPROVAL" in report and f"`{rec_id}` | pending" in report
    path = scored["warehouse"].duckdb_path
    assert main(["approve-recommendation", "REC-unknown", "--by", "Ana", "--decision", "approved",
                 "--warehouse", path]) == 1
    assert "no recommendation" in capsys.readouterr().err
    assert main(["approve-recommendation", rec_id, "--by", "Ana", "--decision", "approved", "--note", "try it",
                 "--warehouse", path]) == 0
    approvals = warehouse.read("recommendation_approvals")
    assert approvals.select("recommendation_id", "decision", "decided_by", "note").row(0) == (
        rec_id, "approved", "Ana", "try it")
    again = dg.materialize([campaign_recommendations], resources=scored, run_config={
        "ops": {"campaign_recommendations": {"config": {"max_p_value": 0.2, "min_contacts": 50}}}})
    meta = again.get_asset_materialization_events()[0].step_materialization_data.materialization.metadata
    assert meta["approved"].value == 1 and meta["pending"].value == recs.height - 1
