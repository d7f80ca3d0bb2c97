"""Daily scoring through Dagster: scored leads, the idempotent lead_scores sink and the priority queue."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import polars as pl
import pytest

from wholesaler_assets.assets.scoring import lead_scores, priority_queue, scored_leads
from wholesaler_assets.domain.scoring.caller_queue import CALLER_COLUMNS
from wholesaler_assets.domain.scoring.score_rows import SINK_KEY
from wholesaler_assets.io.warehouse import DuckDBWarehouse
from wholesaler_assets.io.warehouse_postgres import PostgresWarehouse
from wholesaler_assets.resources import WarehouseResource

SCORING = [scored_leads, lead_scores, priority_queue]


@pytest.fixture
def resources(champion_market, tmp_path):
    return champion_market.resources(tmp_path / "data")


def _metadata(result, node: str) -> dict:
    return {k: v.value for k, v in result.asset_materializations_for_node(node)[0].metadata.items()}


def _score(resources, day: dt.date, assets=SCORING, **config) -> dg.ExecuteInProcessResult:
    run_config = {"ops": {name: {"config": values} for name, values in config.items()}}
    return dg.materialize(assets, resources=resources, partition_key=day.isoformat(), run_config=run_config,
                          raise_on_error=False)


def _failure(result) -> str:
    return next(e for e in result.all_events if e.is_step_failure).event_specific_data.error.message


def test_a_day_is_scored_upserted_and_queued(resources, champion_market):
    day = champion_market.scoring_day
    result = _score(resources, day, scored_leads={"exact_reasons_top_n": 50})
    assert result.success, _failure(result)
    meta = _metadata(result, "scored_leads")
    assert meta["scored_leads"] == meta["active_leads"] > 500
    assert sum(meta[f"tier_{t}_leads"] for t in "ABCD") == meta["scored_leads"]
    assert meta["model_version"] == "lead_scorer v1" and "/#/experiments/" in meta["model_run"]
    assert 0 < meta["share_passing_buy_box"] < 1 and 0 <= meta["arv_fallback_share"] < 0.05
    assert meta["share_passing_buy_box"] == round(meta["share_passing_buy_box"], 4)  # readable, not 17 digits
    assert meta["reasons_exact"] >= 50 and meta["reasons_reused"] == 0
    for plot in ("score_histogram", "tier_chart"):  # inline in the UI: a PNG data URI, no path to open
        assert meta[plot].startswith("![") and "(data:image/png;base64," in meta[plot]
    assert {c.name for c in meta["dagster/column_schema"].columns} >= {"lead_id", "tier", "priority_score"}
    assert all(e.passed for e in result.get_asset_check_evaluations())
    assert {e.partition for e in result.get_asset_check_evaluations()} == {day.isoformat()}  # per partition
    queue_meta = _metadata(result, "priority_queue")
    # The queue's schema is the caller's file's (the CSV a team loads), never an owner column.
    assert {"Rank", "Lead ID", "Tier"} <= {c.name for c in queue_meta["dagster/column_schema"].columns}
    assert {c.name for c in _metadata(result, "lead_scores")["dagster/column_schema"].columns} >= {"lead_id", "target"}

    wh = resources["warehouse"].open()
    scored = wh.read("scored_leads", "scoring_date = ?", [day])
    assert scored.filter(pl.col("tier") == "A").height == meta["tier_A_leads"]
    assert scored.filter((pl.col("tier") == "A") & ~pl.col("passes_buy_box")).height == 0
    assert scored["p_booked_call_7d"].is_between(0, 1).all() and scored["p_deal_30d"].is_between(0, 1).all()
    assert scored["narrative"].str.ends_with(".").all() and scored["top_reasons"].is_not_null().all()
    top = scored.sort("priority_score", descending=True).head(50)
    assert (top["reasons_method"] == "exact").all()  # the leads a person reads are explained exactly

    sink = wh.read("lead_scores", "scoring_date = ?", [day])
    assert sink.height == 2 * scored.height  # one row per lead and target
    assert sink.select(SINK_KEY).is_unique().all()
    assert (sink["model_version"] == "lead_scorer v1").all() and sink["run_timestamp"].is_not_null().all()

    queue_meta = _metadata(result, "priority_queue")
    queue = pl.read_csv(queue_meta["csv"], infer_schema=False)
    assert queue.columns == list(CALLER_COLUMNS)
    assert not {"split", "model_run_id", "reasons_method", "priority_basis"} & set(queue.columns)
    assert queue.height == scored.height and queue["Rank"].cast(pl.Int64).to_list() == list(range(1, queue.height + 1))
    assert queue["Priority (0-100)"].cast(pl.Float64).is_sorted(descending=True)
    assert queue["Expected value ($)"].drop_nulls().str.contains(r"^-?\d+$").all()  # whole dollars
    assert queue["Chance of a deal in 30 days"].str.contains(r"^\d+(\.\d)?%$").all()
    assert not queue["Why this lead"].str.contains("_").any()  # words, not feature names
    technical = pl.read_csv(queue_meta["technical_csv"])
    assert technical["lead_id"].to_list() == queue["Lead ID"].to_list() and "model_run_id" in technical.columns
    assert queue_meta["tier_a_reports"] == meta["tier_A_leads"] > 0
    tier_a = queue.filter(pl.col("Tier") == "A")
    assert tier_a["Tier A profit ($)"].is_not_null().all() and queue.filter(pl.col("Tier") != "A")[
        "Tier A profit ($)"].is_null().all()
    report_dir = queue_meta["reports_index"].rsplit("/", 1)[0]
    for lead_id, flags in tier_a.select("Lead ID", "ARV check").iter_rows():  # comparables for every tier-A lead
        report = open(f"{report_dir}/{lead_id}.md").read()
        assert "conservative profit" in report and "maximum allowable offer" in report
        assert "## ARV check: comparable renovated sales" in report and "the buy-box used the" in report
        listed = report.count("| S0")  # one table row per comparable sale (sale ids S0000...)
        assert listed >= 1 or "few comparables" in (flags or ""), lead_id
    with_comps = sum(open(f"{report_dir}/{lead}.md").read().count("| S0") >= 1 for lead in tier_a["Lead ID"])
    assert with_comps >= 0.8 * tier_a.height  # the small test market has few sales in some ZIPs


def test_rescoring_reuses_reasons_and_rewriting_changes_nothing(resources, champion_market):
    day = champion_market.scoring_day
    week_before = day - dt.timedelta(days=7)
    assert _score(resources, week_before, assets=[scored_leads]).success
    first = _score(resources, day)
    assert first.success, _failure(first)
    assert _metadata(first, "scored_leads")["reasons_reused"] > 0  # unchanged leads are not re-explained
    wh = resources["warehouse"].open()
    before = wh.read("lead_scores", "scoring_date = ?", [day]).sort(SINK_KEY)
    again = _score(resources, day, assets=[lead_scores])
    meta = _metadata(again, "lead_scores")
    assert (meta["rows_inserted"], meta["rows_updated"], meta["rows_unchanged"]) == (0, 0, before.height)
    assert wh.read("lead_scores", "scoring_date = ?", [day]).sort(SINK_KEY).equals(before)


def test_dry_run_writes_nothing_and_a_split_can_be_chosen(resources, champion_market):
    day = champion_market.scoring_day
    assert _score(resources, day, assets=[scored_leads]).success
    dry = _score(resources, day, assets=[lead_scores], lead_scores={"dry_run": True})
    meta = _metadata(dry, "lead_scores")
    wh = resources["warehouse"].open()
    assert meta["rows_to_insert"] == meta["rows"] > 0 and not wh.table_exists("lead_scores")
    holdout = _score(resources, day, assets=[lead_scores], lead_scores={"rows": "holdout"})
    written = wh.read("lead_scores")
    assert written.height == _metadata(holdout, "lead_scores")["rows"] > 0
    assert (written["split"] == "holdout").all()
    with pytest.raises(dg.DagsterInvalidConfigError, match="rows not in enum type.*'all', 'holdout', 'training'"):
        _score(resources, day, assets=[lead_scores], lead_scores={"rows": "everything"})


def test_scoring_needs_a_champion_and_a_recent_snapshot(resources, champion_market, tmp_path):
    from wholesaler_assets.resources import MlflowResource

    late = champion_market.scoring_day + dt.timedelta(days=15)  # the latest snapshot is 15 days old then
    stale = _score(resources, late, assets=[scored_leads])
    assert "no property snapshot within 7 days" in _failure(stale)
    empty = {**resources, "mlflow_tracking": MlflowResource(tracking_uri=f"sqlite:///{tmp_path}/empty.db",
                                                            artifact_location=str(tmp_path / "artifacts"))}
    orphan = _score(empty, champion_market.scoring_day, assets=[scored_leads])
    assert "no lead_scorer@champion" in _failure(orphan)
    missing = _score(resources, champion_market.scoring_day, assets=[lead_scores])
    assert "materialize scored_leads" in _failure(missing)


def _sink_rows(day: dt.date, probability: float) -> pl.DataFrame:
    return pl.DataFrame({"lead_id": ["L1", "L2"], "target": ["deal_30d"] * 2, "scoring_date": [day] * 2,
                         "probability": [probability, 0.2]})


def _forced_failure_leaves_rows_intact(wh) -> None:
    day = dt.date(2025, 6, 30)
    wh.replace_rows("lead_scores", _sink_rows(day, 0.1), SINK_KEY)
    assert wh.replace_rows("lead_scores", _sink_rows(day, 0.1), SINK_KEY) == 2  # re-run: same rows
    before = wh.read("lead_scores").sort(SINK_KEY)
    broken = _sink_rows(day, 0.3).with_columns(pl.Series("probability", ["0.3", "not a number"]))
    with pytest.raises(Exception):  # noqa: B017 (either backend's own error) the delete ran, the insert failed: all of it must roll back
        wh.replace_rows("lead_scores", broken, SINK_KEY)
    assert wh.read("lead_scores").sort(SINK_KEY).equals(before)


def test_a_failed_upsert_leaves_the_previous_rows_on_duckdb(tmp_path):
    _forced_failure_leaves_rows_intact(DuckDBWarehouse(tmp_path / "w.duckdb"))


@pytest.mark.postgres
def test_the_sink_upserts_idempotently_and_rolls_back_on_postgres(postgres_cluster, resources, champion_market):
    _forced_failure_leaves_rows_intact(PostgresWarehouse(postgres_cluster.create_database("sink_rollback")))
    day = champion_market.scoring_day
    assert _score(resources, day, assets=[scored_leads]).success
    url = postgres_cluster.create_database("sink")
    pg = PostgresWarehouse(url)
    pg.replace_table("scored_leads", resources["warehouse"].open().read("scored_leads"))
    on_pg = {**resources, "warehouse": WarehouseResource(backend="postgres", postgres_url=url)}
    first = _score(on_pg, day, assets=[lead_scores])
    second = _score(on_pg, day, assets=[lead_scores])
    rows = _metadata(first, "lead_scores")["rows"]
    assert _metadata(first, "lead_scores")["rows_inserted"] == rows
    assert _metadata(second, "lead_scores")["rows_unchanged"] == rows
    assert pg.row_count("lead_scores") == rows


def test_owner_contacts_reach_the_callers_file_and_nothing_else(resources, champion_market, tmp_path):
    """The opt-in join: contacts appear in the caller's CSV only, never in the warehouse, MLflow or Dagster."""
    day = champion_market.scoring_day
    assert _score(resources, day, assets=[scored_leads]).success
    scored = resources["warehouse"].open().read("scored_leads", "scoring_date = ?", [day])
    properties = scored["property_id"].drop_nulls().unique().sort().head(40)
    owners = pl.DataFrame({"property_id": properties,
                           "owner_name": [f"Zyxwv Owner{i:03d}" for i in range(properties.len())],
                           "owner_phone": [f"216-555-9{i:03d}" for i in range(properties.len())]})
    owner_file = tmp_path / "owners.csv"
    owners.write_csv(owner_file)
    result = _score(resources, day, assets=[priority_queue], priority_queue={"owner_file": str(owner_file)})
    assert result.success, _failure(result)
    meta = _metadata(result, "priority_queue")
    queue = pl.read_csv(meta["csv"], infer_schema=False)
    assert queue.columns == [*CALLER_COLUMNS, "owner_name", "owner_phone"] and meta["owner_contacts_attached"]
    joined = queue.filter(pl.col("owner_phone").is_not_null())
    assert joined.height == owners.join(queue.select(pl.col("Property ID").alias("property_id")),
                                        on="property_id").height > 0
    expected = dict(zip(owners["property_id"], owners["owner_phone"], strict=True))
    assert all(expected[p] == phone for p, phone in joined.select("Property ID", "owner_phone").iter_rows())

    secret = "Zyxwv"  # the PII marker: nowhere but the caller's file
    wh = resources["warehouse"].open()
    tables = wh.query("select table_name from information_schema.tables")["table_name"].to_list()
    assert "scored_leads" in tables and "comparable_sales" in tables
    for table in tables:
        frame = wh.read(table)
        for column in [c for c, dtype in frame.schema.items() if dtype == pl.String]:
            assert not frame[column].str.contains(secret).any(), f"owner names leaked into {table}.{column}"
    leaked = [p for p in champion_market.mlruns.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    assert not leaked, leaked
    assert secret not in str([e.event_specific_data for e in result.all_events])
    technical = pl.read_csv(meta["technical_csv"], infer_schema=False)
    assert not any(technical[c].str.contains(secret).any() for c in technical.columns)

    missing = _score(resources, day, assets=[priority_queue], priority_queue={"owner_file": str(tmp_path / "no.csv")})
    assert not missing.success and "cannot attach owner contacts" in _failure(missing)
    pl.DataFrame({"parcel": ["P1"], "phone": ["1"]}).write_csv(tmp_path / "bad.csv")
    bad = _score(resources, day, assets=[priority_queue], priority_queue={"owner_file": str(tmp_path / "bad.csv")})
    assert not bad.success and "needs a property_id column" in _failure(bad)
