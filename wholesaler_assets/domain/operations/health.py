"""What an operator is told: failed runs, late scores, stale data and monitoring alarms, as alerts.

An alert is named by its kind, subject and day (`key`), so the same problem is posted once, not
on every look. Its payload is plain JSON for any webhook (Slack, Teams, a pager, a ticket queue).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

RUN_FAILURE, SCORES_LATE, DATA_STALE, MONITORING_ALARM = "run_failure", "scores_late", "data_stale", "monitoring_alarm"


@dataclass(frozen=True)
class HealthPolicy:
    """When the day's scores are due and how old the newest data may be (resource settings)."""

    scores_due_hour: int = 7  # UTC: the 04:00 scoring schedule has three hours to finish
    max_data_age_days: int = 2  # the newest contact older than this: the outreach files stopped arriving


@dataclass(frozen=True)
class Alert:
    """One problem to tell an operator about."""

    kind: str
    subject: str
    day: dt.date | None
    summary: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        run = f":{self.details['run_id']}" if "run_id" in self.details else ""  # each failed run is its own
        return f"{self.kind}:{self.subject}:{self.day.isoformat() if self.day else '-'}{run}"

    def payload(self, sent_at: dt.datetime) -> dict[str, Any]:
        """The JSON body posted to the webhook."""
        return {"source": "wholesaler-leads", "kind": self.kind, "subject": self.subject,
                "day": self.day.isoformat() if self.day else None, "summary": self.summary,
                "details": self.details, "key": self.key, "sent_at": sent_at.isoformat()}


def due_scoring_day(now: dt.datetime, policy: HealthPolicy) -> dt.date:
    """The latest day whose scores must exist by `now`: yesterday once the due hour has passed."""
    yesterday = now.date() - dt.timedelta(days=1)
    return yesterday if now.hour >= policy.scores_due_hour else yesterday - dt.timedelta(days=1)


def scores_late(last_scored: dt.date | None, now: dt.datetime, policy: HealthPolicy) -> Alert | None:
    """An alert when the scores of the day due by now are missing (the queue the team works from is old)."""
    due = due_scoring_day(now, policy)
    if last_scored is not None and last_scored >= due:
        return None
    said = f"the newest scores are of {last_scored}" if last_scored else "nothing was ever scored"
    return Alert(SCORES_LATE, "scored_leads", due,
                 f"the scores of {due} were due by {policy.scores_due_hour:02d}:00 UTC; {said}",
                 {"due_day": due.isoformat(), "last_scored_day": last_scored.isoformat() if last_scored else None})


def data_stale(newest: dt.datetime | None, now: dt.datetime, policy: HealthPolicy, subject: str) -> Alert | None:
    """An alert when the newest row of `subject` is older than the allowed age."""
    if newest is not None and (now - newest) <= dt.timedelta(days=policy.max_data_age_days):
        return None
    age = f"{(now - newest).days} days old ({newest.isoformat()})" if newest else "missing"
    return Alert(DATA_STALE, subject, now.date(),
                 f"the newest {subject} row is {age}; allowed: {policy.max_data_age_days} days",
                 {"newest": newest.isoformat() if newest else None, "max_age_days": policy.max_data_age_days})


def run_failure(job: str, run_id: str, reason: str, url: str, tags: dict[str, str]) -> Alert:
    """An alert for a run that failed (its steps' errors name the gate or the file that stopped it)."""
    return Alert(RUN_FAILURE, job, None, f"{job} failed: {reason}",
                 {"run_id": run_id, "url": url, "tags": tags})


def monitoring_alarm(subject: str, since: dt.date, summary: str, figures: dict[str, float]) -> Alert:
    """An alert for a monitoring finding (the retraining triggers' evidence: drift, PR-AUC, ECE)."""
    return Alert(MONITORING_ALARM, subject, since, summary, dict(figures))
