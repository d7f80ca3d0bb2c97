"""Real-time scoring through a real `mlflow models serve` of lead_scorer@champion.

The server runs as a child process group for the session (conftest.scoring_server, about 7-10 s
to start); every request goes over loopback HTTP exactly as a wholesaler's CRM would send it.
What MLflow itself answers to malformed requests, and the proxy in front, are in
test_serving_hostile.py.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass

import dagster as dg
import polars as pl
import pytest
import requests

from wholesaler_assets.assets.scoring import ScoringConfig, scored_leads
from wholesaler_assets.domain.scoring.scorer import output_columns
from wholesaler_assets.domain.synthetic.config import MarketConfig
from wholesaler_assets.io.scoring_inputs import active_records, load_scorer
from wholesaler_assets.serving.example import example_request

pytestmark = [pytest.mark.slow, pytest.mark.serving]

JSON = {"Content-Type": "application/json"}
PARITY_LEADS = 50


@pytest.fixture(scope="module")
def server(scoring_server):
    """The session's `mlflow models serve` of the champion (conftest.scoring_server)."""
    return scoring_server


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
    scorer, _ = load_scorer(resources["mlflow_tracking"], "champion")
    config = ScoringConfig()
    records = active_records(wh, scorer, day, config.max_snapshot_age_days, config.next_channel,
                             config.include_uncontacted_distressed)
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

def test_a_soak_of_mixed_requests_gets_no_5xx_and_the_server_stays_up(server, scored_day, hostile_requests):
    """Good requests between bad records and every malformed request MLflow answers itself with a
    4xx (the ones it answers 500 to are pinned in test_serving_hostile.py, and refused by the proxy)."""
    payload = as_payload(scored_day.records.head(200))
    rng = random.Random(3)
    bad = [(json.dumps({"dataframe_records": [change(dict(payload[0]))]}).encode(), JSON, "POST", 400)
           for change, _ in BAD_RECORDS.values()]
    bad += [(json.dumps({"dataframe_records": []}).encode(), JSON, "POST", 400),
            (b'{"dataframe_records": [', JSON, "POST", 400)]
    bad += [(h.body, h.headers, h.method, h.bare) for h in hostile_requests if h.soak and 400 <= h.bare < 500]
    statuses: dict[int, int] = {}
    session = requests.Session()
    for i in range(300):
        good = i % 2 == 1
        if good:
            start = rng.randrange(len(payload) - 5)
            body = json.dumps({"dataframe_records": payload[start:start + rng.randint(1, 5)]}).encode()
            headers, method, expected = JSON, "POST", 200
        else:
            body, headers, method, expected = bad[(i // 2) % len(bad)]
        response = session.request(method, f"{server.url}/invocations", data=body, headers=headers, timeout=60)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code == expected, (i, response.text[:500])
    assert not any(status >= 500 for status in statuses), statuses
    assert server.up()



def test_the_readme_example_is_scored(server):
    """The README's request (wholesaler serving-example, a lead of the demo market) gets a 200."""
    response = server.invoke(example_request(MarketConfig()))
    assert response.status_code == 200, response.text[:1000]
    (row,) = response.json()["predictions"]
    assert row["lead_id"] == "L00003410" and row["reasons_method"] == "exact"
