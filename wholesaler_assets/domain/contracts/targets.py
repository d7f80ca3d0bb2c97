"""The conversion targets: which outcome must happen, and within how many days of a contact."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """A binary label: `outcome` happened within `window_days` after the contact."""

    name: str
    outcome: str  # outcome_type in the outcomes source
    outcome_time_column: str  # its column in lead_outcomes
    window_days: int


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("booked_call_7d", "call_booked", "call_booked_at", 7),
        Target("qualified_14d", "qualified", "qualified_at", 14),
        Target("deal_30d", "contract_signed", "contract_signed_at", 30),
    )
}
TARGET_NAMES = tuple(TARGETS)
OUTCOME_TIME_COLUMNS = tuple(t.outcome_time_column for t in TARGETS.values())
