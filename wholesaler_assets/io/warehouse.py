"""Warehouse tables on DuckDB (embedded default) or PostgreSQL (production, `io.warehouse_postgres`).

Both backends take and return polars frames and offer the same few operations. Every write
happens in one transaction, so a failed write leaves the last good table served. DuckDB allows
one writing process per file, so connections are short-lived and a busy file is retried.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from wholesaler_assets.io.warehouse_sql import (
    check_identifier,
    merge_statements,
    utc_frame,
)


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
        self._delete_then_insert(table, frame, f"{check_identifier(column)} = ?", [value])

    def replace_range(self, table: str, column: str, first: Any, last: Any, chunks: Iterable[pl.DataFrame]) -> int:
        """Delete the rows where `first <= column <= last`, then insert each chunk, all in one transaction.

        The chunks are consumed one at a time (an iterator never has to hold the range in memory); an
        error from one, or a chunk with a `column` value outside the range, rolls the whole range back
        to its previous rows. Returns the rows inserted.
        """
        with self._range_writer(check_identifier(table), check_identifier(column), first, last) as insert:
            return sum(insert(_within(chunk, column, first, last)) for chunk in chunks)

    def append(self, table: str, frame: pl.DataFrame) -> None:
        self._delete_then_insert(table, frame, None, [])

    def row_count(self, table: str, where: str | None = None, params: Sequence[Any] = ()) -> int:
        if not self.table_exists(table):
            return 0
        sql = f"select count(*) as n from {check_identifier(table)}" + (f" where {where}" if where else "")
        return int(self.query(sql, params)["n"][0])

    @abstractmethod
    def _delete_then_insert(self, table: str, frame: pl.DataFrame, where: str | None, params: list[Any]) -> None: ...

    @abstractmethod
    def _range_writer(self, table: str, column: str, first: Any, last: Any
                      ) -> AbstractContextManager[Callable[[pl.DataFrame], int]]:
        """A transaction that has deleted the range's rows, and a function inserting one chunk into it."""


def _within(chunk: pl.DataFrame, column: str, first: Any, last: Any) -> pl.DataFrame:
    values = chunk[column]
    if values.null_count() or (chunk.height and not (first <= values.min() and values.max() <= last)):
        raise ValueError(f"a chunk holds {column} values outside {first}..{last} (or nulls): the range is not written")
    return chunk


RANGE_WRITE_MEMORY = "1GB"


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
        sql = f"select * from {check_identifier(table)}" + (f" where {where}" if where else "")
        return self.query(sql, params)

    def query(self, sql: str, params: Sequence[Any] = ()) -> pl.DataFrame:
        with self._connect() as con:
            rel = con.sql(sql, params=list(params) or None)
            return utc_frame(pl.from_arrow(rel.to_arrow_table()))  # type: ignore[arg-type]

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
            con.execute(f"create or replace table {check_identifier(table)} as select * from incoming")

    def replace_rows(self, table: str, frame: pl.DataFrame, key_columns: Sequence[str],
                     keep_when_null: Sequence[str] = ()) -> int:
        keys = ", ".join(check_identifier(k) for k in key_columns)
        matching = f"from {check_identifier(table)} where ({keys}) in (select {keys} from incoming)"
        with self._writing(frame) as con:
            self._ensure_table(con, table)
            if keep_when_null:
                update, insert = merge_statements(table, "incoming", frame.columns, key_columns, keep_when_null)
                updated = con.execute(update).fetchall()[0][0]
                con.execute(insert)
                return int(updated)
            replaced = con.execute(f"select count(*) {matching}").fetchall()[0][0]
            con.execute(f"delete {matching}")
            con.execute(f"insert into {table} by name select * from incoming")
        return int(replaced)

    def _delete_then_insert(self, table: str, frame: pl.DataFrame, where: str | None, params: list[Any]) -> None:
        with self._writing(frame) as con:
            self._ensure_table(con, check_identifier(table))
            if where:
                con.execute(f"delete from {table} where {where}", params)
            con.execute(f"insert into {table} by name select * from incoming")

    @contextmanager
    def _range_writer(self, table: str, column: str, first: Any, last: Any) -> Iterator[Callable[[pl.DataFrame], int]]:
        def insert(chunk: pl.DataFrame) -> int:
            con.register("incoming", chunk.head(0).to_arrow())
            try:
                self._ensure_table(con, table)
            finally:
                con.unregister("incoming")
            # Read through DuckDB's scan of this local variable: a frame registered inside a transaction
            # stays pinned in memory until the commit, which for a long range is every day of it.
            chunk_rows = chunk.to_arrow()  # noqa: F841
            con.execute(f"insert into {table} by name select * from chunk_rows")
            return chunk.height

        with self._connect() as con:
            # The range's rows go to the file as they come; without a cap DuckDB also keeps them cached
            # (2.5 MB a day of 50k properties: GBs for a two-year history).
            con.execute(f"set memory_limit = '{RANGE_WRITE_MEMORY}'")
            con.execute("begin transaction")
            try:
                if con.execute("select count(*) from information_schema.tables where table_name = ?",
                               [table]).fetchall()[0][0]:
                    con.execute(f"delete from {table} where {column} between ? and ?", [first, last])
                yield insert
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise

    @staticmethod
    def _ensure_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
        """Create the table from `incoming`, or add the columns a newer pipeline version brings."""
        con.execute(f"create table if not exists {table} as select * from incoming limit 0")
        existing = {r[0] for r in con.execute(f"describe {table}").fetchall()}
        for name, sql_type, *_ in con.execute("describe incoming").fetchall():
            if name not in existing:
                con.execute(f"alter table {table} add column {check_identifier(name)} {sql_type}")
