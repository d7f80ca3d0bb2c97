"""Experiment assets: the outreach simulator, the A/B test (design, assignment, rehearsal, analysis) and
campaign recommendations awaiting a person's approval."""

import datetime as dt
import json

import dagster as dg
import polars as pl

from wholesaler_assets.assets.metadata import OWNERS, check_spec, gate_check, preview
from wholesaler_assets.domain.experiments.analysis import analyze, cumulative_bookings
from wholesaler_assets.domain.experiments.assignment import balance, blocked_assignment, with_value_segment
from wholesaler_assets.domain.experiments.campaigns import (
    RecommendationConfig,
    approval_status,
    labelled_contacts,
    recommendations,
)
from wholesaler_assets.domain.experiments.design import DesignConfig, TestDesign, design_test
from wholesaler_assets.domain.experiments.ground_truth import property_states
from wholesaler_assets.domain.experiments.recommendation_report import recommendations_markdown
from wholesaler_assets.domain.experiments.rehearsal import final_day, rehearse
from wholesaler_assets.domain.experiments.report import analysis_markdown, cumulative_chart, design_markdown
from wholesaler_assets.domain.experiments.simulator import (
    DEFAULT_CAPACITY,
    SimulationConfig,
    compare_policies,
    outreach_leads,
)
from wholesaler_assets.domain.features.warehouse_records import records_as_of
from wholesaler_assets.domain.gates.result import GateResult
from wholesaler_assets.domain.scalars import as_datetime, as_float
from wholesaler_assets.io.experiments import APPROVALS_TABLE, RECOMMENDATIONS_TABLE, write_report
from wholesaler_assets.io.warehouse import WarehouseBackend
from wholesaler_assets.partitions import DAILY_PARTITIONS
from wholesaler_assets.resources import ClockResource, DataFolderResource, WarehouseResource

GROUP = "experiments"
KINDS = {"polars", "statsmodels"}


class OutreachConfig(dg.Config):
    """The team: contacts a day per channel, how many days it works, and the seed of the draws."""

    days: int = 60
    capacity: dict[str, int] = dict(DEFAULT_CAPACITY)
    seed: int = 7

    def simulation(self, days: int | None = None) -> SimulationConfig:
        return SimulationConfig(days=days or self.days, capacity=dict(self.capacity), seed=self.seed)


def simulation_leads(wh: WarehouseBackend, day: dt.date) -> pl.DataFrame:
    """The active leads of the day's scored list with their ground-truth property state (synthetic market)."""
    for table in ("scored_leads", "raw_properties", "raw_distress_events", "property_snapshots"):
        if not wh.table_exists(table):
            raise dg.Failure(f"no {table} table: the simulator runs on the ingested synthetic market with "
                             f"scored leads (materialize scored_leads for {day} first)", allow_retries=False)
    scored = wh.read("scored_leads", "scoring_date = ?", [day])
    snapshot_day = wh.query("select max(snapshot_date) as d from property_snapshots where snapshot_date <= ?",
                            [day])["d"][0]
    if not scored.height or snapshot_day is None:
        raise dg.Failure(f"no scored leads or property snapshot on or before {day}: materialize scored_leads first",
                         allow_retries=False)
    outcomes = wh.read("lead_outcomes")
    records = records_as_of(day, wh.read("property_snapshots", "snapshot_date = ?", [snapshot_day]),
                            wh.read("lead_contacts"), outcomes)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    booked = outcomes.filter(pl.col("call_booked_at") < end)["lead_id"].to_list()
    states = property_states(wh.read("raw_properties"), wh.read("raw_distress_events"), day)
    leads = outreach_leads(records, states, scored, booked)
    return with_value_segment(leads).with_columns(equity_share=pl.col("equity") / pl.col("mv"))


@dg.asset(partitions_def=DAILY_PARTITIONS, deps=["scored_leads"], group_name=GROUP, kinds=KINDS, owners=OWNERS,
          code_version="1")
def outreach_simulation(context: dg.AssetExecutionContext, config: OutreachConfig,
                        warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Deals, qualified leads and booked calls per 100 contacts of the queue, as usual and random, simulated."""
    day = dt.date.fromisoformat(context.partition_key)
    wh = warehouse.open()
    figures = compare_policies(simulation_leads(wh, day), config.simulation())
    wh.replace_partition("outreach_simulation", figures.with_columns(simulation_date=pl.lit(day)),
                         "simulation_date", day)
    per_100 = dict(figures.select("policy", "deals_per_100").iter_rows())
    return dg.MaterializeResult(metadata={
        **{f"deals_per_100_{policy}": value for policy, value in per_100.items()},
        "ratio_vs_as_usual": per_100["queue"] / per_100["as_usual"] if per_100.get("as_usual") else None,
        "figures": preview(figures, rows=3)})


class AbDesignConfig(dg.Config):
    """The lift to detect and how surely, the adoption expected, and the window the base rate comes from."""

    relative_lift: float = 0.30
    alpha: float = 0.05
    power: float = 0.80
    adoption: float = 0.60
    contacts_per_day: int = sum(DEFAULT_CAPACITY.values())
    base_rate_days: int = 90


def _design(wh: WarehouseBackend, day: dt.date) -> TestDesign:
    if not wh.table_exists("ab_test_designs") or not wh.row_count("ab_test_designs", "design_date = ?", [day]):
        raise dg.Failure(f"no A/B test design for {day}: materialize ab_test_design for {day} first",
                         allow_retries=False)
    stored = json.loads(wh.read("ab_test_designs", "design_date = ?", [day])["design_json"][0])
    stored.pop("contacts_per_arm", None)
    return TestDesign(**stored)


@dg.asset(partitions_def=DAILY_PARTITIONS, deps=["lead_contacts", "lead_outcomes"], group_name=GROUP,
          kinds=KINDS, owners=OWNERS, code_version="1")
def ab_test_design(context: dg.AssetExecutionContext, config: AbDesignConfig, warehouse: WarehouseResource,
                   data_folder: DataFolderResource) -> dg.MaterializeResult:
    """Contacts per arm and days for the target lift in booked calls, at full and partial adoption."""
    day = dt.date.fromisoformat(context.partition_key)
    wh = warehouse.open()
    cutoff = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    since = cutoff - dt.timedelta(days=config.base_rate_days + 7)
    labelled = labelled_contacts(wh.read("lead_contacts", "contact_time >= ?", [since]), wh.read("lead_outcomes"),
                                 cutoff)
    if not labelled.height:
        raise dg.Failure(f"no contact with a closed 7-day window in the {config.base_rate_days} days before {day}",
                         allow_retries=False)
    try:
        design = design_test(as_float(labelled["booked"].mean()), config.contacts_per_day,
                             DesignConfig(config.relative_lift, config.alpha, config.power, config.adoption))
    except ValueError as exc:
        raise dg.Failure(str(exc), allow_retries=False) from None
    wh.replace_partition("ab_test_designs", pl.DataFrame({"design_date": [day], "design_json": [
        json.dumps(design.as_dict())]}), "design_date", day)
    path = write_report(data_folder.layout().reports / "experiments" / day.isoformat(), "ab_test_design",
                        design_markdown(design))
    return dg.MaterializeResult(metadata={
        "base_rate": design.base_rate, "base_rate_contacts": labelled.height,
        "contacts_per_arm": design.contacts_per_arm, "contacts_per_arm_full_adoption":
            design.contacts_per_arm_full_adoption, "power_under_adoption": design.power_under_adoption,
        "power_full_adoption": design.power_full_adoption, "days_needed": design.days_needed,
        "report": dg.MetadataValue.path(str(path))})


class AssignmentConfig(dg.Config):
    """What the randomization blocks on, its seed, and the balance the check demands."""

    segment_column: str = "value_segment"
    seed: int = 7
    block_size: int = 4
    max_smd: float = 0.1
    max_segment_gap: int = 2


@dg.asset(partitions_def=DAILY_PARTITIONS, deps=["scored_leads"], group_name=GROUP, kinds=KINDS, owners=OWNERS,
          code_version="1",
          check_specs=[check_spec("arms_balanced", "ab_test_assignments", blocking=True,
                                         partitions_def=DAILY_PARTITIONS,
                                         description="Every covariate's standardized mean difference < 0.1 and "
                                                     "each segment's arms within half a block.")])
def ab_test_assignments(context: dg.AssetExecutionContext, config: AssignmentConfig,
                        warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Active leads randomized into treatment (priority order) and control (as usual), blocked by segment."""
    day = dt.date.fromisoformat(context.partition_key)
    wh = warehouse.open()
    leads = simulation_leads(wh, day)
    try:
        assignment = blocked_assignment(leads, config.segment_column, config.seed, config.block_size)
    except ValueError as exc:
        raise dg.Failure(str(exc), allow_retries=False) from None
    wh.replace_partition("ab_test_assignments", assignment.with_columns(assignment_date=pl.lit(day)),
                         "assignment_date", day)
    found = balance(leads, assignment)
    passed = found.passed(config.max_smd, config.max_segment_gap)
    worst = max(found.smd.items(), key=lambda kv: abs(kv[1]), default=("none", 0.0))
    return dg.MaterializeResult(
        metadata={"leads": assignment.height, **{f"{arm}_leads": n for arm, n in found.arm_sizes.items()},
                  "smd": dg.MetadataValue.json(found.smd)},
        check_results=[gate_check(GateResult(
            name="arms_balanced", passed=passed,
            summary=f"largest |SMD| {abs(worst[1]):.3f} ({worst[0]}), must be < {config.max_smd}; largest segment "
            f"gap {found.largest_segment_gap} leads, must be <= {config.max_segment_gap}",
            value=abs(worst[1]), threshold=config.max_smd,
            details={"smd": found.smd, "arm_sizes": found.arm_sizes,
                     "largest_segment_gap": found.largest_segment_gap}), partition=context.partition_key)])


class RehearsalConfig(OutreachConfig):
    """The simulated team, plus an optional planted lift (then treatment is worked as usual, boosted)."""

    planted_lift: float | None = None


@dg.asset(partitions_def=DAILY_PARTITIONS, deps=["ab_test_assignments", "ab_test_design"], group_name=GROUP,
          kinds=KINDS, owners=OWNERS, code_version="1")
def ab_test_rehearsal(context: dg.AssetExecutionContext, config: RehearsalConfig,
                      warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The designed test run on the simulator: every contact of both arms with its outcome (`ab_test_outcomes`)."""
    day = dt.date.fromisoformat(context.partition_key)
    wh = warehouse.open()
    design = _design(wh, day)
    assignment = wh.read("ab_test_assignments", "assignment_date = ?", [day])
    contacts = rehearse(simulation_leads(wh, day), assignment, design, config.simulation(design.days_needed),
                        config.planted_lift)
    wh.replace_partition("ab_test_outcomes", contacts.with_columns(test_date=pl.lit(day)), "test_date", day)
    return dg.MaterializeResult(metadata={"contacts": contacts.height, "days": design.days_needed,
                                          "booked": int(contacts["booked"].sum())})


class AnalysisConfig(dg.Config):
    """Which look this is: the test day it reads up to (None: the end) and earlier looks' information fractions."""

    look: str = "final"
    as_of_day: int | None = None
    previous_looks: list[float] = []


@dg.asset(partitions_def=DAILY_PARTITIONS, deps=["ab_test_rehearsal", "ab_test_design"], group_name=GROUP,
          kinds=KINDS, owners=OWNERS, code_version="1")
def ab_test_analysis(context: dg.AssetExecutionContext, config: AnalysisConfig, warehouse: WarehouseResource,
                     data_folder: DataFolderResource) -> dg.MaterializeResult:
    """Lift per arm and segment with intervals and p-values, adoption, the alpha-spending boundary, the decision."""
    day = dt.date.fromisoformat(context.partition_key)
    wh = warehouse.open()
    design = _design(wh, day)
    if not wh.table_exists("ab_test_outcomes") or not wh.row_count("ab_test_outcomes", "test_date = ?", [day]):
        raise dg.Failure(f"no A/B test outcomes for {day}: materialize ab_test_rehearsal (or load the test's "
                         "contacts into ab_test_outcomes)", allow_retries=False)
    contacts = wh.read("ab_test_outcomes", "test_date = ?", [day])
    as_of = final_day(design) if config.as_of_day is None else config.as_of_day
    try:
        result = analyze(contacts, design, as_of, config.look, config.previous_looks)
    except ValueError as exc:
        raise dg.Failure(str(exc), allow_retries=False) from None
    name = f"ab_test_{config.look}_day_{as_of}"
    folder = data_folder.layout().reports / "experiments" / day.isoformat()
    chart = cumulative_chart(cumulative_bookings(contacts.filter(pl.col("day") <= as_of)))
    path = write_report(folder, name, analysis_markdown(result, design, f"{name}.png"), chart)
    wh.replace_rows("ab_test_analyses", pl.DataFrame({
        "test_date": [day], "look": [config.look], "as_of_day": [as_of], "decision": [result.decision],
        "reason": [result.reason], "lift": [result.overall.lift], "p_value": [result.overall.p_value],
        "adoption_observed": [result.adoption_observed], "analysis_json": [json.dumps(result.as_dict())]}),
        ["test_date", "look", "as_of_day"])
    return dg.MaterializeResult(metadata={
        "decision": result.decision, "reason": result.reason, "lift": result.overall.lift,
        "p_value": result.overall.p_value, "boundary_z": result.boundary_z, "z": result.overall.z,
        "adoption_observed": result.adoption_observed, "report": dg.MetadataValue.path(str(path))})


class CampaignRecommendationConfig(dg.Config):
    """The evidence a flag needs and the pace a confirming test would run at."""

    max_p_value: float = 0.01
    min_contacts: int = 200
    contacts_per_day: int = sum(DEFAULT_CAPACITY.values())
    top_n: int = 20


@dg.asset(deps=["lead_contacts", "lead_outcomes"], group_name=GROUP, kinds=KINDS | {"duckdb"}, owners=OWNERS,
          code_version="1")
def campaign_recommendations(config: CampaignRecommendationConfig, warehouse: WarehouseResource,
                             data_folder: DataFolderResource, clock: ClockResource) -> dg.MaterializeResult:
    """Underperforming steps, channels and cadences with evidence, ranked by impact; each awaits approval."""
    wh = warehouse.open()
    contacts, outcomes = wh.read("lead_contacts"), wh.read("lead_outcomes")
    if not contacts.height:
        raise dg.Failure("no contacts in lead_contacts: materialize lead_tables first", allow_retries=False)
    labelled = labelled_contacts(contacts, outcomes, as_datetime(contacts["contact_time"].max()))
    recs = recommendations(labelled, RecommendationConfig(config.max_p_value, config.min_contacts,
                                                          config.contacts_per_day, config.top_n))
    wh.replace_table(RECOMMENDATIONS_TABLE, recs.with_columns(generated_at=pl.lit(clock.now())))
    status = approval_status(recs, wh.read(APPROVALS_TABLE) if wh.table_exists(APPROVALS_TABLE) else None)
    path = write_report(data_folder.layout().reports / "experiments", "campaign_recommendations",
                        recommendations_markdown(status, labelled))
    counts = dict(status.group_by("status").len().iter_rows())
    return dg.MaterializeResult(metadata={
        "recommendations": recs.height, "requires_approval": True, "pending": counts.get("pending", 0),
        "approved": counts.get("approved", 0), "rejected": counts.get("rejected", 0),
        "report": dg.MetadataValue.path(str(path)),
        "top": preview(status.select("rank", "recommendation_id", "change", "extra_booked_per_1000_contacts",
                                     "status"), rows=5)})


EXPERIMENT_ASSETS = [outreach_simulation, ab_test_design, ab_test_assignments, ab_test_rehearsal, ab_test_analysis,
                     campaign_recommendations]
