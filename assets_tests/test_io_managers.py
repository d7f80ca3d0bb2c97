"""The IO managers on real stores: a partition's rows replaced in the warehouse (DuckDB and
PostgreSQL), companion tables by the same rule, and model files under the data folder."""

import datetime as dt

import dagster as dg
import polars as pl
import pytest

from wholesaler_assets.io.io_managers import ModelArtifactIOManager, WarehouseTableIOManager
from wholesaler_assets.resources import DataFolderResource, WarehouseResource

DAYS = dg.DailyPartitionsDefinition(start_date="2025-01-01", timezone="UTC")


class Rows(dg.Config):
    rows: int = 2


@dg.asset(partitions_def=DAYS, io_manager_key="tables", metadata={"partition_column": "snapshot_date"})
def daily_counts(context: dg.AssetExecutionContext, config: Rows) -> dict[str, pl.DataFrame]:
    """A daily table without its partition column (the IO manager fills it in) and a companion."""
    frame = pl.DataFrame({"n": list(range(config.rows))})
    return {"daily_counts": frame, "daily_counts_audit": frame.select(pl.len().alias("rows"))}


@dg.asset(partitions_def=DAYS, io_manager_key="tables")
def daily_totals(daily_counts: pl.DataFrame) -> pl.DataFrame:
    """Reads back exactly its partition's rows of daily_counts."""
    return pl.DataFrame({"rows_read": [daily_counts.height]})


@dg.asset(io_manager_key="models", metadata={"artifact_file": "toy/model.pkl"})
def toy_model() -> dict:
    """A model object pickled to the data folder."""
    return {"weights": [1.0, 2.0]}


@dg.asset(io_manager_key="models")
def toy_model_user(toy_model: dict) -> dg.MaterializeResult:
    """Loads the pickled model back."""
    return dg.MaterializeResult(metadata={"weights": dg.MetadataValue.json(toy_model["weights"])})


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request, tmp_path) -> WarehouseResource:
    if request.param == "duckdb":
        return WarehouseResource(backend="duckdb", duckdb_path=str(tmp_path / "w.duckdb"))
    url = request.getfixturevalue("postgres_cluster").create_database("io_manager")
    return WarehouseResource(backend="postgres", postgres_url=url, postgres_schema="leads")


def test_a_partition_is_replaced_and_read_back_alone(warehouse):
    resources = {"tables": WarehouseTableIOManager(warehouse=warehouse)}

    def run(day: str, rows: int) -> dg.ExecuteInProcessResult:
        return dg.materialize([daily_counts, daily_totals], resources=resources, partition_key=day,
                              run_config={"ops": {"daily_counts": {"config": {"rows": rows}}}})

    assert run("2025-01-01", 2).success and run("2025-01-02", 3).success
    again = run("2025-01-01", 4)  # a re-run replaces its own day only
    wh = warehouse.open()
    counts = wh.query("select snapshot_date, count(*) as n from daily_counts group by 1 order by 1")
    assert counts.rows() == [(dt.date(2025, 1, 1), 4), (dt.date(2025, 1, 2), 3)]
    assert wh.read("daily_counts_audit", "snapshot_date = ?", [dt.date(2025, 1, 1)])["rows"].to_list() == [4]
    assert again.output_for_node("daily_totals")["rows_read"].to_list() == [4]
    tables = again.asset_materializations_for_node("daily_counts")[0].metadata["tables"].value
    assert set(tables) == {"daily_counts", "daily_counts_audit"}


class Days(dg.Config):
    rows: int = 2
    skip: str | None = None  # a day the asset fails to build


@dg.asset(partitions_def=DAYS, io_manager_key="tables", metadata={"partition_column": "snapshot_date"},
          backfill_policy=dg.BackfillPolicy.single_run())
def daily_range(context: dg.AssetExecutionContext, config: Days):
    """A range's days made one at a time, as (partition key, frame) pairs the IO manager consumes."""
    def each_day():
        for key in context.partition_keys:
            if key != config.skip:
                yield key, pl.DataFrame({"n": list(range(config.rows))})
    return dg.Output(each_day())  # a bare generator returned would be taken for the op's events


def test_a_partition_range_replaces_every_day_of_it_in_one_run(warehouse):
    resources = {"tables": WarehouseTableIOManager(warehouse=warehouse)}
    wh = warehouse.open()

    def run(first: str, last: str, **config) -> dg.ExecuteInProcessResult:
        return dg.materialize([daily_range], resources=resources, raise_on_error=False, run_config={
            "ops": {"daily_range": {"config": config}}},
            tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last})

    def per_day() -> list[tuple[dt.date, int]]:
        return wh.query("select snapshot_date, count(*) as n from daily_range group by 1 order by 1").rows()

    first = run("2025-01-01", "2025-01-04")
    assert first.success
    assert [m.partition for m in first.asset_materializations_for_node("daily_range")] == [
        "2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"]
    assert run("2025-01-02", "2025-01-03", rows=5).success  # a re-run replaces its days only
    assert per_day() == [(dt.date(2025, 1, d), n) for d, n in ((1, 2), (2, 5), (3, 5), (4, 2))]
    # A day the asset did not build fails the run; nothing of the range is written or marked materialized.
    failed = run("2025-01-01", "2025-01-04", rows=7, skip="2025-01-03")
    assert not failed.success and not failed.asset_materializations_for_node("daily_range")
    assert "1 partition(s) of the range were not built (first: 2025-01-03)" in next(
        e for e in failed.all_events if e.is_step_failure).event_specific_data.error.cause.message
    assert per_day() == [(dt.date(2025, 1, d), n) for d, n in ((1, 2), (2, 5), (3, 5), (4, 2))]


def test_a_model_round_trips_through_the_data_folder(tmp_path):
    resources = {"models": ModelArtifactIOManager(data_folder=DataFolderResource(root=str(tmp_path)))}
    result = dg.materialize([toy_model, toy_model_user], resources=resources)
    assert result.success
    assert (tmp_path / "models" / "toy" / "model.pkl").exists()
    assert result.asset_materializations_for_node("toy_model_user")[0].metadata["weights"].value == [1.0, 2.0]
