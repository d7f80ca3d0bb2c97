"""The building blocks of a data contract: a column's rules, a source's columns, their pandera schema.

Besides type, nullability, range, allowed values and pattern, each column says what a file means
when it leaves the column out or leaves a cell of it empty:

- `empty`: "not_reported" (the file says nothing about this value: a re-sent key keeps the value
  the warehouse holds) or "null" (an empty cell is itself the value, e.g. "still open");
- `absent`: "keep" (a file without the column keeps every earlier value of it; new keys load it
  as null) or "reject" (the file is refused: for a column whose empty cell is a value, absence
  cannot be told apart from that value).

Every text column is bounded: at most `max_length` characters (the contract's `max_text_length`,
1,000, unless the column overrides it); free text (names, addresses) must be printable and may
not start like a spreadsheet formula (`=`, `+`, `-`, `@`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import pandera.polars as pa
import polars as pl

NOT_REPORTED: Final = "not_reported"
NULL_IS_VALUE: Final = "null"
KEEP: Final = "keep"
REJECT: Final = "reject"
QUARANTINE_ROWS: Final = "quarantine_rows"
DEFAULT_MAX_TEXT_LENGTH = 1_000
# Printable, and not starting like a formula a spreadsheet would run when the cell is exported.
FREE_TEXT_PATTERN = r"^[^=+\-@\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"


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
    empty: Literal["not_reported", "null"] = NOT_REPORTED
    absent: Literal["keep", "reject"] = KEEP
    max_length: int | None = None  # text only; None takes the contract's max_text_length
    free_text: bool = False  # names, addresses: printable, no formula-like start

    @property
    def is_text(self) -> bool:
        return _as_instance(self.dtype) == pl.String()


@dataclass(frozen=True)
class SourceContract:
    """The declared shape of one landing source."""

    name: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...]
    description: str
    time_column: str  # the column that says when a record became known
    extra: dict[str, Any] = field(default_factory=dict)
    max_text_length: int = DEFAULT_MAX_TEXT_LENGTH
    # A CSV row with more or fewer fields than the header, or a last line cut off without its line
    # break: "quarantine_rows" quarantines those rows (the rest of the file loads), "reject" the file.
    incomplete_rows: Literal["quarantine_rows", "reject"] = QUARANTINE_ROWS

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

    def max_length(self, column: ColumnSpec) -> int:
        return column.max_length if column.max_length is not None else self.max_text_length

    def kept_when_empty(self) -> list[str]:
        """Non-key columns whose empty cell means "not reported": a re-sent key keeps the earlier value."""
        return [c.name for c in self.columns if c.nullable and c.empty == NOT_REPORTED and c.name not in self.key]

    def pandera_schema(self, now: dt.datetime) -> pa.DataFrameSchema:
        """The pandera schema of this contract; `now` bounds dates that cannot be in the future."""
        return pa.DataFrameSchema(
            {c.name: pa.Column(c.dtype, checks=_checks(c, now, self.max_length(c)), nullable=c.nullable)
             for c in self.columns},
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


def _checks(c: ColumnSpec, now: dt.datetime, max_length: int) -> list[pa.Check]:
    checks = value_checks(c.min_value, c.max_value, c.allowed)
    if c.is_text:  # first, so an over-long cell is named as such
        checks.insert(0, pa.Check.str_length(max_value=max_length, error=f"longer than {max_length:,} characters"))
    if c.pattern is not None:
        checks.append(pa.Check.str_matches(c.pattern))
    if c.free_text:
        checks.append(pa.Check.str_matches(FREE_TEXT_PATTERN,
                                           error="free text must be printable and not start with = + - @"))
    if c.not_after_ingestion:
        bound: dt.date | dt.datetime = now.date() if _as_instance(c.dtype) == pl.Date() else now
        checks.append(pa.Check.le(bound, error=f"not after ingestion time {bound.isoformat()}"))
    return checks


def contract_markdown(contract: SourceContract) -> str:
    """A markdown table of one contract, for the README and the UI."""
    lines = [
        f"**`{contract.name}`**: {contract.description} Key: `{', '.join(contract.key)}`. Text cells: at most "
        f"{contract.max_text_length:,} characters unless the column says otherwise; a CSV row with the wrong "
        f"number of fields or a cut-off last line: {contract.incomplete_rows.replace('_', ' ')}.",
        "",
        "| column | type | required | valid values | empty cell | file without it | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in contract.columns:
        lines.append(
            f"| `{c.name}` | {_as_instance(c.dtype)} | {'yes' if not c.nullable else ''} | "
            f"{'; '.join(_valid_values(c, contract))} | {_empty_text(c, contract)} | {_absent_text(c, contract)} | "
            f"{(('PII, never a feature. ' if c.pii else '') + c.description).strip()} |"
        )
    return "\n".join(lines)


def _valid_values(c: ColumnSpec, contract: SourceContract) -> list[str]:
    valid = []
    if c.allowed:
        valid.append(", ".join(c.allowed))
    if c.min_value is not None or c.max_value is not None:
        valid.append(f"{_fmt(c.min_value)} to {_fmt(c.max_value)}")
    if c.pattern:
        valid.append(f"`{c.pattern}`")
    if c.free_text:
        valid.append("printable text, no leading = + - @")
    if c.is_text and c.max_length is not None:
        valid.append(f"≤ {contract.max_length(c):,} characters")
    if c.not_after_ingestion:
        valid.append("not in the future")
    return valid


def _empty_text(c: ColumnSpec, contract: SourceContract) -> str:
    if not c.nullable:
        return "row quarantined"
    if c.name in contract.key:
        return "a value"
    return "not reported: earlier value kept" if c.empty == NOT_REPORTED else "a value (null)"


def _absent_text(c: ColumnSpec, contract: SourceContract) -> str:
    if not c.nullable or c.name in contract.key:
        return "file rejected"
    return "earlier values kept" if c.absent == KEEP else "file rejected"


def _fmt(v: float | None) -> str:
    if v is None:
        return "any"
    return f"{v:,.0f}" if float(v).is_integer() else str(v)
