"""Campaign recommendations: where outreach converts worse than it could, with evidence, ranked by impact.

Every contact whose 7-day window has closed is labelled booked or not. Conversion is tabled by channel,
campaign, step and cadence (days since the previous touch) with Wilson intervals. An element is flagged
when a two-proportion z-test says it converts worse than its reference at `max_p_value`:

- `stop_after_step`: a campaign's steps from N on convert worse than its earlier steps: stop after N - 1;
- `drop_step`: one step of a campaign converts worse than the campaign's other steps;
- `change_channel`: a campaign's contacts on one channel convert worse than on its best channel;
- `change_cadence`: touches after one gap convert worse than after the best gap;
- `reorder`: a later step converts better than the first: open with it.

Impact is extra booked calls per 1,000 contacts of all campaigns if the flagged contacts converted at
the reference rate. Each comes with the A/B test that would confirm it (`design_test`). Nothing here
changes a campaign: a person approves or rejects each recommendation (`approval_status`).
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

import polars as pl
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from wholesaler_assets.domain.experiments.design import DesignConfig, design_test

CADENCE_BUCKETS = ((0, 11, "8-11 days"), (12, 16, "12-16 days"), (17, 21, "17-21 days"), (22, 100_000, "22+ days"))
DECISIONS = ("approved", "rejected")


@dataclass(frozen=True)
class RecommendationConfig:
    """How strong the evidence must be and what a confirming test would need."""

    max_p_value: float = 0.01
    min_contacts: int = 200  # per compared group
    contacts_per_day: int = 200
    top_n: int = 20


def labelled_contacts(contacts: pl.DataFrame, outcomes: pl.DataFrame, cutoff: dt.datetime,
                      window_days: int = 7) -> pl.DataFrame:
    """Contacts whose window closed by `cutoff`, with `booked` (a call booked within the window), the
    campaign family (the campaign id without its launch month) and the cadence bucket."""
    gap = pl.col("contact_time").diff().over("lead_id", order_by="contact_time").dt.total_days()
    bucket = pl.lit(None, pl.String)
    for low, high, name in reversed(CADENCE_BUCKETS):
        bucket = pl.when(gap.is_between(low, high)).then(pl.lit(name)).otherwise(bucket)
    window = pl.duration(days=window_days)
    return (contacts.filter(pl.col("contact_time") + window <= cutoff)
            .join(outcomes.select("lead_id", "call_booked_at"), on="lead_id", how="left")
            .with_columns(((pl.col("call_booked_at") > pl.col("contact_time"))
                           & (pl.col("call_booked_at") <= pl.col("contact_time") + window)).fill_null(False)
                          .alias("booked"),
                          pl.col("campaign_id").str.replace(r"^CMP-\d{4}-\d{2}-", "").alias("campaign"),
                          bucket.alias("cadence"))
            .drop("call_booked_at"))


def conversion_table(labelled: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Contacts, booked calls, rate and its 95% Wilson interval per group."""
    table = labelled.group_by(by).agg(pl.len().alias("contacts"), pl.col("booked").sum().alias("booked")).sort(by)
    low, high = proportion_confint(table["booked"].to_numpy(), table["contacts"].to_numpy(), method="wilson")
    return table.with_columns((pl.col("booked") / pl.col("contacts")).alias("rate"),
                              pl.Series("wilson_low", low), pl.Series("wilson_high", high))


def _test(booked: int, contacts: int, ref_booked: int, ref_contacts: int) -> float:
    if booked + ref_booked in (0, contacts + ref_contacts):
        return 1.0
    return float(proportions_ztest([booked, ref_booked], [contacts, ref_contacts])[1])


def _finding(kind: str, target: str, change: str, booked: int, contacts: int, ref_booked: int, ref_contacts: int,
             affected: int, total: int, config: RecommendationConfig) -> dict | None:
    """A flagged element, if it has the contacts and converts worse than its reference at the p-value."""
    if min(contacts, ref_contacts) < config.min_contacts or ref_booked == 0:
        return None
    rate, ref = booked / contacts, ref_booked / ref_contacts
    p = _test(booked, contacts, ref_booked, ref_contacts)
    if rate >= ref or p > config.max_p_value:
        return None
    low, high = proportion_confint(booked, contacts, method="wilson")
    return {"recommendation_id": f"REC-{zlib.crc32(f'{kind}:{target}'.encode()):08x}", "kind": kind,
            "target": target, "change": change, "contacts": contacts, "rate": rate, "rate_wilson_low": low,
            "rate_wilson_high": high, "reference_contacts": ref_contacts, "reference_rate": ref, "p_value": p,
            "extra_booked_per_1000_contacts": 1000 * affected * (ref - rate) / total}


def _counts(frame: pl.DataFrame) -> tuple[int, int]:
    return int(frame["booked"].sum()), frame.height


def find_weak_elements(labelled: pl.DataFrame, config: RecommendationConfig) -> list[dict]:
    """Every flagged step, sequence tail, channel, cadence and step order (see the module doc)."""
    total, found = labelled.height, []
    for campaign in sorted(labelled["campaign"].unique().to_list()):
        mine = labelled.filter(pl.col("campaign") == campaign)
        steps = sorted(mine["campaign_step"].unique().to_list())
        for step in steps[1:]:
            tail, head = mine.filter(pl.col("campaign_step") >= step), mine.filter(pl.col("campaign_step") < step)
            found.append(_finding("stop_after_step", f"{campaign} steps {step}+", f"stop {campaign} after step "
                                  f"{step - 1}", *_counts(tail), *_counts(head), tail.height, total, config))
            one, rest = mine.filter(pl.col("campaign_step") == step), mine.filter(pl.col("campaign_step") != step)
            found.append(_finding("drop_step", f"{campaign} step {step}", f"drop or rework step {step} of {campaign}",
                                  *_counts(one), *_counts(rest), one.height, total, config))
            first = mine.filter(pl.col("campaign_step") == steps[0])
            found.append(_reorder(campaign, step, one, first, total, config))
        channels = conversion_table(mine, ["channel"]).filter(pl.col("contacts") >= config.min_contacts)
        if channels.height > 1:
            best = channels.sort("rate", descending=True).row(0, named=True)
            for row in channels.filter(pl.col("channel") != best["channel"]).iter_rows(named=True):
                found.append(_finding("change_channel", f"{campaign} on {row['channel']}",
                                      f"move {campaign}'s {row['channel']} touches to {best['channel']}",
                                      row["booked"], row["contacts"], best["booked"], best["contacts"],
                                      row["contacts"], total, config))
    cadence = conversion_table(labelled.filter(pl.col("cadence").is_not_null()), ["cadence"])
    cadence = cadence.filter(pl.col("contacts") >= config.min_contacts)
    if cadence.height > 1:
        best = cadence.sort("rate", descending=True).row(0, named=True)
        for row in cadence.filter(pl.col("cadence") != best["cadence"]).iter_rows(named=True):
            found.append(_finding("change_cadence", f"touches {row['cadence']} after the previous one",
                                  f"space touches {best['cadence']} apart instead of {row['cadence']}",
                                  row["booked"], row["contacts"], best["booked"], best["contacts"], row["contacts"],
                                  total, config))
    return [f for f in found if f is not None]


def _reorder(campaign: str, step: int, later: pl.DataFrame, first: pl.DataFrame, total: int,
             config: RecommendationConfig) -> dict | None:
    """The first step converts worse than a later one: flagged on the first step's contacts."""
    return _finding("reorder", f"{campaign} step 1 vs step {step}", f"open {campaign} with its step-{step} touch",
                    *_counts(first), *_counts(later), first.height, total, config)


def recommendations(labelled: pl.DataFrame, config: RecommendationConfig = RecommendationConfig()) -> pl.DataFrame:
    """The flagged elements ranked by impact, each with the size of the test that would confirm it."""
    found = sorted(find_weak_elements(labelled, config), key=lambda f: (-f["extra_booked_per_1000_contacts"],
                                                                         f["recommendation_id"]))
    seen: set[str] = set()
    rows: list[dict] = []
    for finding in found:
        if finding["recommendation_id"] in seen:
            continue
        seen.add(finding["recommendation_id"])
        lift = finding["reference_rate"] / max(finding["rate"], 1e-6) - 1
        design = design_test(max(finding["rate"], 1e-4), config.contacts_per_day,
                             DesignConfig(relative_lift=min(lift, 5.0), adoption=1.0))
        rows.append({**finding, "rank": len(rows) + 1, "experiment_relative_lift": design.relative_lift,
                     "experiment_contacts_per_arm": design.contacts_per_arm,
                     "experiment_days": design.days_needed})
        if len(rows) == config.top_n:
            break
    schema = {"recommendation_id": pl.String, "kind": pl.String, "target": pl.String, "change": pl.String,
              "contacts": pl.Int64, "rate": pl.Float64, "rate_wilson_low": pl.Float64,
              "rate_wilson_high": pl.Float64, "reference_contacts": pl.Int64, "reference_rate": pl.Float64,
              "p_value": pl.Float64, "extra_booked_per_1000_contacts": pl.Float64, "rank": pl.Int64,
              "experiment_relative_lift": pl.Float64, "experiment_contacts_per_arm": pl.Int64,
              "experiment_days": pl.Int64}
    return pl.DataFrame(rows, schema=schema)


def approval_status(recs: pl.DataFrame, approvals: pl.DataFrame | None) -> pl.DataFrame:
    """Each recommendation with its latest decision (who, when, note) or `pending`."""
    if approvals is None or not approvals.height:
        return recs.with_columns(pl.lit("pending").alias("status"), pl.lit(None, pl.String).alias("decided_by"),
                                 pl.lit(None, pl.Datetime("us", "UTC")).alias("decided_at"),
                                 pl.lit(None, pl.String).alias("note"))
    latest = approvals.sort("decided_at").unique("recommendation_id", keep="last").select(
        "recommendation_id", pl.col("decision").alias("status"), "decided_by", "decided_at", "note")
    return recs.join(latest, on="recommendation_id", how="left").with_columns(pl.col("status").fill_null("pending"))
