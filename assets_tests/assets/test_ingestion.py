"""The raw_* assets on a real synthetic market: good rows land, bad files and rows are quarantined."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import dagster as dg
import polars as pl
import pytest

from wholesaler_assets.assets.ingestion import raw_assets
from wholesaler_assets.automation import landing_file_sensor
from wholesaler_assets.domain.contracts.sources import SOURCES
from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig
from wholesaler_assets.io.landing import DataLayout
from wholesaler_assets.io.synthetic_files import write_market

SMALL_DIRTY = MarketConfig(n_properties=3_000, seed=11, dirt=DirtConfig(bad_files=4))
CLEAN = MarketConfig(n_properties=1_000, seed=3, dirt=DirtConfig.clean())


def _ingest(resources, run_config=None) -> dg.ExecuteInProcessResult:
    return dg.materialize(raw_assets, resources=resources, run_config=run_config, raise_on_error=False)


def _checks(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {f"{e.asset_key.to_user_string()}.{e.check_name}": e for e in result.get_asset_check_evaluations()}


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
def test_dirty_market_loads_good_rows_and_quarantines_the_rest(data_root, embedded_resources, file_format):
    layout = DataLayout(data_root)
    write_market(replace(SMALL_DIRTY, file_format=file_format), layout.landing, layout.ground_truth)
    result = _ingest(embedded_resources)
    assert result.success  # bad input is quarantined, it does not fail the run
    warnings = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert len(warnings) == 4 and all("(planted on purpose by the synthetic market)" in e.description
                                      for e in warnings)  # the UI says these are the demo's own

    warehouse = embedded_resources["warehouse"].open()
    manifest = warehouse.read("ingest_manifest")
    rejected = manifest.filter(pl.col("status") == "rejected")
    reasons = " | ".join(rejected["reason"].to_list())
    assert rejected.height == 4
    for expected in ("missing required column", "not valid UTF-8", "truncated or corrupt", "empty file"):
        assert expected in reasons
    for path in rejected["quarantine_path"]:
        reason = json.loads((layout.quarantine / path.split("/quarantine/")[1]).with_suffix(
            (layout.quarantine / path.split("/quarantine/")[1]).suffix + ".reason.json").read_text())
        assert reason["reason"] and reason["sha256"]

    loaded = manifest.filter(pl.col("status") == "loaded")
    assert loaded["rows_quarantined"].sum() > 0  # malformed rows were caught
    assert loaded["duplicates_dropped"].sum() > 0
    bad_row_files = list((layout.quarantine).glob("*/rows/*.bad_rows.csv"))
    assert bad_row_files
    assert "_reasons" in pl.read_csv(bad_row_files[0], infer_schema=False).columns
    for source in SOURCES:
        assert warehouse.row_count(f"raw_{source}") > 0
        assert layout.pending_files(source) == []  # every file was moved out of the inbox

    checks = _checks(result)
    failed = {k for k, e in checks.items() if not e.passed}
    assert failed  # the WARN check names the sources whose files were rejected
    assert all(checks[k].severity == dg.AssetCheckSeverity.WARN for k in failed)
    metadata = result.asset_materializations_for_node("raw_contacts")[0].metadata
    assert metadata["rows_upserted"].value == warehouse.row_count("raw_contacts")
    if file_format == "csv":  # text in a numeric column only exists in CSV
        reasons = " ".join(loaded["source"].to_list())
        bad_cells = pl.concat([pl.read_csv(f, infer_schema=False).select("_reasons") for f in bad_row_files])
        assert bad_cells["_reasons"].str.contains("is not a valid").any(), reasons


def test_a_later_file_corrects_rows_by_key(data_root, embedded_resources):
    layout = DataLayout(data_root)
    write_market(CLEAN, layout.landing, layout.ground_truth)
    assert _ingest(embedded_resources).success
    warehouse = embedded_resources["warehouse"].open()
    first = warehouse.read("raw_sales").sort("sale_id").head(3)
    corrected = first.drop("source_file").with_columns(sale_price=pl.col("sale_price") + 1_000)
    corrected.write_parquet(layout.inbox("sales") / "sales-corrections.parquet")
    result = _ingest(embedded_resources)
    assert result.success
    after = warehouse.read("raw_sales", "sale_id in (?, ?, ?)", first["sale_id"].to_list()).sort("sale_id")
    assert after["sale_price"].to_list() == [p + 1_000 for p in first["sale_price"]]
    assert set(after["source_file"]) == {"sales-corrections.parquet"}
    metadata = result.asset_materializations_for_node("raw_sales")[0].metadata
    assert metadata["rows_replacing_earlier_versions"].value == 3
    assert warehouse.row_count("raw_sales") == metadata["dagster/row_count"].value


def test_reingesting_the_same_file_is_a_no_op(data_root, embedded_resources):
    layout = DataLayout(data_root)
    write_market(CLEAN, layout.landing, layout.ground_truth)
    assert _ingest(embedded_resources).success
    warehouse = embedded_resources["warehouse"].open()
    before = warehouse.read("raw_properties").sort("property_id", "effective_date")

    processed = sorted((layout.processed / "properties").iterdir())[0]
    shutil.copy(processed, layout.inbox("properties") / f"again-{processed.name}")
    result = _ingest(embedded_resources)
    assert result.success
    after = warehouse.read("raw_properties").sort("property_id", "effective_date")
    assert after.equals(before)
    metadata = result.asset_materializations_for_node("raw_properties")[0].metadata
    assert metadata["files_already_ingested"].value == 1
    assert metadata["rows_upserted"].value == 0
    assert warehouse.row_count("ingest_manifest", "status = ?", ["loaded"]) == len(SOURCES)  # one file each


def test_bad_file_later_keeps_the_last_good_data_served(data_root, embedded_resources):
    layout = DataLayout(data_root)
    write_market(CLEAN, layout.landing, layout.ground_truth)
    assert _ingest(embedded_resources).success
    warehouse = embedded_resources["warehouse"].open()
    before = warehouse.read("raw_sales").sort("sale_id")

    good = sorted((layout.processed / "sales").iterdir())[0].read_bytes()
    (layout.inbox("sales") / "sales-2026-11.parquet").write_bytes(good[: len(good) // 3])
    (layout.inbox("sales") / "sales-2026-11b.csv").write_text("sale_id,sale_date\nS00000001,2025-01-01\n")
    result = _ingest(embedded_resources)
    assert result.success
    assert warehouse.read("raw_sales").sort("sale_id").equals(before)
    check = _checks(result)["raw_sales.no_rejected_files"]
    assert not check.passed
    assert "sales-2026-11.parquet: unreadable Parquet" in check.description
    assert "missing required column(s): metro, zip_code, sale_price" in check.description
    assert "planted" not in check.description  # a user's bad file is a problem, not the demo's planted one
    assert (layout.quarantine / "sales" / "sales-2026-11.parquet.reason.json").exists()
    metadata = result.asset_materializations_for_node("raw_sales")[0].metadata
    assert metadata["files_rejected"].value == 2


def test_ingestion_can_generate_the_synthetic_market_itself(data_root, embedded_resources):
    config = {"ops": {a.key.to_python_identifier(): {"config": {
        "generate_synthetic_market": True, "synthetic_properties": 1_000, "synthetic_seed": 5}} for a in raw_assets}}
    result = _ingest(embedded_resources, run_config=config)
    assert result.success
    warehouse = embedded_resources["warehouse"].open()
    assert warehouse.row_count("raw_properties") >= 1_000
    assert (DataLayout(data_root).ground_truth / "contact_probabilities.parquet").exists()
    # A second run finds the marker and does not write the market again.
    assert _ingest(embedded_resources, run_config=config).success
    assert warehouse.row_count("ingest_manifest", "status = ?", ["already_ingested"]) == 0


def _look(instance, folder, cursor=None):
    """One sensor tick on a real instance; returns the result and the cursor it left."""
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"data_folder": folder})
    return landing_file_sensor(context), context.cursor


def test_sensor_requests_a_run_only_for_files_seen_unchanged_twice(data_root, embedded_resources):
    layout = DataLayout(data_root)
    layout.ensure()
    folder = embedded_resources["data_folder"]
    with dg.instance_for_test() as instance:
        skip, cursor = _look(instance, folder)
        assert isinstance(skip, dg.SkipReason)

        (layout.inbox("contacts") / "contacts-new.csv").write_text("contact_id\n")
        first, cursor = _look(instance, folder, cursor)
        assert isinstance(first, dg.SkipReason) and "still arriving" in first.skip_message
        request, cursor = _look(instance, folder, cursor)
        assert isinstance(request, dg.RunRequest)
        assert dg.AssetKey("raw_contacts") in request.asset_selection
        assert dg.AssetKey("raw_properties") not in request.asset_selection
        assert dg.AssetKey("lead_contacts") in request.asset_selection
        files = request.run_config["ops"]["raw_contacts"]["config"]["files"]
        assert [f["name"] for f in files] == ["contacts-new.csv"]
        again, cursor = _look(instance, folder, cursor)
        assert again.run_key == request.run_key  # the same files never launch two runs


def test_sensor_waits_while_a_file_grows_and_takes_a_done_file_at_once(data_root, embedded_resources):
    layout = DataLayout(data_root)
    layout.ensure()
    folder = embedded_resources["data_folder"]
    growing = layout.inbox("sales") / "sales-copying.csv"
    with dg.instance_for_test() as instance:
        cursor = None
        for rows in range(1, 4):  # every look finds the copy longer
            growing.write_text("sale_id\n" + "S00000001\n" * rows)
            result, cursor = _look(instance, folder, cursor)
            assert isinstance(result, dg.SkipReason), rows
        marked = layout.inbox("outcomes") / "outcomes-sent.csv"
        marked.write_text("outcome_id\n")
        marked.with_name(marked.name + ".done").write_text("")
        growing.write_text("sale_id\n" + "S00000001\n" * 4)
        request, cursor = _look(instance, folder, cursor)
        assert isinstance(request, dg.RunRequest)
        assert "raw_outcomes" in request.run_config["ops"] and "raw_sales" not in request.run_config["ops"]
        request, cursor = _look(instance, folder, cursor)  # the copy stopped growing
        assert set(request.run_config["ops"]) == {"raw_outcomes", "raw_sales"}


def test_sensor_request_runs_ingestion_of_the_waiting_files(data_root, embedded_resources):
    from wholesaler_assets.definitions import build_definitions

    layout = DataLayout(data_root)
    write_market(CLEAN, layout.landing, layout.ground_truth)
    defs = build_definitions(embedded_resources)
    folder = embedded_resources["data_folder"]
    with dg.instance_for_test() as instance:
        _, cursor = _look(instance, folder)
        request, cursor = _look(instance, folder, cursor)
        run = defs.resolve_job_def("ingest_job").execute_in_process(
            instance=instance, asset_selection=request.asset_selection, run_config=request.run_config)
        assert run.success
        warehouse = embedded_resources["warehouse"].open()
        assert warehouse.row_count("lead_contacts") == warehouse.row_count("raw_contacts") > 0
        after, _ = _look(instance, folder, cursor)
        assert isinstance(after, dg.SkipReason)  # the files were moved out of the inbox


def test_a_file_that_changed_after_the_sensor_looked_is_left_for_the_next_look(data_root, embedded_resources):
    from wholesaler_assets.definitions import build_definitions

    layout = DataLayout(data_root)
    write_market(CLEAN, layout.landing, layout.ground_truth)
    defs = build_definitions(embedded_resources)
    folder = embedded_resources["data_folder"]
    with dg.instance_for_test() as instance:
        _, cursor = _look(instance, folder)
        request, _ = _look(instance, folder, cursor)
        late = layout.pending_files("distress_events")[0]
        late.write_bytes(late.read_bytes() + b"")  # same bytes, new modification time
        run = defs.resolve_job_def("ingest_job").execute_in_process(
            instance=instance, asset_selection=request.asset_selection, run_config=request.run_config)
        assert run.success
        assert layout.pending_files("distress_events") == [late]
        metadata = run.asset_materializations_for_node("raw_distress_events")[0].metadata
        assert metadata["files_left_waiting"].value == [late.name]
        assert layout.pending_files("contacts") == []


def test_every_asset_check_job_schedule_and_sensor_is_described():
    from wholesaler_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        spec = graph.get(key)
        assert spec.description and spec.group_name and spec.owners and spec.kinds, key
    for check_key in graph.asset_check_keys:
        assert graph.get_check_spec(check_key).description, check_key
    for source in SOURCES:
        assert "contract" in graph.get(dg.AssetKey(f"raw_{source}")).metadata
    assert defs.resolve_job_def("ingest_job").description
    assert defs.resolve_schedule_def("daily_snapshot_schedule").description
    assert defs.resolve_sensor_def("landing_file_sensor").description
