"""The lead record: the raw shape a user's system holds a lead in, field by field.

A lead record is what a wholesaler's CRM knows about one lead on its scoring date: the property's
facts, its distress as of that date, and the outreach so far plus the contact about to be made.
The serving endpoint takes these records (`record_validation.validate_records`), the daily batch
and the training rows are built as the same records from the warehouse (`warehouse_records`), and
all three get their features from `lead_features.record_features`.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from wholesaler_assets.domain.contracts.sources import CHANNELS, CONDITIONS, OWNER_TYPES, PROPERTY_TYPES


@dataclass(frozen=True)
class RecordField:
    """One field of a lead record: its kind, whether it must be given, and its allowed values."""

    name: str
    kind: str  # text | number | integer | boolean | date
    required: bool
    description: str
    min_value: float | None = None
    max_value: float | None = None
    allowed: tuple[str, ...] | None = None
    strictly_positive: bool = False


_F = RecordField
RECORD_FIELDS: tuple[RecordField, ...] = (
    _F("lead_id", "text", True, "your id of the lead; returned unchanged"),
    _F("property_id", "text", False, "your id of the property"),
    _F("scoring_date", "date", False, "the day the lead is scored as of (YYYY-MM-DD); today (UTC) when absent"),
    _F("zip_code", "text", True, "5-digit ZIP code"),
    _F("metro", "text", False, "metro name; looked up from the ZIP when absent"),
    _F("property_type", "text", True, "kind of building", allowed=PROPERTY_TYPES),
    _F("beds", "integer", False, "bedrooms", 0, 50),
    _F("baths", "number", False, "bathrooms", 0, 50),
    _F("sqft", "number", True, "living area in square feet", max_value=100_000, strictly_positive=True),
    _F("year_built", "integer", True, "year of construction (not after the scoring year)", 1700),
    _F("condition", "text", True, "condition as it stands", allowed=CONDITIONS),
    _F("market_value", "number", True, "as-is market value, dollars", 0, 1e9),
    _F("mortgage_balance", "number", False, "open loan balance, dollars; 0 when free and clear", 0, 1e9),
    _F("years_owned", "number", False, "years since the owner bought", 0, 150),
    _F("owner_type", "text", True, "who owns it", allowed=OWNER_TYPES),
    _F("absentee_owner", "boolean", True, "the owner does not live in the property"),
    _F("out_of_state_owner", "boolean", True, "the owner's mailing address is in another state"),
    _F("tax_delinquent", "boolean", True, "property taxes are unpaid"),
    _F("tax_amount_owed", "number", False, "unpaid taxes, dollars", 0, 1e9),
    _F("tax_years_delinquent", "integer", False, "years of unpaid taxes", 0, 50),
    _F("in_foreclosure", "boolean", True, "a foreclosure is open"),
    _F("auction_date", "date", False, "scheduled foreclosure auction (may be after the scoring date)"),
    _F("open_code_violations", "integer", True, "open code-violation cases", 0, 100),
    _F("in_probate", "boolean", True, "the owner's estate is in probate"),
    _F("vacant", "boolean", True, "the property is vacant"),
    _F("latest_event_date", "date", False, "date of the latest distress event"),
    _F("distress_events_90d", "integer", False, "distress events in the 90 days before the scoring date", 0, 1000),
    _F("distress_events_365d", "integer", False, "distress events in the 365 days before the scoring date",
       0, 1000),
    _F("channel", "text", True, "channel of the contact about to be made", allowed=CHANNELS),
    _F("campaign_step", "integer", True, "step of the campaign this contact is (1 = first touch)", 1, 50),
    _F("prior_contacts", "integer", True, "earlier contacts of this lead", 0, 1000),
    *[_F(f"prior_{c}", "integer", False, f"earlier contacts by {c.replace('_', ' ')}", 0, 1000) for c in CHANNELS],
    _F("last_contact_date", "date", False, "date of the previous contact"),
)
FIELDS_BY_NAME = {f.name: f for f in RECORD_FIELDS}
REQUIRED_FIELDS = tuple(f.name for f in RECORD_FIELDS if f.required)
POLARS_TYPES: dict[str, type[pl.DataType]] = {"text": pl.String, "number": pl.Float64, "integer": pl.Int64,
                                              "boolean": pl.Boolean, "date": pl.Date}
RECORD_SCHEMA: dict[str, type[pl.DataType]] = {f.name: POLARS_TYPES[f.kind] for f in RECORD_FIELDS}
DATE_FIELDS_NOT_AFTER_SCORING = ("latest_event_date", "last_contact_date")
# Text fields that spreadsheets and CSV readers turn into numbers: a whole number there is read back
# as its digits (a ZIP code left-padded with zeros to 5 digits: 2134 was "02134"). Any other text
# field sent as a number is refused.
DIGIT_TEXT_FIELDS: dict[str, int] = {"lead_id": 0, "property_id": 0, "zip_code": 5}


def spec_record_fields(feature_columns: dict[str, str]) -> tuple[RecordField, ...]:
    """The record fields of a bring-your-own lead file: its id, an optional date and its feature columns."""
    kinds = {"numeric": "number", "boolean": "boolean", "categorical": "text"}
    return (RECORD_FIELDS[0], FIELDS_BY_NAME["scoring_date"],
            *(RecordField(name, kinds[kind], False, f"{kind} feature of the lead file")
              for name, kind in feature_columns.items()))


def schema_markdown(fields: tuple[RecordField, ...] = RECORD_FIELDS) -> str:
    """The serving schema as a markdown table (README, `wholesaler serving-schema`)."""
    lines = ["| field | type | required | allowed values / range | description |", "|---|---|---|---|---|"]
    for f in fields:
        valid = []
        if f.allowed:
            valid.append(", ".join(f.allowed))
        if f.strictly_positive or f.min_value is not None or f.max_value is not None:
            low = "> 0" if f.strictly_positive else (f">= {_number(f.min_value)}" if f.min_value is not None else "")
            high = f"<= {_number(f.max_value)}" if f.max_value is not None else ""
            valid.append(" and ".join(p for p in (low, high) if p))
        if f.kind == "date":
            after = ", not after `scoring_date`" if f.name in DATE_FIELDS_NOT_AFTER_SCORING else ""
            valid.append("YYYY-MM-DD" + (", not in the future" if f.name == "scoring_date" else after))
        if f.name == "prior_contacts":
            valid.append("at least the sum of the `prior_<channel>` counts")
        lines.append(f"| `{f.name}` | {f.kind} | {'yes' if f.required else ''} | {'; '.join(valid)} | "
                     f"{f.description} |")
    return "\n".join(lines)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10_000 else f"{value:g}"
