"""Malformed requests against the real endpoint, bare and behind the production proxy.

`mlflow models serve` parses the request before the model runs. A few mistakes never reach our
code: no Content-Type and JSON nested past Python's recursion limit get MLflow's 500; unknown
params and top-level fields are dropped and the request is scored. Those are pinned here as
MLflow behaves (so an upgrade that changes them is noticed; docs/serving.md gives the reasons),
and the nginx guard of deploy/production/nginx/ is shown to refuse every one of them with a 4xx.
Every other mistake gets a 4xx from either. The cases are conftest.hostile_requests.
"""

from __future__ import annotations

import itertools
import json

import pytest
import requests

from wholesaler_assets.domain.synthetic.config import MarketConfig
from wholesaler_assets.serving.example import example_request

pytestmark = [pytest.mark.slow, pytest.mark.serving]

JSON = {"Content-Type": "application/json"}
PROXY_MESSAGES = {  # words the guard's refusal must contain
    "no_content_type": "Content-Type must be application/json",
    "deep_nesting": "nested deeper than",
    "deep_object_nesting": "nested deeper than",
    "unknown_param": "unknown param(s) 'colour'",
    "unknown_request_field": "unknown request field(s) 'callback'",
    "nan_in_optional_date": "not valid JSON",
    "inputs_scalar": "unknown request field(s) 'inputs'",
    "huge_body": "over 16 MB",
}


def _send(endpoint, request) -> requests.Response:
    return requests.request(request.method, f"{endpoint.url}/invocations", data=request.body,
                            headers=request.headers, timeout=120)


def test_mlflow_answers_these_before_the_model_runs(scoring_server, hostile_requests):
    """As MLflow 3.17.2 does: a 500 for no Content-Type (it splits a None header) and for deep
    nesting (RecursionError in json.loads); unknown params and fields dropped and scored. The
    server stays up."""
    internal = [h for h in hostile_requests if h.bare >= 500 or (h.bare == 200 and h.proxy >= 400)]
    assert {h.kind for h in internal} == {"no_content_type", "deep_nesting", "deep_object_nesting",
                                          "unknown_param", "unknown_request_field", "nan_in_optional_date"}
    for request in internal:
        response = _send(scoring_server, request)
        assert response.status_code == request.bare, (request.kind, response.status_code, response.text[:300])
    assert scoring_server.up()


@pytest.mark.parametrize("endpoint", ["bare", "proxy"])
def test_every_other_mistake_gets_a_4xx(endpoint, request, hostile_requests):
    server = request.getfixturevalue("scoring_server" if endpoint == "bare" else "scoring_proxy")
    for hostile in hostile_requests:
        expected = hostile.bare if endpoint == "bare" else hostile.proxy
        if not 400 <= expected < 500:
            continue
        response = _send(server, hostile)
        assert response.status_code == expected, (hostile.kind, response.status_code, response.text[:300])
        if response.headers.get("content-type", "").startswith("application/json"):  # MLflow's or FastAPI's shape
            assert {"message", "detail"} & set(response.json()), (hostile.kind, response.text[:300])
    assert server.up()


def test_the_proxy_refuses_what_mlflow_would_not(scoring_proxy, hostile_requests):
    for hostile in hostile_requests:
        if hostile.kind not in PROXY_MESSAGES:
            continue
        response = _send(scoring_proxy, hostile)
        assert response.status_code == hostile.proxy, (hostile.kind, response.text[:300])
        assert PROXY_MESSAGES[hostile.kind] in response.json()["message"], (hostile.kind, response.text[:300])


def test_through_the_proxy_a_good_request_gets_exactly_the_bare_answer(scoring_server, scoring_proxy):
    body = json.dumps(example_request(MarketConfig())).encode()
    bare = requests.post(f"{scoring_server.url}/invocations", data=body, headers=JSON, timeout=60)
    proxied = requests.post(f"{scoring_proxy.url}/invocations", data=body, headers=JSON, timeout=60)
    assert bare.status_code == proxied.status_code == 200, proxied.text[:500]
    assert proxied.json() == bare.json()
    csv = requests.post(f"{scoring_proxy.url}/invocations", data=b"lead_id\nL1", timeout=60,
                        headers={"Content-Type": "text/csv"})
    assert csv.status_code == 400 and "required but missing" in csv.json()["message"]  # CSV reaches the model
    for path in ("/ping", "/health", "/version"):
        assert requests.get(f"{scoring_proxy.url}{path}", timeout=5).status_code == 200
    assert requests.get(f"{scoring_proxy.url}/admin", timeout=5).status_code == 404


def test_a_soak_through_the_proxy_gets_no_5xx(scoring_proxy, scoring_server, hostile_requests):
    good = json.dumps(example_request(MarketConfig())).encode()
    bad = itertools.cycle([h for h in hostile_requests if h.soak])
    session, statuses = requests.Session(), {}
    for i in range(240):
        if i % 2:
            response = session.post(f"{scoring_proxy.url}/invocations", data=good, headers=JSON, timeout=60)
            expected = 200
        else:
            hostile = next(bad)
            response = session.request(hostile.method, f"{scoring_proxy.url}/invocations", data=hostile.body,
                                       headers=hostile.headers, timeout=60)
            expected = hostile.proxy
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code == expected, (i, response.text[:300])
    assert not any(status >= 500 for status in statuses), statuses
    assert scoring_proxy.up() and scoring_server.up()
