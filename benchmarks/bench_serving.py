"""Benchmark: real-time scoring through `mlflow models serve` (latency, throughput, a soak of bad requests).

Setup (not timed): a synthetic market, its active lead records on the cutoff day, the scorer of
`bench_scoring.build_scorer` (three 300-tree depth-5 XGBoost models with isotonic calibration and
the ARV model) logged as the `LeadScorer` pyfunc into a temporary SQLite MLflow store, registered
as `lead_scorer` with the alias `champion`, and served with
`mlflow models serve -m models:/lead_scorer@champion --env-manager local` on a loopback port.
Timed, over one keep-alive HTTP session:
- 1,000 single-lead requests: p50 and p99 latency (aim: p99 <= 25 ms);
- 100 requests of 1,000 leads (aim: under 150 ms each, the median is reported);
- baseline in the same run: the same pyfunc loaded in this process, `predict` on the same leads;
- a soak of `--soak` mixed requests (about a third bad: missing, mistyped, impossible or unknown
  fields, empty payloads, malformed JSON, NaN and Infinity literals, non-UTF-8 bytes, wrong types
  at every level, CSV bodies, wrong content types and methods): counts per status, zero 5xx, the
  server still up.
Reasons follow the pyfunc's default (`auto`: exact TreeSHAP up to 100 leads a request).
The last line is one JSON object of the figures.

    .venv/bin/python benchmarks/bench_serving.py [--properties 20000] [--soak 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

import mlflow  # imported after the progress-bar setting
import numpy as np
import pandas as pd
import polars as pl
import requests
from _support import publish  # benchmarks/_support.py, beside this script
from bench_scoring import market_and_scorer, replicate  # benchmarks/bench_scoring.py, beside this script
from mlflow import MlflowClient

from wholesaler_assets.io.registry import log_lead_scorer

NAME = "lead_scorer"
JSON = {"Content-Type": "application/json"}


def as_payload(records: pl.DataFrame) -> list[dict]:
    """Lead records as a CRM would send them: dates as ISO text, nulls left out of each record."""
    rows = records.with_columns(pl.col(pl.Date).cast(pl.String)).to_dicts()
    return [{k: v for k, v in row.items() if v is not None} for row in rows]


def register(scorer, records: pl.DataFrame, tracking_uri: str, folder: Path) -> str:
    """Log the scorer as `registered_scorer` does (`registry.log_lead_scorer`), register it and make
    it champion; returns its version."""
    mlflow.set_tracking_uri(tracking_uri)
    # artifacts beside the store, in the temporary folder (the default is ./mlruns of the working directory)
    mlflow.set_experiment(experiment_id=mlflow.create_experiment("bench-serving",
                                                                 artifact_location=str(folder / "artifacts-store")))
    example = records.head(3).with_columns(pl.col(pl.Date).cast(pl.String)).to_pandas()
    with mlflow.start_run():
        scorer.model_version = f"{NAME} v1"
        info, _ = log_lead_scorer(scorer, example, folder / "artifacts")
    version = mlflow.register_model(info.model_uri, NAME).version
    MlflowClient().set_registered_model_alias(NAME, "champion", version)
    return str(version)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tracking_uri: str, port: int, log: Path) -> subprocess.Popen:
    """`mlflow models serve` for the champion, in its own process group; waits for /ping (60 s)."""
    bin_dir = str(Path(sys.executable).parent)  # uvicorn must be on PATH (STACK_NOTES §3)
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    process = subprocess.Popen(
        [str(Path(bin_dir) / "mlflow"), "models", "serve", "-m", f"models:/{NAME}@champion", "--env-manager",
         "local", "-h", "127.0.0.1", "-p", str(port)],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}):\n{log.read_text()[-4000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                return process
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    stop_server(process)
    raise RuntimeError(f"the server did not answer /ping within 60 s:\n{log.read_text()[-4000:]}")


def stop_server(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM to the server's process group, SIGKILL after `grace` seconds."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def bad_requests(good: list[dict]) -> list[tuple[str, bytes, dict, str, int]]:
    """One of each kind of bad request, as (kind, body, headers, method, expected status).

    Left out: the two MLflow answers with a 500 before the model runs (no Content-Type, JSON nested
    past Python's recursion limit) and the params and fields it drops; the production proxy refuses
    them (docs/serving.md, assets_tests/test_serving_hostile.py).
    """
    lead = good[0]
    csv_type = {"Content-Type": "text/csv"}

    def body(records: list, **extra) -> bytes:
        return json.dumps({"dataframe_records": records, **extra}).encode()

    missing = {k: v for k, v in lead.items() if k != "sqft"}
    csv_lead = (",".join(lead) + "\n" + ",".join(json.dumps(v) if isinstance(v, bool) else str(v)
                                                  for v in lead.values())).encode()
    kinds = [
        ("missing_field", body([missing])),
        ("wrong_type", body([{**lead, "sqft": "big"}])),
        ("negative_sqft", body([{**lead, "sqft": -120.0}])),
        ("future_date", body([{**lead, "scoring_date": "2999-01-01"}])),
        ("unknown_field", body([{**lead, "favourite_colour": "blue"}])),
        ("null_required", body([{**lead, "condition": None}])),
        ("bad_category", body([{**lead, "condition": "haunted"}])),
        ("empty_payload", body([])),
        ("malformed_json", b'{"dataframe_records": [{"lead_id": "x",'),
        ("no_records_key", b'{"rows": []}'),
        ("nan_literal", body([{**lead, "sqft": float("nan")}])),
        ("infinity_literal", body([{**lead, "market_value": float("inf")}])),
        ("non_utf8_bytes", b'{"dataframe_records": [{"lead_id": "\xff\xfe"}]}'),
        ("records_not_a_list", json.dumps({"dataframe_records": "lead"}).encode()),
        ("records_of_lists", json.dumps({"dataframe_records": [[1, 2]]}).encode()),
        ("split_not_an_object", json.dumps({"dataframe_split": "lead"}).encode()),
        ("inputs_scalar", json.dumps({"inputs": 5}).encode()),
        ("params_not_an_object", body([lead], params=[1])),
        ("reasons_not_text", body([lead], params={"reasons": 5})),
        ("field_value_nested", body([{**lead, "sqft": [[898]]}])),
    ]
    requests_ = [(kind, data, JSON, "POST", 400) for kind, data in kinds]
    return requests_ + [
        ("csv_body", csv_lead, csv_type, "POST", 400),
        ("csv_garbage", b'a,b\n1,2,3,4\n"', csv_type, "POST", 400),
        ("latin1_charset", body([lead]), {"Content-Type": "application/json; charset=latin-1"}, "POST", 415),
        ("text_plain", body([lead]), {"Content-Type": "text/plain"}, "POST", 415),
        ("get_invocations", b"", JSON, "GET", 405),
    ]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--properties", type=int, default=20_000)
    parser.add_argument("--single", type=int, default=1_000, help="single-lead requests")
    parser.add_argument("--batches", type=int, default=100, help="requests of --batch-size leads")
    parser.add_argument("--batch-size", type=int, default=1_000)
    parser.add_argument("--soak", type=int, default=10_000, help="mixed good and bad requests")
    args = parser.parse_args()

    started = time.perf_counter()
    base, scorer = market_and_scorer(args.properties)
    records = replicate(base, max(args.batch_size, args.single))
    payload = as_payload(records)
    print(f"setup: {base.height:,} active leads, models trained in {time.perf_counter() - started:.0f} s",
          flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tracking_uri = f"sqlite:///{folder / 'mlflow.db'}"
        register(scorer, records, tracking_uri, folder)
        in_process = mlflow.pyfunc.load_model(f"models:/{NAME}@champion")
        port, log = free_port(), folder / "server.log"
        began = time.perf_counter()
        server = start_server(tracking_uri, port, log)
        print(f"server up on port {port} in {time.perf_counter() - began:.1f} s", flush=True)
        try:
            figures = run(args, server, port, payload, in_process)
        finally:
            stop_server(server)
    aims = {"p99_ms <= 25": figures["p99_ms"] <= 25, "batch_1000_ms < 150": figures["batch_1000_ms"] < 150,
            "soak_5xx == 0": figures["soak_5xx"] == 0, "server up after soak": figures["server_up_after_soak"]}
    print("aims: " + ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in aims.items()))
    publish("bench_serving", figures)


def run(args: argparse.Namespace, server: subprocess.Popen, port: int, payload: list[dict], in_process) -> dict:
    url = f"http://127.0.0.1:{port}/invocations"
    session = requests.Session()
    singles = [json.dumps({"dataframe_records": [lead]}).encode() for lead in payload[:args.single]]
    batch = json.dumps({"dataframe_records": payload[:args.batch_size]}).encode()
    for body in singles[:20]:  # warm-up
        assert session.post(url, data=body, headers=JSON).status_code == 200

    single_ms = []
    for body in singles:
        began = time.perf_counter()
        response = session.post(url, data=body, headers=JSON)
        single_ms.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.text[:500]
    batch_ms = []
    for _ in range(args.batches):
        began = time.perf_counter()
        response = session.post(url, data=batch, headers=JSON)
        batch_ms.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200 and len(response.json()["predictions"]) == args.batch_size
    print(f"served: single lead p50 {percentile(single_ms, 50):.1f} ms, p99 {percentile(single_ms, 99):.1f} ms; "
          f"{args.batch_size:,} leads p50 {percentile(batch_ms, 50):.0f} ms, p99 {percentile(batch_ms, 99):.0f} ms",
          flush=True)

    # The same pyfunc in this process, on the same leads (frames built outside the clock).
    single_frames = [pd.DataFrame([lead]) for lead in payload[:args.single]]
    batch_frame = pd.DataFrame(payload[:args.batch_size])
    local_single_ms, local_batch_ms = [], []
    for frame in single_frames:
        began = time.perf_counter()
        in_process.predict(frame)
        local_single_ms.append((time.perf_counter() - began) * 1000)
    for _ in range(min(args.batches, 20)):
        began = time.perf_counter()
        in_process.predict(batch_frame)
        local_batch_ms.append((time.perf_counter() - began) * 1000)
    print(f"in-process predict: single lead p50 {percentile(local_single_ms, 50):.1f} ms, p99 "
          f"{percentile(local_single_ms, 99):.1f} ms; {args.batch_size:,} leads p50 "
          f"{percentile(local_batch_ms, 50):.0f} ms", flush=True)

    soak = soak_test(session, url, port, payload, args.soak)
    up = server.poll() is None and requests.get(f"http://127.0.0.1:{port}/ping", timeout=5).status_code == 200
    print(f"soak: {args.soak:,} requests, statuses {soak['statuses']}, 5xx {soak['5xx']}, bad requests by kind "
          f"{soak['bad_kinds']}; server up afterwards: {up}", flush=True)

    p50, batch_p50 = percentile(single_ms, 50), percentile(batch_ms, 50)
    return {
        "p50_ms": round(p50, 2),
        "p99_ms": round(percentile(single_ms, 99), 2),
        "batch_1000_ms": round(batch_p50, 1),
        "batch_1000_p99_ms": round(percentile(batch_ms, 99), 1),
        "leads_per_s": round(args.batch_size / (batch_p50 / 1000)),
        "single_leads_per_s": round(1000 / p50),
        "in_process_p50_ms": round(percentile(local_single_ms, 50), 2),
        "in_process_batch_1000_ms": round(percentile(local_batch_ms, 50), 1),
        "ratio_vs_in_process": round(p50 / percentile(local_single_ms, 50), 2),
        "ratio_vs_in_process_batch_1000": round(batch_p50 / percentile(local_batch_ms, 50), 2),
        "soak_requests": args.soak,
        "soak_200": soak["statuses"].get(200, 0),
        "soak_4xx": sum(n for s, n in soak["statuses"].items() if 400 <= s < 500),
        "soak_5xx": soak["5xx"],
        "server_up_after_soak": up,
    }


def soak_test(session: requests.Session, url: str, port: int, payload: list[dict], n: int) -> dict:
    """`n` requests, about a third bad (each kind in turn), the rest 1-50 good leads; counts per status."""
    rng = random.Random(11)
    bad = bad_requests(payload)
    statuses: dict[int, int] = {}
    bad_kinds: dict[str, str] = {}
    errors = 0
    for i in range(n):
        if i % 3 == 0:
            kind, body, headers, method, expected = bad[(i // 3) % len(bad)]
        else:
            start = rng.randrange(len(payload) - 50)
            kind, headers, method, expected = "good", JSON, "POST", 200
            body = json.dumps({"dataframe_records": payload[start:start + rng.randint(1, 50)]}).encode()
        response = session.request(method, url, data=body, headers=headers)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code != expected:
            errors += 1
            if errors <= 5:
                print(f"soak: {kind} answered {response.status_code}: {response.text[:300]}", flush=True)
        if kind != "good":
            bad_kinds[kind] = str(response.status_code)
    return {"statuses": dict(sorted(statuses.items())), "5xx": sum(v for s, v in statuses.items() if s >= 500),
            "unexpected": errors, "bad_kinds": bad_kinds}


if __name__ == "__main__":
    main()
