"""Real-time scoring through a real `mlflow models serve` of lead_scorer@champion.

The server runs as a child process group for the module (about 7-10 s to start); every request
goes over loopback HTTP exactly as a wholesaler's CRM would send it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import requests

from wholesaler_assets.assets.scoring import ScoringConfig, _active_records, _champion, scored_leads
from wholesaler_assets.scorer import output_columns

MODEL_URI = "models:/lead_scorer@champion"
JSON = {"Content-Type": "application/json"}
PARITY_LEADS = 50


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen
    url: str  # http://127.0.0.1:<port>
    log: Path

    def invoke(self, body: dict | bytes, **params) -> requests.Response:
        if isinstance(body, dict):
            body = json.dumps({**body, **({"params": params} if params else {})})
        return requests.post(f"{self.url}/invocations", data=body, headers=JSON, timeout=60)

    def score(self, records: list[dict], **params) -> requests.Response:
        return self.invoke({"dataframe_records": records}, **params)


def _stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM to the server's process group (mlflow and its uvicorn worker), SIGKILL after `grace`."""
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


@pytest.fixture(scope="module")
def server(champion_market, tmp_path_factory) -> Iterator[Server]:
    """`mlflow models serve` of the champion on a free loopback port, stopped at the end of the module."""
    bin_dir = Path(sys.executable).parent  # uvicorn must be on PATH, or: "exec: uvicorn: not found"
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{champion_market.mlruns}/mlflow.db",
           "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    port, log = _free_port(), tmp_path_factory.mktemp("serving") / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(bin_dir / "mlflow"), "models", "serve", "-m", MODEL_URI, "--env-manager", "local",
             "-h", "127.0.0.1", "-p", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"mlflow models serve exited ({process.returncode}):\n{log.read_text()[-4000:]}")
            try:
                if requests.get(f"{url}/ping", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mlflow models serve did not answer /ping within 60 s:\n{log.read_text()[-4000:]}")
            time.sleep(0.25)
        yield Server(process, url, log)
    finally:
        _stop(process)


@dataclass(frozen=True)
class ScoredDay:
    records: pl.DataFrame  # the lead records scored_leads built for the day
    scored: pl.DataFrame  # what scored_leads stored for them
    columns: list[str]  # the scorer's output columns (the response's, in order)
    value_model_kind: str  # xgboost | baseline (a baseline's reasons are always exact)


@pytest.fixture(scope="module")
def scored_day(champion_market, tmp_path_factory) -> ScoredDay:
    """scored_leads materialized for the scoring day on a private copy, and the records it scored."""
    resources = champion_market.resources(tmp_path_factory.mktemp("serving-batch") / "data")
    day = champion_market.scoring_day
    result = dg.materialize([scored_leads], resources=resources, partition_key=day.isoformat(),
                            run_config={"ops": {"scored_leads": {"config": {"exact_reasons_top_n": 25}}}})
    assert result.success
    wh = resources["warehouse"].open()
    scored = wh.read("scored_leads", "scoring_date = ?", [day])
    # The records the asset built: the same function on the same warehouse tables.
    scorer, _ = _champion(resources["mlflow_tracking"], "champion")
    records = _active_records(wh, scorer, day, ScoringConfig())
    assert records.height == scored.height
    return ScoredDay(records, scored, output_columns(scorer), scorer.value_model.kind)


def as_payload(records: pl.DataFrame) -> list[dict]:
    """Lead records as JSON-ready dicts (dates as ISO text; nulls kept, as a CRM export has them)."""
    return records.with_columns(pl.col(pl.Date).cast(pl.String)).to_dicts()


@pytest.fixture(scope="module")
def leads(scored_day) -> list[dict]:
    return as_payload(scored_day.records.head(5))


def _error(response: requests.Response, status: int = 400) -> dict:
    assert response.status_code == status, response.text[:1000]
    body = response.json()
    assert {"error_code", "message"} <= set(body)
    return body


# --- the happy path ---------------------------------------------------------------------------

def test_leads_are_scored_one_row_each_with_every_column_and_no_nan(server, leads):
    response = server.score(leads)
    assert response.status_code == 200, response.text[:1000]
    assert "NaN" not in response.text and "Infinity" not in response.text
    rows = json.loads(response.text, parse_constant=lambda c: pytest.fail(f"{c} in the body"))["predictions"]
    assert [r["lead_id"] for r in rows] == [lead["lead_id"] for lead in leads]
    expected = ["lead_id", "scoring_date", "p_booked_call_7d", "p_deal_30d", "arv", "arv_method",
                "max_allowable_offer", "seller_price", "conservative_profit", "passes_buy_box", "expected_value",
                "priority_score", "priority_basis", "tier", "top_reasons", "narrative", "reasons_method",
                "reasons_as_of", "model_version", "model_run_id"]
    for row in rows:
        assert list(row)[:len(expected)] == expected
        assert 0 <= row["p_deal_30d"] <= 1 and 0 <= row["p_booked_call_7d"] <= 1
        assert row["tier"] in "ABCD" and 0 <= row["priority_score"] <= 100
        assert row["model_version"] == "lead_scorer v1" and row["narrative"].endswith(".")
        assert len(row["top_reasons"].split(", ")) == 3 and row["reasons_method"] == "exact"
        assert dt.date.fromisoformat(row["scoring_date"]) == dt.date.fromisoformat(leads[0]["scoring_date"])


def test_scoring_date_defaults_to_today_and_reasons_can_be_approximate(server, leads, scored_day):
    lead = {k: v for k, v in leads[0].items() if k != "scoring_date"}
    response = server.score([lead], reasons="approximate")
    assert response.status_code == 200, response.text[:1000]
    row = response.json()["predictions"][0]
    assert row["scoring_date"] == dt.datetime.now(dt.UTC).date().isoformat()
    assert row["reasons_method"] == ("approximate" if scored_day.value_model_kind == "xgboost" else "exact")
    body = _error(server.score([leads[0]], reasons="sometimes"))
    assert body["error_code"] == "INVALID_PARAMETER_VALUE" and "reasons" in body["message"]


# --- bad requests: 400 naming the field, never a 500, never a silent score ----------------------

def _without(lead: dict, field: str) -> dict:
    return {k: v for k, v in lead.items() if k != field}


BAD_RECORDS = {
    # case: (change to the first lead, words the message must contain)
    "missing required field": (lambda lead: _without(lead, "sqft"), ["'sqft'", "required"]),
    "null in a required field": (lambda lead: {**lead, "condition": None}, ["'condition'", "required", "row 0"]),
    "wrong type": (lambda lead: {**lead, "market_value": "lots"}, ["'market_value'", "must be a number", "lots"]),
    "text for a boolean": (lambda lead: {**lead, "vacant": "yes"}, ["'vacant'", "true or false"]),
    "negative sqft": (lambda lead: {**lead, "sqft": -850.0}, ["'sqft'", "greater than 0", "-850"]),
    "value out of range": (lambda lead: {**lead, "beds": 400}, ["'beds'", "at most 50"]),
    "unknown category": (lambda lead: {**lead, "property_type": "castle"}, ["'property_type'", "must be one of"]),
    "date in the future": (lambda lead: {**lead, "scoring_date": "2999-01-01"}, ["'scoring_date'", "future"]),
    "event after the scoring date": (lambda lead: {**lead, "last_contact_date": "2999-01-01"},
                                     ["'last_contact_date'", "after the scoring date"]),
    "not a date": (lambda lead: {**lead, "auction_date": "next tuesday"}, ["'auction_date'", "YYYY-MM-DD"]),
    "unknown extra field": (lambda lead: {**lead, "sqft_living": 1200}, ["sqft_living", "unknown field"]),
    "ZIP code outside the market": (lambda lead: {**lead, "zip_code": "99999"},
                                    ["'zip_code'", "'99999'", "not a ZIP code of the market"]),
}


@pytest.mark.parametrize("case", list(BAD_RECORDS))
def test_a_bad_record_gets_a_400_naming_the_field(server, leads, case):
    change, words = BAD_RECORDS[case]
    records = [leads[1], change(dict(leads[0])), leads[2]] if case != "null in a required field" else \
        [change(dict(leads[0])), leads[1]]
    body = _error(server.score(records))
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    for word in words:
        assert word in body["message"], body["message"]
    if case not in ("missing required field", "unknown extra field", "null in a required field"):
        assert "row 1" in body["message"], body["message"]  # the bad record is the second one sent


def test_every_problem_of_a_request_is_named_at_once(server, leads):
    records = [{**leads[0], "sqft": -1.0}, {**leads[1], "year_built": "old"}, _without(leads[2], "zip_code")]
    message = _error(server.score(records))["message"]
    assert "'sqft'" in message and "'year_built'" in message and "'zip_code'" in message


def test_an_empty_payload_gets_a_400(server):
    body = _error(server.score([]))
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "no lead records: send at least one record" in body["message"], body["message"]


@pytest.mark.parametrize("body", [b'{"dataframe_records": [{"lead_id": "x",', b"not json", b'{"rows": []}'])
def test_a_malformed_body_gets_mlflows_own_400(server, body):
    assert _error(server.invoke(body))["error_code"] == "BAD_REQUEST"


# --- parity with the daily batch ----------------------------------------------------------------

NUMBERS = ["p_booked_call_7d", "p_deal_30d", "arv", "max_allowable_offer", "seller_price", "conservative_profit",
           "expected_value", "priority_score"]
LABELS = ["scoring_date", "arv_method", "passes_buy_box", "priority_basis", "tier", "model_version", "model_run_id"]


def test_the_endpoint_and_the_batch_give_identical_scores(server, scored_day):
    """The same leads through HTTP and through scored_leads: every number equal, not merely close."""
    batch = scored_day.scored.sort("priority_score", "lead_id", descending=[True, False])
    chosen = pl.concat([batch.head(PARITY_LEADS // 2),  # the top of the queue: exact reasons in the batch
                        batch.slice(batch.height // 2, PARITY_LEADS - PARITY_LEADS // 2)])
    assert chosen["reasons_method"].to_list().count("exact") >= PARITY_LEADS // 2
    records = scored_day.records.filter(pl.col("lead_id").is_in(chosen["lead_id"].implode()))
    response = server.score(as_payload(records), reasons="exact")
    assert response.status_code == 200, response.text[:1000]
    served = {r["lead_id"]: r for r in response.json()["predictions"]}
    assert len(served) == PARITY_LEADS
    compared = 0
    for row in chosen.with_columns(pl.col(pl.Date).cast(pl.String)).to_dicts():
        online = served[row["lead_id"]]
        for column in NUMBERS + LABELS:
            assert online[column] == row[column], (row["lead_id"], column, online[column], row[column])
        if row["reasons_method"] == "exact":
            assert (online["top_reasons"], online["narrative"]) == (row["top_reasons"], row["narrative"])
            compared += 1
    assert compared >= PARITY_LEADS // 2
    columns = list(served[chosen["lead_id"][0]])
    assert columns[:len(scored_day.columns)] == scored_day.columns
    assert columns[len(scored_day.columns):] == ["property_id"]  # given back when the record has it


# --- a short soak --------------------------------------------------------------------------------

def test_a_soak_of_mixed_requests_gets_no_5xx_and_the_server_stays_up(server, scored_day):
    payload = as_payload(scored_day.records.head(200))
    rng = random.Random(3)
    bad = [json.dumps({"dataframe_records": [change(dict(payload[0]))]}).encode()
           for change, _ in BAD_RECORDS.values()]
    bad += [json.dumps({"dataframe_records": []}).encode(), b'{"dataframe_records": [', b"\x00\xff"]
    statuses: dict[int, int] = {}
    session = requests.Session()
    for i in range(300):
        good = i % 2 == 1
        if good:
            start = rng.randrange(len(payload) - 5)
            body = json.dumps({"dataframe_records": payload[start:start + rng.randint(1, 5)]}).encode()
        else:
            body = bad[(i // 2) % len(bad)]
        response = session.post(f"{server.url}/invocations", data=body, headers=JSON, timeout=60)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code == (200 if good else 400), (i, response.text[:500])
    assert not any(status >= 500 for status in statuses), statuses
    assert server.process.poll() is None
    assert requests.get(f"{server.url}/ping", timeout=5).status_code == 200



def test_the_serving_schema_is_printed_for_the_readme(capsys):
    from wholesaler_assets.cli import main
    from wholesaler_assets.domain.lead_records import RECORD_FIELDS

    assert main(["serving-schema"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("| field | type | required | allowed values / range | description |")
    for field in RECORD_FIELDS:
        assert f"| `{field.name}` | {field.kind} | {'yes' if field.required else ''} |" in table
    assert "| `sqft` | number | yes | > 0 and <= 100,000 |" in table
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert table.strip() in readme, "regenerate the README's serving schema: wholesaler serving-schema"
