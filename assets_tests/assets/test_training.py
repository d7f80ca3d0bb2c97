"""Training tables through Dagster: gates pass on the synthetic market and block training when they fail."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from wholesaler_assets.assets.ingestion import raw_assets
from wholesaler_assets.assets.snapshots import comparable_sales, lead_tables
from wholesaler_assets.assets.training import (
    contact_features,
    feature_selection,
    statistical_validation,
    training_table,
)
from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig
from wholesaler_assets.io.landing import DataLayout
from wholesaler_assets.io.synthetic_files import write_market
from wholesaler_assets.resources import DatasetResource

MARKET = MarketConfig(n_properties=4_000, seed=5, dirt=DirtConfig.clean())
FIXTURES = Path(__file__).parents[1] / "fixtures" / "byo"
PER_TARGET = [training_table, statistical_validation, feature_selection]


@dg.asset(deps=[feature_selection], partitions_def=training_table.partitions_def)
def model_stand_in() -> None:
    """Stands in for model training: it must not run when a blocking training-table gate fails."""


@pytest.fixture(scope="module")
def market_warehouse(tmp_path_factory, ingest_market) -> Path:
    """One ingested market with weekly snapshots per module; each test works on its own copy."""
    root = tmp_path_factory.mktemp("market")
    ingest_market(root, MARKET, root / "mlruns", every_days=7)  # never the project's own MLflow store
    return root / "warehouse.duckdb"


@pytest.fixture
def market_resources(market_warehouse, data_root, embedded_resources):
    shutil.copy(market_warehouse, data_root / "warehouse.duckdb")
    return embedded_resources


def _per_target(resources, target: str, run_config=None, extra=()) -> dg.ExecuteInProcessResult:
    assets = [*PER_TARGET, *extra]
    return dg.materialize(assets, resources=resources, partition_key=target, run_config=run_config,
                          raise_on_error=False)


def _failed(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations() if not e.passed}


def test_all_three_tables_build_and_pass_their_gates(market_resources, data_root):
    assert dg.materialize([contact_features], resources=market_resources).success
    warehouse = market_resources["warehouse"].open()
    for target in ("booked_call_7d", "qualified_14d", "deal_30d"):
        result = _per_target(market_resources, target, extra=[model_stand_in])
        blocking = {k: e for k, e in _failed(result).items() if e.severity == dg.AssetCheckSeverity.ERROR}
        assert not blocking, {k: e.description for k, e in blocking.items()}
        assert result.asset_materializations_for_node("model_stand_in")
        metadata = result.asset_materializations_for_node("training_table")[0].metadata
        assert metadata["censored_contacts"].value > 0
        table = warehouse.read("training_table", "target = ?", [target])
        assert table["contact_time"].is_sorted()
        assert table["contact_id"].n_unique() == table.height
        assert not {"owner_phone", "owner_name", "address"} & set(table.columns)
        folds = warehouse.read("training_folds", "target = ?", [target])
        assert set(folds["fold"]) == {1, 2, 3, 4}
        selection = warehouse.read("feature_selection", "target = ?", [target])
        assert set(selection["fold"]) == {0, 1, 2, 3, 4}  # the final choice and one per fold
        selected = selection.filter(pl.col("fold") == 0)
        assert selected["selected"].sum() > 5
        assert selected.filter(~pl.col("selected"))["reason"].is_not_null().all()
        assert (data_root / "reports" / f"statistical_validation_{target}.md").exists()
        assert (data_root / "reports" / f"feature_order_{target}.json").exists()
    assert (data_root / "reports" / "feature_contract_synthetic_market.json").exists()


def test_only_the_snapshot_rows_contacts_match_leave_the_warehouse(market_resources):
    """A daily history is tens of millions of rows: the warehouse picks each contact's latest snapshot on
    or before its day, and the features are the same as from every snapshot of the contacted properties."""
    from wholesaler_assets.domain.features.contact_features import source_contact_features
    from wholesaler_assets.domain.features.warehouse_records import SNAPSHOT_COLUMNS
    from wholesaler_assets.io.inputs import contact_feature_inputs

    warehouse = market_resources["warehouse"].open()
    inputs = contact_feature_inputs(warehouse)
    every = warehouse.query(f"select {', '.join(SNAPSHOT_COLUMNS)} from property_snapshots "
                            "where property_id in (select property_id from lead_contacts)")
    assert inputs["snapshots"].height < every.height / 5
    assert source_contact_features(inputs["contacts"], inputs["snapshots"], inputs["sales"]).equals(
        source_contact_features(inputs["contacts"], every, inputs["sales"]))


def test_planted_future_feature_blocks_training(market_resources):
    warehouse = market_resources["warehouse"].open()
    snapshots = warehouse.read("property_snapshots")
    warehouse.replace_table("property_snapshots", snapshots.with_columns(
        record_effective_date=pl.when(pl.col("property_id").str.ends_with("7"))
        .then(pl.col("snapshot_date") + dt.timedelta(days=10)).otherwise(pl.col("record_effective_date"))))
    assert dg.materialize([contact_features], resources=market_resources).success
    result = _per_target(market_resources, "booked_call_7d", extra=[model_stand_in])
    failed = _failed(result)
    assert "nothing_known_after_contact" in failed
    assert failed["nothing_known_after_contact"].metadata["rows"].value > 0
    assert not result.asset_materializations_for_node("feature_selection")
    assert not result.asset_materializations_for_node("model_stand_in")


def test_duplicated_lead_contact_blocks_training(market_resources):
    warehouse = market_resources["warehouse"].open()
    contacts = warehouse.read("lead_contacts")
    warehouse.replace_table("lead_contacts", pl.concat([contacts, contacts.head(3)]))
    assert dg.materialize([contact_features], resources=market_resources).success
    result = _per_target(market_resources, "booked_call_7d")
    failed = _failed(result)
    assert set(failed) == {"no_duplicated_leads"}
    assert failed["no_duplicated_leads"].metadata["duplicated_keys"].value == 3
    assert not result.success


def test_positive_share_band_is_configuration(market_resources):
    assert dg.materialize([contact_features], resources=market_resources).success
    config = {"ops": {"training_table": {"config": {"positive_share_low": 0.2, "positive_share_high": 0.3}}}}
    result = _per_target(market_resources, "booked_call_7d", run_config=config)
    failed = _failed(result)
    assert set(failed) == {"positive_share_in_band"}
    assert "outside the band 20.00%-30.00%" in failed["positive_share_in_band"].description


def test_table_breaking_the_feature_contract_blocks_training_naming_the_column(market_resources):
    warehouse = market_resources["warehouse"].open()
    contacts = warehouse.read("lead_contacts")
    warehouse.replace_table("lead_contacts", contacts.with_columns(
        campaign_step=pl.when(pl.int_range(pl.len()) % 50 == 0).then(0).otherwise(pl.col("campaign_step"))))
    assert dg.materialize([contact_features], resources=market_resources).success
    result = _per_target(market_resources, "booked_call_7d")
    failed = _failed(result)
    assert set(failed) == {"matches_feature_contract"}
    offending = failed["matches_feature_contract"].metadata["offending_columns"].value
    assert list(offending) == ["campaign_step"]
    assert not result.asset_materializations_for_node("feature_selection")


def test_missing_snapshots_fail_with_a_reason(data_root, embedded_resources):
    layout = DataLayout(data_root)
    write_market(MarketConfig(n_properties=1_000, seed=2, dirt=DirtConfig.clean()), layout.landing,
                 layout.ground_truth)
    assert dg.materialize([*raw_assets, lead_tables, comparable_sales], resources=embedded_resources).success
    result = dg.materialize([contact_features], resources=embedded_resources, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "no property snapshots yet" in failure.event_specific_data.error.message


@pytest.mark.parametrize(
    ("spec", "built", "skipped"),
    [("acme_leads.yaml", ["booked_call_7d", "qualified_14d"], ["deal_30d"]),
     ("labelled_leads.yaml", ["booked_call_7d"], ["qualified_14d", "deal_30d"])],
)
def test_tables_build_from_a_dataset_spec(embedded_resources, spec, built, skipped):
    resources = {**embedded_resources, "dataset": DatasetResource(spec_path=str(FIXTURES / spec))}
    config = {"ops": {"lead_tables": {"config": {"max_bad_row_share": 0.5}}}}
    assert dg.materialize([lead_tables], resources=resources, run_config=config).success
    assert dg.materialize([contact_features], resources=resources).success
    small = {"ops": {"training_table": {"config": {"n_folds": 2, "min_snapshot_match": 0.95}}}}
    for target in built:
        result = dg.materialize([training_table], resources=resources, partition_key=target, run_config=small)
        assert result.success
        checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
        assert checks["snapshot_match_share"].passed  # not applicable to a lead file
        assert result.asset_materializations_for_node("training_table")
    for target in skipped:
        result = dg.materialize([training_table], resources=resources, partition_key=target)
        assert result.success
        assert not result.asset_materializations_for_node("training_table")  # skipped, not faked
    table = resources["warehouse"].open().read("training_table")
    assert set(table["target"]) == set(built)


def test_feature_selection_never_sees_holdout_rows(market_resources):
    assert dg.materialize([contact_features], resources=market_resources).success
    assert _per_target(market_resources, "booked_call_7d").success
    warehouse = market_resources["warehouse"].open()
    table = warehouse.read("training_table")
    # `sqft` is planted to be the label itself in the holdout and uninformative in training rows.
    planted = table.with_columns(sqft=pl.when(pl.col("split") == "holdout").then(pl.col("label") * 1_000.0 + 500)
                                 .otherwise(pl.lit(1_500.0)))
    warehouse.replace_table("training_table", planted)
    # Not about the check against all features (which may keep every feature): the filters' own view.
    never_overrule = {"ops": {"feature_selection": {"config": {"max_selection_loss": 1.0}}}}
    result = dg.materialize([feature_selection], resources=market_resources, partition_key="booked_call_7d",
                            run_config=never_overrule)
    assert result.success
    selection = warehouse.read("feature_selection", "target = ? and fold = 0", ["booked_call_7d"])
    sqft = selection.filter(pl.col("feature") == "sqft").row(0, named=True)
    assert not sqft["selected"]
    assert sqft["reason"].startswith("IV 0.0000")
