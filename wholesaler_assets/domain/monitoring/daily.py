"""One day of monitoring: the day's contacts scored by the champion, which past days can be judged,
the calibration gate over the recent closed windows, and the frames the drift report compares.

Realized and estimated performance are figures of scored contacts (`labels`): the contacts made on
a day, each scored from its lead record as of the contact, as a training row is. The drift report
compares the day's scored leads (the queue) with the champion's first: what the team works from.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from wholesaler_assets.domain.contracts.targets import TARGETS
from wholesaler_assets.domain.features.warehouse_records import contact_records
from wholesaler_assets.domain.gates.result import GateResult
from wholesaler_assets.domain.monitoring.estimation import EstimatedPerformance, estimate_performance
from wholesaler_assets.domain.monitoring.labels import LABEL, end_of, realized_labels, window_closes
from wholesaler_assets.domain.monitoring.performance import RealizedPerformance, metric_set, realized_performance
from wholesaler_assets.domain.scoring.scorer import Scorer

LOOKBACK_DAYS = 120  # past scoring days still judged when their window closes late (a gap in the runs)
POOL_DAYS = 7  # closed scoring days pooled by the calibration gate (a day's contacts alone are too few)
LONG_POOL_DAYS = 28  # a second, longer pool: a channel promising ~2 bookings a day needs weeks to show a halving
Z_LIMIT = 3.5  # |observed - expected| / sd beyond which calibration broke (15 groups a day: rare by chance)
MIN_EXPECTED = 5.0  # expected positives below which a group is too small to judge
KEY_FEATURES = ("market_value", "equity_share", "days_to_auction", "distress_signal_count", "years_owned",
                "zip_price_trend")
"""The features whose PSI the drift report names as numbers (each also has its drift score)."""
VALUE_COLUMNS = ("arv", "conservative_profit", "expected_value")
"""The valuation figures of a scored lead, compared like features (a price shock moves them first)."""
CONTACT_COLUMNS = ("scoring_date", "contact_id", "lead_id", "contact_time", "channel", "market_value")


def scored_targets(scored: pl.DataFrame) -> list[str]:
    """The targets a frame carries a probability for, in the contract's order."""
    return [t for t in TARGETS if f"p_{t}" in scored.columns]


def _day_records(contacts: pl.DataFrame, snapshots: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """Lead records of the contacts made on `day`, each as of its contact (empty when there were none)."""
    start = end_of(day - dt.timedelta(days=1))
    leads = contacts.filter((pl.col("contact_time") >= start) & (pl.col("contact_time") < end_of(day))
                            ).select("lead_id").unique()
    if leads.height == 0:
        return pl.DataFrame()
    history = contacts.join(leads, on="lead_id", how="semi").filter(pl.col("contact_time") < end_of(day))
    return contact_records(history, snapshots).filter(pl.col("contact_time") >= start)


def scored_contacts(scorer: Scorer, contacts: pl.DataFrame, snapshots: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """The contacts made on `day`, each scored from its lead record as of the contact.

    `contacts` must hold every earlier contact of those leads (their prior contacts are features);
    `snapshots` the property snapshots up to `day` (the latest on or before it is used)."""
    records = _day_records(contacts, snapshots, day)
    schema = {c: contacts.schema[c] for c in CONTACT_COLUMNS if c in contacts.schema}
    if records.height == 0:
        return pl.DataFrame(schema={"scoring_date": pl.Date, **schema, "market_value": pl.Float64,
                                    **{f"p_{m.target}": pl.Float64 for m in scorer.models}})
    features = scorer.features(records)
    return pl.DataFrame([*[records.get_column(c) for c in CONTACT_COLUMNS if c in records.columns],
                         *scorer.probabilities(features)]).with_columns(pl.col("market_value").cast(pl.Float64))


def contact_features(scorer: Scorer, contacts: pl.DataFrame, snapshots: pl.DataFrame, first: dt.date,
                     last: dt.date) -> pl.DataFrame:
    """The contacts of `first`..`last`, each with the model features of its lead record as of the contact
    (the rows a recalibration refits on; a contact no snapshot precedes is left out).

    `contacts` must hold every earlier contact of those leads, `snapshots` those the records may use."""
    records = contact_records(contacts.filter(pl.col("contact_time") < end_of(last)), snapshots).filter(
        pl.col("scoring_date").is_between(first, last) & pl.col("snapshot_date").is_not_null())
    if records.height == 0:
        return pl.DataFrame()
    features = scorer.features(records)
    return pl.DataFrame([*[records.get_column(c) for c in CONTACT_COLUMNS if c in records.columns],
                         *[features.get_column(c) for c in features.columns if c not in CONTACT_COLUMNS]])


def target_scores(scored: pl.DataFrame, target: str) -> pl.DataFrame:
    """The scored contacts of one target, with its probability as `probability`."""
    return scored.rename({f"p_{target}": "probability"}).drop(f"p_{t}" for t in scored_targets(scored)
                                                              if t != target)


def days_to_judge(scored_days: list[dt.date], judged: set[tuple[str, dt.date]], target: str, as_of: dt.date,
                  lookback_days: int = LOOKBACK_DAYS) -> list[dt.date]:
    """The scoring days of `target` whose outcome window has closed by `as_of`, not judged yet, and
    at most `lookback_days` old (so one run never re-reads a year of scores)."""
    oldest = as_of - dt.timedelta(days=lookback_days)
    return sorted(d for d in set(scored_days)
                  if oldest <= d and window_closes(d, target) <= as_of and (target, d) not in judged)


def judge_day(scored: pl.DataFrame, outcomes: pl.DataFrame, target: str, day: dt.date,
              as_of: dt.date) -> RealizedPerformance:
    """The realized figures of the `target` scores of `day` (its window must be closed by `as_of`)."""
    return realized_performance(realized_labels(target_scores(scored, target), outcomes, target, as_of), target, day)


def estimate_day(scored: pl.DataFrame, target: str, day: dt.date, max_rows: int, n_draws: int,
                 seed: int = 0) -> EstimatedPerformance | None:
    """The CBPE estimate of one day's `target` probabilities (a seeded sample of `max_rows` at most:
    the interval comes from simulated labels); None on a day without scores."""
    prob = scored.get_column(f"p_{target}").drop_nulls().to_numpy()
    if prob.size == 0:
        return None
    if prob.size > max_rows:
        prob = np.random.default_rng(seed).choice(prob, size=max_rows, replace=False)
    return estimate_performance(prob, target, day, n_draws=n_draws, seed=seed)


@dataclass(frozen=True)
class CalibrationCheck:
    """Observed against expected positives of one group of pooled scored contacts."""

    target: str
    group: str  # "all" or "channel=<channel>"
    first_day: dt.date
    last_day: dt.date
    n: int
    observed: int
    expected: float
    z: float

    @property
    def judged(self) -> bool:
        return self.expected >= MIN_EXPECTED

    def broke(self, z_limit: float = Z_LIMIT) -> bool:
        return self.judged and abs(self.z) > z_limit


def calibration_checks(labelled: pl.DataFrame, target: str) -> list[CalibrationCheck]:
    """Observed vs expected positives of pooled closed windows (`realized_labels` rows), in all and per channel.

    Calibrated scores promise sum(p) positives with variance sum(p(1 - p)); z is the standardized
    difference. A shift of the base rate or of one channel's response moves it; noise rarely does."""
    rows = labelled.filter(pl.col(LABEL).is_not_null())
    if rows.height == 0:
        return []
    first, last = rows["scoring_date"].min(), rows["scoring_date"].max()
    groups = [("all", rows)]
    if "channel" in rows.columns:
        groups += [(f"channel={c}", rows.filter(pl.col("channel") == c))
                   for c in sorted(rows["channel"].drop_nulls().unique().to_list())]
    checks = []
    for name, group in groups:
        p = group["probability"].cast(pl.Float64).to_numpy()
        observed, expected, variance = int(group[LABEL].sum()), float(p.sum()), float((p * (1 - p)).sum())
        z = (observed - expected) / math.sqrt(variance) if variance > 0 else 0.0
        checks.append(CalibrationCheck(target, name, first, last, group.height, observed, expected, z))  # type: ignore[arg-type]
    return checks


def pool_days_of(day: dt.date, target: str, pool_days: int = POOL_DAYS) -> tuple[dt.date, dt.date]:
    """The first and last scoring days the calibration gate pools on `day`: the last `pool_days`
    days whose `target` window has closed."""
    last_closed = day - dt.timedelta(days=TARGETS[target].window_days)
    return last_closed - dt.timedelta(days=pool_days - 1), last_closed


def pooled_checks(pool: pl.DataFrame, outcomes: pl.DataFrame, target: str, day: dt.date) -> list[CalibrationCheck]:
    """`calibration_checks` of the scored contacts of the pool (`pool_days_of`), labelled as of `day`."""
    if pool.height == 0:
        return []
    return calibration_checks(realized_labels(target_scores(pool, target), outcomes, target, day), target)


def pools_checks(scored: pl.DataFrame, outcomes: pl.DataFrame, target: str, day: dt.date,
                 pool_lengths: tuple[int, ...] = (POOL_DAYS, LONG_POOL_DAYS)) -> list[CalibrationCheck]:
    """`pooled_checks` of each pool length on `day`; `scored` holds at least the longest pool's days.

    The short pool sees a broad break (a doubled base rate) within a week of closed windows; the
    long one a small group's (one channel's response halved), whose weekly counts are too few."""
    checks = []
    for length in pool_lengths:
        first, last = pool_days_of(day, target, length)
        checks += pooled_checks(scored.filter(pl.col("scoring_date").is_between(first, last)), outcomes, target, day)
    return checks


def window_performance(scored: pl.DataFrame, outcomes: pl.DataFrame, target: str, day: dt.date,
                       pool_days: int = LONG_POOL_DAYS, model_version: str | None = None) -> dict | None:
    """Realized figures of one model's scored contacts over the last `pool_days` closed days on `day`
    (a `window_performance` row; None when none of its contacts is in the pool).

    One day's contacts hold a handful of positives; a pooled window is what a retraining trigger
    can compare with the model's holdout PR-AUC and the ECE gate."""
    first, last = pool_days_of(day, target, pool_days)
    rows = scored.filter(pl.col("scoring_date").is_between(first, last))
    if model_version is not None and "model_version" in rows.columns:
        rows = rows.filter(pl.col("model_version") == model_version)
    if rows.height == 0:
        return None
    labelled = realized_labels(target_scores(rows, target), outcomes, target, day).filter(pl.col(LABEL).is_not_null())
    figures = metric_set(labelled[LABEL].cast(pl.Int64).to_numpy(), labelled["probability"].cast(pl.Float64).to_numpy())
    return {"target": target, "as_of": day, "first_day": first, "last_day": last, "model_version": model_version,
            "n": figures.n, "positives": figures.positives, "base_rate": figures.base_rate, "pr_auc": figures.pr_auc,
            "ece": figures.ece, "expected_positives": figures.expected_positives,
            "expected_variance": figures.expected_variance}


def calibration_gate(checks: list[CalibrationCheck], z_limit: float = Z_LIMIT) -> GateResult:
    """Pass while the realized positives of the recent closed windows match what the estimate promised.

    A failure means the calibrated probabilities no longer say what happens: the base rate moved,
    or one channel's response changed (visible only through outcomes)."""
    judged = [c for c in checks if c.judged]
    if not judged:
        return GateResult(name="estimate_matches_realized", passed=True,
                          summary="no closed window with enough expected positives to judge yet")
    broken = [c for c in judged if c.broke(z_limit)]
    worst = max(judged, key=lambda c: abs(c.z))
    text = "; ".join(f"{c.target} {c.group} {c.first_day}..{c.last_day}: {c.observed} positives where "
                     f"{c.expected:.1f} were expected (z {c.z:+.1f})" for c in broken[:6])
    return GateResult(
        name="estimate_matches_realized", passed=not broken, value=abs(worst.z), threshold=z_limit,
        summary=(f"{len(broken)} group(s) off their estimate: {text}" if broken else
                 f"{len(judged)} group(s) judged, every one within {z_limit} sd of its estimate "
                 f"(largest: {worst.target} {worst.group} z {worst.z:+.1f})"),
        details={"broken": [f"{c.target}:{c.group}:{c.z:+.2f}" for c in broken]})


def drift_frame(features: pl.DataFrame, scored: pl.DataFrame) -> pl.DataFrame:
    """The day's features of each scored lead beside its probabilities and valuation figures."""
    extra = [c for c in (*[f"p_{t}" for t in scored_targets(scored)], *VALUE_COLUMNS) if c in scored.columns]
    return features.join(scored.select("lead_id", *extra), on="lead_id", how="inner")


def drift_columns(frame: pl.DataFrame, feature_kinds: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    """Numerical, categorical and probability columns of a drift frame (booleans compared as categories)."""
    probabilities = [c for c in frame.columns if c.startswith("p_")]
    numerical = [c for c in frame.columns if feature_kinds.get(c) == "numeric" or c in VALUE_COLUMNS]
    categorical = [c for c in frame.columns if feature_kinds.get(c) in ("categorical", "boolean")]
    return numerical, categorical, probabilities
