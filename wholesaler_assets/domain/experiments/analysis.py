"""A/B test analysis: lift per arm with intervals and p-values, adoption, interim boundary, decision.

The unit is the contact (booked calls per 100 contacts, the seeds' "per 100 dials"); a contact counts
once its 7-day window has passed. The lift is tested two ways: statsmodels' two-proportion z-test and
a parametric bootstrap (resampled arm totals; under the null both arms at the pooled rate). The
intention-to-treat lift divided by the adoption observed is the lift among the contacts actually
worked in queue order; the seeds' gate (p < 0.05 and lift >= 30%) reads that one, because under-
adoption dilutes the arm's lift by design and the test was sized for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from wholesaler_assets.domain.experiments.design import TestDesign, spending_boundaries
from wholesaler_assets.domain.scalars import as_float, as_int

OUTCOME_WINDOW_DAYS = 7
QUEUE_LANE = "treatment_queue"


@dataclass(frozen=True)
class ArmComparison:
    """Treatment against control on one binary outcome."""

    segment: str
    contacts_treatment: int
    contacts_control: int
    successes_treatment: int
    successes_control: int
    rate_treatment: float
    rate_control: float
    lift: float  # rate_treatment / rate_control - 1
    difference_ci: tuple[float, float]  # rate_treatment - rate_control, 95% (Newcombe)
    lift_ci_bootstrap: tuple[float, float]  # 95% percentile interval of the relative lift
    z: float
    p_value: float
    p_value_bootstrap: float


def compare_arms(successes: tuple[int, int], contacts: tuple[int, int], segment: str = "all",
                 n_boot: int = 2_000, seed: int = 7) -> ArmComparison:
    """(treatment, control) successes out of contacts."""
    (st, sc), (nt, nc) = successes, contacts
    if min(nt, nc) == 0:
        raise ValueError(f"segment {segment}: an arm has no matured contacts ({nt} treatment, {nc} control)")
    rt, rc = st / nt, sc / nc
    if st + sc in (0, nt + nc):
        z, p = 0.0, 1.0
    else:
        z, p = (float(v) for v in proportions_ztest([st, sc], [nt, nc], alternative="two-sided"))
    low, high = confint_proportions_2indep(st, nt, sc, nc, method="newcomb", compare="diff")
    rng = np.random.default_rng(seed)
    bt, bc = rng.binomial(nt, rt, n_boot) / nt, rng.binomial(nc, rc, n_boot) / nc
    ratio = np.divide(bt, bc, out=np.full(n_boot, np.nan), where=bc > 0) - 1
    pooled = (st + sc) / (nt + nc)
    null_diff = rng.binomial(nt, pooled, n_boot) / nt - rng.binomial(nc, pooled, n_boot) / nc
    p_boot = float((np.abs(null_diff) >= abs(rt - rc) - 1e-12).mean())
    finite = ratio[np.isfinite(ratio)]
    return ArmComparison(
        segment=segment, contacts_treatment=nt, contacts_control=nc, successes_treatment=st, successes_control=sc,
        rate_treatment=rt, rate_control=rc, lift=rt / rc - 1 if rc > 0 else float("inf"),
        difference_ci=(float(low), float(high)),
        lift_ci_bootstrap=(float(np.quantile(finite, 0.025)), float(np.quantile(finite, 0.975)))
        if finite.size else (float("nan"), float("nan")),
        z=z, p_value=p, p_value_bootstrap=p_boot)


def matured_contacts(contacts: pl.DataFrame, as_of_day: int, window_days: int = OUTCOME_WINDOW_DAYS) -> pl.DataFrame:
    """Contacts whose outcome window closed by `as_of_day`, booked only if the booking came inside it."""
    return contacts.filter(pl.col("day") <= as_of_day - window_days).with_columns(
        (pl.col("booked") & (pl.col("booked_day") <= pl.col("day") + window_days)).fill_null(False).alias("booked"))


def _counts(frame: pl.DataFrame, outcome: str) -> tuple[tuple[int, int], tuple[int, int]]:
    arm = frame["arm"]
    t, c = frame.filter(arm == "treatment"), frame.filter(arm == "control")
    return (int(t[outcome].sum()), int(c[outcome].sum())), (t.height, c.height)


@dataclass(frozen=True)
class Analysis:
    """One look at the test: overall and per-segment lift, adoption, the boundary and the decision."""

    look: str  # interim | final
    as_of_day: int
    information_fraction: float
    overall: ArmComparison
    segments: list[ArmComparison]
    adoption_observed: float
    lift_among_adopted: float
    boundary_z: float
    crossed_boundary: bool
    meets_target_lift: bool
    decision: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def analyze(contacts: pl.DataFrame, design: TestDesign, as_of_day: int, look: str = "final",
            previous_looks: Sequence[float] = (), outcome: str = "booked", seed: int = 7) -> Analysis:
    """Look at the test on `as_of_day`; `previous_looks` are the information fractions of earlier looks."""
    if look not in ("interim", "final"):
        raise ValueError(f"look must be 'interim' or 'final', got {look!r}")
    done = matured_contacts(contacts, as_of_day)
    successes, n = _counts(done, outcome)
    overall = compare_arms(successes, n, seed=seed)
    segments = []
    if "segment" in done.columns:
        for segment in sorted(done["segment"].unique().to_list()):
            s, m = _counts(done.filter(pl.col("segment") == segment), outcome)
            if min(m) > 0:
                segments.append(compare_arms(s, m, segment, seed=seed))
    fraction = min(min(n) / design.contacts_per_arm, 1.0) if look == "interim" else 1.0
    looks = sorted({*(f for f in previous_looks if f < fraction), fraction})
    boundary = spending_boundaries(looks, design.alpha)[-1]
    treated = done.filter(pl.col("arm") == "treatment")
    adoption = as_float((treated["lane"] == QUEUE_LANE).mean() or 0.0) if treated.height else 0.0
    adopted_lift = overall.lift / adoption if adoption > 0 else float("nan")
    crossed = abs(overall.z) >= boundary
    meets = bool(adopted_lift >= design.relative_lift)
    decision, reason = _decision(look, overall, crossed, meets, boundary, adopted_lift, adoption, design)
    return Analysis(look, as_of_day, fraction, overall, segments, adoption, adopted_lift, boundary, crossed, meets,
                    decision, reason)


def _decision(look: str, overall: ArmComparison, crossed: bool, meets: bool, boundary: float, adopted_lift: float,
              adoption: float, design: TestDesign) -> tuple[str, str]:
    evidence = (f"lift {overall.lift:+.1%} over the arm (z = {overall.z:.2f}, boundary |z| >= {boundary:.2f}, "
                f"p = {overall.p_value:.3g}), {adopted_lift:+.1%} among the {adoption:.0%} of treatment contacts "
                f"worked in queue order; target {design.relative_lift:.0%}")
    if crossed and overall.lift < 0:
        return "stop", f"the queue does worse: {evidence}"
    if crossed and meets:
        return "roll out", f"significant and at least the target lift: {evidence}"
    if crossed:
        return "escalate", f"significant but below the target lift: {evidence}"
    if look == "interim":
        return "continue", f"boundary not crossed at this interim look: {evidence}"
    return "do not roll out", f"not significant at the final look: {evidence}"


def cumulative_bookings(contacts: pl.DataFrame) -> pl.DataFrame:
    """Per arm and day: contacts and booked calls so far (by booking day)."""
    days = pl.DataFrame({"day": np.arange(as_int(contacts["day"].max() or 0) + 1)})
    rows = []
    for arm in ("treatment", "control"):
        mine = contacts.filter(pl.col("arm") == arm)
        made = mine.group_by("day").len().rename({"len": "contacts"})
        booked = mine.filter(pl.col("booked")).group_by(pl.col("booked_day").alias("day")).len().rename(
            {"len": "booked"})
        rows.append(days.join(made, on="day", how="left").join(booked, on="day", how="left").fill_null(0)
                    .sort("day").select("day", pl.lit(arm).alias("arm"), pl.col("contacts").cum_sum(),
                                        pl.col("booked").cum_sum()))
    return pl.concat(rows)
