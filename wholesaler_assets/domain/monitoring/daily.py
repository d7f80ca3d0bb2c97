"""One day of monitoring: which past scores can be judged today, the day's estimate, and the
frames the drift report compares.

The daily scored leads (one row per lead, a `p_<target>` column per target, `market_value` for
the value segments) are what every figure here is computed from, so realized and estimated
performance judge exactly the probabilities the queue was ranked by.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from wholesaler_assets.domain.contracts.targets import TARGETS
from wholesaler_assets.domain.gates.result import GateResult
from wholesaler_assets.domain.monitoring.estimation import EstimatedPerformance, estimate_performance
from wholesaler_assets.domain.monitoring.labels import realized_labels
from wholesaler_assets.domain.monitoring.performance import RealizedPerformance, realized_performance

LOOKBACK_DAYS = 120  # past scoring days still judged when their window closes late (a gap in the runs)
KEY_FEATURES = ("market_value", "equity_share", "days_to_auction", "distress_signal_count", "years_owned",
                "zip_price_trend")
"""The features whose PSI the drift report names as numbers (each also has its drift score)."""
VALUE_COLUMNS = ("arv", "conservative_profit", "expected_value")
"""The valuation figures of a scored lead, compared like features (a price shock moves them first)."""


def scored_targets(scored: pl.DataFrame) -> list[str]:
    """The targets a day's scored leads carry a probability for, in the contract's order."""
    return [t for t in TARGETS if f"p_{t}" in scored.columns]


def target_scores(scored: pl.DataFrame, target: str) -> pl.DataFrame:
    """The lead_scores shape of one target (lead_id, scoring_date, probability, market_value)."""
    extra = [c for c in ("market_value",) if c in scored.columns]
    return scored.select("lead_id", "scoring_date", pl.col(f"p_{target}").alias("probability"), *extra)


def days_to_judge(scored_days: list[dt.date], judged: set[tuple[str, dt.date]], target: str, as_of: dt.date,
                  lookback_days: int = LOOKBACK_DAYS) -> list[dt.date]:
    """The scoring days of `target` whose outcome window has closed by `as_of`, not judged yet, and
    at most `lookback_days` old (so one run never re-reads a year of scores)."""
    window = dt.timedelta(days=TARGETS[target].window_days)
    oldest = as_of - dt.timedelta(days=lookback_days)
    return sorted(d for d in set(scored_days) if oldest <= d and d + window <= as_of and (target, d) not in judged)


def judge_day(scored: pl.DataFrame, outcomes: pl.DataFrame, target: str, day: dt.date,
              as_of: dt.date) -> RealizedPerformance:
    """The realized figures of the `target` scores of `day` (its window must be closed by `as_of`)."""
    labelled = realized_labels(target_scores(scored, target), outcomes, target, as_of)
    return realized_performance(labelled, target, day)


def estimate_day(scored: pl.DataFrame, target: str, day: dt.date, max_rows: int, n_draws: int,
                 seed: int = 0) -> EstimatedPerformance:
    """The CBPE estimate of one day's `target` probabilities (a seeded sample of `max_rows` at most:
    the interval comes from simulated labels, and 20,000 leads already pin it down)."""
    prob = scored.get_column(f"p_{target}").drop_nulls().to_numpy()
    if prob.size > max_rows:
        prob = np.random.default_rng(seed).choice(prob, size=max_rows, replace=False)
    return estimate_performance(prob, target, day, n_draws=n_draws, seed=seed)


@dataclass(frozen=True)
class Gap:
    """A realized figure outside the interval the estimate gave for the same scores."""

    target: str
    scoring_date: dt.date
    metric: str
    realized: float
    lower: float
    upper: float


def estimate_gaps(over_time: pl.DataFrame, judged: list[tuple[str, dt.date]],
                  metrics: tuple[str, ...] = ("base_rate", "pr_auc")) -> list[Gap]:
    """The gaps among the days judged in this run (`performance_over_time` rows flagged `outside`)."""
    keys = pl.DataFrame({"target": [t for t, _ in judged], "scoring_date": [d for _, d in judged]},
                        schema={"target": pl.String, "scoring_date": pl.Date})
    rows = over_time.join(keys, on=["target", "scoring_date"], how="semi").filter(
        pl.col("outside").fill_null(False) & pl.col("metric").is_in(list(metrics)))
    return [Gap(r["target"], r["scoring_date"], r["metric"], r["realized"], r["lower"], r["upper"])
            for r in rows.sort("target", "scoring_date", "metric").iter_rows(named=True)]


def gap_gate(gaps: list[Gap], judged: list[tuple[str, dt.date]]) -> GateResult:
    """Pass when every realized base rate and PR-AUC judged today lies inside its estimate's interval.

    A gap means the calibrated probabilities no longer say what happens: the base rate moved
    (calibration broke) or the ranking got better or worse than the scores promised."""
    if not judged:
        return GateResult(name="estimate_matches_realized", passed=True,
                          summary="no outcome window closed today: nothing to compare yet")
    text = "; ".join(f"{g.target} {g.scoring_date} {g.metric} {g.realized:.4f} outside "
                     f"[{g.lower:.4f}, {g.upper:.4f}]" for g in gaps[:6])
    return GateResult(
        name="estimate_matches_realized", passed=not gaps, value=float(len(gaps)), threshold=0.0,
        summary=(f"{len(gaps)} realized figure(s) outside the estimate's interval: {text}" if gaps
                 else f"{len(judged)} closed window(s): every realized figure inside its estimate's interval"),
        details={"gaps": [f"{g.target}:{g.scoring_date}:{g.metric}" for g in gaps]})


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
