"""Data contracts of the five landing sources.

Each source declares its columns (type, nullability, range, allowed values), its unique key
and which columns are PII. The contract is the single source of truth: the synthetic market
writes these columns, ingestion validates against them with pandera, and the README's data
contract tables are generated from them (`wholesaler contracts`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandera.polars as pa
import polars as pl

PROPERTY_TYPES = ("single_family", "condo", "townhouse", "multi_family", "mobile_home")
CONDITIONS = ("excellent", "good", "fair", "poor", "distressed")
OWNER_TYPES = ("individual", "llc", "trust", "estate")
DISTRESS_TYPES = ("tax_delinquency", "foreclosure", "code_violation", "probate", "vacancy")
VIOLATION_TYPES = ("structural", "sanitation", "overgrowth", "unpermitted_work", "unsafe")
CHANNELS = ("cold_call", "sms", "direct_mail", "door_knock")
OUTCOME_TYPES = ("call_booked", "qualified", "contract_signed")
SALE_CONDITIONS = ("renovated", "average", "distressed")

SOURCES = ("properties", "distress_events", "contacts", "outcomes", "sales")


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a source: its type, whether it may be null and what values are valid."""

    name: str
    dtype: type[pl.DataType] | pl.DataType
    nullable: bool = True
    min_value: float | None = None
    max_value: float | None = None
    allowed: tuple[str, ...] | None = None
    pattern: str | None = None
    not_after_ingestion: bool = False  # a date or time later than "now" is impossible
    pii: bool = False
    description: str = ""


@dataclass(frozen=True)
class SourceContract:
    """The declared shape of one landing source."""

    name: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...]
    description: str
    time_column: str  # the column that says when a record became known
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if not c.nullable]

    @property
    def pii_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.pii]

    @property
    def polars_schema(self) -> dict[str, pl.DataType]:
        return {c.name: _as_instance(c.dtype) for c in self.columns}

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)

    def pandera_schema(self, now: dt.datetime) -> pa.DataFrameSchema:
        """The pandera schema of this contract; `now` bounds dates that cannot be in the future."""
        return pa.DataFrameSchema(
            {c.name: pa.Column(c.dtype, checks=_checks(c, now), nullable=c.nullable) for c in self.columns},
            unique=list(self.key),
            strict="filter",  # columns outside the contract are dropped, not an error
            coerce=False,  # casting is done first, row by row, so one bad cell loses one row
            name=self.name,
        )


def _as_instance(dtype: type[pl.DataType] | pl.DataType) -> pl.DataType:
    return dtype() if isinstance(dtype, type) else dtype


def value_checks(min_value: float | None, max_value: float | None, allowed: tuple[str, ...] | None) -> list[pa.Check]:
    """pandera checks of a range and a set of allowed values (shared with the feature contract)."""
    checks: list[pa.Check] = []
    if min_value is not None:
        checks.append(pa.Check.ge(min_value))
    if max_value is not None:
        checks.append(pa.Check.le(max_value))
    if allowed is not None:
        checks.append(pa.Check.isin(list(allowed)))
    return checks


def _checks(c: ColumnSpec, now: dt.datetime) -> list[pa.Check]:
    checks = value_checks(c.min_value, c.max_value, c.allowed)
    if c.pattern is not None:
        checks.append(pa.Check.str_matches(c.pattern))
    if c.not_after_ingestion:
        bound: dt.date | dt.datetime = now.date() if _as_instance(c.dtype) == pl.Date() else now
        checks.append(pa.Check.le(bound, error=f"not after ingestion time {bound.isoformat()}"))
    return checks


UTC_DATETIME = pl.Datetime("us", "UTC")
MONEY_MAX = 100_000_000.0

# Property facts shared by the property records and the sales that serve as comparables.
PROPERTY_TYPE = ColumnSpec("property_type", pl.String, allowed=PROPERTY_TYPES)
BEDS = ColumnSpec("beds", pl.Int64, min_value=0, max_value=30)
BATHS = ColumnSpec("baths", pl.Float64, min_value=0, max_value=30)
SQFT = ColumnSpec("sqft", pl.Int64, min_value=100, max_value=100_000, description="living area")
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
        ColumnSpec("metro", pl.String, nullable=False, description="metro area"),
        ColumnSpec("zip_code", pl.String, nullable=False, pattern=r"^\d{5}$", description="5-digit ZIP"),
        ColumnSpec("address", pl.String, pii=True, description="street address (PII)"),
        ColumnSpec("owner_name", pl.String, pii=True, description="owner of record (PII)"),
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
        ColumnSpec("resolved_date", pl.Date, not_after_ingestion=True,
                   description="date paid, dismissed or cured; null while open"),
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
        ColumnSpec("campaign_id", pl.String, nullable=False),
        ColumnSpec("campaign_step", pl.Int64, nullable=False, min_value=1, max_value=50),
        ColumnSpec("owner_phone", pl.String, pii=True, description="number dialled or texted (PII)"),
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
        ColumnSpec("metro", pl.String, nullable=False),
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


def contract_markdown(contract: SourceContract) -> str:
    """A markdown table of one contract, for the README and the UI."""
    lines = [
        f"**`{contract.name}`**: {contract.description} Key: `{', '.join(contract.key)}`.",
        "",
        "| column | type | required | valid values | notes |",
        "|---|---|---|---|---|",
    ]
    for c in contract.columns:
        valid = []
        if c.allowed:
            valid.append(", ".join(c.allowed))
        if c.min_value is not None or c.max_value is not None:
            valid.append(f"{_fmt(c.min_value)} to {_fmt(c.max_value)}")
        if c.pattern:
            valid.append(f"`{c.pattern}`")
        if c.not_after_ingestion:
            valid.append("not in the future")
        notes = ("PII, never a feature. " if c.pii else "") + c.description
        lines.append(
            f"| `{c.name}` | {_as_instance(c.dtype)} | {'yes' if not c.nullable else ''} | "
            f"{'; '.join(valid)} | {notes.strip()} |"
        )
    return "\n".join(lines)


def _fmt(v: float | None) -> str:
    if v is None:
        return "any"
    return f"{v:,.0f}" if float(v).is_integer() else str(v)
