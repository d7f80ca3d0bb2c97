"""The PostgreSQL warehouse (production): the `WarehouseBackend` contract through ADBC."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import polars as pl

from wholesaler_assets.io.warehouse import WarehouseBackend
from wholesaler_assets.io.warehouse_sql import (
    arrow_table,
    check_identifier,
    merge_statements,
    postgres_type,
    qmark_to_dollar,
    utc_frame,
)


class PostgresWarehouse(WarehouseBackend):
    """PostgreSQL through ADBC: Arrow batches in and out, writes in one transaction."""

    def __init__(self, url: str, schema: str = "public") -> None:
        self.url = url
        self.schema = check_identifier(schema)

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
        return f"{self.schema}.{check_identifier(table)}"

    def read(self, table: str, where: str | None = None, params: Sequence[Any] = ()) -> pl.DataFrame:
        sql = f"select * from {self._qualified(table)}" + (f" where {where}" if where else "")
        return self.query(sql, params)

    def query(self, sql: str, params: Sequence[Any] = ()) -> pl.DataFrame:
        sql = qmark_to_dollar(sql)
        with self._connect() as con, con.cursor() as cur:
            cur.execute(sql, list(params) if params else None)
            return utc_frame(pl.from_arrow(cur.fetch_arrow_table()))  # type: ignore[arg-type]

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
            cur.adbc_ingest(table, arrow_table(frame), mode="create", db_schema_name=self.schema)
            con.commit()

    def replace_rows(self, table: str, frame: pl.DataFrame, key_columns: Sequence[str],
                     keep_when_null: Sequence[str] = ()) -> int:
        keys = ", ".join(check_identifier(k) for k in key_columns)
        target = self._qualified(table)
        with self._connect() as con, con.cursor() as cur:
            self._ensure_table(cur, table, frame)
            cur.adbc_ingest("incoming_rows", arrow_table(frame), mode="create", temporary=True)
            if keep_when_null:
                update, insert = merge_statements(target, "incoming_rows", frame.columns, key_columns,
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
                cur.execute(qmark_to_dollar(f"delete from {self._qualified(table)} where {where}"), params)
            if frame.height:
                cur.adbc_ingest(table, arrow_table(frame), mode="append", db_schema_name=self.schema)
            con.commit()

    @contextmanager
    def _range_writer(self, table: str, column: str, first: Any, last: Any) -> Iterator[Callable[[pl.DataFrame], int]]:
        def insert(chunk: pl.DataFrame) -> int:
            self._ensure_table(cur, table, chunk)
            if chunk.height:
                cur.adbc_ingest(table, arrow_table(chunk), mode="append", db_schema_name=self.schema)
            return chunk.height

        with self._connect() as con, con.cursor() as cur:  # closed without a commit: rolled back
            cur.execute(qmark_to_dollar("select count(*) from information_schema.tables "
                                        "where table_schema = ? and table_name = ?"), [self.schema, table])
            if cur.fetchall()[0][0]:
                cur.execute(qmark_to_dollar(f"delete from {self._qualified(table)} where {column} between ? and ?"),
                            [first, last])
            yield insert
            con.commit()

    def _ensure_table(self, cur: Any, table: str, frame: pl.DataFrame) -> None:
        """Create the table from `frame`, or add the columns a newer pipeline version brings."""
        cur.execute(f"create schema if not exists {self.schema}")
        cur.execute(qmark_to_dollar("select column_name from information_schema.columns "
                                     "where table_schema = ? and table_name = ?"), [self.schema, table])
        existing = {row[0] for row in cur.fetchall()}
        if not existing:
            cur.adbc_ingest(table, arrow_table(frame.head(0)), mode="create", db_schema_name=self.schema)
            return
        for name, dtype in frame.schema.items():
            if name not in existing:
                cur.execute(f"alter table {self._qualified(table)} add column {check_identifier(name)} "
                            f"{postgres_type(dtype)}")
