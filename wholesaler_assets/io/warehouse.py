"""Warehouse tables on DuckDB (embedded default) or PostgreSQL (production).

Both backends take and return polars frames and offer the same few operations. Every write
happens in one transaction, so a failed write leaves the last good table served. DuckDB allows
one writing process per file, so connections are short-lived and a busy file is retried.
"""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def _check_identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"invalid table or column name {name!r}: use lower_snake_case")
    return name


class WarehouseBackend(ABC):
    """What the pipeline needs from a warehouse."""

    @abstractmethod
    def read(self, table: str, where: str | None = None, params: Sequence[Any] = ()) -> pl.DataFrame:
        """Rows of `table` (optionally filtered by a SQL `where` with positional params)."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> pl.DataFrame:
        """Any read-only SQL."""

    @abstractmethod
    def table_exists(self, table: str) -> bool: ...

    @abstractmethod
    def replace_table(self, table: str, frame: pl.DataFrame) -> None:
        """Swap the whole table for `frame`."""

    @abstractmethod
    def replace_rows(self, table: str, frame: pl.DataFrame, key_columns: Sequence[str],
                     keep_when_null: Sequence[str] = ()) -> int:
        """Upsert by key; returns the rows whose key was already there.

        Without `keep_when_null` a row of `frame` replaces the stored row whole. With it, a stored
        row is updated column by column: a column of `keep_when_null` keeps the stored value where
        `frame` has null (the file did not report it), other columns of `frame` overwrite, and
        columns `frame` does not have are left as they are. New keys are inserted either way.
        """

    def replace_partition(self, table: str, frame: pl.DataFrame, column: str, value: Any) -> None:
        """Delete the rows where `column = value`, then insert `frame` (one transaction)."""
        self._delete_then_insert(table, frame, f"{_check_identifier(column)} = ?", [value])

    def append(self, table: str, frame: pl.DataFrame) -> None:
        self._delete_then_insert(table, frame, None, [])

    def row_count(self, table: str, where: str | None = None, params: Sequence[Any] = ()) -> int:
        if not self.table_exists(table):
            return 0
        sql = f"select count(*) as n from {_check_identifier(table)}" + (f" where {where}" if where else "")
        return int(self.query(sql, params)["n"][0])

    @abstractmethod
    def _delete_then_insert(self, table: str, frame: pl.DataFrame, where: str | None, params: list[Any]) -> None: ...


class DuckDBWarehouse(WarehouseBackend):
    """A DuckDB file: no server, one writer process at a time."""

    def __init__(self, path: str | Path, busy_timeout_s: float = 120.0) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s

    @contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.busy_timeout_s
        while True:
            try:
                con = duckdb.connect(str(self.path))
                break
            except duckdb.IOException as exc:  # another process holds the write lock
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        try:
            yield con
        finally:
            con.close()

    def read(self, table: str, where: str | None = None, params: Sequence[Any] = ()) -> pl.DataFrame:
        sql = f"select * from {_check_identifier(table)}" + (f" where {where}" if where else "")
        return self.query(sql, params)

    def query(self, sql: str, params: Sequence[Any] = ()) -> pl.DataFrame:
        with self._connect() as con:
            rel = con.sql(sql, params=list(params) or None)
            return _utc(pl.from_arrow(rel.to_arrow_table()))  # type: ignore[arg-type]

    def table_exists(self, table: str) -> bool:
        with self._connect() as con:
            rows = con.execute(
                "select count(*) from information_schema.tables where table_name = ?", [table]
            ).fetchall()
        return rows[0][0] > 0

    @contextmanager
    def _writing(self, frame: pl.DataFrame) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection seeing `frame` as `incoming`, in a transaction rolled back on any error."""
        with self._connect() as con:
            con.register("incoming", frame.to_arrow())
            con.execute("begin transaction")
            try:
                yield con
                con.execute("commit")
            except Exception:
                con.execute("rollback")
                raise
            finally:
                con.unregister("incoming")

    def replace_table(self, table: str, frame: pl.DataFrame) -> None:
        with self._writing(frame) as con:
            con.execute(f"create or replace table {_check_identifier(table)} as select * from incoming")

    def replace_rows(self, table: str, frame: pl.DataFrame, key_columns: Sequence[str],
                     keep_when_null: Sequence[str] = ()) -> int:
        keys = ", ".join(_check_identifier(k) for k in key_columns)
        matching = f"from {_check_identifier(table)} where ({keys}) in (select {keys} from incoming)"
        with self._writing(frame) as con:
            self._ensure_table(con, table)
            if keep_when_null:
                update, insert = _merge_statements(table, "incoming", frame.columns, key_columns, keep_when_null)
                updated = con.execute(update).fetchall()[0][0]
                con.execute(insert)
                return int(updated)
            replaced = con.execute(f"select count(*) {matching}").fetchall()[0][0]
            con.execute(f"delete {matching}")
            con.execute(f"insert into {table} by name select * from incoming")
        return int(replaced)

    def _delete_then_insert(self, table: str, frame: pl.DataFrame, where: str | None, params: list[Any]) -> None:
        with self._writing(frame) as con:
            self._ensure_table(con, _check_identifier(table))
            if where:
                con.execute(f"delete from {table} where {where}", params)
            con.execute(f"insert into {table} by name select * from incoming")

    @staticmethod
    def _ensure_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
        """Create the table from `incoming`, or add the columns a newer pipeline version brings."""
        con.execute(f"create table if not exists {table} as select * from incoming limit 0")
        existing = {r[0] for r in con.execute(f"describe {table}").fetchall()}
        for name, sql_type, *_ in con.execute("describe incoming").fetchall():
            if name not in existing:
                con.execute(f"alter table {table} add column {_check_identifier(name)} {sql_type}")


class PostgresWarehouse(WarehouseBackend):
    """PostgreSQL through ADBC: Arrow batches in and out, writes in one transaction."""

    def __init__(self, url: str, schema: str = "public") -> None:
        self.url = url
        self.schema = _check_identifier(schema)

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        from adbc_driver_postgresql import dbapi  # imported lazily: only the production profile needs it

        con = dbapi.connect(self.url)
        try:
            with con.cursor() as cur:  # unqualified names in the pipeline's SQL resolve to our schema
                cur.execute(f"set search_path to {self.schema}, public")
            yield con
        finally:
            con.close()

    def _qualified(self, table: str) -> str:
        return f"{self.schema}.{_check_identifier(table)}"

    def read(self, table: str, where: str | None = None, params: Sequence[Any] = ()) -> pl.DataFrame:
        sql = f"select * from {self._qualified(table)}" + (f" where {where}" if where else "")
        return self.query(sql, params)

    def query(self, sql: str, params: Sequence[Any] = ()) -> pl.DataFrame:
        sql = _qmark_to_dollar(sql)
        with self._connect() as con, con.cursor() as cur:
            cur.execute(sql, list(params) if params else None)
            return _utc(pl.from_arrow(cur.fetch_arrow_table()))  # type: ignore[arg-type]

    def table_exists(self, table: str) -> bool:
        found = self.query(
            "select count(*) as n from information_schema.tables where table_schema = ? and table_name = ?",
            [self.schema, table],
        )
        return int(found["n"][0]) > 0

    def replace_table(self, table: str, frame: pl.DataFrame) -> None:
        with self._connect() as con, con.cursor() as cur:
            cur.execute(f"create schema if not exists {self.schema}")
            cur.execute(f"drop table if exists {self._qualified(table)}")
            cur.adbc_ingest(table, _arrow(frame), mode="create", db_schema_name=self.schema)
            con.commit()

    def replace_rows(self, table: str, frame: pl.DataFrame, key_columns: Sequence[str],
                     keep_when_null: Sequence[str] = ()) -> int:
        keys = ", ".join(_check_identifier(k) for k in key_columns)
        target = self._qualified(table)
        with self._connect() as con, con.cursor() as cur:
            self._ensure_table(cur, table, frame)
            cur.adbc_ingest("incoming_rows", _arrow(frame), mode="create", temporary=True)
            if keep_when_null:
                update, insert = _merge_statements(target, "incoming_rows", frame.columns, key_columns,
                                                   keep_when_null)
                cur.execute(update)
                replaced = cur.rowcount
                cur.execute(insert)
            else:
                cur.execute(f"delete from {target} where ({keys}) in (select {keys} from incoming_rows)")
                replaced = cur.rowcount
                cols = ", ".join(frame.columns)
                cur.execute(f"insert into {target} ({cols}) select {cols} from incoming_rows")
            cur.execute("drop table incoming_rows")
            con.commit()
        return max(int(replaced), 0)

    def _delete_then_insert(self, table: str, frame: pl.DataFrame, where: str | None, params: list[Any]) -> None:
        with self._connect() as con, con.cursor() as cur:
            self._ensure_table(cur, table, frame)
            if where:
                cur.execute(_qmark_to_dollar(f"delete from {self._qualified(table)} where {where}"), params)
            if frame.height:
                cur.adbc_ingest(table, _arrow(frame), mode="append", db_schema_name=self.schema)
            con.commit()

    def _ensure_table(self, cur: Any, table: str, frame: pl.DataFrame) -> None:
        """Create the table from `frame`, or add the columns a newer pipeline version brings."""
        cur.execute(f"create schema if not exists {self.schema}")
        cur.execute(_qmark_to_dollar("select column_name from information_schema.columns "
                                     "where table_schema = ? and table_name = ?"), [self.schema, table])
        existing = {row[0] for row in cur.fetchall()}
        if not existing:
            cur.adbc_ingest(table, _arrow(frame.head(0)), mode="create", db_schema_name=self.schema)
            return
        for name, dtype in frame.schema.items():
            if name not in existing:
                cur.execute(f"alter table {self._qualified(table)} add column {_check_identifier(name)} "
                            f"{_postgres_type(dtype)}")


def _merge_statements(target: str, source: str, columns: Sequence[str], key_columns: Sequence[str],
                      keep_when_null: Sequence[str]) -> tuple[str, str]:
    """SQL (DuckDB and PostgreSQL alike) updating stored rows column by column, then inserting new keys."""
    keep = set(keep_when_null)

    def q(name: str) -> str:  # quoted: a column may be named like a keyword ("at")
        return f'"{_check_identifier(name)}"'

    values = [f"{q(c)} = " + (f"coalesce(src.{q(c)}, stored.{q(c)})" if c in keep else f"src.{q(c)}")
              for c in columns if c not in key_columns]
    same_key = " and ".join(f"stored.{q(k)} = src.{q(k)}" for k in key_columns)
    update = f"update {target} as stored set {', '.join(values)} from {source} as src where {same_key}"
    insert = (f"insert into {target} ({', '.join(q(c) for c in columns)}) "
              f"select {', '.join(f'src.{q(c)}' for c in columns)} from {source} as src "
              f"where not exists (select 1 from {target} as stored where {same_key})")
    return update, insert


def _utc(frame: pl.DataFrame) -> pl.DataFrame:
    """Databases hand back 'Etc/UTC' or the session zone; the pipeline keeps every timestamp in UTC."""
    zoned = [n for n, t in frame.schema.items() if isinstance(t, pl.Datetime) and t.time_zone not in (None, "UTC")]
    return frame.with_columns(pl.col(zoned).dt.convert_time_zone("UTC")) if zoned else frame


def _arrow(frame: pl.DataFrame) -> pa.Table:
    # ADBC has no mapping for polars' large string views; plain Arrow strings ingest everywhere.
    table = frame.to_arrow()
    fields = [
        pa.field(f.name, pa.string()) if pa.types.is_large_string(f.type) or pa.types.is_string_view(f.type) else f
        for f in table.schema
    ]
    return table.cast(pa.schema(fields))


def _postgres_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Datetime):
        return "timestamptz" if dtype.time_zone else "timestamp"
    return {pl.Int8: "smallint", pl.Int16: "smallint", pl.Int32: "integer", pl.Int64: "bigint", pl.UInt32: "bigint",
            pl.Float32: "real", pl.Float64: "double precision", pl.Boolean: "boolean", pl.Date: "date",
            pl.String: "text"}.get(type(dtype), "text")


def _qmark_to_dollar(sql: str) -> str:
    """PostgreSQL wants $1, $2 where DuckDB takes ?; the pipeline writes ? everywhere."""
    counter = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _: f"${next(counter)}", sql)
