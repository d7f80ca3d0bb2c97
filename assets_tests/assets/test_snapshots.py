"""Snapshots and lead tables through Dagster: gates pass on good data, block downstream on bad."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import polars as pl
import pytest

from wholesaler_assets.assets.ingestion import raw_assets
from wholesaler_assets.assets.snapshots import comparable_sales, lead_tables, property_snapshots
from wholesaler_assets.domain.gates.tables import SNAPSHOT_CHECKS
from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig
from wholesaler_assets.io.landing import DataLayout
from wholesaler_assets.io.synthetic_files import write_market
from wholesaler_assets.partitions import range_tags
from wholesaler_assets.resources import DatasetResource

MARKET = MarketConfig(n_properties=2_000, seed=21, dirt=DirtConfig.clean())
FIXTURES = __import__("pathlib").Path(__file__).parents[1] / "fixtures" / "byo"


@dg.asset(deps=[property_snapshots], partitions_def=property_snapshots.partitions_def,
          backfill_policy=dg.BackfillPolicy.single_run())
def snapshot_consumer() -> None:
    """Stands in for the training table: it must not run when a blocking snapshot gate fails."""


@pytest.fixture
def ingested(data_root, embedded_resources):
    layout = DataLayout(data_root)
    write_market(MARKET, layout.landing, layout.ground_truth)
    assert dg.materialize(raw_assets, resources=embedded_resources).success
    return embedded_resources


def _snapshot(resources, day: dt.date, config: dict | None = None, with_consumer: bool = False):
    assets = [property_snapshots, snapshot_consumer] if with_consumer else [property_snapshots]
    run_config = {"ops": {"property_snapshots": {"config": config}}} if config else None
    return dg.materialize(assets, resources=resources, partition_key=day.isoformat(), run_config=run_config,
                          raise_on_error=False, selection=[a.key for a in assets])


def _failed_checks(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations() if not e.passed}


def test_snapshot_partitions_pass_their_gates(ingested):
    warehouse = ingested["warehouse"].open()
    for day in (dt.date(2025, 6, 30), dt.date(2025, 7, 31)):
        result = _snapshot(ingested, day, with_consumer=True)
        assert result.success
        assert not _failed_checks(result)
        assert {e.partition for e in result.get_asset_check_evaluations()} == {day.isoformat()}  # per partition
        assert result.asset_materializations_for_node("snapshot_consumer")
    snaps = warehouse.read("property_snapshots")
    assert set(snaps["snapshot_date"].unique()) == {dt.date(2025, 6, 30), dt.date(2025, 7, 31)}
    assert (snaps["record_effective_date"] <= snaps["snapshot_date"]).all()
    assert snaps.filter(pl.col("snapshot_date") == dt.date(2025, 6, 30)).height == MARKET.n_properties
    # Re-running a partition replaces it instead of appending.
    assert _snapshot(ingested, dt.date(2025, 6, 30)).success
    assert warehouse.row_count("property_snapshots") == snaps.height


def test_incomplete_required_column_fails_and_blocks_downstream(ingested):
    warehouse = ingested["warehouse"].open()
    props = warehouse.read("raw_properties")
    warehouse.replace_table("raw_properties", props.with_columns(
        market_value=pl.when(pl.int_range(pl.len()) % 10 == 0).then(None).otherwise(pl.col("market_value"))))
    result = _snapshot(ingested, dt.date(2025, 6, 30), with_consumer=True)
    assert not result.success
    failed = _failed_checks(result)
    assert set(failed) == {"required_columns_complete"}
    assert "market_value" in failed["required_columns_complete"].metadata["failing_columns"].value
    assert "below 95% complete" in failed["required_columns_complete"].description
    assert not result.asset_materializations_for_node("snapshot_consumer")


def test_row_count_jump_against_previous_partition_fails(ingested):
    assert _snapshot(ingested, dt.date(2025, 6, 30)).success
    warehouse = ingested["warehouse"].open()
    props = warehouse.read("raw_properties")
    keep = props["property_id"].unique().sort().head(MARKET.n_properties // 2)
    warehouse.replace_table("raw_properties", props.filter(pl.col("property_id").is_in(keep.implode())))
    result = _snapshot(ingested, dt.date(2025, 7, 31), with_consumer=True)
    failed = _failed_checks(result)
    assert set(failed) == {"row_count_change_within_band"}
    metadata = failed["row_count_change_within_band"].metadata
    assert metadata["previous_rows"].value == MARKET.n_properties
    assert metadata["change_share"].value == pytest.approx(-0.5)
    assert not result.asset_materializations_for_node("snapshot_consumer")
    # The band is configuration: a wider one lets the same change through.
    assert _snapshot(ingested, dt.date(2025, 7, 31), {"max_row_count_change": 0.6}).success


def _snapshot_range(resources, first: dt.date, last: dt.date, with_consumer: bool = False,
                    instance: dg.DagsterInstance | None = None):
    """One run over every day from `first` to `last`, as the UI's backfill of that range launches it."""
    assets = [property_snapshots, snapshot_consumer] if with_consumer else [property_snapshots]
    return dg.materialize(assets, resources=resources, tags=range_tags(first, last), raise_on_error=False,
                          selection=[a.key for a in assets], instance=instance)


FIRST, LAST = dt.date(2025, 6, 27), dt.date(2025, 7, 3)
RANGE_KEYS = [(FIRST + dt.timedelta(days=i)).isoformat() for i in range((LAST - FIRST).days + 1)]


def test_a_range_is_one_run_that_builds_every_day_as_a_day_alone_would(ingested):
    result = _snapshot_range(ingested, FIRST, LAST, with_consumer=True)
    assert result.success
    materialized = result.asset_materializations_for_node("property_snapshots")
    assert [m.partition for m in materialized] == RANGE_KEYS  # every day of the range, in one run
    assert {m.metadata["snapshot_date"].value for m in materialized} == set(RANGE_KEYS)  # each day its own figures
    assert all(m.metadata["dagster/row_count"].value == MARKET.n_properties for m in materialized)
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == len(SNAPSHOT_CHECKS) * len(RANGE_KEYS) and all(e.passed for e in evaluations)
    assert {(e.check_name, e.partition) for e in evaluations} == {(c, k) for c in SNAPSHOT_CHECKS for k in RANGE_KEYS}
    assert all(e.target_materialization_data.run_id == result.run_id for e in evaluations)
    assert result.asset_materializations_for_node("snapshot_consumer")
    warehouse = ingested["warehouse"].open()
    day = dt.date(2025, 6, 30)
    from_range = warehouse.read("property_snapshots", "snapshot_date = ?", [day]).sort("property_id")
    assert _snapshot(ingested, day).success  # the same day alone builds the same rows
    assert warehouse.read("property_snapshots", "snapshot_date = ?", [day]).sort("property_id").equals(from_range)
    # Re-running the range replaces its days: no duplicates.
    assert _snapshot_range(ingested, FIRST, LAST).success
    assert warehouse.row_count("property_snapshots") == len(RANGE_KEYS) * MARKET.n_properties
    # A backfill of one day is a range run too: its checks are still recorded under the day.
    one_day = _snapshot_range(ingested, day, day)
    assert one_day.success and {e.partition for e in one_day.get_asset_check_evaluations()} == {"2025-06-30"}
    assert warehouse.row_count("property_snapshots") == len(RANGE_KEYS) * MARKET.n_properties


def test_a_failed_gate_on_one_day_of_a_range_fails_the_check_and_names_the_day(ingested):
    """Half the properties first become known on 2025-07-01: that day's row count doubles."""
    jump = dt.date(2025, 7, 1)
    warehouse = ingested["warehouse"].open()
    props = warehouse.read("raw_properties")
    late = props["property_id"].unique().sort().head(MARKET.n_properties // 2).implode()
    warehouse.replace_table("raw_properties", props.with_columns(effective_date=pl.when(
        pl.col("property_id").is_in(late)).then(pl.max_horizontal("effective_date", pl.lit(jump)))
        .otherwise(pl.col("effective_date"))))
    instance = dg.DagsterInstance.ephemeral()
    result = _snapshot_range(ingested, FIRST, LAST, with_consumer=True, instance=instance)
    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [(e.check_name, e.partition) for e in failed] == [("row_count_change_within_band", "2025-07-01")]
    assert failed[0].description.startswith("[2025-07-01] row count 1000 -> 2000")
    assert failed[0].metadata["partition"].value == "2025-07-01" and failed[0].blocking
    assert not result.asset_materializations_for_node("snapshot_consumer")  # downstream stops
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "row_count_change_within_band" in failure.event_specific_data.error.message
    logged = [e.user_message for e in instance.all_logs(result.run_id) if "failed on 1 day(s)" in e.user_message]
    assert logged == ["gate row_count_change_within_band failed on 1 day(s): 2025-07-01"]


def test_a_range_starting_before_any_property_fails_before_writing(ingested):
    """No property record is known before 2025-01-03 here: a range from 2025-01-01 fails, naming that day."""
    warehouse = ingested["warehouse"].open()
    props = warehouse.read("raw_properties")
    warehouse.replace_table("raw_properties", props.with_columns(
        effective_date=pl.max_horizontal("effective_date", pl.lit(dt.date(2025, 1, 3)))))
    result = _snapshot_range(ingested, dt.date(2025, 1, 1), dt.date(2025, 1, 5))
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "no property record is effective on or before 2025-01-01" in str(failure.event_specific_data.error)
    assert not result.asset_materializations_for_node("property_snapshots")
    assert not ingested["warehouse"].open().table_exists("property_snapshots")


def test_snapshot_before_any_property_is_known_fails_with_a_reason(embedded_resources):
    result = _snapshot(embedded_resources, dt.date(2024, 1, 1))
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "no property record is effective on or before 2024-01-01" in str(failure.event_specific_data.error)


def test_lead_tables_and_comparables_from_the_landing_sources(ingested):
    result = dg.materialize([lead_tables, comparable_sales], resources=ingested)
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    warehouse = ingested["warehouse"].open()
    contacts = warehouse.read("lead_contacts")
    assert "owner_phone" not in contacts.columns
    assert contacts["contact_time"].is_sorted()
    outcomes = warehouse.read("lead_outcomes")
    assert {"call_booked_at", "qualified_at", "contract_signed_at", "purchase_price"} <= set(outcomes.columns)
    assert outcomes.filter(pl.col("contract_signed_at").is_not_null())["purchase_price"].is_not_null().all()
    sales = warehouse.read("comparable_sales")
    assert (sales["price_per_sqft"] > 0).all()
    catalog = warehouse.read("dataset_catalog")
    assert catalog["dataset_name"][0] == "synthetic_market"


def test_lead_tables_from_a_dataset_spec(embedded_resources):
    resources = {**embedded_resources, "dataset": DatasetResource(spec_path=str(FIXTURES / "acme_leads.yaml"))}
    result = dg.materialize([lead_tables], resources=resources)
    assert result.success
    warehouse = resources["warehouse"].open()
    contacts = warehouse.read("lead_contacts")
    assert contacts.height == 12
    assert {"list_source", "equity_pct", "absentee"} <= set(contacts.columns)
    assert not {"owner_name", "phone", "crm_ref"} & set(contacts.columns)
    metadata = next(m for m in result.asset_materializations_for_node("lead_tables")
                    if m.asset_key == dg.AssetKey("lead_contacts")).metadata
    assert metadata["targets"].value == {"booked_call_7d": "outcome_time", "qualified_14d": "outcome_time"}


def test_rejected_lead_file_fails_the_run_and_keeps_the_previous_tables(embedded_resources, tmp_path, data_root):
    resources = {**embedded_resources, "dataset": DatasetResource(spec_path=str(FIXTURES / "acme_leads.yaml"))}
    assert dg.materialize([lead_tables], resources=resources).success
    broken_spec = tmp_path / "broken.yaml"
    (tmp_path / "broken.csv").write_bytes(b"lead_id,contacted_at,call_booked_at\n\xff\xfe,2025\n")
    broken_spec.write_text((FIXTURES / "acme_leads.yaml").read_text().replace("acme_leads.csv", "broken.csv")
                           .replace("qualified_14d: {outcome_time: qualified_at}", ""))
    resources["dataset"] = DatasetResource(spec_path=str(broken_spec))
    result = dg.materialize([lead_tables], resources=resources, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "not valid UTF-8" in failure.event_specific_data.error.message
    assert resources["warehouse"].open().row_count("lead_contacts") == 12
    assert (DataLayout(data_root).quarantine / "dataset_spec" / "acme_leads.reason.json").exists()
