"""When the monitoring's evidence says the champion needs retraining, and when it does not.

Evidence comes from two tables the daily monitoring keeps: `drift_history` (per report day:
whether the dataset drifted, PSI of the key features) and `window_performance` (per target and
day: realized PR-AUC and ECE of the champion's last matured pool of contacts). Each trigger is a
condition holding on the latest rows; its evidence is named by the trigger, its subject and the
first day of the streak, so a condition that persists is one piece of evidence and launches one
retraining, not one a day. A cooldown after each launch stops storms.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from wholesaler_assets.domain.evaluation.gates import GateThresholds

DATASET_DRIFT, FEATURE_PSI, REALIZED_PR_AUC, REALIZED_ECE, REALIZED_CALIBRATION, VALUE_SHIFT = \
    "dataset_drift", "feature_psi", "realized_pr_auc", "realized_ece", "realized_calibration", "value_shift"


@dataclass(frozen=True)
class TriggerPolicy:
    """The thresholds of each retraining trigger (the seeds' values; each is a resource setting)."""

    drift_days: int = 3  # consecutive report days with dataset drift
    value_shift_days: int = 2  # consecutive report days with a metro's lead values moved (a local price shock)
    psi_limit: float = 0.25  # a key feature's PSI against the champion's reference
    pr_auc_floor_share: float = 0.8  # realized PR-AUC below this share of the champion's holdout PR-AUC
    max_ece: float = GateThresholds.max_ece  # realized ECE above the promotion gate's own limit
    calibration_z: float = 3.5  # positives this many sd away from what the probabilities promised ...
    calibration_ratio: float = 1.25  # ... and off by this factor (a doubled base rate moves ECE by its own size only)
    min_window_positives: int = 30  # a matured pool with fewer positives is too noisy to judge
    cooldown_days: int = 7  # days after a launch before evidence may launch another
    max_evidence_age_days: int = 3  # evidence whose last row is older than this is stale (monitoring stopped)


@dataclass(frozen=True)
class Evidence:
    """A trigger that holds: on which subject, since when, and the figures that show it."""

    trigger: str
    subject: str  # "dataset", a feature or a target
    since: dt.date
    last_seen: dt.date
    summary: str
    figures: dict[str, float] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.trigger}:{self.subject}:{self.since.isoformat()}"


def _streak_start(days: Sequence[dt.date], holds: Sequence[bool]) -> tuple[dt.date, int] | None:
    """The first day and length of the run of True at the end of `holds` (days ascending); None if the last is False."""
    if not holds or not holds[-1]:
        return None
    n = 0
    while n < len(holds) and holds[-1 - n]:
        n += 1
    return days[-n], n


def drift_evidence(history: pl.DataFrame, key_features: Sequence[str], policy: TriggerPolicy) -> list[Evidence]:
    """Dataset drift on `drift_days` consecutive reports, a metro's values moved on `value_shift_days`
    consecutive reports, or a key feature's PSI above the limit on the latest.

    `history` holds the champion's `drift_history` rows (report_date, dataset_drift, drifted_share,
    psi as a JSON object of column to PSI, and value_shift as a JSON object of shifted metro to its
    median value change; a history written before that column existed has no value evidence).

    A value shift needs a retraining, not a recalibration: the registered scorer carries the market
    levels and renovated-sale medians of its registration day, so only a new registration prices
    leads at today's values (and its conversion models learn from the newest contacts)."""
    if history.height == 0:
        return []
    rows = history.sort("report_date")
    days = rows["report_date"].to_list()
    found = []
    drift = _streak_start(days, rows["dataset_drift"].fill_null(False).to_list())
    if drift is not None and drift[1] >= policy.drift_days:
        share = float(rows["drifted_share"][-1])
        found.append(Evidence(DATASET_DRIFT, "dataset", drift[0], days[-1],
                              f"dataset drift on {drift[1]} consecutive reports since {drift[0]} "
                              f"({share:.0%} of columns drifted on {days[-1]})",
                              {"days": float(drift[1]), "drifted_share": share}))
    if "value_shift" in rows.columns:
        shifted = [json.loads(v) if v else {} for v in rows["value_shift"].to_list()]
        moved = _streak_start(days, [bool(v) for v in shifted])
        if moved is not None and moved[1] >= policy.value_shift_days:
            metros = ", ".join(f"{m} {c:+.1%}" for m, c in sorted(shifted[-1].items(), key=lambda kv: kv[1]))
            found.append(Evidence(VALUE_SHIFT, "metro_values", moved[0], days[-1],
                                  f"lead values moved in {len(shifted[-1])} metro(s) on {moved[1]} consecutive "
                                  f"reports since {moved[0]} ({metros} on {days[-1]})",
                                  {"days": float(moved[1]),
                                   "largest_change": max((abs(c) for c in shifted[-1].values()), default=0.0)}))
    psis = [json.loads(p) if p else {} for p in rows["psi"].to_list()]
    for feature in key_features:
        values = [p.get(feature, math.nan) for p in psis]
        above = _streak_start(days, [v is not None and not math.isnan(v) and v > policy.psi_limit for v in values])
        if above is not None:
            found.append(Evidence(FEATURE_PSI, feature, above[0], days[-1],
                                  f"{feature} PSI {values[-1]:.3f} > {policy.psi_limit} since {above[0]}",
                                  {"psi": float(values[-1])}))
    return found


def performance_evidence(windows: pl.DataFrame, champion_pr_auc: dict[str, float],
                         policy: TriggerPolicy) -> list[Evidence]:
    """Per target: realized PR-AUC of the latest matured pool under the floor, its positives far from
    what the probabilities promised (calibration in the large), or its ECE above the gate.

    `windows` holds the champion's `window_performance` rows (target, as_of, first_day, last_day,
    n, positives, pr_auc, ece); pools with fewer than `min_window_positives` positives are not judged."""
    found = []
    judged = windows.filter(pl.col("positives") >= policy.min_window_positives)
    for target in sorted(judged["target"].unique().to_list()):
        rows = judged.filter(pl.col("target") == target).sort("as_of")
        days, last = rows["as_of"].to_list(), rows.row(-1, named=True)
        pool = f"contacts of {last['first_day']}..{last['last_day']}"
        if target in champion_pr_auc:
            floor = policy.pr_auc_floor_share * champion_pr_auc[target]
            low = _streak_start(days, [v < floor for v in rows["pr_auc"].fill_nan(math.inf).to_list()])
            if low is not None:
                found.append(Evidence(REALIZED_PR_AUC, target, low[0], days[-1],
                                      f"{target} realized PR-AUC {last['pr_auc']:.3f} < floor {floor:.3f} "
                                      f"({policy.pr_auc_floor_share:.0%} of holdout {champion_pr_auc[target]:.3f}; "
                                      f"{pool})", {"pr_auc": float(last["pr_auc"]), "floor": floor}))
        if "expected_variance" in rows.columns:
            off = [_calibration_off(r, policy) for r in rows.iter_rows(named=True)]
            broke = _streak_start(days, [o is not None for o in off])
            if broke is not None and off[-1] is not None:
                ratio, z = off[-1]
                found.append(Evidence(REALIZED_CALIBRATION, target, broke[0], days[-1],
                                      f"{target}: {last['positives']} positives where the probabilities promised "
                                      f"{last['expected_positives']:.0f} ({ratio:.2f}x, z {z:+.1f}; {pool})",
                                      {"observed_over_expected": ratio, "z": z}))
        high = _streak_start(days, [v > policy.max_ece for v in rows["ece"].fill_nan(-math.inf).to_list()])
        if high is not None:
            found.append(Evidence(REALIZED_ECE, target, high[0], days[-1],
                                  f"{target} realized ECE {last['ece']:.3f} > {policy.max_ece} ({pool})",
                                  {"ece": float(last["ece"])}))
    return found


def _calibration_off(row: dict, policy: TriggerPolicy) -> tuple[float, float] | None:
    """(observed / expected, z) of a window whose positives left what its probabilities promised; else None."""
    expected, variance = row["expected_positives"], row["expected_variance"]
    if not expected or not variance or expected <= 0 or variance <= 0:
        return None
    ratio, z = row["positives"] / expected, (row["positives"] - expected) / math.sqrt(variance)
    material = ratio > policy.calibration_ratio or ratio < 1 / policy.calibration_ratio
    return (ratio, z) if material and abs(z) > policy.calibration_z else None


@dataclass(frozen=True)
class RetrainingDecision:
    """Whether to launch a retraining now, why, and the new evidence behind it."""

    launch: bool
    reason: str
    evidence: tuple[Evidence, ...] = ()


def retraining_decision(evidence: Sequence[Evidence], today: dt.date, launched_keys: set[str],
                        last_launch: dt.date | None, in_progress: str | None,
                        policy: TriggerPolicy) -> RetrainingDecision:
    """Launch when some fresh evidence has not launched a retraining yet, none is running and the cooldown is over."""
    fresh = [e for e in evidence if (today - e.last_seen).days <= policy.max_evidence_age_days]
    if not fresh:
        return RetrainingDecision(False, "no trigger holds: no sustained drift, key-feature PSI within "
                                         f"{policy.psi_limit}, realized PR-AUC and ECE within their limits")
    new = tuple(e for e in fresh if e.key not in launched_keys)
    if not new:
        return RetrainingDecision(False, "the evidence already launched a retraining: "
                                         + "; ".join(e.key for e in fresh))
    if in_progress is not None:
        return RetrainingDecision(False, f"retraining {in_progress} is still running")
    if last_launch is not None and (today - last_launch).days < policy.cooldown_days:
        ready = last_launch + dt.timedelta(days=policy.cooldown_days)
        return RetrainingDecision(False, f"cooldown: the last retraining was launched on {last_launch}, "
                                         f"the next may start on {ready} ({len(new)} new piece(s) of evidence wait)")
    return RetrainingDecision(True, "; ".join(e.summary for e in new), new)


CALIBRATION_TRIGGERS = (REALIZED_CALIBRATION, REALIZED_ECE)
RECALIBRATION, RETRAINING = "recalibration", "retraining"


def repair_for(evidence: Sequence[Evidence]) -> str:
    """Recalibration when every piece of evidence says only that the probabilities are off (the ranking
    holds: no realized PR-AUC under its floor, no drift); otherwise a retraining."""
    return RECALIBRATION if evidence and all(e.trigger in CALIBRATION_TRIGGERS for e in evidence) else RETRAINING
