"""The queue a caller loads into a dialer or CRM, the technical file beside it, and the owner join.

`caller_export` turns the ordered queue (`ranking.queue_order`) into plain headers, whole dollars,
percentages with one decimal and the reasons as the narrative sentence; the ML columns go to
`technical_export` (same rows, full precision, keyed by lead id). The order is set before any
rounding: by priority, then the unrounded expected value the priority grows with, then lead id, so
leads that show the same rounded priority (100.0 at the top, where the priority saturates) are still
in their true order and `Rank` never ties.

`attach_owner_contacts` joins the user's own owner file (property_id plus contact columns) at
export time. The join happens only here: contact details never reach features, the warehouse or
MLflow.
"""

from __future__ import annotations

import polars as pl

from wholesaler_assets.domain.features.warehouse_records import NEW_LEAD_PREFIX

RANK, LEAD, PROPERTY = "Rank", "Lead ID", "Property ID"


def _pct(column: str) -> pl.Expr:
    return pl.when(pl.col(column).is_not_null()).then(
        pl.format("{}%", (pl.col(column) * 100).round(1)))


def _dollars(column: str) -> pl.Expr:
    return pl.col(column).round(0).cast(pl.Int64)


# caller header -> expression, in the export's order; money in whole dollars, shares as "12.3%"
CALLER_COLUMNS: dict[str, pl.Expr] = {
    RANK: pl.col("queue_rank"),
    LEAD: pl.col("lead_id"),
    PROPERTY: pl.col("property_id"),
    "New lead": pl.col("lead_id").str.starts_with(NEW_LEAD_PREFIX).replace_strict(
        {True: "yes", False: "no"}, return_dtype=pl.String),
    "Tier": pl.col("tier"),
    "Priority (0-100)": pl.col("priority_score").round(1),
    "Chance of a booked call in 7 days": _pct("p_booked_call_7d"),
    "Chance of a deal in 30 days": _pct("p_deal_30d"),
    "Expected value ($)": _dollars("expected_value"),
    "Conservative profit ($)": _dollars("conservative_profit"),
    "Tier A profit ($)": pl.when(pl.col("tier") == "A").then(_dollars("conservative_profit")),
    "ARV ($)": _dollars("arv"),
    "ARV check": pl.col("arv_flags").str.replace_all("_", " "),
    "As-is value ($)": _dollars("market_value"),
    "Maximum offer ($)": _dollars("max_allowable_offer"),
    "Passes buy-box": pl.col("passes_buy_box").replace_strict({True: "yes", False: "no"},
                                                              return_dtype=pl.String),
    "ZIP": pl.col("zip_code"),
    "Condition": pl.col("condition"),
    "Square feet": pl.col("sqft").round(0).cast(pl.Int64),
    "Why this lead": pl.col("narrative"),
    "Scored on": pl.col("scoring_date").cast(pl.String),
}
OPTIONAL_INPUTS = {"p_booked_call_7d": pl.Float64, "p_deal_30d": pl.Float64, "arv_flags": pl.String,
                   "zip_code": pl.String, "condition": pl.String, "sqft": pl.Float64, "market_value": pl.Float64,
                   "property_id": pl.String}  # absent for a lead file without property facts, or a target
TECHNICAL_FIRST = ("lead_id", "queue_rank")
LEFT_OUT = ("buy_box_audit",)  # a JSON trail per lead: the profitability reports carry it


PROPERTY_COLUMNS = (PROPERTY, "Expected value ($)", "Conservative profit ($)", "Tier A profit ($)", "ARV ($)",
                    "ARV check", "As-is value ($)", "Maximum offer ($)", "Passes buy-box", "ZIP", "Condition",
                    "Square feet")
"""What a lead file without property facts has none of: it gets no valuation columns, not empty ones."""


def caller_export(queue: pl.DataFrame) -> pl.DataFrame:
    """The caller's file from the ordered queue (`queue_rank` set); columns missing upstream are left empty,
    and a lead file's queue (no buy-box) has no property or valuation columns."""
    filled = queue.with_columns(pl.lit(None, dtype).alias(c) for c, dtype in OPTIONAL_INPUTS.items()
                                if c not in queue.columns)
    lead_file = "passes_buy_box" not in queue.columns
    return filled.sort("queue_rank").select(expr.alias(name) for name, expr in CALLER_COLUMNS.items()
                                            if not (lead_file and name in PROPERTY_COLUMNS))


def technical_export(queue: pl.DataFrame) -> pl.DataFrame:
    """Everything the caller's file leaves out or rounds, at full precision, keyed by lead id and rank."""
    rest = [c for c in queue.columns if c not in TECHNICAL_FIRST and c not in LEFT_OUT]
    return queue.sort("queue_rank").select(*TECHNICAL_FIRST, *rest)


class OwnerFileError(ValueError):
    """The owner file cannot be joined (no property_id, duplicated ids, or no contact column)."""


def attach_owner_contacts(export: pl.DataFrame, owners: pl.DataFrame) -> pl.DataFrame:
    """The caller's file with the owner file's columns appended, matched on property id; leads whose
    property is not in the file keep empty contact cells. Raises `OwnerFileError` naming the problem."""
    if "property_id" not in owners.columns:
        raise OwnerFileError(f"the owner file needs a property_id column; it has {owners.columns}")
    contact_columns = [c for c in owners.columns if c != "property_id"]
    if not contact_columns:
        raise OwnerFileError("the owner file has no contact column besides property_id")
    clashes = [c for c in contact_columns if c in export.columns]
    if clashes:
        raise OwnerFileError(f"owner file columns {clashes} clash with the queue's own columns")
    owners = owners.with_columns(pl.col("property_id").cast(pl.String).str.strip_chars())
    duplicated = owners.filter(pl.col("property_id").is_duplicated())["property_id"].unique().sort()
    if duplicated.len():
        raise OwnerFileError(f"the owner file lists {duplicated.len()} property ids more than once, "
                             f"e.g. {duplicated.head(3).to_list()}: keep one contact row per property")
    return export.join(owners.rename({"property_id": PROPERTY}), on=PROPERTY, how="left", maintain_order="left")


CHECKED_COLUMNS = ("arv", "model_arv", "comparables_arv", "comparables", "arv_source", "arv_flags",
                   "max_allowable_offer", "seller_price", "conservative_profit", "passes_buy_box")


def with_checked_deals(queue: pl.DataFrame, checked: pl.DataFrame) -> pl.DataFrame:
    """The queue with the checked ARV and buy-box figures of the leads in `checked` (tier A) in place of
    the scored ones; other leads keep theirs (their ARV is not checked). The order does not change."""
    columns = [c for c in CHECKED_COLUMNS if c in checked.columns]
    patch = checked.select("lead_id", *[pl.col(c).alias(f"_checked_{c}") for c in columns])
    joined = queue.join(patch, on="lead_id", how="left", maintain_order="left")
    hit = pl.col("lead_id").is_in(patch["lead_id"].implode())
    return joined.with_columns(
        (pl.when(hit).then(pl.col(f"_checked_{c}")).otherwise(pl.col(c)) if c in queue.columns
         else pl.col(f"_checked_{c}")).alias(c) for c in columns
    ).drop(f"_checked_{c}" for c in columns)
