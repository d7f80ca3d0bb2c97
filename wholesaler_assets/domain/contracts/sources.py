"""Data contracts of the five landing sources.

Each source declares its columns (type, nullability, range, allowed values, text bounds, what an
empty cell or an absent column means), its unique key and which columns are PII. The contract is
the single source of truth: the synthetic market writes these columns, ingestion validates
against them with pandera, and the README's data contract tables are generated from them
(`wholesaler contracts`). The rules a column can carry are described in `schema`.
"""

from __future__ import annotations

import polars as pl

from wholesaler_assets.domain.contracts.schema import (
    NULL_IS_VALUE,
    REJECT,
    ColumnSpec,
    SourceContract,
    contract_markdown,
    value_checks,
)

__all__ = ["CONTRACTS", "SOURCES", "ColumnSpec", "SourceContract", "contract_markdown", "value_checks"]

PROPERTY_TYPES = ("single_family", "condo", "townhouse", "multi_family", "mobile_home")
CONDITIONS = ("excellent", "good", "fair", "poor", "distressed")
OWNER_TYPES = ("individual", "llc", "trust", "estate")
DISTRESS_TYPES = ("tax_delinquency", "foreclosure", "code_violation", "probate", "vacancy")
VIOLATION_TYPES = ("structural", "sanitation", "overgrowth", "unpermitted_work", "unsafe")
CHANNELS = ("cold_call", "sms", "direct_mail", "door_knock")
OUTCOME_TYPES = ("call_booked", "qualified", "contract_signed")
SALE_CONDITIONS = ("renovated", "average", "distressed")

SOURCES = ("properties", "distress_events", "contacts", "outcomes", "sales")


UTC_DATETIME = pl.Datetime("us", "UTC")
MONEY_MAX = 100_000_000.0

# Property facts shared by the property records and the sales that serve as comparables.
PROPERTY_TYPE = ColumnSpec("property_type", pl.String, allowed=PROPERTY_TYPES)
BEDS = ColumnSpec("beds", pl.Int64, min_value=0, max_value=30)
BATHS = ColumnSpec("baths", pl.Float64, min_value=0, max_value=30)
SQFT = ColumnSpec("sqft", pl.Int64, min_value=100, max_value=100_000, description="living area")
METRO = ColumnSpec("metro", pl.String, nullable=False, free_text=True, max_length=100, description="metro area")
YEAR_BUILT = ColumnSpec("year_built", pl.Int64, min_value=1700, max_value=2100)

PROPERTIES = SourceContract(
    name="properties",
    description="Versioned property records: one row per property and date a fact became known "
    "(county roll, assessor update, recorded sale). Later records override earlier ones; a null "
    "means 'not reported in this record', not 'unknown forever'.",
    key=("property_id", "effective_date"),
    time_column="effective_date",
    columns=(
        ColumnSpec("property_id", pl.String, nullable=False, pattern=r"^P\d{7,}$", description="parcel key"),
        ColumnSpec("effective_date", pl.Date, nullable=False, not_after_ingestion=True,
                   description="date the record became known"),
        METRO,
        ColumnSpec("zip_code", pl.String, nullable=False, pattern=r"^\d{5}$", description="5-digit ZIP"),
        ColumnSpec("address", pl.String, pii=True, free_text=True, description="street address"),
        ColumnSpec("owner_name", pl.String, pii=True, free_text=True, description="owner of record"),
        PROPERTY_TYPE, BEDS, BATHS, SQFT,
        ColumnSpec("lot_sqft", pl.Int64, min_value=0, max_value=50_000_000),
        YEAR_BUILT,
        ColumnSpec("condition", pl.String, allowed=CONDITIONS),
        ColumnSpec("assessed_value", pl.Float64, min_value=0, max_value=MONEY_MAX),
        ColumnSpec("market_value", pl.Float64, min_value=1_000, max_value=MONEY_MAX,
                   description="estimated market value, as-is"),
        ColumnSpec("last_sale_date", pl.Date, not_after_ingestion=True),
        ColumnSpec("last_sale_price", pl.Float64, min_value=0, max_value=MONEY_MAX),
        ColumnSpec("mortgage_balance", pl.Float64, min_value=0, max_value=MONEY_MAX,
                   description="estimated open mortgage balance"),
        ColumnSpec("estimated_equity", pl.Float64, min_value=-MONEY_MAX, max_value=MONEY_MAX,
                   description="market value minus mortgage balance (negative when underwater)"),
        ColumnSpec("owner_type", pl.String, allowed=OWNER_TYPES),
        ColumnSpec("owner_occupied", pl.Boolean, description="false means an absentee owner"),
        ColumnSpec("out_of_state_owner", pl.Boolean, description="owner mails from another state"),
    ),
)

DISTRESS_EVENTS = SourceContract(
    name="distress_events",
    description="Dated distress filings: tax delinquency, foreclosure, code violations, probate, "
    "vacancy. An event is active from event_date until resolved_date (exclusive).",
    key=("event_id",),
    time_column="event_date",
    columns=(
        ColumnSpec("event_id", pl.String, nullable=False, pattern=r"^E\d{7,}$"),
        ColumnSpec("property_id", pl.String, nullable=False, pattern=r"^P\d{7,}$"),
        ColumnSpec("event_type", pl.String, nullable=False, allowed=DISTRESS_TYPES),
        ColumnSpec("event_date", pl.Date, nullable=False, not_after_ingestion=True,
                   description="date filed or recorded"),
        ColumnSpec("resolved_date", pl.Date, not_after_ingestion=True, empty=NULL_IS_VALUE, absent=REJECT,
                   description="date paid, dismissed or cured; empty means still open, so a file must have it"),
        ColumnSpec("tax_amount_owed", pl.Float64, min_value=0, max_value=MONEY_MAX),
        ColumnSpec("tax_years_delinquent", pl.Int64, min_value=1, max_value=50),
        ColumnSpec("default_amount", pl.Float64, min_value=0, max_value=MONEY_MAX,
                   description="foreclosure: amount in default"),
        ColumnSpec("auction_date", pl.Date, description="foreclosure: scheduled sale (may be future)"),
        ColumnSpec("violation_type", pl.String, allowed=VIOLATION_TYPES),
    ),
)

CONTACTS = SourceContract(
    name="contacts",
    description="Outreach touches: one row per attempt to reach an owner, by channel, campaign "
    "and step of the campaign's sequence.",
    key=("contact_id",),
    time_column="contact_time",
    columns=(
        ColumnSpec("contact_id", pl.String, nullable=False, pattern=r"^C\d{7,}$"),
        ColumnSpec("lead_id", pl.String, nullable=False, pattern=r"^L\d{7,}$",
                   description="one owner-property lead worked by a campaign"),
        ColumnSpec("property_id", pl.String, nullable=False, pattern=r"^P\d{7,}$"),
        ColumnSpec("contact_time", UTC_DATETIME, nullable=False, not_after_ingestion=True),
        ColumnSpec("channel", pl.String, nullable=False, allowed=CHANNELS),
        ColumnSpec("campaign_id", pl.String, nullable=False, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
                   max_length=64),
        ColumnSpec("campaign_step", pl.Int64, nullable=False, min_value=1, max_value=50),
        ColumnSpec("owner_phone", pl.String, pii=True, pattern=r"^\+?[0-9(][0-9 ().-]{6,}$", max_length=32,
                   description="number dialled or texted"),
    ),
)

OUTCOMES = SourceContract(
    name="outcomes",
    description="What happened to a lead, with timestamps: call booked, qualified, contract "
    "signed (with purchase price and assignment fee).",
    key=("outcome_id",),
    time_column="outcome_time",
    columns=(
        ColumnSpec("outcome_id", pl.String, nullable=False, pattern=r"^O\d{7,}$"),
        ColumnSpec("lead_id", pl.String, nullable=False, pattern=r"^L\d{7,}$"),
        ColumnSpec("property_id", pl.String, nullable=False, pattern=r"^P\d{7,}$"),
        ColumnSpec("outcome_type", pl.String, nullable=False, allowed=OUTCOME_TYPES),
        ColumnSpec("outcome_time", UTC_DATETIME, nullable=False, not_after_ingestion=True),
        ColumnSpec("purchase_price", pl.Float64, min_value=1_000, max_value=MONEY_MAX,
                   description="contract_signed: price agreed with the seller"),
        ColumnSpec("assignment_fee", pl.Float64, min_value=0, max_value=MONEY_MAX,
                   description="contract_signed: fee the end buyer pays for the contract"),
    ),
)

SALES = SourceContract(
    name="sales",
    description="Closed sales used as comparables for after-repair value (ARV).",
    key=("sale_id",),
    time_column="sale_date",
    columns=(
        ColumnSpec("sale_id", pl.String, nullable=False, pattern=r"^S\d{7,}$"),
        ColumnSpec("property_id", pl.String, pattern=r"^P\d{7,}$"),
        METRO,
        ColumnSpec("zip_code", pl.String, nullable=False, pattern=r"^\d{5}$"),
        ColumnSpec("sale_date", pl.Date, nullable=False, not_after_ingestion=True),
        ColumnSpec("sale_price", pl.Float64, nullable=False, min_value=1_000, max_value=MONEY_MAX),
        PROPERTY_TYPE, BEDS, BATHS, SQFT, YEAR_BUILT,
        ColumnSpec("condition_at_sale", pl.String, allowed=SALE_CONDITIONS),
    ),
)

CONTRACTS: dict[str, SourceContract] = {
    c.name: c for c in (PROPERTIES, DISTRESS_EVENTS, CONTACTS, OUTCOMES, SALES)
}
