"""The campaign recommendations report: conversion tables, then each recommendation with its evidence,
the test that would confirm it and its approval state. It changes nothing by itself."""

from __future__ import annotations

import polars as pl

from wholesaler_assets.domain.experiments.campaigns import conversion_table
from wholesaler_assets.domain.scalars import as_float

APPROVE_COMMAND = "wholesaler approve-recommendation ID --by NAME --decision approved|rejected [--note TEXT]"


def _table(frame: pl.DataFrame, key: str) -> list[str]:
    lines = [f"| {key} | contacts | booked | rate | 95% Wilson |", "|---|---|---|---|---|"]
    for row in frame.iter_rows(named=True):
        lines.append(f"| {row[key]} | {row['contacts']:,} | {row['booked']:,} | {row['rate']:.2%} | "
                     f"[{row['wilson_low']:.2%}, {row['wilson_high']:.2%}] |")
    return [*lines, ""]


def recommendations_markdown(status: pl.DataFrame, labelled: pl.DataFrame) -> str:
    lines = ["# Campaign recommendations: REQUIRES APPROVAL", "",
             "Nothing here changes a campaign. Each recommendation waits for a person's decision:", "",
             f"    {APPROVE_COMMAND}", "",
             f"{labelled.height:,} contacts with a closed 7-day window; booked-call rate "
             f"{as_float(labelled['booked'].mean() or 0):.2%}.", "", "## Recommendations, by impact", ""]
    if status.height:
        lines += ["| rank | id | status | change | evidence | extra booked calls per 1,000 contacts | "
                  "confirming test |", "|---|---|---|---|---|---|---|"]
        for r in status.sort("rank").iter_rows(named=True):
            decided = f" by {r['decided_by']} {r['decided_at']:%Y-%m-%d}" if r.get("decided_by") else ""
            lines.append(
                f"| {r['rank']} | `{r['recommendation_id']}` | {r['status']}{decided} | {r['change']} | "
                f"{r['target']}: {r['rate']:.2%} [{r['rate_wilson_low']:.2%}, {r['rate_wilson_high']:.2%}] of "
                f"{r['contacts']:,} vs {r['reference_rate']:.2%} of {r['reference_contacts']:,}, p = "
                f"{r['p_value']:.2g} | {r['extra_booked_per_1000_contacts']:.2f} | "
                f"{r['experiment_contacts_per_arm']:,} contacts per arm ({r['experiment_days']} days) |")
        lines.append("")
    else:
        lines += ["_No step, channel or cadence converts worse than its reference with enough evidence._", ""]
    lines += ["## Conversion by channel", "", *_table(conversion_table(labelled, ["channel"]), "channel"),
              "## Conversion by campaign", "", *_table(conversion_table(labelled, ["campaign"]), "campaign"),
              "## Conversion by step", "", *_table(conversion_table(labelled, ["campaign_step"]), "campaign_step")]
    return "\n".join(lines)
