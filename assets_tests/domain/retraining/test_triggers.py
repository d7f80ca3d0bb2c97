"""Each retraining trigger fires on its evidence and not without it; the same evidence launches once."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from wholesaler_assets.domain.retraining.triggers import (
    DATASET_DRIFT,
    FEATURE_PSI,
    REALIZED_CALIBRATION,
    REALIZED_ECE,
    REALIZED_PR_AUC,
    VALUE_SHIFT,
    Evidence,
    TriggerPolicy,
    drift_evidence,
    performance_evidence,
    repair_for,
    retraining_decision,
)

DAY = dt.date(2026, 6, 10)
YESTERDAY = DAY - dt.timedelta(days=1)
POLICY = TriggerPolicy()


def _history(drifted: list[bool], psi: list[float] | None = None) -> pl.DataFrame:
    days = [DAY - dt.timedelta(days=len(drifted) - 1 - i) for i in range(len(drifted))]
    psi = psi or [0.01] * len(drifted)
    return pl.DataFrame({"report_date": days, "dataset_drift": drifted,
                         "drifted_share": [0.4 if d else 0.05 for d in drifted],
                         "psi": [json.dumps({"market_value": p, "equity_share": 0.02}) for p in psi]})


def test_dataset_drift_fires_on_k_consecutive_reports_and_not_on_fewer():
    assert drift_evidence(_history([False, True, True]), ["market_value"], POLICY) == []
    assert drift_evidence(_history([True, True, False]), ["market_value"], POLICY) == []
    found = drift_evidence(_history([True, False, True, True, True]), ["market_value"], POLICY)
    assert [(e.trigger, e.since, e.figures["days"]) for e in found] == [(DATASET_DRIFT, DAY - dt.timedelta(days=2), 3)]
    assert "3 consecutive reports" in found[0].summary
    assert drift_evidence(_history([True] * 3), ["market_value"], TriggerPolicy(drift_days=4)) == []


def test_a_drift_streak_that_goes_on_is_the_same_evidence():
    """The key is the streak's first day: a fourth day of the same drift adds no new evidence."""
    three = drift_evidence(_history([False, True, True, True]), [], POLICY)
    four = drift_evidence(_history([False, True, True, True, True]), [], POLICY)
    assert three[0].since == DAY - dt.timedelta(days=2) and four[0].since == DAY - dt.timedelta(days=3)
    # Both end on DAY, so re-anchor the shorter one: the same first day gives the same key.
    shifted = drift_evidence(_history([False, True, True, True, True])[:-1], [], POLICY)
    assert shifted[0].key == four[0].key


def test_a_key_feature_psi_above_the_limit_fires_and_names_the_feature():
    assert drift_evidence(_history([False] * 3, [0.3, 0.3, 0.2]), ["market_value"], POLICY) == []
    found = drift_evidence(_history([False] * 3, [0.1, 0.3, 0.4]), ["market_value", "equity_share"], POLICY)
    assert [(e.trigger, e.subject, e.since) for e in found] == [(FEATURE_PSI, "market_value", YESTERDAY)]
    assert found[0].figures["psi"] == pytest.approx(0.4)


def _with_value_shift(moved: list[dict[str, float]]) -> pl.DataFrame:
    return _history([False] * len(moved)).with_columns(value_shift=pl.Series([json.dumps(m) for m in moved]))


def test_a_metros_values_moved_on_consecutive_reports_is_value_shift_evidence_for_a_retraining():
    shock = {"Akron": -0.12, "Toledo": -0.08}
    assert drift_evidence(_with_value_shift([{}, {}, shock]), [], POLICY) == []  # one report: not yet
    assert drift_evidence(_with_value_shift([shock, shock, {}]), [], POLICY) == []  # it ended
    [found] = drift_evidence(_with_value_shift([{}, shock, shock]), [], POLICY)
    assert (found.trigger, found.since, found.figures["largest_change"]) == (VALUE_SHIFT, YESTERDAY, 0.12)
    assert "2 metro(s) on 2 consecutive reports" in found.summary and "Akron -12.0%" in found.summary
    # The same shock seen a day longer is the same evidence: it launches one retraining.
    [longer] = drift_evidence(_with_value_shift([{}, shock, shock, shock])[1:], [], POLICY)
    assert longer.key == drift_evidence(_with_value_shift([{}, shock, shock, shock]), [], POLICY)[0].key
    assert repair_for([found]) == "retraining"  # prices live in the scorer: a new registration is the repair
    assert drift_evidence(_with_value_shift([{}, shock, shock]), [], TriggerPolicy(value_shift_days=3)) == []
    assert drift_evidence(_history([False, False]), [], POLICY) == []  # a history from before the column


def _windows(pr_auc: list[float], ece: list[float], positives: int = 60) -> pl.DataFrame:
    n = len(pr_auc)
    return pl.DataFrame({"target": ["booked_call_7d"] * n,
                         "as_of": [DAY - dt.timedelta(days=n - 1 - i) for i in range(n)],
                         "first_day": [DAY - dt.timedelta(days=34)] * n, "last_day": [DAY - dt.timedelta(days=7)] * n,
                         "n": [3_000] * n, "positives": [positives] * n, "pr_auc": pr_auc, "ece": ece})


def test_realized_pr_auc_under_the_floor_fires_against_the_champions_holdout():
    holdout = {"booked_call_7d": 0.20}  # floor 0.16
    assert performance_evidence(_windows([0.15, 0.17], [0.01, 0.01]), holdout, POLICY) == []
    found = performance_evidence(_windows([0.18, 0.15, 0.12], [0.01] * 3), holdout, POLICY)
    assert [(e.trigger, e.subject, e.since) for e in found] == [(REALIZED_PR_AUC, "booked_call_7d", YESTERDAY)]
    assert found[0].figures == pytest.approx({"pr_auc": 0.12, "floor": 0.16})
    assert "floor 0.160" in found[0].summary


def test_realized_ece_above_the_gate_fires_even_when_ranking_holds():
    found = performance_evidence(_windows([0.3, 0.3], [0.02, 0.09]), {"booked_call_7d": 0.2}, POLICY)
    assert [(e.trigger, e.figures["ece"]) for e in found] == [(REALIZED_ECE, pytest.approx(0.09))]


def test_positives_far_from_what_the_probabilities_promised_fire_though_ece_stays_small():
    """A doubled base rate at 4.5%: ECE moves by about 0.04 (under the 0.05 gate), the count by 2x."""
    windows = _windows([0.3, 0.3], [0.04, 0.046], positives=168).with_columns(
        expected_positives=pl.lit(85.0), expected_variance=pl.lit(81.0))
    found = performance_evidence(windows, {"booked_call_7d": 0.2}, POLICY)
    assert [e.trigger for e in found] == [REALIZED_CALIBRATION]
    assert found[0].figures["observed_over_expected"] == pytest.approx(168 / 85)
    assert "168 positives where the probabilities promised 85" in found[0].summary
    # The champion's usual 15% over-promise over a large pool is significant but not material.
    usual = windows.with_columns(positives=pl.lit(72), expected_positives=pl.lit(85.0),
                                 expected_variance=pl.lit(10.0))  # z -4.1, 0.85x
    assert performance_evidence(usual, {"booked_call_7d": 0.2}, POLICY) == []


def test_a_window_with_too_few_positives_is_not_judged():
    assert performance_evidence(_windows([0.01], [0.5], positives=12), {"booked_call_7d": 0.2}, POLICY) == []


def _evidence(since: dt.date = DAY, last_seen: dt.date = DAY) -> Evidence:
    return Evidence(DATASET_DRIFT, "dataset", since, last_seen, "dataset drift on 3 consecutive reports")


def test_new_evidence_launches_once_then_waits_for_new_evidence_and_the_cooldown():
    first = retraining_decision([_evidence()], DAY, set(), None, None, POLICY)
    assert first.launch and first.evidence == (_evidence(),) and "dataset drift" in first.reason
    again = retraining_decision([_evidence()], DAY + dt.timedelta(days=1), {_evidence().key}, DAY, None, POLICY)
    assert not again.launch and "already launched" in again.reason
    newer = _evidence(since=DAY + dt.timedelta(days=3), last_seen=DAY + dt.timedelta(days=3))
    cooling = retraining_decision([newer], DAY + dt.timedelta(days=3), {_evidence().key}, DAY, None, POLICY)
    assert not cooling.launch and "cooldown" in cooling.reason and str(DAY + dt.timedelta(days=7)) in cooling.reason
    # The same streak, still on when the cooldown ends, launches then.
    still = _evidence(since=DAY + dt.timedelta(days=3), last_seen=DAY + dt.timedelta(days=7))
    after = retraining_decision([still], DAY + dt.timedelta(days=7), {_evidence().key}, DAY, None, POLICY)
    assert after.launch and after.evidence[0].key == newer.key


def test_no_launch_without_evidence_while_one_runs_or_on_stale_evidence():
    assert "no trigger holds" in retraining_decision([], DAY, set(), None, None, POLICY).reason
    running = retraining_decision([_evidence()], DAY, set(), None, "2026-06-09-abc", POLICY)
    assert not running.launch and "still running" in running.reason
    stale = retraining_decision([_evidence(last_seen=DAY - dt.timedelta(days=10))], DAY, set(), None, None, POLICY)
    assert not stale.launch


def test_broken_calibration_alone_is_recalibrated_anything_else_retrained():
    def piece(trigger: str) -> Evidence:
        return Evidence(trigger, "booked_call_7d", DAY, DAY, trigger)

    assert repair_for([piece(REALIZED_CALIBRATION)]) == "recalibration"
    assert repair_for([piece(REALIZED_CALIBRATION), piece(REALIZED_ECE)]) == "recalibration"
    # The ranking broke too, or the market drifted: the models themselves must be retrained.
    assert repair_for([piece(REALIZED_CALIBRATION), piece(REALIZED_PR_AUC)]) == "retraining"
    assert repair_for([piece(REALIZED_ECE), _evidence()]) == "retraining"
    assert repair_for([piece(FEATURE_PSI)]) == "retraining"
    assert repair_for([]) == "retraining"
