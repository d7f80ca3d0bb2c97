from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from wholesaler_assets.domain.experiments.analysis import analyze, compare_arms
from wholesaler_assets.domain.experiments.assignment import balance, blocked_assignment
from wholesaler_assets.domain.experiments.design import DesignConfig, design_test, spending_boundaries


def test_sample_sizes_equal_statsmodels_on_known_cases():
    design = design_test(0.05, contacts_per_day=200)
    h_full = proportion_effectsize(0.065, 0.05)
    h_partial = proportion_effectsize(0.05 * 1.18, 0.05)
    solve = NormalIndPower().solve_power
    assert design.contacts_per_arm_full_adoption == int(np.ceil(solve(h_full, alpha=0.05, power=0.8, ratio=1)))
    assert design.contacts_per_arm == int(np.ceil(solve(h_partial, alpha=0.05, power=0.8, ratio=1)))
    assert design.power_under_adoption == pytest.approx(0.8, abs=1e-3)
    assert design.power_under_adoption_if_sized_for_full < 0.6 < design.power_full_adoption
    assert design.days_needed == int(np.ceil(2 * design.contacts_per_arm / 200))
    # Cohen's classic case: h = 0.2 needs 393 per arm at alpha 0.05 and power 0.8
    assert int(np.ceil(solve(0.2, alpha=0.05, power=0.8))) == 393
    with pytest.raises(ValueError, match="base rate"):
        design_test(0.0, 100)


def test_obrien_fleming_boundaries_keep_the_false_positive_rate_under_repeated_looks():
    looks = [0.25, 0.5, 0.75, 1.0]
    bounds = spending_boundaries(looks, 0.05)
    assert bounds[0] > bounds[1] > bounds[2] > bounds[3] > 1.96
    assert spending_boundaries([1.0], 0.05)[0] == pytest.approx(1.959964, abs=1e-5)
    rng = np.random.default_rng(0)
    n, p, reps = 2_000, 0.05, 4_000
    t = rng.random((reps, n)) < p
    c = rng.random((reps, n)) < p
    naive = spent = np.zeros(reps, bool)
    for fraction, bound in zip(looks, bounds, strict=True):
        k = int(n * fraction)
        pt, pc = t[:, :k].mean(1), c[:, :k].mean(1)
        pooled = (pt + pc) / 2
        z = (pt - pc) / np.sqrt(pooled * (1 - pooled) * 2 / k)
        naive = naive | (np.abs(z) >= 1.96)
        spent = spent | (np.abs(z) >= bound)
    assert naive.mean() > 0.09  # peeking four times at 1.96 nearly doubles the false positives
    assert abs(spent.mean() - 0.05) < 0.012


def _contacts(rate_t: float, rate_c: float, n: int, seed: int, adoption: float = 1.0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.repeat(["treatment", "control"], n)
    booked = rng.random(2 * n) < np.where(arm == "treatment", rate_t, rate_c)
    lane = np.where(arm == "control", "control", np.where(rng.random(2 * n) < adoption, "treatment_queue",
                                                          "treatment_as_usual"))
    day = rng.integers(0, 50, 2 * n)
    return pl.DataFrame({"arm": arm, "lane": lane, "booked": booked, "day": day,
                         "segment": rng.choice(["under_150k", "150k_400k"], 2 * n)}).with_columns(
        booked_day=pl.when(pl.col("booked")).then(pl.col("day") + 2))


def test_the_analysis_finds_a_planted_lift_and_none_when_there_is_none():
    design = design_test(0.05, 200, DesignConfig(adoption=1.0))
    found = analyze(_contacts(0.05 * 1.5, 0.05, 6_000, seed=1), design, as_of_day=60)
    assert found.decision == "roll out" and found.crossed_boundary and found.overall.p_value < 0.001
    assert 0.3 < found.overall.lift < 0.7 and found.overall.lift_ci_bootstrap[0] > 0
    assert found.overall.p_value_bootstrap < 0.01
    assert {s.segment for s in found.segments} == {"under_150k", "150k_400k"}
    null = analyze(_contacts(0.05, 0.05, 6_000, seed=2), design, as_of_day=60)
    assert null.decision == "do not roll out" and not null.crossed_boundary
    assert null.overall.lift_ci_bootstrap[0] < 0 < null.overall.lift_ci_bootstrap[1]
    interim = analyze(_contacts(0.05, 0.05, 1_000, seed=3), design, as_of_day=60, look="interim")
    assert interim.decision == "continue" and interim.information_fraction < 1 and interim.boundary_z > 2.5


def test_a_significant_lift_below_target_escalates_and_adoption_is_read_back():
    design = design_test(0.05, 200, DesignConfig(relative_lift=0.3, adoption=0.6))
    result = analyze(_contacts(0.05 * 1.12, 0.05, 40_000, seed=4, adoption=0.6), design, as_of_day=60)
    assert result.adoption_observed == pytest.approx(0.6, abs=0.02)
    assert result.lift_among_adopted == pytest.approx(result.overall.lift / result.adoption_observed)
    assert result.decision in ("escalate", "do not roll out") and not result.meets_target_lift


def test_compare_arms_matches_a_hand_computed_z():
    result = compare_arms((60, 40), (1_000, 1_000))
    pooled = 0.05
    z = (0.06 - 0.04) / np.sqrt(pooled * (1 - pooled) * 2 / 1_000)
    assert result.z == pytest.approx(z) and result.lift == pytest.approx(0.5)


def test_assignment_is_deterministic_blocked_and_balanced(market_leads):
    first = blocked_assignment(market_leads, seed=3)
    assert first.equals(blocked_assignment(market_leads.sample(fraction=1.0, shuffle=True, seed=1), seed=3))
    assert not first.equals(blocked_assignment(market_leads, seed=4))
    found = balance(market_leads, first)
    assert found.passed(0.1, 2), found
    assert abs(found.arm_sizes["treatment"] - found.arm_sizes["control"]) <= 2 * first["segment"].n_unique()
    lopsided = first.with_columns(arm=pl.when(pl.col("segment") == "under_150k").then(pl.lit("treatment"))
                                  .otherwise(pl.col("arm")))
    assert not balance(market_leads, lopsided).passed(0.1, 2)
