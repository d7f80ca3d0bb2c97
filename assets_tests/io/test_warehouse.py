"""Both warehouse backends keep the same contract: upserts, partitions, atomic failed writes."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from wholesaler_assets.io.warehouse import DuckDBWarehouse, WarehouseBackend
from wholesaler_assets.io.warehouse_postgres import PostgresWarehouse


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request, tmp_path) -> WarehouseBackend:
    if request.param == "duckdb":
        return DuckDBWarehouse(tmp_path / "w.duckdb")
    cluster = request.getfixturevalue("postgres_cluster")
    return PostgresWarehouse(cluster.create_database("warehouse"))


FRAME = pl.DataFrame({
    "k": ["a", "b", "c"],
    "day": [dt.date(2025, 1, 1), dt.date(2025, 1, 1), dt.date(2025, 1, 2)],
    "at": [dt.datetime(2025, 1, 1, 10, tzinfo=dt.UTC)] * 3,
    "value": [1.0, None, 3.0],
    "flag": [True, False, None],
})


def test_replace_table_round_trips_types(warehouse):
    warehouse.replace_table("t", FRAME)
    back = warehouse.read("t").sort("k")
    assert back.equals(FRAME)
    assert back.schema["at"] == pl.Datetime("us", "UTC")
    assert warehouse.table_exists("t") and not warehouse.table_exists("nope")


def test_replace_rows_upserts_by_key(warehouse):
    warehouse.replace_rows("t", FRAME, ["k"])
    replaced = warehouse.replace_rows("t", pl.DataFrame({**FRAME.head(1).to_dict(), "value": [9.0]}), ["k"])
    assert replaced == 1
    back = warehouse.read("t").sort("k")
    assert back["value"].to_list() == [9.0, None, 3.0]
    assert warehouse.row_count("t") == 3


def test_replace_partition_swaps_only_that_partition(warehouse):
    warehouse.replace_partition("t", FRAME.filter(pl.col("day") == dt.date(2025, 1, 1)), "day", dt.date(2025, 1, 1))
    warehouse.replace_partition("t", FRAME.filter(pl.col("day") == dt.date(2025, 1, 2)), "day", dt.date(2025, 1, 2))
    warehouse.replace_partition("t", FRAME.head(1), "day", dt.date(2025, 1, 1))
    assert warehouse.row_count("t") == 2
    assert warehouse.row_count("t", "day = ?", [dt.date(2025, 1, 2)]) == 1


def test_failed_write_keeps_the_last_good_rows(warehouse):
    warehouse.replace_rows("t", FRAME, ["k"])
    broken = FRAME.with_columns(pl.lit("not a number").alias("value"))
    with pytest.raises(Exception):  # noqa: B017 - each backend raises its own type
        warehouse.replace_rows("t", broken, ["k"])
    assert warehouse.read("t").sort("k").equals(FRAME)


def test_bad_identifier_is_refused(warehouse):
    with pytest.raises(ValueError, match="invalid table or column name"):
        warehouse.read("t; drop table t")


def test_a_newer_column_is_added_to_an_existing_table(warehouse):
    warehouse.replace_partition("t", FRAME.drop("flag"), "day", dt.date(2025, 1, 1))
    warehouse.replace_partition("t", FRAME.filter(pl.col("day") == dt.date(2025, 1, 2)), "day", dt.date(2025, 1, 2))
    back = warehouse.read("t").sort("k")
    assert back["flag"].to_list() == [None, None, None]
    warehouse.replace_rows("t", FRAME.head(1).with_columns(note=pl.lit("x")), ["k"])
    assert warehouse.read("t", "k = ?", ["a"])["note"][0] == "x"


def test_merge_keeps_stored_values_where_the_file_reported_nothing(warehouse):
    warehouse.replace_rows("t", FRAME, ["k"])
    update = pl.DataFrame({"k": ["a", "b", "z"], "day": [dt.date(2025, 2, 1)] * 3,
                           "at": [None, dt.datetime(2025, 2, 1, tzinfo=dt.UTC), None],
                           "value": [None, 5.0, 7.0], "flag": [None, None, True]},
                          schema_overrides={"at": pl.Datetime("us", "UTC")})
    replaced = warehouse.replace_rows("t", update, ["k"], keep_when_null=["value", "at"])
    assert replaced == 2
    back = warehouse.read("t").sort("k")
    assert back["k"].to_list() == ["a", "b", "c", "z"]
    assert back["value"].to_list() == [1.0, 5.0, 3.0, 7.0]  # a's stored value survives a null
    assert back["at"].to_list()[:2] == [dt.datetime(2025, 1, 1, 10, tzinfo=dt.UTC),
                                        dt.datetime(2025, 2, 1, tzinfo=dt.UTC)]
    assert back["flag"].to_list() == [None, None, None, True]  # not in keep_when_null: null overwrites
    assert back["day"].to_list()[:2] == [dt.date(2025, 2, 1)] * 2


def test_merge_leaves_columns_the_frame_lacks_untouched(warehouse):
    warehouse.replace_rows("t", FRAME, ["k"])
    warehouse.replace_rows("t", pl.DataFrame({"k": ["a"], "flag": [False]}), ["k"], keep_when_null=["flag"])
    back = warehouse.read("t", "k = ?", ["a"])
    assert back.row(0, named=True) | {"flag": True} == FRAME.row(0, named=True)
    assert back["flag"][0] is False


def _days(first: int, last: int, rows: int = 2):
    """Chunks of `rows` rows per day of January 2025, one chunk a day, made when asked for."""
    for d in range(first, last + 1):
        yield pl.DataFrame({"day": [dt.date(2025, 1, d)] * rows, "k": [f"{d}-{i}" for i in range(rows)]})


def test_replace_range_swaps_every_day_of_the_range_only(warehouse):
    assert warehouse.replace_range("r", "day", dt.date(2025, 1, 1), dt.date(2025, 1, 5), _days(1, 5)) == 10
    # Days 2..4 again with 3 rows each: replaced, not appended; days 1 and 5 untouched.
    assert warehouse.replace_range("r", "day", dt.date(2025, 1, 2), dt.date(2025, 1, 4), _days(2, 4, 3)) == 9
    counts = warehouse.query("select day, count(*) as n from r group by day order by day")
    assert counts["n"].to_list() == [2, 3, 3, 3, 2]
    # A range with no chunks empties its days.
    assert warehouse.replace_range("r", "day", dt.date(2025, 1, 4), dt.date(2025, 1, 5), iter([])) == 0
    assert warehouse.row_count("r") == 8


def test_replace_range_is_one_transaction(warehouse):
    warehouse.replace_range("r", "day", dt.date(2025, 1, 1), dt.date(2025, 1, 3), _days(1, 3))

    def failing():
        yield from _days(1, 2, 5)
        raise RuntimeError("day 3 could not be built")

    with pytest.raises(RuntimeError):
        warehouse.replace_range("r", "day", dt.date(2025, 1, 1), dt.date(2025, 1, 3), failing())
    with pytest.raises(ValueError, match="outside"):  # a chunk may not write beyond its range
        warehouse.replace_range("r", "day", dt.date(2025, 1, 1), dt.date(2025, 1, 2), _days(1, 3, 5))
    assert warehouse.query("select day, count(*) as n from r group by day order by day")["n"].to_list() == [2, 2, 2]
