"""Snapshots and lead tables through Dagster: gates pass on good data, block downstream on bad."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import polars as pl
import pytest

from wholesaler_assets.assets.ingestion import raw_assets
from wholesaler_assets.assets.snapshots import comparable_sales, lead_tables, property_snapshots
from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig
from wholesaler_assets.io.landing import DataLayout
from wholesaler_assets.io.synthetic_files import write_market
from wholesaler_assets.resources import DatasetResource

MARKET = MarketConfig(n_properties=2_000, seed=21, dirt=DirtConfig.clean())
FIXTURES = __import__("pathlib").Path(__file__).parents[1] / "fixtures" / "byo"


@dg.asset(deps=[property_snapshots], partitions_def=property_snapshots.partitions_def)
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
