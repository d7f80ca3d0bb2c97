"""Read the bytes of one landing file, and refuse what is not a complete file.

- CSV is decoded as UTF-8 and split into records by the csv module, every cell kept as text (an
  empty cell is null). A record with more or fewer fields than the header, or a last line that
  ends without a line break (a file cut off, or still being copied), is an incomplete row: it is
  quarantined with that reason, or the file is rejected, as the contract's `incomplete_rows` says.
- Parquet is read only when complete: the file must start and end with the `PAR1` magic, its
  footer must parse, and the rows read must be the rows the footer promises.
- A missing required column rejects the file; so does an absent column whose contract says
  `absent="reject"`. Any other absent column is reported back, so the load keeps earlier values.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from wholesaler_assets.domain.contracts.schema import REJECT, SourceContract

SUPPORTED_SUFFIXES = (".csv", ".parquet")
INDEX, REASON = "index", "reason"
CUT_OFF_LAST_LINE = "last line ends without a line break: the file was cut off or is still being written"


class FileRejected(Exception):
    """The whole file breaks the contract; the message says why."""


@dataclass(frozen=True)
class RawFile:
    """A file as read: contract columns as written, plus what is missing or incomplete in it."""

    frame: pl.DataFrame  # the contract's columns; absent optional ones all null
    absent_columns: tuple[str, ...]
    incomplete_rows: pl.DataFrame  # (index, reason) per row whose record was incomplete
    warnings: list[str]


def no_failures() -> pl.DataFrame:
    return pl.DataFrame(schema={INDEX: pl.UInt32, REASON: pl.String})


def read_raw(data: bytes, file_name: str, contract: SourceContract) -> RawFile:
    """Read a CSV (every cell as text) or Parquet file, and check it is complete and has its columns."""
    suffix = Path(file_name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise FileRejected(f"unsupported file type {suffix!r}: landing files are .csv or .parquet")
    if not data:
        raise FileRejected("empty file (0 bytes)")
    if suffix == ".csv":
        frame, incomplete = _read_csv(data)
        if incomplete.height and contract.incomplete_rows == REJECT:
            examples = "; ".join(f"row {r[INDEX]}: {r[REASON]}" for r in incomplete.head(3).iter_rows(named=True))
            raise FileRejected(f"{incomplete.height} incomplete row(s), and this source rejects such files: {examples}")
    else:
        frame, incomplete = _read_parquet(data), no_failures()
    if frame.height == 0:
        raise FileRejected("no data rows (header only)")
    missing_required = [c for c in contract.required_columns if c not in frame.columns]
    if missing_required:
        raise FileRejected(f"missing required column(s): {', '.join(missing_required)}")
    absent = [c.name for c in contract.columns if c.name not in frame.columns]
    must_have = [c for c in absent if contract.column(c).absent == REJECT]
    if must_have:
        raise FileRejected(f"column(s) absent that every file must have: {', '.join(must_have)} (an empty cell "
                           "is itself a value there, so a file without the column cannot say 'not reported')")
    warnings: list[str] = []
    if absent:
        warnings.append(f"optional column(s) absent, earlier values kept: {', '.join(absent)}")
        frame = frame.with_columns(pl.lit(None, pl.String).alias(c) for c in absent)
    unknown = [c for c in frame.columns if c not in contract.column_names]
    if unknown:
        warnings.append(f"column(s) outside the contract ignored: {', '.join(unknown)}")
    return RawFile(frame.select(contract.column_names), tuple(absent), incomplete, warnings)


def _read_csv(data: bytes) -> tuple[pl.DataFrame, pl.DataFrame]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejected(f"not valid UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}") from None
    try:
        with _field_size_limit(len(text) + 1):  # cell size is bounded by the contract, not by the csv module
            records = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    except csv.Error as exc:
        raise FileRejected(f"unreadable CSV: {exc}") from None
    if not records:
        raise FileRejected("empty file (no header)")
    header, rows = records[0], records[1:]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise FileRejected(f"unreadable CSV: column name(s) repeated in the header: {', '.join(repeated)}")
    width = len(header)
    indexes, reasons = [], []
    for i, row in enumerate(rows):
        if len(row) != width:
            indexes.append(i)
            reasons.append(f"{len(row)} field(s) where the header has {width}")
            rows[i] = (row + [""] * width)[:width]
    if rows and not text.endswith(("\n", "\r")):
        indexes.append(len(rows) - 1)
        reasons.append(CUT_OFF_LAST_LINE)
    columns = list(zip(*rows, strict=True)) if rows else [()] * width
    frame = pl.DataFrame({name: pl.Series(name, cells, pl.String) for name, cells in zip(header, columns, strict=True)})
    frame = frame.with_columns(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in frame.columns)
    incomplete = pl.DataFrame({INDEX: indexes, REASON: reasons}, schema=no_failures().schema)
    return frame, incomplete.group_by(INDEX, maintain_order=True).agg(pl.col(REASON).str.join("; "))


@contextmanager
def _field_size_limit(limit: int) -> Iterator[None]:
    previous = csv.field_size_limit(max(limit, csv.field_size_limit()))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _read_parquet(data: bytes) -> pl.DataFrame:
    if len(data) < 12 or data[:4] != b"PAR1" or data[-4:] != b"PAR1":
        raise FileRejected("unreadable Parquet (truncated or corrupt): no complete footer, the file was cut "
                           "off or is still being written")
    try:
        promised = pq.read_metadata(io.BytesIO(data)).num_rows
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow/polars raise several types for a damaged file
        raise FileRejected(f"unreadable Parquet (truncated or corrupt): {first_line(exc)}") from None
    if frame.height != promised:
        raise FileRejected(f"unreadable Parquet (truncated or corrupt): the footer promises {promised} rows, "
                           f"{frame.height} were read")
    return frame


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
