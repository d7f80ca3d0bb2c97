"""Hostile landing files against a warehouse that already holds good data.

For every source and every kind of hostile file (an optional column left out, "not reported" cells
left empty, a cut-off last line, short and long rows, a truncated Parquet file, a file still
growing while the sensor looks, a 5,000,000-character cell, a formula cell, a missing required
value) the test asserts that no stored value changed unless a complete, valid row replaced it,
that every rejection names its reason, and that the good rows of the same file load.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from wholesaler_assets.automation import landing_file_sensor
from wholesaler_assets.domain.contracts.sources import CONTRACTS, SOURCES
from wholesaler_assets.domain.ingestion.arrival import FileLook
from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig
from wholesaler_assets.io.landing import DataLayout, ingest_source
from wholesaler_assets.io.synthetic_files import CSV_DATE_FORMAT, CSV_DATETIME_FORMAT, write_market
from wholesaler_assets.io.warehouse import DuckDBWarehouse

MARKET = MarketConfig(n_properties=800, seed=5, dirt=DirtConfig.clean(), file_format="csv")
HUGE = 5_000_000
FORMULA = '=HYPERLINK("http://attacker.example/x","call me")'
# A non-key text column per source, to carry huge and formula cells.
TEXT_COLUMN = {"properties": "owner_name", "distress_events": "event_type", "contacts": "owner_phone",
               "outcomes": "outcome_type", "sales": "metro"}
# A number per source a complete, valid row may correct.
CORRECTED = {"properties": "market_value", "distress_events": "event_date", "contacts": "campaign_step",
             "outcomes": "outcome_time", "sales": "sale_price"}


@pytest.fixture(scope="module")
def good_root(tmp_path_factory) -> Path:
    """A data folder whose warehouse holds the small clean market."""
    root = tmp_path_factory.mktemp("hostile") / "data"
    layout = DataLayout(root)
    write_market(MARKET, layout.landing, layout.ground_truth)
    warehouse = DuckDBWarehouse(root / "warehouse.duckdb")
    for source in SOURCES:
        report = ingest_source(source, layout, warehouse, _now())
        assert report.rows_quarantined == 0 and not report.rejected
    return root


@dataclass
class Landing:
    """A private copy of the good data folder, with helpers to drop a file and ingest it."""

    layout: DataLayout
    warehouse: DuckDBWarehouse
    source: str

    @property
    def contract(self):
        return CONTRACTS[self.source]

    def stored(self) -> pl.DataFrame:
        return self.warehouse.read(f"raw_{self.source}").drop("source_file").sort(list(self.contract.key))

    def drop(self, name: str, data: bytes) -> Path:
        path = self.layout.inbox(self.source) / name
        path.write_bytes(data)
        return path

    def ingest(self, expected: list[FileLook] | None = None):
        return ingest_source(self.source, self.layout, self.warehouse, _now(), expected=expected)


@pytest.fixture
def landing(good_root, tmp_path, request) -> Landing:
    root = tmp_path / "data"
    shutil.copytree(good_root, root)
    return Landing(DataLayout(root), DuckDBWarehouse(root / "warehouse.duckdb"), request.param)


def _now():
    import datetime as dt

    return dt.datetime.now(dt.UTC)


def _sample(stored: pl.DataFrame, n: int = 20, filled: str | None = None) -> pl.DataFrame:
    rows = stored.filter(pl.col(filled).is_not_null()) if filled else stored
    assert rows.height >= min(n, 5), "the market must hold values the hostile file could erase"
    return rows.head(n)


def _csv_rows(frame: pl.DataFrame) -> list[list[str]]:
    text = frame.write_csv(datetime_format=CSV_DATETIME_FORMAT, date_format=CSV_DATE_FORMAT)
    return list(csv.reader(io.StringIO(text)))


def _csv_bytes(rows: list[list[str]], final_newline: bool = True) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    text = out.getvalue()
    return (text if final_newline else text.rstrip("\n")).encode()


def _parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def _assert_intact(before: pl.DataFrame, after: pl.DataFrame, key: tuple[str, ...]) -> None:
    """Every stored row is still there with every value it had."""
    kept = after.join(before.select(key), on=list(key), how="semi").sort(list(key))
    assert kept.height == before.height
    for column in before.columns:
        changed = (kept[column].ne_missing(before[column])).sum()
        assert changed == 0, f"{column}: {changed} stored value(s) changed"


def _assert_reasons_named(landing: Landing, report) -> None:
    for record in report.files:
        if record.status == "rejected":
            assert record.reason and record.reason.strip()
            assert len(record.reason) < 2_000
    for bad_rows in (landing.layout.quarantine / landing.source / "rows").glob("*.bad_rows.csv"):
        reasons = pl.read_csv(bad_rows, infer_schema=False)["_reasons"]
        assert reasons.null_count() == 0 and (reasons.str.strip_chars() != "").all(), bad_rows
    assert all(reason.strip() for reason in report.reason_counts())


def _bad_rows(landing: Landing, name: str) -> pl.DataFrame:
    return pl.read_csv(landing.layout.quarantine / landing.source / "rows" / f"{name}.bad_rows.csv",
                       infer_schema=False)


each_source = pytest.mark.parametrize("landing", SOURCES, indirect=True)


@each_source
@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_a_file_without_an_optional_column_keeps_every_earlier_value(landing, file_format):
    contract, before = landing.contract, landing.stored()
    for column in [c for c in contract.columns if c.nullable and c.name not in contract.key]:
        sample = _sample(before, filled=column.name).drop(column.name)
        name = f"{landing.source}-without-{column.name}.{file_format}"
        data = _csv_bytes(_csv_rows(sample)) if file_format == "csv" else _parquet_bytes(sample)
        landing.drop(name, data)
        report = landing.ingest()
        _assert_reasons_named(landing, report)
        if column.absent == "reject":
            assert report.rejected and column.name in report.rejected[0].reason
        else:
            assert report.files[0].status == "loaded" and report.rows_upserted == sample.height, column.name
            assert f"earlier values kept: {column.name}" in report.files[0].warnings[0]
        _assert_intact(before, landing.stored(), contract.key)


@each_source
def test_empty_not_reported_cells_keep_earlier_values(landing):
    contract, before = landing.contract, landing.stored()
    kept = contract.kept_when_empty()
    sample = _sample(before)
    landing.drop(f"{landing.source}-blank.csv", _csv_bytes(_csv_rows(sample.with_columns(
        pl.lit(None, pl.String).alias(c) for c in kept))))
    report = landing.ingest()
    assert report.rows_upserted == sample.height and report.rows_quarantined == 0
    _assert_intact(before, landing.stored(), contract.key)


def test_an_empty_cell_that_is_a_value_replaces_the_stored_one():
    # resolved_date: empty means "still open", so a re-sent, complete row can reopen an event.
    assert CONTRACTS["distress_events"].column("resolved_date").empty == "null"
    assert "resolved_date" not in CONTRACTS["distress_events"].kept_when_empty()


@each_source
@pytest.mark.parametrize("cut_at", ["mid-row", "last-field"])
def test_a_cut_off_last_line_is_quarantined_and_the_rest_loads(landing, cut_at):
    contract, before = landing.contract, landing.stored()
    sample = _sample(before)
    data = _csv_bytes(_csv_rows(sample))
    if cut_at == "mid-row":  # 40 bytes into the last row: fields are missing too
        cut = data[: data.rstrip(b"\n").rfind(b"\n") + 40]
    else:  # "30800.0" becomes "308": every field there, the last one wrong
        cut = data.rstrip(b"\n")[:-4]
    landing.drop(f"{landing.source}-cut.csv", cut)
    report = landing.ingest()
    _assert_reasons_named(landing, report)
    assert report.files[0].rows_quarantined == 1 and report.rows_upserted == sample.height - 1
    assert "last line ends without a line break" in _bad_rows(landing, f"{landing.source}-cut.csv")["_reasons"][0]
    _assert_intact(before, landing.stored(), contract.key)


@each_source
def test_short_and_long_rows_are_quarantined_and_a_complete_row_corrects(landing):
    contract, before = landing.contract, landing.stored()
    rows = _csv_rows(_sample(before))
    header, width = rows[0], len(rows[0])
    rows[2] = rows[2][: width - 3]  # a row cut after a few fields
    rows[3] = [*rows[3], "surplus"]
    corrected = _corrected(landing.source, header, rows[1])
    rows[1] = corrected
    landing.drop(f"{landing.source}-ragged.csv", _csv_bytes(rows))
    report = landing.ingest()
    _assert_reasons_named(landing, report)
    reasons = _bad_rows(landing, f"{landing.source}-ragged.csv")["_reasons"].to_list()
    assert any(f"{width - 3} field(s) where the header has {width}" in r for r in reasons)
    assert any(f"{width + 1} field(s) where the header has {width}" in r for r in reasons)
    after = landing.stored()
    changed = after.join(before, on=before.columns, how="anti", nulls_equal=True)
    assert changed.height == 1  # the corrected row, and only it
    was = before.join(changed.select(contract.key), on=list(contract.key))
    assert changed[CORRECTED[landing.source]].item() != was[CORRECTED[landing.source]].item()
    untouched = before.join(changed.select(contract.key), on=list(contract.key), how="anti")
    _assert_intact(untouched, after, contract.key)


def _corrected(source: str, header: list[str], row: list[str]) -> list[str]:
    """The row with one value changed, still valid: the correction a complete row may make."""
    column = CORRECTED[source]
    i, value = header.index(column), row[header.index(column)]
    if source in ("properties", "sales"):
        row[i] = str(float(value) + 1_000)
    elif source == "contacts":
        row[i] = str(int(value) % 49 + 1)
    elif source == "distress_events":
        row[i] = "2024-01-02"
    else:
        row[i] = value[:11] + "00:00:01Z"
    return row


@each_source
def test_a_truncated_parquet_file_is_rejected_and_nothing_changes(landing):
    before = landing.stored()
    data = _parquet_bytes(_sample(before))
    landing.drop(f"{landing.source}-cut.parquet", data[: len(data) - 9])
    report = landing.ingest()
    _assert_reasons_named(landing, report)
    assert report.rejected and "truncated or corrupt" in report.rejected[0].reason
    _assert_intact(before, landing.stored(), landing.contract.key)


@each_source
def test_a_file_growing_while_the_sensor_looks_is_taken_only_when_complete(landing):
    before = landing.stored()
    sample = _sample(before)
    whole = _csv_bytes(_csv_rows(sample))
    path = landing.drop(f"{landing.source}-copying.csv", whole[: len(whole) // 2])
    folder = {"data_folder": _data_folder(landing.layout.root)}
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources=folder)
        assert isinstance(landing_file_sensor(context), dg.SkipReason)
        path.write_bytes(whole)  # the copy finishes between two looks
        context = dg.build_sensor_context(instance=instance, cursor=context.cursor, resources=folder)
        assert isinstance(landing_file_sensor(context), dg.SkipReason)
        context = dg.build_sensor_context(instance=instance, cursor=context.cursor, resources=folder)
        request = landing_file_sensor(context)
    assert isinstance(request, dg.RunRequest)
    files = request.run_config["ops"][f"raw_{landing.source}"]["config"]["files"]
    assert files == [{"name": path.name, "size": len(whole), "mtime_ns": path.stat().st_mtime_ns}]
    report = landing.ingest([FileLook(landing.source, f["name"], f["size"], f["mtime_ns"]) for f in files])
    assert report.rows_upserted == sample.height and report.rows_quarantined == 0
    _assert_intact(before, landing.stored(), landing.contract.key)


def _data_folder(root: Path):
    from wholesaler_assets.resources import DataFolderResource

    return DataFolderResource(root=str(root))


@each_source
def test_a_huge_cell_is_quarantined_and_shown_only_as_a_preview(landing):
    before = landing.stored()
    rows = _csv_rows(_sample(before))
    column = TEXT_COLUMN[landing.source]
    rows[1][rows[0].index(column)] = "9" * HUGE
    name = f"{landing.source}-huge.csv"
    landing.drop(name, _csv_bytes(rows))
    report = landing.ingest()
    _assert_reasons_named(landing, report)
    assert report.files[0].rows_quarantined == 1 and report.rows_upserted == len(rows) - 2
    assert any(f"{column}: longer than" in reason for reason in report.reason_counts())
    assert all(len(reason) < 1_000 for reason in report.reason_counts())
    bad_file = landing.layout.quarantine / landing.source / "rows" / f"{name}.bad_rows.csv"
    assert bad_file.stat().st_size < 10_000
    assert "… (5,000,000 characters)" in _bad_rows(landing, name)[column][0]
    _assert_intact(before, landing.stored(), landing.contract.key)


@each_source
def test_a_formula_cell_is_refused_and_neutralized_in_the_quarantine_file(landing):
    before = landing.stored()
    rows = _csv_rows(_sample(before))
    column = TEXT_COLUMN[landing.source]
    rows[1][rows[0].index(column)] = FORMULA
    name = f"{landing.source}-formula.csv"
    landing.drop(name, _csv_bytes(rows))
    report = landing.ingest()
    _assert_reasons_named(landing, report)
    assert report.files[0].rows_quarantined == 1
    assert _bad_rows(landing, name)[column][0] == "'" + FORMULA
    _assert_intact(before, landing.stored(), landing.contract.key)


@each_source
def test_a_missing_required_value_is_quarantined_with_its_reason(landing):
    contract, before = landing.contract, landing.stored()
    rows = _csv_rows(_sample(before, n=40))  # up to six bad rows stay under the 20% file limit
    required = [c for c in contract.required_columns if c not in contract.key]
    for i, column in enumerate(required):
        rows[1 + i][rows[0].index(column)] = ""
    name = f"{landing.source}-no-required.csv"
    landing.drop(name, _csv_bytes(rows))
    report = landing.ingest()
    _assert_reasons_named(landing, report)
    reasons = _bad_rows(landing, name)["_reasons"].to_list()
    assert [f"{c}: required value missing" for c in required] == reasons
    assert report.rows_upserted == len(rows) - 1 - len(required)
    _assert_intact(before, landing.stored(), contract.key)


@pytest.mark.parametrize("landing", ["contacts"], indirect=True)
def test_run_metadata_shows_a_preview_of_a_huge_formula_cell_never_the_cell(landing):
    from wholesaler_assets.assets.ingestion import raw_assets
    from wholesaler_assets.definitions import embedded_resources

    rows = _csv_rows(_sample(landing.stored()))
    rows[1][rows[0].index("owner_phone")] = FORMULA + "x" * HUGE
    landing.drop("contacts-hyperlink.csv", _csv_bytes(rows))
    resources = embedded_resources(str(landing.layout.root), mlruns=str(landing.layout.root.parent / "mlruns"))
    raw_contacts = next(a for a in raw_assets if a.key == dg.AssetKey("raw_contacts"))
    with dg.instance_for_test() as instance:
        result = dg.materialize([raw_contacts], resources=resources, instance=instance)
        logged = json.dumps([str(e.dagster_event) for e in instance.all_logs(result.run_id) if e.dagster_event])
    assert len(logged) < 200_000  # the event log holds previews, not the 5 MB cell
    metadata = result.asset_materializations_for_node("raw_contacts")[0].metadata
    assert metadata["rows_quarantined"].value == 1
    assert f"({len(FORMULA) + HUGE:,} characters)" in metadata["quarantine_reasons"].value


@pytest.mark.parametrize("landing", ["outcomes"], indirect=True)
def test_signed_contracts_keep_their_price_downstream_when_a_file_leaves_it_out(landing):
    from wholesaler_assets.assets.ingestion import raw_assets
    from wholesaler_assets.assets.snapshots import lead_tables
    from wholesaler_assets.definitions import embedded_resources

    resources = embedded_resources(str(landing.layout.root), mlruns=str(landing.layout.root.parent / "mlruns"))
    raw_outcomes = next(a for a in raw_assets if a.key == dg.AssetKey("raw_outcomes"))
    assert dg.materialize([lead_tables], resources=resources).success
    before = landing.warehouse.read("lead_outcomes").sort("lead_id")
    signed = before["purchase_price"].is_not_null().sum()
    assert signed > 0
    resent = landing.stored().filter(pl.col("outcome_type") == "contract_signed").drop("purchase_price")
    landing.drop("outcomes-without-price.csv", _csv_bytes(_csv_rows(resent)))
    assert dg.materialize([raw_outcomes, lead_tables], resources=resources).success
    after = landing.warehouse.read("lead_outcomes").sort("lead_id")
    assert after["purchase_price"].is_not_null().sum() == signed
    assert after.equals(before)
