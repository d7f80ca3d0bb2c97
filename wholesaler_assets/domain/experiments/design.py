"""A/B test design: sample size and power for a relative lift, under full and partial adoption.

The seeds (004, unit 13) size the test for a 30% lift of the primary outcome at alpha 0.05 and power
0.8, and again for the case where only 60% of the treatment group is actually worked in queue order.
Under adoption a, a lift L among the adopted contacts is a lift a x L over the whole treatment arm
(the intention-to-treat effect the test measures), so the test must be sized for a x L.

Interim looks use a Lan-DeMets O'Brien-Fleming alpha-spending function, so looking early does not
raise the false-positive rate above alpha: alpha spent by information fraction t is
2 - 2 Phi(z_{1-alpha/2} / sqrt(t)), and each look's boundary is solved from the joint normal law of
the looks' z statistics (corr(Z_i, Z_j) = sqrt(t_i / t_j)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import optimize, stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

PRIMARY_OUTCOME = "booked_call_7d"


@dataclass(frozen=True)
class DesignConfig:
    """What the test must detect, and how surely."""

    relative_lift: float = 0.30
    alpha: float = 0.05
    power: float = 0.80
    adoption: float = 0.60  # share of the treatment group actually worked in queue order

    def __post_init__(self) -> None:
        if self.relative_lift <= 0 or not 0 < self.alpha < 1 or not 0 < self.power < 1 or not 0 < self.adoption <= 1:
            raise ValueError(f"invalid design: {self}")


@dataclass(frozen=True)
class TestDesign:
    """Contacts per arm for full and partial adoption, the power each size gives, and the days it takes."""

    primary_outcome: str
    base_rate: float
    relative_lift: float
    alpha: float
    target_power: float
    adoption: float
    treatment_rate_full_adoption: float
    treatment_rate_under_adoption: float
    contacts_per_arm_full_adoption: int
    contacts_per_arm_under_adoption: int
    power_full_adoption: float  # of the chosen size (the under-adoption one) if adoption were full
    power_under_adoption: float
    power_under_adoption_if_sized_for_full: float  # what sizing for full adoption would really give
    contacts_per_day: int
    days_needed: int

    @property
    def contacts_per_arm(self) -> int:
        """The size to run: enough even when only `adoption` of the treatment is worked in queue order."""
        return self.contacts_per_arm_under_adoption

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "contacts_per_arm": self.contacts_per_arm}


def contacts_per_arm(base_rate: float, treatment_rate: float, alpha: float, power: float) -> int:
    """Two-sided two-proportion test, equal arms, Cohen's h (statsmodels' NormalIndPower)."""
    effect = abs(proportion_effectsize(treatment_rate, base_rate))
    return math.ceil(NormalIndPower().solve_power(effect_size=effect, alpha=alpha, power=power, ratio=1.0,
                                                  alternative="two-sided"))


def power_of(base_rate: float, treatment_rate: float, n_per_arm: int, alpha: float) -> float:
    effect = abs(proportion_effectsize(treatment_rate, base_rate))
    return float(NormalIndPower().power(effect_size=effect, nobs1=n_per_arm, alpha=alpha, ratio=1.0,
                                        alternative="two-sided"))


def design_test(base_rate: float, contacts_per_day: int, config: DesignConfig = DesignConfig(),
                primary_outcome: str = PRIMARY_OUTCOME) -> TestDesign:
    """The test that detects `config.relative_lift` of `base_rate` with `config.power`, also when only
    `config.adoption` of the treatment is worked in queue order; days at `contacts_per_day` (both arms)."""
    if not 0 < base_rate < 1:
        raise ValueError(f"base rate must be in (0, 1), got {base_rate}: is there any outcome data?")
    if contacts_per_day < 1:
        raise ValueError(f"contacts_per_day must be >= 1, got {contacts_per_day}")
    full = min(base_rate * (1 + config.relative_lift), 1.0)
    partial = min(base_rate * (1 + config.adoption * config.relative_lift), 1.0)
    n_full = contacts_per_arm(base_rate, full, config.alpha, config.power)
    n_partial = contacts_per_arm(base_rate, partial, config.alpha, config.power)
    return TestDesign(
        primary_outcome=primary_outcome, base_rate=base_rate, relative_lift=config.relative_lift,
        alpha=config.alpha, target_power=config.power, adoption=config.adoption,
        treatment_rate_full_adoption=full, treatment_rate_under_adoption=partial,
        contacts_per_arm_full_adoption=n_full, contacts_per_arm_under_adoption=n_partial,
        power_full_adoption=power_of(base_rate, full, n_partial, config.alpha),
        power_under_adoption=power_of(base_rate, partial, n_partial, config.alpha),
        power_under_adoption_if_sized_for_full=power_of(base_rate, partial, n_full, config.alpha),
        contacts_per_day=contacts_per_day, days_needed=math.ceil(2 * n_partial / contacts_per_day))


def obrien_fleming_spent(fraction: float, alpha: float) -> float:
    """Alpha spent by information fraction `fraction` (Lan-DeMets O'Brien-Fleming, two-sided)."""
    if fraction <= 0:
        return 0.0
    return float(2 - 2 * stats.norm.cdf(stats.norm.ppf(1 - alpha / 2) / math.sqrt(min(fraction, 1.0))))


def spending_boundaries(fractions: Sequence[float], alpha: float) -> list[float]:
    """|z| boundaries of looks at increasing information fractions (the last normally 1.0), such that
    the chance of crossing any of them when there is no effect is the alpha spent by then."""
    t = np.asarray(fractions, dtype=np.float64)
    if t.size == 0 or np.any(np.diff(t) <= 0) or t[0] <= 0 or t[-1] > 1:
        raise ValueError(f"fractions must increase within (0, 1], got {list(fractions)}")
    corr = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    bounds: list[float] = []
    for k in range(t.size):
        target = obrien_fleming_spent(float(t[k]), alpha)
        if k == 0:
            bounds.append(float(stats.norm.ppf(1 - target / 2)))
            continue
        law = stats.multivariate_normal(mean=np.zeros(k + 1), cov=corr[: k + 1, : k + 1], seed=0,
                                         abseps=1e-6, releps=1e-6)

        bounds.append(float(optimize.brentq(_excess_crossing, 0.5, 8.0, args=(bounds, law, target), xtol=1e-6)))
    return bounds


def _excess_crossing(z: float, bounds: list[float], law: Any, target: float) -> float:
    """P(some look crosses its boundary, the last one at z) minus the alpha to spend by then."""
    return 1.0 - _box_probability(law, np.array([*bounds, z])) - target


def _box_probability(law: Any, limits: np.ndarray) -> float:
    """P(|Z_i| < limits_i for all i)."""
    return float(law.cdf(limits, lower_limit=-limits))
