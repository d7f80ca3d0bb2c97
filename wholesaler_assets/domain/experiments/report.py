"""What a manager reads: the design, each look at the test, and a chart of cumulative bookings per arm."""

from __future__ import annotations

import polars as pl
from matplotlib.figure import Figure

from wholesaler_assets.domain.experiments.analysis import Analysis, ArmComparison
from wholesaler_assets.domain.experiments.design import TestDesign


def design_markdown(design: TestDesign) -> str:
    return "\n".join([
        "# A/B test design: priority queue against business as usual", "",
        f"Primary outcome: **{design.primary_outcome}** per contact; base rate {design.base_rate:.2%}.",
        f"Target: a {design.relative_lift:.0%} relative lift at alpha {design.alpha} (two-sided) and power "
        f"{design.target_power:.0%}.", "",
        "| case | treatment rate | contacts per arm | power at the chosen size |", "|---|---|---|---|",
        f"| full adoption | {design.treatment_rate_full_adoption:.2%} | {design.contacts_per_arm_full_adoption:,} "
        f"| {design.power_full_adoption:.1%} |",
        f"| {design.adoption:.0%} adoption | {design.treatment_rate_under_adoption:.2%} | "
        f"{design.contacts_per_arm_under_adoption:,} | {design.power_under_adoption:.1%} |", "",
        f"Run **{design.contacts_per_arm:,} contacts per arm**: at {design.contacts_per_day:,} contacts a day "
        f"(both arms) that is **{design.days_needed} days**, plus 7 days for the last outcomes. Sized for full "
        f"adoption only, the test would have {design.power_under_adoption_if_sized_for_full:.0%} power at "
        f"{design.adoption:.0%} adoption.", ""])


def _row(c: ArmComparison) -> str:
    return (f"| {c.segment} | {c.contacts_treatment:,} | {c.rate_treatment:.2%} | {c.contacts_control:,} | "
            f"{c.rate_control:.2%} | {c.lift:+.1%} | [{c.lift_ci_bootstrap[0]:+.1%}, {c.lift_ci_bootstrap[1]:+.1%}] "
            f"| {c.p_value:.3g} | {c.p_value_bootstrap:.3g} |")


def analysis_markdown(analysis: Analysis, design: TestDesign, chart_name: str | None = None) -> str:
    lines = [
        f"# A/B test, {analysis.look} look (day {analysis.as_of_day})", "",
        f"**Decision: {analysis.decision}.** {analysis.reason[0].upper()}{analysis.reason[1:]}.", "",
        f"- Information fraction {analysis.information_fraction:.0%} of {design.contacts_per_arm:,} contacts per "
        f"arm; alpha-spending boundary |z| >= {analysis.boundary_z:.2f} (O'Brien-Fleming), z = "
        f"{analysis.overall.z:.2f}.",
        f"- Adoption observed: {analysis.adoption_observed:.0%} of treatment contacts worked in queue order "
        f"(planned {design.adoption:.0%}); lift among them {analysis.lift_among_adopted:+.1%}.",
        f"- Gate (seeds, unit 15): significant and lift >= {design.relative_lift:.0%}: "
        f"{'met' if analysis.crossed_boundary and analysis.meets_target_lift else 'not met'}.", "",
        "| segment | treatment contacts | treatment rate | control contacts | control rate | lift | "
        "lift 95% CI (bootstrap) | p (z-test) | p (bootstrap) |", "|---|---|---|---|---|---|---|---|---|",
        _row(analysis.overall), *(_row(s) for s in analysis.segments), ""]
    if chart_name:
        lines += [f"![cumulative booked calls per arm]({chart_name})", ""]
    return "\n".join(lines)


def cumulative_chart(cumulative: pl.DataFrame, title: str = "Cumulative booked calls per arm") -> Figure:
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for arm in ("treatment", "control"):
        rows = cumulative.filter(pl.col("arm") == arm)
        ax.plot(rows["day"].to_numpy(), rows["booked"].to_numpy(), label=arm)
    ax.set(xlabel="day of the test", ylabel="booked calls", title=title)
    ax.legend()
    return fig
