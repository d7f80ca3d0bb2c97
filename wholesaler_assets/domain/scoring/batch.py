"""Batch scoring: many leads in chunks, with reasons re-used where nothing the model sees changed.

The daily `scored_leads` asset scores every active lead with `score_batch`; a lead's fingerprint
(`record_hashes`) leaves out what moves with the calendar, so an unchanged lead keeps yesterday's
reasons. The numbers come from the same `Scorer` the endpoint calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from wholesaler_assets.domain.scoring.scorer import APPROXIMATE, EXACT, Scorer, explain, with_output_order


@dataclass(frozen=True)
class BatchStats:
    """How the reasons of a batch were obtained."""

    leads: int
    reasons_reused: int
    reasons_exact: int
    reasons_approximate: int


def record_hashes(scorer: Scorer, records: pl.DataFrame) -> pl.Series:
    """A fingerprint of what is known about each lead, and of the model, that does not move with the calendar.

    The scoring date is left out and years owned becomes the implied purchase day, so a lead
    whose record did not change since yesterday keeps its fingerprint (and its reasons).
    """
    stable = records.drop("scoring_date", "lead_id")
    if "years_owned" in stable.columns:
        stable = stable.with_columns(
            (records["scoring_date"] - pl.duration(days=(pl.col("years_owned") * 365.25).round(0).cast(pl.Int64)))
            .alias("years_owned"))
    return stable.select(pl.struct(pl.all()).hash(seed=7).alias("h"))["h"].cast(pl.String) + f"@{scorer.model_version}"


def score_batch(scorer: Scorer, records: pl.DataFrame, previous: pl.DataFrame | None = None,
                exact_top_n: int = 1_000, chunk_rows: int = 200_000, reasons: bool = True
                ) -> tuple[pl.DataFrame, BatchStats]:
    """Score many leads in chunks; reasons are re-used where nothing the model sees has changed.

    `previous` holds earlier scores (lead_id, feature_hash, top_reasons, narrative,
    reasons_method, reasons_as_of); re-used reasons keep the date they were made on. The
    `exact_top_n` leads of highest priority and every tier-A lead get exact reasons (re-used only
    when those were exact); every other changed lead gets approximate ones.
    Returns the scored leads (with `feature_hash`) and how the reasons were obtained.
    """
    parts, features_parts = [], []
    for start in range(0, records.height, chunk_rows):
        chunk = records.slice(start, chunk_rows)
        features = scorer.features(chunk)
        numbers = scorer.numbers(chunk, features).with_columns(feature_hash=record_hashes(scorer, chunk))
        parts.append(numbers)
        features_parts.append(features)
    numbers = pl.concat(parts) if parts else scorer.numbers(records, scorer.features(records))
    if scorer.spec_features is not None and len(parts) > 1:  # a lead file ranks within the whole batch
        numbers = scorer.ranked(numbers)
    if not reasons:
        return numbers, BatchStats(numbers.height, 0, 0, 0)
    surfaced = numbers.select(
        (pl.col("priority_score").rank("ordinal", descending=True) <= exact_top_n) | (pl.col("tier") == "A"))
    numbers = numbers.with_columns(_needs_exact=surfaced.to_series(), _row=pl.int_range(pl.len()))
    reason_schema = {"top_reasons": pl.String, "narrative": pl.String, "reasons_method": pl.String,
                     "reasons_as_of": pl.Date}
    if previous is not None and previous.height:
        numbers = numbers.join(previous.select("lead_id", "feature_hash", *reason_schema).unique("lead_id"),
                               on=["lead_id", "feature_hash"], how="left", maintain_order="left")
    else:
        numbers = numbers.with_columns(pl.lit(None, t).alias(c) for c, t in reason_schema.items())
    keep = pl.col("top_reasons").is_not_null() & (~pl.col("_needs_exact") | (pl.col("reasons_method") == EXACT))
    numbers = numbers.with_columns(_keep=keep)
    all_features = pl.concat(features_parts) if features_parts else scorer.features(records)
    explained = [numbers.filter(pl.col("_keep")).select("_row", *reason_schema)]
    counts = {}
    for method, wanted in ((EXACT, pl.col("_needs_exact")), (APPROXIMATE, ~pl.col("_needs_exact"))):
        rows = numbers.filter(~pl.col("_keep") & wanted)["_row"]
        counts[method] = rows.len()
        for start in range(0, rows.len(), chunk_rows):
            batch = rows.slice(start, chunk_rows)
            fresh = explain(scorer.value_model, all_features[batch], method)
            explained.append(pl.concat([batch.to_frame(), fresh.with_columns(
                numbers["scoring_date"].gather(batch).alias("reasons_as_of"))], how="horizontal"))
    reasons_frame = pl.concat(explained).sort("_row")
    scored = pl.concat([numbers.drop(*reason_schema, "_keep", "_needs_exact", "_row"),
                        reasons_frame.drop("_row")], how="horizontal")
    stats = BatchStats(scored.height, int(numbers["_keep"].sum()), counts[EXACT], counts[APPROXIMATE])
    return with_output_order(scorer, scored), stats
