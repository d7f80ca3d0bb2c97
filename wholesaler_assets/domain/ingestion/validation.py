"""Validate one landing file against its source contract.

A file is read (`reading`: complete files only, incomplete rows named), cast cell by cell to the
contract's types, and validated with pandera. The verdict splits it three ways: good rows
(loaded), bad rows (quarantined, each with its reasons) and exact duplicates (dropped, counted).
A file that cannot be read, lacks a required column, or whose bad-row share is above the limit
is rejected whole: loading most of a broken file would quietly poison the warehouse. Reasons
show a cut preview of a cell, never a huge cell whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import pandera.polars as pa
import polars as pl

from wholesaler_assets.domain.contracts.schema import SourceContract
from wholesaler_assets.domain.ingestion.cells import preview, preview_expr
from wholesaler_assets.domain.ingestion.reading import (
    INDEX,
    REASON,
    SUPPORTED_SUFFIXES,
    FileRejected,
    no_failures,
    read_raw,
)

__all__ = ["SUPPORTED_SUFFIXES", "FileRejected", "FileVerdict", "read_raw", "sha256_of", "validate_file"]

ROW_NUMBER = "_row_number"
REASONS = "_reasons"


@dataclass(frozen=True)
class FileVerdict:
    """What validation decided about one file."""

    source: str
    file_name: str
    rows_read: int
    good_rows: pl.DataFrame
    bad_rows: pl.DataFrame  # original cells as text, plus _row_number and _reasons
    duplicates_dropped: int
    warnings: list[str] = field(default_factory=list)
    absent_columns: tuple[str, ...] = ()  # not reported by this file: the load keeps earlier values

    @property
    def reason_counts(self) -> dict[str, int]:
        if self.bad_rows.is_empty():
            return {}
        counts = self.bad_rows.select(pl.col(REASONS).str.split("; ").explode().value_counts(sort=True))
        return {row[REASONS]: row["count"] for row in counts.unnest(REASONS).iter_rows(named=True)}


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def validate_file(
    data: bytes,
    file_name: str,
    contract: SourceContract,
    now: dt.datetime,
    max_bad_row_share: float = 0.2,
) -> FileVerdict:
    """Validate the bytes of one landing file; raise FileRejected when the file is unusable."""
    read = read_raw(data, file_name, contract)
    raw, rows_read = read.frame, read.frame.height
    # Exact copies are dropped first, so the original is not also flagged as a duplicate key.
    raw = raw.with_row_index(ROW_NUMBER).filter(_first_copies(raw))
    duplicates = rows_read - raw.height
    typed, cast_failures = cast_to_contract(raw.drop(ROW_NUMBER), contract)
    incomplete = _renumbered(read.incomplete_rows, raw.get_column(ROW_NUMBER))
    reasons = _reasons_per_row([incomplete, cast_failures, _contract_violations(typed, contract, now)])
    is_bad = pl.Series([False] * raw.height).scatter(reasons.get_column(INDEX), True) if reasons.height else None
    bad = raw[reasons.get_column(INDEX)].with_columns(reasons.get_column(REASONS))
    bad_share = bad.height / max(rows_read, 1)
    if bad_share > max_bad_row_share:
        top = bad.select(pl.col(REASONS).str.split("; ").explode()).to_series().value_counts(sort=True).head(3)
        examples = "; ".join(f"{r[0]} ({r[1]} rows)" for r in top.iter_rows())
        raise FileRejected(
            f"{bad.height} of {rows_read} rows ({bad_share:.0%}) break the contract, above the "
            f"{max_bad_row_share:.0%} limit; most common: {examples}"
        )
    good = typed.filter(~is_bad) if is_bad is not None else typed
    return FileVerdict(
        source=contract.name,
        file_name=file_name,
        rows_read=rows_read,
        good_rows=good,
        bad_rows=bad,
        duplicates_dropped=duplicates,
        warnings=read.warnings,
        absent_columns=read.absent_columns,
    )


def _renumbered(failures: pl.DataFrame, kept_row_numbers: pl.Series) -> pl.DataFrame:
    """Failures indexed by row of the file, re-indexed to the rows left after dropping exact copies."""
    positions = pl.DataFrame({ROW_NUMBER: kept_row_numbers, INDEX: pl.int_range(kept_row_numbers.len(),
                                                                               dtype=pl.UInt32, eager=True)})
    return (failures.rename({INDEX: ROW_NUMBER}).with_columns(pl.col(ROW_NUMBER).cast(positions.schema[ROW_NUMBER]))
            .join(positions, on=ROW_NUMBER).select(INDEX, REASON))


def _first_copies(raw: pl.DataFrame) -> pl.Series:
    """True for each row that is not an exact copy of an earlier one.

    Hashing rows is cheap; only rows whose hash repeats are compared cell by cell, so a hash
    collision can never drop a row that differs.
    """
    hashes = raw.hash_rows(seed=0)
    candidates = hashes.is_duplicated()
    if not candidates.any():
        return pl.Series(ROW_NUMBER, [True] * raw.height)
    repeated = raw.filter(candidates)
    keep_repeated = repeated.select(pl.struct(pl.all()).is_first_distinct()).to_series()
    keep = pl.Series([True] * raw.height)
    return keep.scatter(candidates.arg_true(), keep_repeated)


def cast_to_contract(raw: pl.DataFrame, contract: SourceContract) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cast every column to its contract type; each cell that does not parse becomes a row reason.

    Returns the typed frame and the failures as (index, reason) rows, one per bad cell.
    """
    typed = raw.select(_cast(raw.schema[name], target, name) for name, target in contract.polars_schema.items())
    failed = []
    for name, target in contract.polars_schema.items():
        raw_cells, typed_cells = raw.get_column(name), typed.get_column(name)
        if typed_cells.null_count() == raw_cells.null_count():
            continue  # every cell parsed
        rows = (raw_cells.is_not_null() & typed_cells.is_null()).arg_true()
        texts = raw_cells.gather(rows).cast(pl.String).to_list()
        failed.append(pl.DataFrame({INDEX: rows.cast(pl.UInt32),
                                    REASON: [f"{name}: '{preview(t)}' is not a valid {target}" for t in texts]}))
    return typed, pl.concat(failed) if failed else no_failures()


def _cast(source: pl.DataType, target: pl.DataType, name: str) -> pl.Expr:
    col = pl.col(name)
    if source == pl.String:  # cells are parsed as written: " 12" is not a number
        if target == pl.Date:
            return col.str.to_date("%Y-%m-%d", strict=False).alias(name)
        if isinstance(target, pl.Datetime):
            return _parse_utc_datetime(col).alias(name)
        if target == pl.Boolean:
            lowered = col.str.to_lowercase()
            return (pl.when(lowered.is_in(["true", "1", "t", "yes", "y"])).then(True)
                    .when(lowered.is_in(["false", "0", "f", "no", "n"])).then(False)).alias(name)
        return col.cast(target, strict=False).alias(name)
    if isinstance(target, pl.Datetime) and isinstance(source, pl.Datetime):
        zoned = col.dt.replace_time_zone("UTC") if source.time_zone is None else col.dt.convert_time_zone("UTC")
        return zoned.dt.cast_time_unit("us").alias(name)
    return col.cast(target, strict=False).alias(name)


# ISO 8601 with or without offset ("Z" included), "T" or space, optional fraction, or a bare date.
# A timestamp without an offset is taken as UTC, the pipeline's one time zone.
_ZONED_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%:z")
_NAIVE_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d")


def _parse_utc_datetime(text: pl.Expr) -> pl.Expr:
    text = text.str.replace(r"Z$", "+00:00")
    zoned = [text.str.to_datetime(f, strict=False, time_unit="us", time_zone="UTC") for f in _ZONED_FORMATS]
    naive = [text.str.to_datetime(f, strict=False, time_unit="us").dt.replace_time_zone("UTC") for f in _NAIVE_FORMATS]
    return pl.coalesce([*zoned, *naive])


def _contract_violations(typed: pl.DataFrame, contract: SourceContract, now: dt.datetime) -> pl.DataFrame:
    """pandera's failure cases as (index, reason) rows; a failure not tied to a row rejects the file."""
    try:
        contract.pandera_schema(now).validate(typed, lazy=True)
        return no_failures()
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.rechunk()  # polars 2.1 can panic on the chunked frame pandera returns
    cases = cases.with_columns(preview_expr(pl.col("failure_case").cast(pl.String)).alias("failure_case"))
    file_level = cases.filter(pl.col("index").is_null())
    if file_level.height:
        raise FileRejected("; ".join(f"{r['column']}: {r['check']} ({r['failure_case']})"
                                     for r in file_level.head(5).iter_rows(named=True)))
    key = ", ".join(contract.key)
    is_key_clash = pl.col("check").str.contains("uniqueness")
    check = _readable_check(pl.col("check").fill_null("contract check"))
    column = pl.col("column").fill_null("row")
    return cases.select(
        pl.col("index").cast(pl.UInt32).alias(INDEX),
        pl.when(is_key_clash)
        .then(pl.lit(f"duplicate key ({key}) with conflicting values"))
        .when(pl.col("failure_case").is_null())  # a missing value has no failure case to show
        .then(pl.format("{}: {}", column, check))
        .otherwise(pl.format("{}: {} ({})", column, check, pl.col("failure_case")))
        .alias(REASON),
    )


def _readable_check(check: pl.Expr) -> pl.Expr:
    return (
        check.str.replace("not_nullable", "required value missing")
        .str.replace("greater_than_or_equal_to", ">=")
        .str.replace("less_than_or_equal_to", "<=")
    )


def _reasons_per_row(failures: list[pl.DataFrame]) -> pl.DataFrame:
    """All reasons of each failing row joined into one text, by row index."""
    return (
        pl.concat(failures)
        .with_columns(pl.col(REASON).fill_null("breaks the contract"))  # a row is never quarantined unnamed
        .group_by(INDEX, maintain_order=True)
        .agg(pl.col(REASON).unique(maintain_order=True).str.join("; ").alias(REASONS))
        .sort(INDEX)
    )
