"""Lead records: the raw shape a user's system holds a lead in, its validation, and its features.

A lead record is what a wholesaler's CRM knows about one lead today: the property's facts, its
distress as of the scoring date, and the outreach so far plus the contact about to be made. The
serving endpoint takes these records, and the daily batch builds the same records from the
warehouse (`records_as_of`), so both go through `record_features` and score identically.

Validation is strict, because a silently wrong score is worse than a refused one: a missing
required field, a value of the wrong type, an impossible value (negative sqft, a date after the
scoring date or in the future) and any field not in `RECORD_FIELDS` are problems, each named with
its row and field. `validate_records` returns all of them at once.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from wholesaler_assets.domain.contracts import CHANNELS, CONDITIONS, OWNER_TYPES, PROPERTY_TYPES
from wholesaler_assets.domain.features import ZipFigures, zip_figure_columns
from wholesaler_assets.domain.lookups import mapped


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

_POLARS_TYPES = {"text": pl.String, "number": pl.Float64, "integer": pl.Int64, "boolean": pl.Boolean,
                 "date": pl.Date}
RECORD_SCHEMA: dict[str, pl.DataType] = {f.name: _POLARS_TYPES[f.kind] for f in RECORD_FIELDS}
DATE_FIELDS_NOT_AFTER_SCORING = ("latest_event_date", "last_contact_date")
MAX_PROBLEMS_SHOWN = 20
MAX_ROWS_NAMED = 5


class InvalidRecords(ValueError):
    """Lead records that cannot be scored; `problems` names each field and row."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        more = len(self.problems) - len(shown)
        super().__init__("invalid lead records: " + "; ".join(shown) + (f"; and {more} more" if more else ""))


def _rows_text(rows: np.ndarray) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:MAX_ROWS_NAMED])
    more = f" and {len(rows) - MAX_ROWS_NAMED} more" if len(rows) > MAX_ROWS_NAMED else ""
    return f"row {shown}" if len(rows) == 1 else f"rows {shown}{more}"


# Validation works on numpy arrays and python lists and builds the polars frame once at the end:
# per-column polars and pandas operations cost ~1 ms per field, i.e. 30 ms for a one-lead request.
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class _Column:
    """One field's values as its type (numbers as float64 with NaN for missing, the rest as lists)."""

    values: Any
    present: np.ndarray  # the value is given (not null, not blank text)


def _typed_column(field: RecordField, objects: np.ndarray, dtype: Any) -> tuple[_Column, list[str]]:
    """The column (`objects`, of pandas `dtype` as sent) as the field's type (nulls kept), or the
    problems of the values that are not of it."""
    given = ~pd.isna(objects)
    kind = field.kind
    if kind == "text":
        if pd.api.types.is_integer_dtype(dtype) and field.name in ("lead_id", "property_id"):
            objects = np.array([None if v is None else str(v) for v in objects], dtype=object)  # numeric ids
        if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):  # holds only text
            ok = np.ones(len(objects), dtype=bool)
        else:
            ok = np.fromiter((isinstance(v, str) for v in objects), bool, len(objects)) | ~given
        text = [v.strip() or None if isinstance(v, str) else None for v in objects]
        present = np.fromiter((v is not None for v in text), bool, len(text))
        return _Column(text, present), _bad(field, ~ok, objects, "must be text")
    if kind == "boolean":
        if pd.api.types.is_bool_dtype(dtype) and given.all():  # a boolean column without nulls: nothing to check
            return _Column(objects.astype(bool).tolist(), given), []
        ok = np.fromiter((isinstance(v, (bool, np.bool_)) for v in objects), bool, len(objects)) | ~given
        present = given & ok
        return (_Column([bool(v) if p else None for v, p in zip(objects, present, strict=True)], present),
                _bad(field, ~ok, objects, "must be true or false"))
    if kind in ("number", "integer"):
        if pd.api.types.is_bool_dtype(dtype):
            ok = ~given
        elif pd.api.types.is_numeric_dtype(dtype):
            ok = np.ones(len(objects), dtype=bool)
        else:
            ok = np.fromiter((isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                              for v in objects), bool, len(objects)) | ~given
        numbers = np.full(len(objects), np.nan)
        numbers[ok & given] = np.asarray(objects[ok & given], dtype=float)
        problems = _bad(field, ~ok, objects, "must be a number")
        finite = np.isfinite(numbers) | np.isnan(numbers)
        problems += _bad(field, ~finite, objects, "must be a finite number")
        numbers[~finite] = np.nan
        if kind == "integer":
            whole = np.isnan(numbers) | (numbers == np.round(numbers))
            problems += _bad(field, ~whole, objects, "must be a whole number")
        return _Column(numbers, ~np.isnan(numbers)), problems
    if kind == "date":
        dates = np.array([_as_date(v) if p else None for v, p in zip(objects, given, strict=True)],
                         dtype="datetime64[D]")  # from numpy day scalars: ~50x faster than from date objects
        present = ~np.isnat(dates)
        return _Column(dates, present), _bad(field, given & ~present, objects, "must be a date YYYY-MM-DD")
    raise AssertionError(kind)


def _as_date(value: Any) -> np.datetime64 | None:
    """A day from ISO text (YYYY-MM-DD, anything after the tenth character ignored) or a date object."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return np.datetime64(value, "D")
    return _day_from_text(value[:10]) if isinstance(value, str) else None


@functools.lru_cache(maxsize=65_536)  # a request's dates repeat (its scoring date, event and contact days)
def _day_from_text(text: str) -> np.datetime64 | None:
    if not _DATE_TEXT.fullmatch(text):
        return None
    try:
        return np.datetime64(dt.date.fromisoformat(text), "D")
    except ValueError:
        return None


def _bad(field: RecordField, mask: np.ndarray, values: np.ndarray, problem: str) -> list[str]:
    if not mask.any():
        return []
    rows = np.flatnonzero(mask)
    example = values[rows[0]]
    shown = f"text {example!r}" if isinstance(example, str) else f"{type(example).__name__} {example!r}"
    return [f"{_rows_text(rows)}: field '{field.name}' {problem}, got {shown}"]


def _range_problems(field: RecordField, column: _Column) -> list[str]:
    present = column.present
    checks = []
    if field.allowed is not None:
        allowed = set(field.allowed)
        outside = np.fromiter((v is not None and v not in allowed for v in column.values), bool, len(present))
        checks.append((outside, f"must be one of {list(field.allowed)}"))
    if field.kind in ("number", "integer"):
        numbers = column.values
        with np.errstate(invalid="ignore"):
            if field.strictly_positive:
                checks.append((present & (numbers <= 0), "must be greater than 0"))
            if field.min_value is not None:
                checks.append((present & (numbers < field.min_value), f"must be at least {field.min_value:g}"))
            if field.max_value is not None:
                checks.append((present & (numbers > field.max_value), f"must be at most {field.max_value:g}"))
    problems = []
    for mask, problem in checks:
        rows = np.flatnonzero(mask)
        if len(rows):
            example = column.values[rows[0]]
            example = int(example) if field.kind == "integer" else (float(example) if field.kind == "number"
                                                                     else example)
            problems.append(f"{_rows_text(rows)}: field '{field.name}' {problem}, got {example!r}")
    return problems


def spec_record_fields(feature_columns: dict[str, str]) -> tuple[RecordField, ...]:
    """The record fields of a bring-your-own lead file: its id, an optional date and its feature columns."""
    kinds = {"numeric": "number", "boolean": "boolean", "categorical": "text"}
    return (RECORD_FIELDS[0], FIELDS_BY_NAME["scoring_date"],
            *(RecordField(name, kinds[kind], False, f"{kind} feature of the lead file")
              for name, kind in feature_columns.items()))


def validate_records(rows: pd.DataFrame | Sequence[dict[str, Any]], today: dt.date,
                     fields: tuple[RecordField, ...] = RECORD_FIELDS) -> pl.DataFrame:
    """Typed lead records (one column per field), or `InvalidRecords` naming every problem.

    Checked column by column (a 1,000-lead request validates in milliseconds). `today` is the
    latest allowed scoring date (the caller's UTC date); it fills an absent `scoring_date`.
    `fields` defaults to the property lead record (`RECORD_FIELDS`).
    """
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if frame.empty or not len(frame.columns):
        raise InvalidRecords(["no lead records: send at least one record"])
    by_name = {f.name: f for f in fields}
    unknown = [c for c in frame.columns if c not in by_name]
    problems = [f"unknown field(s) {unknown}: not in the serving schema (unknown fields are refused so a "
                f"misspelt field never goes unnoticed)"] if unknown else []
    position = {name: i for i, name in enumerate(frame.columns)}
    dtypes = list(frame.dtypes)
    cells = frame.to_numpy(dtype=object)  # one conversion; a column at a time costs ~50 us a field
    columns: dict[str, Any] = _valid_numbers(fields, cells, dtypes, position)
    for field in fields:
        if field.name in columns:
            continue
        if field.name not in position:
            if field.required:
                problems.append(f"field '{field.name}' is required but missing")
            columns[field.name] = [None] * len(frame)
            continue
        j = position[field.name]
        column, found = _typed_column(field, cells[:, j], dtypes[j])
        problems += found
        if not found:
            problems += _range_problems(field, column)
            if field.required and not column.present.all():
                problems.append(f"{_rows_text(np.flatnonzero(~column.present))}: field "
                                f"'{field.name}' is required but missing or null")
            columns[field.name] = column.values
    if problems:
        raise InvalidRecords(problems)
    scoring_days = np.array(columns["scoring_date"], dtype="datetime64[D]")
    scoring_days[np.isnat(scoring_days)] = np.datetime64(today, "D")
    columns["scoring_date"] = scoring_days
    problems = _cross_field_problems(columns, today, by_name)
    if problems:
        raise InvalidRecords(problems)
    return pl.DataFrame([_as_series(f, columns[f.name]) for f in fields])


def _valid_numbers(fields: tuple[RecordField, ...], cells: np.ndarray, dtypes: list[Any], position: dict[str, int]
                   ) -> dict[str, np.ndarray]:
    """The number fields as float64 columns (NaN for missing) when they are all sent as numbers and
    every value passes every check; otherwise nothing, and the field-by-field path names the problems.

    Checked as one block: field by field it costs ~50 us a field, a third of a one-lead request's validation.
    """
    numeric = [f for f in fields if f.kind in ("number", "integer") and f.name in position]
    kinds_ok = all(pd.api.types.is_numeric_dtype(dtypes[position[f.name]])
                   and not pd.api.types.is_bool_dtype(dtypes[position[f.name]]) for f in numeric)
    if not numeric or not kinds_ok:
        return {}
    try:
        block = cells[:, [position[f.name] for f in numeric]].astype(np.float64)
    except (TypeError, ValueError):  # e.g. pandas' NA in a nullable integer column
        return {}
    low = np.array([f.min_value if f.min_value is not None else -np.inf for f in numeric])
    high = np.array([f.max_value if f.max_value is not None else np.inf for f in numeric])
    positive = np.array([f.strictly_positive for f in numeric])
    integer = np.array([f.kind == "integer" for f in numeric])
    required = np.array([f.required for f in numeric])
    missing = np.isnan(block)
    with np.errstate(invalid="ignore"):
        bad = (np.isinf(block) | (block < low) | (block > high) | (positive & (block <= 0))
               | (integer & ~missing & (block != np.round(block))) | (required & missing))
    if bad.any():
        return {}
    return {f.name: block[:, k].copy() for k, f in enumerate(numeric)}


def _as_series(field: RecordField, values: Any) -> pl.Series:
    """One validated column as its polars type (series one by one: a frame built from a dict of
    columns costs ~1 ms more on a one-lead request)."""
    if field.kind == "date":
        return pl.Series(field.name, np.asarray(values, dtype="datetime64[D]")).cast(pl.Date)  # NaT -> null
    if isinstance(values, np.ndarray):  # numbers, NaN for missing
        series = pl.Series(field.name, values, nan_to_null=True)
        return series.cast(pl.Int64) if field.kind == "integer" else series
    return pl.Series(field.name, values, _POLARS_TYPES[field.kind])


def _cross_field_problems(columns: dict[str, Any], today: dt.date, fields: dict[str, RecordField]) -> list[str]:
    """Dates and counts that contradict each other or the calendar (numpy on the validated columns:
    missing dates are NaT and missing numbers NaN, which compare as false)."""
    def days(name: str) -> np.ndarray:
        return np.array(columns[name], dtype="datetime64[D]")

    def numbers(name: str) -> np.ndarray:
        return np.asarray(columns[name], dtype=np.float64)

    day = days("scoring_date")
    checks = [(day > np.datetime64(today), "scoring_date", f"is in the future (today is {today} UTC)")]
    checks += [(days(name) > day, name, "is after the scoring date") for name in DATE_FIELDS_NOT_AFTER_SCORING
               if name in fields]
    with np.errstate(invalid="ignore"):
        if "year_built" in fields:
            year = day.astype("datetime64[Y]").astype(np.int64) + 1970
            checks.append((numbers("year_built") > year, "year_built", "is after the scoring year"))
        if "prior_contacts" in fields:
            priors = sum(np.nan_to_num(numbers(f"prior_{c}")) for c in CHANNELS)
            checks.append((priors > numbers("prior_contacts"), "prior_contacts",
                           "is less than the sum of the prior_<channel> counts"))
    problems = []
    for flag, name, problem in checks:
        rows = np.flatnonzero(flag)
        if len(rows):
            value = columns[name][int(rows[0])]
            shown = int(value) if fields[name].kind == "integer" else value
            problems.append(f"{_rows_text(rows)}: field '{name}' {shown} {problem}")
    return problems


def unknown_zip_problems(records: pl.DataFrame, known_zips: Sequence[str]) -> list[str]:
    """A ZIP code the market data never saw: its price level, trend and metro would all be guesses."""
    known = set(known_zips)
    rows = np.flatnonzero([zip_code not in known for zip_code in records["zip_code"].to_list()])
    if not len(rows):
        return []
    return [f"{_rows_text(rows)}: field 'zip_code' {records['zip_code'][int(rows[0])]!r} is not a ZIP code of the "
            f"market the scorer knows ({len(known_zips)} ZIP codes with comparable sales)"]


def record_features(records: pl.DataFrame, levels: pl.DataFrame, zip_metros: dict[str, str],
                    trends_on_day: ZipFigures | None = None) -> pl.DataFrame:
    """The model's features of each record, computed as `features.source_contact_features` does for contacts.

    `levels` are the ZIP market levels (`features.zip_market_levels`); the ZIP trend is the one
    known on the scoring date. Where every record has the same scoring date, `trends_on_day`
    may carry that day's trends (`features.levels_known_on(levels, day, "zip_price_trend")`,
    computed once a day by the scorer) in place of the as-of join. Features the record cannot
    give stay null (the models take missing values).
    """
    day = pl.col("scoring_date")
    if trends_on_day is not None:
        with_trend = records
        trend: pl.Series | str = zip_figure_columns(records.get_column("zip_code"),
                                                    {"zip_price_trend": trends_on_day["zip_price_trend"]})[0]
    else:
        trends = levels.select("zip_code", "known_from", "zip_price_trend").drop_nulls("zip_price_trend")
        with_trend = (
            records.with_row_index("_row").sort("scoring_date")
            .join_asof(trends.sort("known_from"), left_on="scoring_date", right_on="known_from", by="zip_code",
                       strategy="backward", check_sortedness=False)
            .sort("_row")
        )
        trend = "zip_price_trend"
    value = pl.col("market_value")
    active_types = (pl.col("tax_delinquent").cast(pl.Int64) + pl.col("in_foreclosure").cast(pl.Int64)
                    + (pl.col("open_code_violations") > 0).cast(pl.Int64) + pl.col("in_probate").cast(pl.Int64)
                    + pl.col("vacant").cast(pl.Int64))
    return with_trend.select(
        "lead_id",
        pl.coalesce("metro", mapped(records["zip_code"], zip_metros, pl.String)).alias("metro"),
        "property_type", "condition", "owner_type", "beds", "baths", "sqft",
        (day.dt.year() - pl.col("year_built")).alias("building_age"),
        "market_value",
        pl.when(value > 0).then((value - pl.col("mortgage_balance")) / value).alias("equity_share"),
        "years_owned", "absentee_owner", "out_of_state_owner", "tax_delinquent",
        pl.when(pl.col("tax_delinquent")).then(pl.col("tax_years_delinquent")).alias("tax_years_delinquent"),
        pl.when(value > 0).then(pl.col("tax_amount_owed").fill_null(0.0) / value).alias("tax_owed_share"),
        "in_foreclosure",
        pl.when(pl.col("in_foreclosure") & (pl.col("auction_date") >= day))
        .then((pl.col("auction_date") - day).dt.total_days()).alias("days_to_auction"),
        "in_probate", "vacant", "open_code_violations",
        active_types.alias("distress_signal_count"),
        "distress_events_90d", "distress_events_365d",
        (day - pl.col("latest_event_date")).dt.total_days().alias("days_since_latest_event"),
        "channel", "campaign_step", "prior_contacts",
        *[pl.col(f"prior_{c}").fill_null(0) for c in CHANNELS],
        (day - pl.col("last_contact_date")).dt.total_days().cast(pl.Float64).alias("days_since_previous_contact"),
        trend,
    )


def property_facts(records: pl.DataFrame, zip_metros: dict[str, str]) -> pl.DataFrame:
    """The columns valuation and the buy-box read, one row per record."""
    return records.select(
        pl.col("lead_id").alias("property_id"),  # `estimate_arv` names its rows by property_id
        "zip_code",
        pl.coalesce("metro", mapped(records["zip_code"], zip_metros, pl.String)).alias("metro"),
        "property_type", "beds", "baths", "sqft", "year_built", "condition", "market_value", "mortgage_balance",
    )



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


NEW_LEAD_PREFIX = "new-"


def records_as_of(day: dt.date, snapshot: pl.DataFrame, contacts: pl.DataFrame, outcomes: pl.DataFrame,
                  next_channel: str = "cold_call", include_uncontacted_distressed: bool = True) -> pl.DataFrame:
    """The lead records of every active lead on `day`, built from the warehouse.

    Active: contacted on or before `day` and without a signed contract by the end of it; with
    `include_uncontacted_distressed`, also every distressed property nobody has contacted yet (its
    lead id is `new-<property_id>`, its next contact the first step on `next_channel`). The
    property state is the `snapshot` (the latest on or before `day`), moved forward to `day` the
    same way contact features are. A worked lead's next contact repeats its last channel.
    """
    end_of_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    known = contacts.filter(pl.col("contact_time") < end_of_day)
    closed = outcomes.filter(pl.col("contract_signed_at") < end_of_day).select("lead_id") \
        if "contract_signed_at" in outcomes.columns else pl.DataFrame(schema={"lead_id": pl.String})
    worked = (
        known.sort("contact_time", "contact_id")
        .group_by("lead_id", maintain_order=True)
        .agg(
            pl.col("property_id").last(),
            pl.len().cast(pl.Int64).alias("prior_contacts"),
            *[(pl.col("channel") == c).sum().cast(pl.Int64).alias(f"prior_{c}") for c in CHANNELS],
            pl.col("contact_time").last().dt.date().alias("last_contact_date"),
            pl.col("channel").last().alias("channel"),
            (pl.col("campaign_step").last() + 1).cast(pl.Int64).alias("campaign_step"),
        )
        .join(closed, on="lead_id", how="anti")
    )
    if include_uncontacted_distressed:
        distressed = snapshot.filter(pl.col("distress_signal_count") > 0).select("property_id")
        fresh = distressed.join(known.select("property_id").unique(), on="property_id", how="anti").select(
            (pl.lit(NEW_LEAD_PREFIX) + pl.col("property_id")).alias("lead_id"), "property_id",
            pl.lit(0, pl.Int64).alias("prior_contacts"),
            *[pl.lit(0, pl.Int64).alias(f"prior_{c}") for c in CHANNELS],
            pl.lit(None, pl.Date).alias("last_contact_date"), pl.lit(next_channel).alias("channel"),
            pl.lit(1, pl.Int64).alias("campaign_step"),
        )
        worked = pl.concat([worked, fresh], how="vertical_relaxed")
    lag = pl.lit(day) - pl.col("snapshot_date")
    state = snapshot.select(
        "property_id", "snapshot_date", "zip_code", "metro", "property_type", "beds", "baths", "sqft", "year_built",
        "condition", "market_value",
        (pl.col("market_value") - pl.col("estimated_equity")).clip(lower_bound=0.0).alias("mortgage_balance"),
        "years_owned", "owner_type", "absentee_owner", "out_of_state_owner", "tax_delinquent", "tax_amount_owed",
        "tax_years_delinquent", "in_foreclosure",
        (pl.col("snapshot_date") + pl.duration(days=pl.col("days_to_auction"))).alias("auction_date"),
        "open_code_violations", "in_probate", "vacant", "latest_event_date", "distress_events_90d",
        "distress_events_365d",
    )
    joined = worked.join(state, on="property_id", how="inner")
    return joined.select(
        pl.col(name).cast(dtype) if name not in ("scoring_date", "years_owned") else
        (pl.lit(day).alias("scoring_date") if name == "scoring_date" else
         (pl.col("years_owned") + lag.dt.total_days() / 365.25).cast(pl.Float64).alias("years_owned"))
        for name, dtype in RECORD_SCHEMA.items()
    ).sort("lead_id")
