"""Rehearse an A/B test on the outreach simulator before spending real dials on it.

`rehearse` runs the designed test once: blocked assignment, half the team per arm, treatment worked in
queue order for the adopted share of its contacts. `detection_rate` runs it many times with new seeds,
with a planted lift (its power: near the design's) or none (its false-positive rate: near alpha).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from wholesaler_assets.domain.experiments.analysis import OUTCOME_WINDOW_DAYS, analyze
from wholesaler_assets.domain.experiments.assignment import blocked_assignment
from wholesaler_assets.domain.experiments.design import DesignConfig, TestDesign, design_test
from wholesaler_assets.domain.experiments.simulator import SimulationConfig, ab_lanes, simulate
from wholesaler_assets.domain.scalars import as_float


def final_day(design: TestDesign) -> int:
    """The day the final analysis reads: the last test day's contacts have had their 7 days."""
    return design.days_needed - 1 + OUTCOME_WINDOW_DAYS


def rehearse(leads: pl.DataFrame, assignment: pl.DataFrame, design: TestDesign, config: SimulationConfig,
             planted_lift: float | None = None) -> pl.DataFrame:
    """The test's contacts (with arm, lane and segment) over the design's days; each contact's outcomes are
    drawn when it is made, so the final look (`final_day`) sees every outcome window closed."""
    arms = leads.select("lead_id").join(assignment.select("lead_id", "arm", "segment"), on="lead_id", how="left")
    lanes = ab_lanes(leads, arms["arm"].fill_null("none").to_numpy(), config.capacity, design.adoption,
                     planted_lift)
    run = replace(config, days=design.days_needed)
    contacts = simulate(leads, lanes, run)
    return contacts.join(arms.select("lead_id", "segment"), on="lead_id", how="left")


@dataclass(frozen=True)
class DetectionRate:
    """How often the designed test declares a lift (p < alpha at the final look) over repeated runs."""

    runs: int
    planted_lift: float
    significant_share: float  # p < alpha, either direction
    detected_share: float  # p < alpha with the treatment ahead
    mean_control_rate: float
    mean_lift: float


def detection_rate(leads: pl.DataFrame, design: TestDesign, config: SimulationConfig, planted_lift: float,
                   runs: int, seed: int = 1_000, segment_column: str = "value_segment") -> DetectionRate:
    """Run the test `runs` times (assignment and outcomes from seeds seed, seed + 1, ...)."""
    significant, detected, control_rates, lifts = [], [], [], []
    for r in range(runs):
        assignment = blocked_assignment(leads, segment_column, seed=seed + r)
        contacts = rehearse(leads, assignment, design, replace(config, seed=seed + r), planted_lift)
        result = analyze(contacts, design, final_day(design), look="final", seed=seed + r).overall
        significant.append(result.p_value < design.alpha)
        detected.append(result.p_value < design.alpha and result.lift > 0)
        control_rates.append(result.rate_control)
        lifts.append(result.lift)
    return DetectionRate(runs, planted_lift, float(np.mean(significant)), float(np.mean(detected)),
                         float(np.mean(control_rates)), float(np.mean(lifts)))


def calibrated_design(leads: pl.DataFrame, assignment: pl.DataFrame, first: TestDesign, config: SimulationConfig,
                      design_config: DesignConfig, rounds: int = 2) -> TestDesign:
    """Redesign from the booking rate business as usual reaches at the test's own pace and length (a
    closed list of leads converts less as it is worked), starting from `first`."""
    design = first
    for _ in range(rounds):
        contacts = rehearse(leads, assignment, design, config, planted_lift=0.0)
        rate = as_float(contacts.filter(pl.col("arm") == "control")["booked"].mean() or first.base_rate)
        design = design_test(rate, config.contacts_per_day, design_config, first.primary_outcome)
    return design
