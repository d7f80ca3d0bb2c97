"""An outreach simulator on the synthetic market: a team works its active leads under a policy.

Each day the team makes up to its capacity of contacts per channel. A lead is contacted on its next
channel (the one its campaign would use), at most once every `min_gap_days`, until a call is booked.
Who gets the day's contacts is the policy:

- `queue`: the priority queue in order (highest priority score first);
- `as_usual`: the campaign schedule the generator uses: steps due earliest first (each step 8-21 days
  after the previous one), leads still inside their 6-step sequence before those past it;
- `random`: any lead that may be contacted, at random.

Outcomes follow the market's ground-truth conversion function (`ground_truth.py`): a contact at
step s books a call with p_book, the booking qualifies with p_qual and becomes a deal with p_deal,
with the generator's delays. Everything is drawn from one seed, so a run is reproducible.

The simulator also runs A/B tests: `lanes` split the leads and the capacity between arms, each lane
with its policy and an optional booking multiplier (a planted effect, to check a test's power).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from wholesaler_assets.domain.experiments.ground_truth import (
    CAMPAIGN_GAP_DAYS,
    LATENT_SD,
    MAX_CAMPAIGN_STEPS,
    OUTCOME_DELAY_DAYS,
    contact_probabilities,
)

POLICIES = ("queue", "as_usual", "random")
DEFAULT_CAPACITY: dict[str, int] = {"cold_call": 120, "sms": 50, "direct_mail": 25, "door_knock": 5}
NEVER_CONTACTED_DAYS = 10_000  # days since the last contact of a lead nobody has contacted
STATE_COLUMNS = ("day", "mv", "equity", "cond", "owner", "occupied", "oos", "last_sale", "tax_delinquency",
                 "foreclosure", "code_violation", "probate", "vacancy", "tax_years", "days_to_auction",
                 "distress_types")


@dataclass(frozen=True)
class SimulationConfig:
    """How long the team works, how many contacts a day per channel, and the seed."""

    days: int = 60
    capacity: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_CAPACITY))
    min_gap_days: int = CAMPAIGN_GAP_DAYS[0]
    seed: int = 7

    def __post_init__(self) -> None:
        if self.days < 1 or self.min_gap_days < 1:
            raise ValueError("days and min_gap_days must be >= 1")
        if any(c < 0 for c in self.capacity.values()) or sum(self.capacity.values()) == 0:
            raise ValueError(f"capacity must be >= 0 per channel and > 0 in total, got {dict(self.capacity)}")

    @property
    def contacts_per_day(self) -> int:
        return sum(self.capacity.values())


@dataclass(frozen=True)
class Lane:
    """One way of working a set of leads: which leads, under which policy, with how many contacts a day."""

    name: str
    arm: str
    policy: str
    leads: np.ndarray  # bool mask over the leads frame
    capacity: Mapping[str, int]
    booking_multiplier: float = 1.0  # a planted effect on p_book (1: none)

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"unknown policy {self.policy!r}; expected one of {POLICIES}")


def outreach_leads(records: pl.DataFrame, states: pl.DataFrame, scored: pl.DataFrame | None = None,
                   booked_lead_ids: Sequence[str] = ()) -> pl.DataFrame:
    """The leads a team can work: the active lead records (`records_as_of`) without a booked call, with
    their property state (`ground_truth.property_states` on the records' day) and, when given, the
    scored leads' priority score and conservative profit (0 where a lead has none)."""
    day = records["scoring_date"][0] if records.height else dt.date(1970, 1, 1)
    scores = (scored.select("lead_id", "priority_score", "conservative_profit") if scored is not None
              else pl.DataFrame(schema={"lead_id": pl.String, "priority_score": pl.Float64,
                                        "conservative_profit": pl.Float64}))
    leads = (records.filter(~pl.col("lead_id").is_in(list(booked_lead_ids)))
             .select("lead_id", "property_id", "channel", "campaign_step", "market_value",
                     (pl.lit(day) - pl.col("last_contact_date")).dt.total_days().fill_null(NEVER_CONTACTED_DAYS)
                     .cast(pl.Int64).alias("days_since_contact"))
             .join(states.select("property_id", *STATE_COLUMNS), on="property_id", how="inner")
             .join(scores, on="lead_id", how="left")
             .with_columns(pl.col("priority_score", "conservative_profit").fill_null(0.0).cast(pl.Float64)))
    return leads.sort("lead_id")


def _choose(policy: str, candidates: np.ndarray, cap: int, queue_rank: np.ndarray, schedule_key: np.ndarray,
            rng: np.random.Generator) -> np.ndarray:
    if candidates.size <= cap and policy != "random":
        return candidates
    if policy == "random":
        return rng.choice(candidates, size=min(cap, candidates.size), replace=False)
    key = queue_rank[candidates] if policy == "queue" else schedule_key[candidates]
    return candidates[np.argpartition(key, cap - 1)[:cap]]


def simulate(leads: pl.DataFrame, lanes: Sequence[Lane], config: SimulationConfig) -> pl.DataFrame:
    """Work the leads for `config.days` days; one row per contact with its probabilities and outcomes
    (`*_day`: days after the start, null when the outcome did not happen)."""
    n = leads.height
    rng = np.random.default_rng(config.seed)
    latent = rng.normal(0.0, LATENT_SD, n)
    channel = leads["channel"].to_numpy().astype(str)
    step = leads["campaign_step"].to_numpy().astype(np.int64).copy()
    last = -leads["days_since_contact"].to_numpy().astype(np.int64)
    due = last + rng.integers(CAMPAIGN_GAP_DAYS[0], CAMPAIGN_GAP_DAYS[1] + 1, n)
    priority = leads["priority_score"].to_numpy().astype(np.float64)
    queue_rank = np.empty(n, np.int64)
    queue_rank[np.lexsort((np.arange(n), -priority))] = np.arange(n)
    booked = np.zeros(n, bool)
    by_channel = {ch: channel == ch for lane in lanes for ch in lane.capacity}
    states = leads.select(STATE_COLUMNS)
    days: list[pl.DataFrame] = []
    for day in range(config.days):
        free = ~booked & (day - last >= config.min_gap_days)
        # as usual: leads inside their sequence first, then the earliest due step, then the lead order
        schedule_key = ((step > MAX_CAMPAIGN_STEPS) * (1 << 40) + (due - due.min()) * (n + 1)
                        + np.arange(n))
        chosen, lane_of = [], []
        for i, lane in enumerate(lanes):
            for ch, cap in lane.capacity.items():
                candidates = np.flatnonzero(free & lane.leads & by_channel[ch])
                if cap <= 0 or not candidates.size:
                    continue
                picked = _choose(lane.policy, candidates, cap, queue_rank, schedule_key, rng)
                free[picked] = False
                chosen.append(picked)
                lane_of.append(np.full(picked.size, i))
        if not chosen:
            continue
        idx, lane_idx = np.concatenate(chosen), np.concatenate(lane_of)
        days.append(_contact_day(day, idx, lane_idx, lanes, states, channel, step, latent, rng))
        booked[idx[days[-1]["booked"].to_numpy()]] = True
        last[idx], step[idx] = day, step[idx] + 1
        due[idx] = day + rng.integers(CAMPAIGN_GAP_DAYS[0], CAMPAIGN_GAP_DAYS[1] + 1, idx.size)
    if not days:
        return _empty_contacts()
    contacts = pl.concat(days)
    profit = leads["conservative_profit"].to_numpy()[contacts["lead_index"].to_numpy()]
    return contacts.with_columns(
        leads["lead_id"].gather(contacts["lead_index"]).alias("lead_id"),
        pl.Series("conservative_profit", np.where(contacts["deal"].to_numpy(), profit, 0.0)))


def _contact_day(day: int, idx: np.ndarray, lane_idx: np.ndarray, lanes: Sequence[Lane], states: pl.DataFrame,
                 channel: np.ndarray, step: np.ndarray, latent: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """The outcomes of one day's contacts, drawn from the ground truth."""
    m = idx.size
    p, q, r = contact_probabilities(states[idx], np.full(m, day), channel[idx], step[idx], latent[idx])
    multiplier = np.array([lane.booking_multiplier for lane in lanes])[lane_idx]
    p = np.minimum(p * multiplier, 1.0)
    is_booked = rng.random(m) < p
    is_qualified = is_booked & (rng.random(m) < q)
    is_deal = is_qualified & (rng.random(m) < r)
    (b0, b1), (q0, q1), (d0, d1) = (OUTCOME_DELAY_DAYS[k] for k in ("booking", "qualification", "deal"))
    booked_day = day + rng.integers(b0, b1 + 1, m)
    qualified_day = booked_day + rng.integers(q0, q1 + 1, m)
    deal_day = qualified_day + rng.integers(d0, d1 + 1, m)
    return pl.DataFrame({
        "lead_index": idx, "day": np.full(m, day), "arm": [lanes[i].arm for i in lane_idx],
        "lane": [lanes[i].name for i in lane_idx], "policy": [lanes[i].policy for i in lane_idx],
        "channel": channel[idx], "campaign_step": step[idx].copy(), "p_book": p, "p_qual": q, "p_deal": r,
        "booked": is_booked, "qualified": is_qualified, "deal": is_deal,
        "booked_day": np.where(is_booked, booked_day, -1), "qualified_day": np.where(is_qualified, qualified_day, -1),
        "deal_day": np.where(is_deal, deal_day, -1),
    }).with_columns(pl.col("booked_day", "qualified_day", "deal_day").replace(-1, None))


def _empty_contacts() -> pl.DataFrame:
    return pl.DataFrame(schema={"lead_index": pl.Int64, "day": pl.Int64, "arm": pl.String, "lane": pl.String,
                                "policy": pl.String, "channel": pl.String, "campaign_step": pl.Int64,
                                "p_book": pl.Float64, "p_qual": pl.Float64, "p_deal": pl.Float64,
                                "booked": pl.Boolean, "qualified": pl.Boolean, "deal": pl.Boolean,
                                "booked_day": pl.Int64, "qualified_day": pl.Int64, "deal_day": pl.Int64,
                                "lead_id": pl.String, "conservative_profit": pl.Float64})


def policy_lane(leads: pl.DataFrame, policy: str, config: SimulationConfig) -> Lane:
    """Every lead worked under one policy with the whole capacity."""
    return Lane(policy, policy, policy, np.ones(leads.height, bool), config.capacity)


def outcome_figures(contacts: pl.DataFrame, by: str = "policy") -> pl.DataFrame:
    """Per group: contacts, booked calls, qualified leads and deals per 100 contacts (drawn, and expected
    from the probabilities), and the conservative profit of the deals."""
    return (contacts.group_by(by).agg(
        pl.len().alias("contacts"),
        (100 * pl.col("booked").mean()).alias("booked_per_100"),
        (100 * pl.col("qualified").mean()).alias("qualified_per_100"),
        (100 * pl.col("deal").mean()).alias("deals_per_100"),
        (100 * (pl.col("p_book") * pl.col("p_qual") * pl.col("p_deal")).mean()).alias("expected_deals_per_100"),
        pl.col("conservative_profit").sum().alias("conservative_profit"),
        (100 * pl.col("conservative_profit").mean()).alias("conservative_profit_per_100"))
        .sort(by))


def compare_policies(leads: pl.DataFrame, config: SimulationConfig,
                     policies: Sequence[str] = POLICIES) -> pl.DataFrame:
    """The same team, leads and seed under each policy: one row of `outcome_figures` per policy."""
    runs = [simulate(leads, [policy_lane(leads, p, config)], config) for p in policies]
    return outcome_figures(pl.concat(runs))


def ab_lanes(leads: pl.DataFrame, arms: np.ndarray, capacity: Mapping[str, int], adoption: float,
             planted_lift: float | None = None) -> list[Lane]:
    """Half the capacity per arm: control worked as usual; treatment in queue order for `adoption` of its
    contacts and as usual for the rest. With `planted_lift`, the treatment's adopted contacts are worked
    as usual but book `1 + planted_lift` times as often (a known effect to measure a test's power)."""
    if not 0.0 <= adoption <= 1.0:
        raise ValueError(f"adoption must be in [0, 1], got {adoption}")
    arms = np.asarray(arms)
    half = {ch: c // 2 for ch, c in capacity.items()}
    adopted = {ch: int(round(c * adoption)) for ch, c in half.items()}
    rest = {ch: half[ch] - adopted[ch] for ch in half}
    treated = arms == "treatment"
    queue_lane = (Lane("treatment_queue", "treatment", "as_usual", treated, adopted, 1.0 + planted_lift)
                  if planted_lift is not None else Lane("treatment_queue", "treatment", "queue", treated, adopted))
    return [queue_lane, Lane("treatment_as_usual", "treatment", "as_usual", treated, rest),
            Lane("control", "control", "as_usual", arms == "control", half)]
