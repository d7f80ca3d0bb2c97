"""Shared fixtures: a throwaway PostgreSQL 15 cluster and per-test data folders."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("WHOLESALER_PG_BIN", "/usr/lib/postgresql/15/bin"))


@dataclass(frozen=True)
class PostgresCluster:
    """A running throwaway cluster on a loopback port; trust auth for user postgres."""

    host: str
    port: int

    def url(self, database: str) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def create_database(self, prefix: str) -> str:
        """A new empty database (named from `prefix`, unique in the session); returns its URL."""
        name = f"{prefix}_{next(_database_numbers)}"
        subprocess.run([str(PG_BIN / "psql"), "-h", self.host, "-p", str(self.port), "-U", "postgres",
                        "-c", f"create database {name}"], check=True, capture_output=True)
        return self.url(name)


_database_numbers = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres_user(args: list[str]) -> list[str]:
    # initdb refuses to run as root; the Debian package's `postgres` user owns the cluster then.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """initdb a temp cluster, start it on a free port, stop and delete it at the end of the session."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN}")
    root = Path(tempfile.mkdtemp(prefix="wholesaler-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    root.chmod(0o700)
    data, port = root / "data", _free_port()
    subprocess.run(_as_postgres_user([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                      "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
    subprocess.run(_as_postgres_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"),
                                      "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "-w", "start"]),
                   check=True, capture_output=True)
    try:
        yield PostgresCluster("127.0.0.1", port)
    finally:
        subprocess.run(_as_postgres_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def data_root(tmp_path) -> Path:
    """An empty project data folder for one test."""
    root = tmp_path / "data"
    root.mkdir()
    return root


@pytest.fixture
def embedded_resources(data_root):
    """The embedded default profile pointed at the test's data folder."""
    from wholesaler_assets.definitions import embedded_resources as build

    return build(str(data_root), mlruns=str(data_root.parent / "mlruns"))  # never the project's own store


def _write_snapshots(resources, start, end, every_days: int) -> None:
    """Property snapshots straight from the domain function (the snapshot assets have their own
    tests), every `every_days` from `start` to `end`."""
    import datetime as dt

    from wholesaler_assets.domain.snapshots import build_property_snapshot

    warehouse = resources["warehouse"].open()
    properties, events = warehouse.read("raw_properties"), warehouse.read("raw_distress_events")
    day = start
    while day <= end:
        warehouse.replace_partition("property_snapshots", build_property_snapshot(properties, events, day),
                                    "snapshot_date", day)
        day += dt.timedelta(days=every_days)


@pytest.fixture(scope="session")
def ingest_market():
    """A function: write `market`'s landing files under `root`, ingest them (raw sources, lead
    tables, comparable sales), write snapshots every `every_days`, and return the embedded
    resources on `root` with the MLflow store in `mlruns`."""
    return _ingest_market


def _ingest_market(root: Path, market, mlruns: Path, every_days: int) -> dict:
    import dagster as dg

    from wholesaler_assets.assets.ingestion import raw_assets
    from wholesaler_assets.assets.snapshots import comparable_sales, lead_tables
    from wholesaler_assets.definitions import embedded_resources as build
    from wholesaler_assets.domain.synthetic_market import write_market
    from wholesaler_assets.landing import DataLayout

    layout = DataLayout(root)
    write_market(market, layout.landing, layout.ground_truth)
    resources = build(str(root), mlruns=str(mlruns))
    assert dg.materialize([*raw_assets, lead_tables, comparable_sales], resources=resources).success
    _write_snapshots(resources, market.start_date, market.end_date, every_days)
    return resources


@dataclass(frozen=True)
class ChampionMarket:
    """A small market with snapshots, two trained targets, ARV and a registered champion scorer."""

    root: Path  # data folder (warehouse, models, reports); copy it before writing
    mlruns: Path  # MLflow store holding lead_scorer@champion; read it, register elsewhere
    scoring_day: object  # datetime.date: the market's data cutoff, a snapshot day

    def resources(self, data_root: Path) -> dict:
        """Resources on a private copy of the data folder, reading the shared MLflow store."""
        from wholesaler_assets.definitions import embedded_resources as build

        shutil.copytree(self.root, data_root)
        return build(str(data_root), mlruns=str(self.mlruns))


CHAMPION_TARGETS = ("booked_call_7d", "deal_30d")
LENIENT_GATES = {"max_cv_pr_auc_cov": 0.6, "max_train_holdout_gap": 0.6, "min_relative_pr_auc_gain": -1.0,
                 "min_segment_rows": 100_000, "search_configs": 1, "min_top_decile_lift": 0.0, "max_ece": 1.0}


@pytest.fixture(scope="session")
def champion_market(tmp_path_factory, ingest_market) -> ChampionMarket:
    """Built once per session (about a minute): the machinery of scoring and serving, not model quality,
    is what the tests using it check, so the gates are widened for the small market."""
    import dagster as dg

    from wholesaler_assets.assets.models import (
        baseline_model,
        calibrator,
        conversion_model,
        model_evaluation,
        registered_scorer,
    )
    from wholesaler_assets.assets.training import contact_features, feature_selection, training_table
    from wholesaler_assets.assets.valuation import arv_model
    from wholesaler_assets.domain.synthetic_market import DirtConfig, MarketConfig

    base = tmp_path_factory.mktemp("champion-market")
    root, mlruns = base / "data", base / "mlruns"
    market = MarketConfig(n_properties=8_000, seed=23, dirt=DirtConfig.clean())
    resources = ingest_market(root, market, mlruns, every_days=14)
    for days_back in (7, 0):  # the scoring tests score the cutoff and the week before it
        day = market.end_date - dt.timedelta(days=days_back)
        _write_snapshots(resources, day, day, every_days=1)
    assert dg.materialize([contact_features], resources=resources).success
    gates = {"ops": {n: {"config": LENIENT_GATES} for n in ("conversion_model", "calibrator", "model_evaluation")}}
    for target in CHAMPION_TARGETS:
        assert dg.materialize([training_table, feature_selection], resources=resources, partition_key=target).success
        assert dg.materialize([baseline_model, conversion_model, calibrator, model_evaluation], resources=resources,
                              partition_key=target, run_config=gates).success
    assert dg.materialize([arv_model], resources=resources,
                          run_config={"ops": {"arv_model": {"config": {"max_mdape": 0.3}}}}).success
    assert dg.materialize([registered_scorer], resources=resources, run_config={
        "ops": {"registered_scorer": {"config": {"targets": list(CHAMPION_TARGETS)}}}}).success
    return ChampionMarket(root, mlruns, market.end_date)
