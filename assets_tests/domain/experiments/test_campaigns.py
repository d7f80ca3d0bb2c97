from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from wholesaler_assets.domain.experiments.campaigns import (
    RecommendationConfig,
    approval_status,
    conversion_table,
    labelled_contacts,
    recommendations,
)

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _campaign_data(weak_rate: float, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Two campaigns of 4 steps, 12 days apart, all at 5% except tax-list step 3 at `weak_rate`."""
    rng = np.random.default_rng(seed)
    rows, outcomes = [], []
    for lead in range(12_000):
        campaign = "tax-list" if lead % 2 else "probate-list"
        start = START + dt.timedelta(days=int(rng.integers(0, 200)))
        for step in range(1, 5):
            at = start + dt.timedelta(days=12 * (step - 1))
            rows.append((f"C{lead}-{step}", f"L{lead}", at, "cold_call" if lead % 3 else "sms",
                         f"CMP-2026-01-{campaign}", step))
            rate = weak_rate if (campaign == "tax-list" and step == 3) else 0.05
            if rng.random() < rate:
                outcomes.append((f"L{lead}", at + dt.timedelta(days=2)))
                break
    contacts = pl.DataFrame(rows, schema=["contact_id", "lead_id", "contact_time", "channel", "campaign_id",
                                          "campaign_step"], orient="row")
    return contacts, pl.DataFrame(outcomes, schema=["lead_id", "call_booked_at"], orient="row")


def test_a_planted_weak_step_is_ranked_first_with_its_evidence_and_test():
    contacts, outcomes = _campaign_data(0.005)
    labelled = labelled_contacts(contacts, outcomes, START + dt.timedelta(days=400))
    table = conversion_table(labelled, ["campaign", "campaign_step"])
    weak = table.filter((pl.col("campaign") == "tax-list") & (pl.col("campaign_step") == 3)).row(0, named=True)
    assert weak["wilson_high"] < 0.02 < 0.03 < table.filter(pl.col("campaign_step") == 1)["wilson_low"].min()
    recs = recommendations(labelled, RecommendationConfig(contacts_per_day=200))
    top = recs.row(0, named=True)
    assert top["kind"] == "drop_step" and top["target"] == "tax-list step 3"
    assert top["p_value"] < 1e-6 and top["extra_booked_per_1000_contacts"] > 0
    assert top["experiment_contacts_per_arm"] > 0 and top["experiment_days"] >= 1
    assert recs["extra_booked_per_1000_contacts"].is_sorted(descending=True)
    assert recs["recommendation_id"].equals(recommendations(labelled)["recommendation_id"])  # stable ids


def test_without_a_weak_step_nothing_about_steps_is_flagged():
    contacts, outcomes = _campaign_data(0.05, seed=1)
    recs = recommendations(labelled_contacts(contacts, outcomes, START + dt.timedelta(days=400)))
    assert recs.filter(pl.col("kind").is_in(["drop_step", "stop_after_step"])).height == 0


def test_contacts_whose_window_is_open_are_left_out():
    contacts, outcomes = _campaign_data(0.05, seed=2)
    cutoff = START + dt.timedelta(days=100)
    labelled = labelled_contacts(contacts, outcomes, cutoff)
    assert labelled["contact_time"].max() <= cutoff - dt.timedelta(days=7)


def test_the_latest_decision_is_the_status():
    recs = pl.DataFrame({"recommendation_id": ["REC-1", "REC-2"]})
    approvals = pl.DataFrame({"recommendation_id": ["REC-1", "REC-1"], "decision": ["rejected", "approved"],
                              "decided_by": ["Ana", "Bo"], "decided_at": [START, START + dt.timedelta(hours=1)],
                              "note": [None, "ok"]})
    status = approval_status(recs, approvals)
    assert status.select("recommendation_id", "status", "decided_by").rows() == [
        ("REC-1", "approved", "Bo"), ("REC-2", "pending", None)]
    assert approval_status(recs, None)["status"].to_list() == ["pending", "pending"]
