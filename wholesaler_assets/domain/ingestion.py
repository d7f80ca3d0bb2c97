"""Validate one landing file against its source contract.

A file is read, cast cell by cell to the contract's types, and validated with pandera. The
verdict splits it three ways: good rows (loaded), bad rows (quarantined, each with its reasons)
and exact duplicates (dropped, counted). A file that cannot be read, lacks a required column,
or whose bad-row share is above the limit is rejected whole: loading most of a broken file
would quietly poison the warehouse.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandera.polars as pa
import polars as pl

from wholesaler_assets.domain.contracts import SourceContract

ROW_NUMBER = "_row_number"
REASONS = "_reasons"
INDEX, REASON = "index", "reason"
SUPPORTED_SUFFIXES = (".csv", ".parquet")


class FileRejected(Exception):
    """The whole file breaks the contract; the message says why."""


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
    raw, warnings = read_raw(data, file_name, contract)
    rows_read = raw.height
    # Exact copies are dropped first, so the original is not also flagged as a duplicate key.
    raw = raw.with_row_index(ROW_NUMBER).filter(_first_copies(raw))
    duplicates = rows_read - raw.height
    typed, cast_failures = cast_to_contract(raw.drop(ROW_NUMBER), contract)
    reasons = _reasons_per_row([cast_failures, _contract_violations(typed, contract, now)])
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
        warnings=warnings,
    )


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


def read_raw(data: bytes, file_name: str, contract: SourceContract) -> tuple[pl.DataFrame, list[str]]:
    """Read a CSV (every cell as text) or Parquet file, and check its columns."""
    suffix = Path(file_name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise FileRejected(f"unsupported file type {suffix!r}: landing files are .csv or .parquet")
    if not data:
        raise FileRejected("empty file (0 bytes)")
    if suffix == ".csv":
        try:
            frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
        except pl.exceptions.PolarsError as exc:
            _reject_non_utf8(data)  # decoding the whole file is slow: only done to explain a failure
            raise FileRejected(f"unreadable CSV: {_first_line(exc)}") from None
    else:
        try:
            frame = pl.read_parquet(io.BytesIO(data))
        except Exception as exc:  # pyarrow/polars raise several types for a damaged file
            raise FileRejected(f"unreadable Parquet (truncated or corrupt): {_first_line(exc)}") from None
    if frame.height == 0:
        raise FileRejected("no data rows (header only)")
    missing_required = [c for c in contract.required_columns if c not in frame.columns]
    if missing_required:
        raise FileRejected(f"missing required column(s): {', '.join(missing_required)}")
    warnings: list[str] = []
    missing_optional = [c for c in contract.column_names if c not in frame.columns]
    if missing_optional:
        warnings.append(f"optional column(s) absent, loaded as null: {', '.join(missing_optional)}")
        frame = frame.with_columns(pl.lit(None, pl.String).alias(c) for c in missing_optional)
    unknown = [c for c in frame.columns if c not in contract.column_names]
    if unknown:
        warnings.append(f"column(s) outside the contract ignored: {', '.join(unknown)}")
    return frame.select(contract.column_names), warnings


def _reject_non_utf8(data: bytes) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileRejected(f"not valid UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}") from None


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
                                    REASON: [f"{name}: '{t}' is not a valid {target}" for t in texts]}))
    return typed, pl.concat(failed) if failed else _no_failures()


def _no_failures() -> pl.DataFrame:
    return pl.DataFrame(schema={INDEX: pl.UInt32, REASON: pl.String})


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
        return _no_failures()
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.rechunk()  # polars 2.1 can panic on the chunked frame pandera returns
    file_level = cases.filter(pl.col("index").is_null())
    if file_level.height:
        raise FileRejected("; ".join(f"{r['column']}: {r['check']} ({r['failure_case']})"
                                     for r in file_level.iter_rows(named=True)))
    key = ", ".join(contract.key)
    is_key_clash = pl.col("check").str.contains("uniqueness")
    return cases.select(
        pl.col("index").cast(pl.UInt32).alias(INDEX),
        pl.when(is_key_clash)
        .then(pl.lit(f"duplicate key ({key}) with conflicting values"))
        .otherwise(pl.format("{}: {} ({})", pl.col("column"), _readable_check(pl.col("check")), pl.col("failure_case")))
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
        .group_by(INDEX, maintain_order=True)
        .agg(pl.col(REASON).unique(maintain_order=True).str.join("; ").alias(REASONS))
        .sort(INDEX)
    )


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
