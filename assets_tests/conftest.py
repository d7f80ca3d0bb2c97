"""Shared fixtures: a throwaway PostgreSQL 15 cluster, per-test data folders, trained markets and a
real `mlflow models serve`."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from wholesaler_assets.replay import SMALL_MARKET_GATES as LENIENT_GATES

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

    from wholesaler_assets.domain.snapshots.properties import build_property_snapshot

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
    from wholesaler_assets.io.landing import DataLayout
    from wholesaler_assets.io.synthetic_files import write_market

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


@pytest.fixture(scope="session")
def champion_market(tmp_path_factory, ingest_market) -> ChampionMarket:
    """Built once per session (about a minute): the machinery of scoring and serving, not model quality,
    is what the tests using it check, so the gates are widened for the small market."""
    import dagster as dg

    from wholesaler_assets.assets.models import baseline_model, calibrator, conversion_model, model_evaluation
    from wholesaler_assets.assets.registration import registered_scorer
    from wholesaler_assets.assets.training import contact_features, feature_selection, training_table
    from wholesaler_assets.assets.valuation import arv_model
    from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig

    base = tmp_path_factory.mktemp("champion-market")
    root, mlruns = base / "data", base / "mlruns"
    market = MarketConfig(n_properties=8_000, seed=7, dirt=DirtConfig.clean())  # the README example's ZIPs
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
    # 8,000 properties give few comparable sales: with renovated sales priced at the renovated value the
    # ZIP median is a close comparator on ~330 holdout sales (the model is 6% better here, 34% on the
    # default market, where the real gate of 20% holds: docs/valuation.md)
    arv_gates = {"max_mdape": 0.3, "min_mae_improvement": 0.0}
    assert dg.materialize([arv_model], resources=resources,
                          run_config={"ops": {"arv_model": {"config": arv_gates}}}).success
    assert dg.materialize([registered_scorer], resources=resources, run_config={
        "ops": {"registered_scorer": {"config": {"targets": list(CHAMPION_TARGETS)}}}}).success
    return ChampionMarket(root, mlruns, market.end_date)


@dataclass(frozen=True)
class DefaultMarket:
    """The default synthetic market (`MarketConfig()`) through the real assets, with weekly snapshots
    and one target trained, calibrated and evaluated under the default `ModelConfig` (the issue's gates)."""

    root: Path  # data folder: warehouse, models/<target>/, ground_truth/
    mlruns: Path  # its MLflow store
    resources: dict
    target: str


DEFAULT_MARKET_TARGET = "booked_call_7d"


@pytest.fixture(scope="session")
def default_market(tmp_path_factory, ingest_market) -> DefaultMarket:
    """Built once per session (several minutes): the quality bar and the feature parity test share it."""
    import dagster as dg

    from wholesaler_assets.assets.models import baseline_model, calibrator, conversion_model, model_evaluation
    from wholesaler_assets.assets.training import (
        contact_features,
        feature_selection,
        statistical_validation,
        training_table,
    )
    from wholesaler_assets.domain.synthetic.config import MarketConfig

    base = tmp_path_factory.mktemp("default-market")
    root, mlruns = base / "data", base / "mlruns"
    resources = ingest_market(root, MarketConfig(), mlruns, every_days=7)
    assert dg.materialize([contact_features], resources=resources).success
    assert dg.materialize([training_table, statistical_validation, feature_selection, baseline_model,
                           conversion_model, calibrator, model_evaluation], resources=resources,
                          partition_key=DEFAULT_MARKET_TARGET).success
    return DefaultMarket(root, mlruns, resources, DEFAULT_MARKET_TARGET)


# --- a real `mlflow models serve` ---------------------------------------------------------------

CHAMPION_URI = "models:/lead_scorer@champion"


@dataclass(frozen=True)
class ScoringServer:
    """A running `mlflow models serve` of lead_scorer@champion (or the proxy in front of it)."""

    process: subprocess.Popen
    url: str  # http://127.0.0.1:<port>
    log: Path

    def invoke(self, body: dict | bytes, headers: dict | None = None, **params):

        import requests

        if isinstance(body, dict):
            body = json.dumps({**body, **({"params": params} if params else {})})
        return requests.post(f"{self.url}/invocations", data=body,
                             headers={"Content-Type": "application/json"} if headers is None else headers, timeout=60)

    def score(self, records: list[dict], **params):
        return self.invoke({"dataframe_records": records}, **params)

    def up(self) -> bool:
        import requests

        return self.process.poll() is None and requests.get(f"{self.url}/ping", timeout=5).status_code == 200


def stop_process_group(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM to a process group started with start_new_session, SIGKILL after `grace` seconds."""

    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)
    except ProcessLookupError:
        pass


def wait_for_ping(process: subprocess.Popen, url: str, log: Path, seconds: float = 60) -> None:
    """Until GET <url>/ping answers 200; fails the test if the process exits or time runs out."""

    import requests

    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            pytest.fail(f"{process.args[0]} exited ({process.returncode}):\n{log.read_text()[-4000:]}")
        try:
            if requests.get(f"{url}/ping", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{url}/ping did not answer within {seconds} s:\n{log.read_text()[-4000:]}")
        time.sleep(0.25)


@contextmanager
def _serving(mlruns: Path, log: Path, model_uri: str = CHAMPION_URI) -> Iterator[ScoringServer]:
    """`mlflow models serve` of `model_uri` from the store in `mlruns` on a free loopback port (about
    7-10 s to start), stopped on exit; its output goes to `log`."""
    bin_dir = Path(sys.executable).parent  # uvicorn must be on PATH, or: "exec: uvicorn: not found"
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{mlruns}/mlflow.db",
           "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    port = _free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(bin_dir / "mlflow"), "models", "serve", "-m", model_uri, "--env-manager", "local",
             "-h", "127.0.0.1", "-p", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_ping(process, url, log)
        yield ScoringServer(process, url, log)
    finally:
        stop_process_group(process)


@pytest.fixture(scope="session")
def serve_model():
    """A context manager: `with serve_model(mlruns, log_file) as server:` serves lead_scorer@champion
    of the MLflow store in `mlruns` until the block ends."""
    return _serving


@pytest.fixture(scope="session")
def scoring_server(champion_market, tmp_path_factory) -> Iterator[ScoringServer]:
    """`mlflow models serve` of the champion market's champion, for the whole session."""
    with _serving(champion_market.mlruns, tmp_path_factory.mktemp("serving") / "server.log") as server:
        yield server


NGINX_JS_MODULE = Path("/usr/lib/nginx/modules/ngx_http_js_module.so")  # Debian's libnginx-mod-http-js


@pytest.fixture(scope="session")
def scoring_proxy(scoring_server, tmp_path_factory) -> Iterator[ScoringServer]:
    """deploy/production/nginx/ in front of `scoring_server`: the production config with only its
    listen port, upstream port and script folder pointed at the test's."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None or not NGINX_JS_MODULE.exists():
        pytest.skip("nginx with the njs module is not installed (apt-get install nginx-light "
                    "libnginx-mod-http-js; .ci/run installs them)")
    source = Path(__file__).parents[1] / "deploy" / "production" / "nginx"
    root, port = tmp_path_factory.mktemp("nginx"), _free_port()
    shutil.copy(source / "scoring_guard.js", root / "scoring_guard.js")
    config = (source / "scoring.conf").read_text()
    upstream = scoring_server.url.removeprefix("http://")
    for production, test in [('js_path "/etc/nginx/njs/";', f'js_path "{root}/";'),
                             ("server 127.0.0.1:5000;", f"server {upstream};"),
                             ("listen 8080;", f"listen 127.0.0.1:{port};")]:
        assert production in config, production
        config = config.replace(production, test)
    (root / "scoring.conf").write_text(config)
    (root / "nginx.conf").write_text(
        f"load_module {NGINX_JS_MODULE};\nworker_processes 1;\nerror_log {root}/error.log warn;\n"
        f"pid {root}/nginx.pid;\ndaemon off;\nevents {{ worker_connections 256; }}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {root}/body;\n  proxy_temp_path {root}/proxy;\n"
        f"  include {root}/scoring.conf;\n}}\n")
    log = root / "nginx.log"
    with log.open("wb") as out:
        process = subprocess.Popen([nginx, "-p", str(root), "-c", str(root / "nginx.conf")],
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_ping(process, url, log, seconds=20)
        yield ScoringServer(process, url, root / "error.log")
    finally:
        stop_process_group(process)


@dataclass(frozen=True)
class HostileRequest:
    """A client's mistake and what the endpoint answers: `bare` from `mlflow models serve` itself,
    `proxy` through deploy/production/nginx/ (docs/serving.md explains each difference)."""

    kind: str
    body: bytes
    headers: dict
    bare: int
    proxy: int
    method: str = "POST"
    soak: bool = True  # cheap enough to repeat in a soak


def _hostile_requests() -> list[HostileRequest]:

    from wholesaler_assets.domain.synthetic.market import MarketConfig
    from wholesaler_assets.serving.example import example_lead
    from wholesaler_assets.serving.pyfunc import MAX_LEADS_PER_REQUEST

    lead = example_lead(MarketConfig())
    json_type, csv_type = {"Content-Type": "application/json"}, {"Content-Type": "text/csv"}

    def records(*leads, **extra) -> bytes:
        return json.dumps({"dataframe_records": list(leads), **extra}).encode()

    def r(kind, body, bare, proxy, headers=json_type, **options) -> HostileRequest:
        return HostileRequest(kind, body, headers, bare, proxy, **options)

    return [
        # MLflow-internal: answered (500) or misread (200) before the model runs; the proxy refuses them.
        r("no_content_type", records(lead), 500, 415, headers={}),
        r("deep_nesting", b'{"dataframe_records": ' + b"[" * 5000 + b"]" * 5000 + b"}", 500, 400),
        r("deep_object_nesting", b'{"dataframe_records": [' + b'{"a": ' * 3000 + b"1" + b"}" * 3000 + b"]}", 500, 400),
        r("unknown_param", records(lead, params={"reasons": "exact", "colour": "blue"}), 200, 400),
        r("unknown_request_field", records(lead, callback="x"), 200, 400),
        r("nan_in_optional_date", records({**lead, "scoring_date": float("nan")}), 200, 400),
        # refused by MLflow's own parsing or by the model, with or without the proxy
        r("nan_literal", records({**lead, "sqft": float("nan")}), 400, 400),
        r("infinity_literal", records({**lead, "market_value": float("inf")}), 400, 400),
        r("non_utf8_bytes", b'{"dataframe_records": [{"lead_id": "\xff\xfe"}]}', 400, 400),
        r("empty_body", b"", 400, 400),
        r("top_level_array", b"[1, 2]", 400, 400),
        r("records_not_a_list", json.dumps({"dataframe_records": "lead"}).encode(), 400, 400),
        r("records_of_lists", json.dumps({"dataframe_records": [[1, 2]]}).encode(), 400, 400),
        r("split_not_an_object", json.dumps({"dataframe_split": "lead"}).encode(), 400, 400),
        r("inputs_scalar", json.dumps({"inputs": 5}).encode(), 400, 400),
        r("two_input_fields", records(lead, instances=[lead]), 400, 400),
        r("params_not_an_object", records(lead, params=[1]), 400, 400),
        r("reasons_not_text", records(lead, params={"reasons": 5}), 400, 400),
        r("field_value_nested", records({**lead, "sqft": [[898]]}), 400, 400),
        r("field_value_object", records({**lead, "beds": {"n": 2}}), 400, 400),
        r("csv_garbage", b'a,b\n1,2,3,4\n"', 400, 400, headers=csv_type),
        r("csv_non_utf8", b"lead_id,sqft\n\xff,2", 400, 400, headers=csv_type),
        r("latin1_charset", records(lead), 415, 415, headers={"Content-Type": "application/json; charset=latin-1"}),
        r("text_plain", records(lead), 415, 415, headers={"Content-Type": "text/plain"}),
        r("get_invocations", b"", 405, 405, method="GET"),
        r("too_many_leads", records(*[lead] * (MAX_LEADS_PER_REQUEST + 1)), 400, 400, soak=False),
        r("huge_body", records(*[lead] * 24_000), 400, 413, soak=False),  # about 20 MB
    ]


@pytest.fixture(scope="session")
def hostile_requests() -> list[HostileRequest]:
    """Every kind of malformed request the serving tests and the soak send."""
    return _hostile_requests()
