"""Validation of lead records: strict, with every problem named by row and field.

Strict, because a silently wrong score is worse than a refused one: a missing required field, a
value of the wrong type, an impossible value (negative sqft, a date after the scoring date or in
the future) and any field not in `RECORD_FIELDS` are problems, each named with its row and field.
`validate_records` returns all of them at once.
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

from wholesaler_assets.domain.contracts.sources import CHANNELS
from wholesaler_assets.domain.features.record_schema import (
    DATE_FIELDS_NOT_AFTER_SCORING,
    DIGIT_TEXT_FIELDS,
    POLARS_TYPES,
    RECORD_FIELDS,
    RecordField,
)

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
# a per-column polars or pandas operation per field would cost more than the model on a one-lead request.
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
        if field.name in DIGIT_TEXT_FIELDS and getattr(dtype, "kind", "") in ("i", "u", "f"):  # not bool
            objects = _digits_as_text(objects, given, DIGIT_TEXT_FIELDS[field.name])  # a CSV reader's numbers
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
            ok = np.fromiter((isinstance(v, (int, float, np.integer, np.floating))
                              and not isinstance(v, (bool, np.bool_)) for v in objects), bool, len(objects)) | ~given
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
                         dtype="datetime64[D]")  # from numpy day scalars, far cheaper than from date objects
        present = ~np.isnat(dates)
        return _Column(dates, present), _bad(field, given & ~present, objects, "must be a date YYYY-MM-DD")
    raise AssertionError(kind)


def _digits_as_text(objects: np.ndarray, given: np.ndarray, width: int) -> np.ndarray:
    """Whole numbers as their digits (zero-padded to `width`, exact however long); other numbers stay, to be refused."""
    whole = [p and float(v).is_integer() and float(v) >= 0 for v, p in zip(objects, given, strict=True)]
    return np.array([None if not p else str(int(v)).zfill(width) if w else v
                     for v, p, w in zip(objects, given, whole, strict=True)], dtype=object)


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
    return pl.Series(field.name, values, POLARS_TYPES[field.kind])


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
