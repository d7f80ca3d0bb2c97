"""Late scores, stale data and failed runs become alerts with stable keys and a plain JSON payload."""

from __future__ import annotations

import datetime as dt
import json

from wholesaler_assets.domain.operations.health import (
    DATA_STALE,
    SCORES_LATE,
    HealthPolicy,
    data_stale,
    monitoring_alarm,
    run_failure,
    scores_late,
)

POLICY = HealthPolicy(scores_due_hour=7, max_data_age_days=2)
DAY = dt.date(2026, 6, 10)


def _at(hour: int, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def test_yesterdays_scores_are_due_once_the_due_hour_has_passed():
    yesterday = DAY - dt.timedelta(days=1)
    assert scores_late(yesterday, _at(8), POLICY) is None
    assert scores_late(yesterday - dt.timedelta(days=1), _at(6), POLICY) is None  # not due yet
    late = scores_late(yesterday - dt.timedelta(days=1), _at(8), POLICY)
    assert late is not None and late.kind == SCORES_LATE and late.day == yesterday
    assert "due by 07:00 UTC" in late.summary and str(yesterday - dt.timedelta(days=1)) in late.summary
    never = scores_late(None, _at(8), POLICY)
    assert never is not None and "nothing was ever scored" in never.summary


def test_data_older_than_allowed_is_stale_and_missing_data_too():
    assert data_stale(_at(8) - dt.timedelta(days=1), _at(8), POLICY, "lead_contacts") is None
    stale = data_stale(_at(8) - dt.timedelta(days=3), _at(8), POLICY, "lead_contacts")
    assert stale is not None and stale.kind == DATA_STALE and "3 days old" in stale.summary
    missing = data_stale(None, _at(8), POLICY, "lead_contacts")
    assert missing is not None and "missing" in missing.summary


def test_keys_name_one_problem_each_and_the_payload_is_json():
    first = run_failure("scoring_job", "run-1", "gate failed", "http://ui/runs/run-1", {"a": "b"})
    second = run_failure("scoring_job", "run-2", "gate failed", "http://ui/runs/run-2", {})
    assert first.key != second.key  # each failed run is its own alert
    same_drift = [monitoring_alarm("v1 dataset_drift dataset", DAY, "drift", {"days": 3.0}) for _ in range(2)]
    assert same_drift[0].key == same_drift[1].key  # the same streak is posted once
    payload = json.loads(json.dumps(first.payload(_at(8))))
    assert payload["kind"] == "run_failure" and payload["subject"] == "scoring_job"
    assert payload["details"]["url"] == "http://ui/runs/run-1" and payload["sent_at"].startswith("2026-06-10T08")
