"""A challenger scored beside the champion on the same leads, and when it has earned promotion.

Each day the challenger scores the leads the champion scored. The comparison says how differently
the two would have the team work: rank correlation of each probability, overlap of the top decile
and of tier A, PSI between the two score distributions. As outcomes mature, both models' realized
PR-AUC on the same contacts says which one was right. Promotion needs the gates (the challenger was
registered, so they passed), enough shadow days without an alarm, and realized PR-AUC on the
shadow contacts no worse than the champion's where matured outcomes exist.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from wholesaler_assets.domain.evaluation.metrics import pr_auc
from wholesaler_assets.domain.monitoring.daily import target_scores
from wholesaler_assets.domain.monitoring.labels import LABEL, realized_labels
from wholesaler_assets.domain.monitoring.psi import psi
from wholesaler_assets.domain.training.calibration import expected_calibration_error

TOP_SHARE = 0.10  # the top decile: the leads a caller reaches first
MIN_SHADOW_DAYS = 7  # the seeds' shadow period
MIN_RANK_CORRELATION = 0.5  # below it the challenger would reorder the queue wholesale: an alarm
MAX_SCORE_PSI = 0.25  # above it the challenger's scores live on another scale: an alarm
PR_AUC_TOLERANCE = 0.0  # the challenger's realized PR-AUC may fall this far below the champion's
ECE_TOLERANCE = 0.01  # the challenger's realized ECE may exceed the champion's by this much (binning noise)
MIN_ECE_POSITIVES = 10


@dataclass(frozen=True)
class ShadowDay:
    """One target's comparison of the challenger with the champion on one day's leads."""

    day: dt.date
    target: str
    n: int
    rank_correlation: float
    top_decile_overlap: float
    tier_a_overlap: float
    score_psi: float

    def alarm(self, min_rank_correlation: float = MIN_RANK_CORRELATION,
              max_score_psi: float = MAX_SCORE_PSI) -> str | None:
        """Why this day is an alarm, or None."""
        if self.n == 0:
            return "no lead scored by both"
        if not self.rank_correlation >= min_rank_correlation:
            return f"rank correlation {self.rank_correlation:.2f} < {min_rank_correlation}"
        if not self.score_psi <= max_score_psi:
            return f"score PSI {self.score_psi:.2f} > {max_score_psi}"
        return None


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 3:
        return math.nan
    ra, rb = pl.Series(a).rank("average").to_numpy(), pl.Series(b).rank("average").to_numpy()
    if ra.std() == 0 or rb.std() == 0:
        return math.nan
    return float(np.corrcoef(ra, rb)[0, 1])


def _top(frame: pl.DataFrame, column: str, share: float) -> set[str]:
    k = max(1, math.ceil(share * frame.height))
    return set(frame.sort([column, "lead_id"], descending=[True, False]).head(k)["lead_id"].to_list())


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def compare_scores(champion: pl.DataFrame, challenger: pl.DataFrame, targets: Sequence[str],
                   day: dt.date) -> list[ShadowDay]:
    """Per target, how the challenger's scores of the day's leads differ from the champion's.

    Both frames hold `lead_id`, `p_<target>` and `tier` (scored_leads rows)."""
    both = champion.join(challenger, on="lead_id", how="inner", suffix="_challenger")
    a_tier = _overlap(set(both.filter(pl.col("tier") == "A")["lead_id"].to_list()),
                      set(both.filter(pl.col("tier_challenger") == "A")["lead_id"].to_list()))
    days = []
    for target in targets:
        column, other = f"p_{target}", f"p_{target}_challenger"
        rows = both.drop_nulls([column, other])
        if rows.height == 0:
            days.append(ShadowDay(day, target, 0, math.nan, math.nan, math.nan, math.nan))
            continue
        champion_p, challenger_p = rows[column].to_numpy(), rows[other].to_numpy()
        top = _overlap(_top(rows, column, TOP_SHARE), _top(rows, other, TOP_SHARE))
        days.append(ShadowDay(day, target, rows.height, _spearman(champion_p, challenger_p), top, a_tier,
                              psi(champion_p, challenger_p)))
    return days


@dataclass(frozen=True)
class PromotionVerdict:
    """Whether the challenger has earned the champion's place, and why (or why not yet)."""

    promote: bool
    reason: str


def promotion_verdict(shadow_days: Sequence[ShadowDay], realized: dict[str, tuple[float, float]],
                      min_days: int = MIN_SHADOW_DAYS, tolerance: float = PR_AUC_TOLERANCE,
                      min_rank_correlation: float = MIN_RANK_CORRELATION,
                      max_score_psi: float = MAX_SCORE_PSI,
                      realized_ece: dict[str, tuple[float, float]] | None = None,
                      ece_tolerance: float = ECE_TOLERANCE) -> PromotionVerdict:
    """Promote after `min_days` shadow days without an alarm when, for every target with matured
    outcomes, the challenger's realized PR-AUC on the shadow contacts is at least the champion's
    (`realized` maps a target to (challenger, champion) PR-AUC on the same contacts) and its realized
    ECE no worse than the champion's by more than `ece_tolerance` (`realized_ece`, same shape)."""
    days = sorted({d.day for d in shadow_days})
    alarms = [f"{d.day} {d.target}: {why}" for d in shadow_days
              if (why := d.alarm(min_rank_correlation, max_score_psi)) is not None]
    if alarms:
        return PromotionVerdict(False, f"{len(alarms)} shadow alarm(s): " + "; ".join(alarms[:3]))
    if len(days) < min_days:
        return PromotionVerdict(False, f"{len(days)} shadow day(s) of the {min_days} required")
    judged = {t: v for t, v in realized.items() if not math.isnan(v[0]) and not math.isnan(v[1])}
    worse = {t: v for t, v in judged.items() if v[0] < v[1] - tolerance}
    if worse:
        detail = ", ".join(f"{t} {new:.3f} < champion {old:.3f}" for t, (new, old) in worse.items())
        return PromotionVerdict(False, f"realized PR-AUC on the shadow contacts is worse: {detail}")
    eces = {t: v for t, v in (realized_ece or {}).items() if not math.isnan(v[0]) and not math.isnan(v[1])}
    off = {t: v for t, v in eces.items() if v[0] > v[1] + ece_tolerance}
    if off:
        detail = ", ".join(f"{t} {new:.3f} > champion {old:.3f}" for t, (new, old) in off.items())
        return PromotionVerdict(False, f"realized ECE on the shadow contacts is worse: {detail}")
    said = (f"realized PR-AUC at least the champion's on {', '.join(judged)}" if judged
            else "no shadow contact matured yet: the gates and the shadow days decide")
    if eces:
        said += "; ECE " + ", ".join(f"{t} {new:.3f} vs {old:.3f}" for t, (new, old) in eces.items())
    return PromotionVerdict(True, f"{len(days)} shadow days without an alarm; {said}")


def _matured(champion: pl.DataFrame, challenger: pl.DataFrame, outcomes: pl.DataFrame, target: str,
             as_of: dt.date) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(labels, challenger p, champion p) of the contacts both scored whose `target` window closed by `as_of`."""
    column = f"p_{target}"
    if column not in champion.columns or column not in challenger.columns:
        return None
    both = champion.join(challenger.select("contact_id", pl.col(column).alias("challenger_p")),
                         on="contact_id", how="inner")
    labelled = realized_labels(target_scores(both.drop([c for c in both.columns if c.startswith("p_")
                                                        and c != column]), target),
                               outcomes, target, as_of).filter(pl.col(LABEL).is_not_null())
    return (labelled[LABEL].cast(pl.Int64).to_numpy(), labelled["challenger_p"].to_numpy(),
            labelled["probability"].to_numpy())


def realized_pair(champion: pl.DataFrame, challenger: pl.DataFrame, outcomes: pl.DataFrame,
                  targets: Sequence[str], as_of: dt.date) -> dict[str, tuple[float, float]]:
    """Per target, (challenger, champion) realized PR-AUC on the contacts both scored whose window closed
    by `as_of` (NaN until some have, or while they hold no positive).

    Both frames are scored contacts (`daily.scored_contacts` rows: contact_id, lead_id, contact_time,
    scoring_date, p_<target>)."""
    pairs = {}
    for target in targets:
        matured = _matured(champion, challenger, outcomes, target, as_of)
        if matured is None:
            continue
        y, new, old = matured
        pairs[target] = (math.nan, math.nan) if y.size == 0 or y.sum() == 0 else (pr_auc(y, new), pr_auc(y, old))
    return pairs


def realized_ece_pair(champion: pl.DataFrame, challenger: pl.DataFrame, outcomes: pl.DataFrame,
                      targets: Sequence[str], as_of: dt.date,
                      min_positives: int = MIN_ECE_POSITIVES) -> dict[str, tuple[float, float]]:
    """Per target, (challenger, champion) realized ECE on the same matured contacts (NaN while they hold
    fewer than `min_positives` positives: too few to tell two calibrations apart)."""
    pairs = {}
    for target in targets:
        matured = _matured(champion, challenger, outcomes, target, as_of)
        if matured is None:
            continue
        y, new, old = matured
        pairs[target] = ((math.nan, math.nan) if y.sum() < min_positives
                         else (expected_calibration_error(y, new), expected_calibration_error(y, old)))
    return pairs


@dataclass(frozen=True)
class ShadowPolicy:
    """How long a challenger shadows and what it must show (the seeds' defaults)."""

    min_shadow_days: int = MIN_SHADOW_DAYS
    pr_auc_tolerance: float = PR_AUC_TOLERANCE
    ece_tolerance: float = ECE_TOLERANCE
    min_rank_correlation: float = MIN_RANK_CORRELATION  # below it on any day: an alarm, never promoted
    max_score_psi: float = MAX_SCORE_PSI


@dataclass(frozen=True)
class ShadowJudgement:
    """The day's promotion verdict with the realized figures it rests on, per target (challenger, champion)."""

    verdict: PromotionVerdict
    realized_pr_auc: dict[str, tuple[float, float]]
    realized_ece: dict[str, tuple[float, float]]


def judge_challenger(history: Sequence[ShadowDay], champion_contacts: pl.DataFrame,
                     challenger_contacts: pl.DataFrame, outcomes: pl.DataFrame, targets: Sequence[str],
                     as_of: dt.date, repair: str, policy: ShadowPolicy = ShadowPolicy()) -> ShadowJudgement:
    """Whether the challenger (a `repair`: "retraining" or "recalibration") has earned promotion by `as_of`,
    from its shadow days and both models' scores of the same contacts with their matured outcomes."""
    realized = realized_pair(champion_contacts, challenger_contacts, outcomes, targets, as_of)
    realized_ece = realized_ece_pair(champion_contacts, challenger_contacts, outcomes, targets, as_of)
    # A recalibration moves the probabilities on purpose: its score PSI is shown, not an alarm.
    max_psi = math.inf if repair == "recalibration" else policy.max_score_psi
    verdict = promotion_verdict(history, realized, policy.min_shadow_days, policy.pr_auc_tolerance,
                                policy.min_rank_correlation, max_psi, realized_ece, policy.ece_tolerance)
    return ShadowJudgement(verdict, realized, realized_ece)
