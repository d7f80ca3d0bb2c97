"""Shared fixtures: a throwaway PostgreSQL 15 cluster and per-test data folders."""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def write_snapshots():
    """A function writing property snapshots straight from the domain function (the snapshot
    assets have their own tests), every `every_days` from `start` to `end`."""
    return _write_snapshots


def _write_snapshots(resources, start, end, every_days: int) -> None:
    import datetime as dt

    from wholesaler_assets.domain.snapshots import build_property_snapshot

    warehouse = resources["warehouse"].open()
    properties, events = warehouse.read("raw_properties"), warehouse.read("raw_distress_events")
    day = start
    while day <= end:
        warehouse.replace_partition("property_snapshots", build_property_snapshot(properties, events, day),
                                    "snapshot_date", day)
        day += dt.timedelta(days=every_days)
