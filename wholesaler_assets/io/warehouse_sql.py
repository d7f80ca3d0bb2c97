"""SQL and Arrow helpers both warehouse backends share: identifiers, merges, types, placeholders."""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl
import pyarrow as pa

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def check_identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"invalid table or column name {name!r}: use lower_snake_case")
    return name


def merge_statements(target: str, source: str, columns: Sequence[str], key_columns: Sequence[str],
                      keep_when_null: Sequence[str]) -> tuple[str, str]:
    """SQL (DuckDB and PostgreSQL alike) updating stored rows column by column, then inserting new keys."""
    keep = set(keep_when_null)

    def q(name: str) -> str:  # quoted: a column may be named like a keyword ("at")
        return f'"{check_identifier(name)}"'

    values = [f"{q(c)} = " + (f"coalesce(src.{q(c)}, stored.{q(c)})" if c in keep else f"src.{q(c)}")
              for c in columns if c not in key_columns]
    same_key = " and ".join(f"stored.{q(k)} = src.{q(k)}" for k in key_columns)
    update = f"update {target} as stored set {', '.join(values)} from {source} as src where {same_key}"
    insert = (f"insert into {target} ({', '.join(q(c) for c in columns)}) "
              f"select {', '.join(f'src.{q(c)}' for c in columns)} from {source} as src "
              f"where not exists (select 1 from {target} as stored where {same_key})")
    return update, insert


def utc_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Databases hand back 'Etc/UTC' or the session zone; the pipeline keeps every timestamp in UTC."""
    zoned = [n for n, t in frame.schema.items() if isinstance(t, pl.Datetime) and t.time_zone not in (None, "UTC")]
    return frame.with_columns(pl.col(zoned).dt.convert_time_zone("UTC")) if zoned else frame


def arrow_table(frame: pl.DataFrame) -> pa.Table:
    # ADBC has no mapping for polars' large string views; plain Arrow strings ingest everywhere.
    table = frame.to_arrow()
    fields = [
        pa.field(f.name, pa.string()) if pa.types.is_large_string(f.type) or pa.types.is_string_view(f.type) else f
        for f in table.schema
    ]
    return table.cast(pa.schema(fields))


def postgres_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Datetime):
        return "timestamptz" if dtype.time_zone else "timestamp"
    return {pl.Int8: "smallint", pl.Int16: "smallint", pl.Int32: "integer", pl.Int64: "bigint", pl.UInt32: "bigint",
            pl.Float32: "real", pl.Float64: "double precision", pl.Boolean: "boolean", pl.Date: "date",
            pl.String: "text"}.get(type(dtype), "text")


def qmark_to_dollar(sql: str) -> str:
    """PostgreSQL wants $1, $2 where DuckDB takes ?; the pipeline writes ? everywhere."""
    counter = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _: f"${next(counter)}", sql)
