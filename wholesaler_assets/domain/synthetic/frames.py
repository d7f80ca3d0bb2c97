"""The synthetic market's internal codes as frames in the shape of the source contracts
(ids, names, addresses, categories, UTC times, contract dtypes)."""

from __future__ import annotations

import numpy as np
import polars as pl

from wholesaler_assets.domain.contracts.sources import (
    CHANNELS,
    CONDITIONS,
    CONTRACTS,
    DISTRESS_TYPES,
    OUTCOME_TYPES,
    OWNER_TYPES,
    PROPERTY_TYPES,
    SALE_CONDITIONS,
    VIOLATION_TYPES,
)
from wholesaler_assets.domain.synthetic.config import MarketConfig, epoch_day
from wholesaler_assets.domain.synthetic.geography import Zips
from wholesaler_assets.domain.synthetic.outreach import campaign_names
from wholesaler_assets.domain.synthetic.properties import (
    FIRST_NAMES,
    LAST_NAMES,
    LLC_SUFFIXES,
    STREET_SUFFIXES,
    STREETS,
)


def _id(prefix: str, index: pl.Expr | None = None) -> pl.Expr:
    """P00000001-style ids from a 0-based index column (row number by default)."""
    index = pl.int_range(pl.len()) if index is None else index
    return pl.format(prefix + "{}", (index + 1).cast(pl.String).str.zfill(8))


def _utc(seconds: pl.Expr) -> pl.Expr:
    return (seconds * 1_000_000).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def _decode(codes: str, values: tuple[str, ...] | list[str]) -> pl.Expr:
    return pl.lit(pl.Series(list(values))).gather(pl.col(codes))


def _owner_name() -> pl.Expr:
    first, last = _decode("first", FIRST_NAMES), _decode("last", LAST_NAMES)
    llc = pl.lit(pl.Series(list(LLC_SUFFIXES))).gather(pl.col("first") % len(LLC_SUFFIXES))
    return (pl.when(pl.col("owner") == 0).then(pl.concat_str(first, last, separator=" "))
            .when(pl.col("owner") == 1).then(pl.concat_str(last, llc, separator=" "))
            .when(pl.col("owner") == 2).then(pl.concat_str(last, pl.lit("Family Trust"), separator=" "))
            .otherwise(pl.concat_str(pl.lit("Estate of"), first, last, separator=" ")))


def _to_contract(df: pl.DataFrame, name: str) -> pl.DataFrame:
    contract = CONTRACTS[name]
    return df.select([pl.col(c).cast(t) for c, t in contract.polars_schema.items()])


def properties_frame(records: pl.DataFrame, s: dict[str, np.ndarray], zips: Zips,
                      cfg: MarketConfig) -> pl.DataFrame:
    pidx = records["pidx"].to_numpy()
    parts = pl.DataFrame({"no": s["street_no"][pidx], "street": s["street"][pidx],
                          "sfx": s["suffix"][pidx]})
    address = parts.select(pl.concat_str(pl.col("no").cast(pl.String), _decode("street", STREETS),
                                         _decode("sfx", STREET_SUFFIXES), separator=" ")).to_series()
    metro_of_zip = [cfg.metros[m] for m in zips.metro]
    out = records.with_columns(address=address).select(
        _id("P", pl.col("pidx")).alias("property_id"), pl.col("eff").cast(pl.Date).alias("effective_date"),
        _decode("z", metro_of_zip).alias("metro"), _decode("z", zips.code).alias("zip_code"),
        "address", _owner_name().alias("owner_name"), _decode("ptype", PROPERTY_TYPES).alias("property_type"),
        "beds", "baths", "sqft", pl.col("lot").alias("lot_sqft"), "year_built",
        _decode("cond", CONDITIONS).alias("condition"), pl.col("assessed").alias("assessed_value"),
        pl.col("mv").alias("market_value"), pl.col("last_sale").cast(pl.Date).alias("last_sale_date"),
        pl.col("sale_price").alias("last_sale_price"), pl.col("mortgage").alias("mortgage_balance"),
        pl.col("equity").alias("estimated_equity"), _decode("owner", OWNER_TYPES).alias("owner_type"),
        pl.col("occupied").alias("owner_occupied"), pl.col("oos").alias("out_of_state_owner"))
    return _to_contract(out.sort("effective_date", "property_id"), "properties")


def sales_frame(records: pl.DataFrame, zips: Zips, cfg: MarketConfig) -> pl.DataFrame:
    """Every recorded sale in [start - 365 days, end], once, with the facts of its first record."""
    window = epoch_day(cfg.start_date) - 365
    sales = (records.filter(pl.col("last_sale") >= window)
             .unique(["pidx", "last_sale"], keep="first", maintain_order=True)
             .sort("last_sale", "pidx"))
    metro_of_zip = [cfg.metros[m] for m in zips.metro]
    out = sales.select(
        _id("S").alias("sale_id"), _id("P", pl.col("pidx")).alias("property_id"),
        _decode("z", metro_of_zip).alias("metro"), _decode("z", zips.code).alias("zip_code"),
        pl.col("last_sale").cast(pl.Date).alias("sale_date"), pl.col("sale_price"),
        _decode("ptype", PROPERTY_TYPES).alias("property_type"), "beds", "baths", "sqft", "year_built",
        _decode("sale_kind", SALE_CONDITIONS).alias("condition_at_sale"))
    return _to_contract(out, "sales")


def renovated_values_frame(records: pl.DataFrame) -> pl.DataFrame:
    """Ground truth of ARV: each property record's true renovated value on its effective date (the
    house in excellent condition at the ZIP's prices of that day, without the valuation noise of
    `market_value`), beside its condition, as-is market value and the ZIP's annual price trend."""
    return records.select(
        _id("P", pl.col("pidx")).alias("property_id"), pl.col("eff").cast(pl.Date).alias("effective_date"),
        _decode("cond", CONDITIONS).alias("condition"), pl.col("mv").alias("market_value"),
        (pl.col("renovated") / 100).round(0).mul(100).alias("true_renovated_value"),
        pl.col("zip_trend").alias("zip_annual_trend"),  # carries the value to a later day
    ).sort("property_id", "effective_date")


def events_frame(events: pl.DataFrame) -> pl.DataFrame:
    out = events.select(
        _id("E").alias("event_id"), _id("P", pl.col("pidx")).alias("property_id"),
        _decode("etype", DISTRESS_TYPES).alias("event_type"), pl.col("day").cast(pl.Date).alias("event_date"),
        pl.col("resolved").cast(pl.Date).alias("resolved_date"),
        pl.col("tax_amount").alias("tax_amount_owed"),
        pl.col("tax_years").alias("tax_years_delinquent"), "default_amount",
        pl.col("auction").cast(pl.Date).alias("auction_date"),
        _decode("violation", VIOLATION_TYPES).alias("violation_type"))  # null codes stay null
    return _to_contract(out, "distress_events")


def contacts_frame(cells: pl.DataFrame, cfg: MarketConfig, phones: pl.Series) -> pl.DataFrame:
    """The contacts made; `phones` holds each owner's number by property index."""
    out = cells.select(
        _id("C").alias("contact_id"), _id("L", pl.col("lead")).alias("lead_id"),
        _id("P", pl.col("pidx")).alias("property_id"),
        _utc(pl.col("t")).alias("contact_time"), _decode("channel", CHANNELS).alias("channel"),
        _decode("campaign", campaign_names(cfg)).alias("campaign_id"), pl.col("step").alias("campaign_step"),
        pl.when(pl.col("channel") <= 1)  # only calls and texts dial a number
        .then(pl.lit(phones).gather(pl.col("pidx"))).alias("owner_phone"))
    return _to_contract(out, "contacts")


def outcomes_frame(chains: pl.DataFrame) -> pl.DataFrame:
    out = chains.select(
        _id("O").alias("outcome_id"), _id("L", pl.col("lead")).alias("lead_id"),
        _id("P", pl.col("pidx")).alias("property_id"),
        _decode("otype", OUTCOME_TYPES).alias("outcome_type"), _utc(pl.col("t")).alias("outcome_time"),
        pl.col("purchase_price", "assignment_fee").fill_nan(None))
    return _to_contract(out, "outcomes")
