"""The README's example request: one lead of the demo market (the default `MarketConfig`).

Its ZIP code and metro are the demo market's busiest ZIP, so the demo's scorer takes the record
(a ZIP the scorer never saw is refused); the scoring date is the market's data cutoff.
`wholesaler serving-example` prints the README's block; a test holds the README equal to it and
scores the record through a real `mlflow models serve`.
"""

from __future__ import annotations

import json
from typing import Any

from wholesaler_assets.domain.synthetic.config import MarketConfig
from wholesaler_assets.domain.synthetic.market import market_zip_codes

# A small fair-condition house, free and clear, owned 13 years, on its sixth cold call.
_HOUSE: dict[str, Any] = {
    "property_type": "single_family", "beds": 2, "baths": 1.0, "sqft": 898.0, "year_built": 1979,
    "condition": "fair", "market_value": 189600.0, "mortgage_balance": 0.0, "years_owned": 13.0,
    "owner_type": "individual", "absentee_owner": False, "out_of_state_owner": False, "tax_delinquent": False,
    "in_foreclosure": False, "open_code_violations": 0, "in_probate": False, "vacant": False,
    "distress_events_90d": 0, "distress_events_365d": 0, "channel": "cold_call", "campaign_step": 6,
    "prior_contacts": 5, "prior_cold_call": 3, "prior_direct_mail": 2,
}


def example_lead(market: MarketConfig) -> dict[str, Any]:
    """A lead record of `market` that its scorer accepts."""
    zip_code, metro = market_zip_codes(market)[0]
    day = market.end_date.isoformat()
    return {"lead_id": "L00003410", "property_id": "P00003676", "scoring_date": day, "zip_code": zip_code,
            "metro": metro, **_HOUSE, "last_contact_date": day}


def example_request(market: MarketConfig) -> dict[str, Any]:
    """The example's request body: one record and exact reasons."""
    return {"dataframe_records": [example_lead(market)], "params": {"reasons": "exact"}}


def example_curl(market: MarketConfig, url: str = "http://127.0.0.1:5001/invocations", width: int = 104) -> str:
    """The README's curl command for the example, its record wrapped to `width` characters."""
    fields = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in example_lead(market).items()]
    lines, line = [], "    {"
    for i, field in enumerate(fields):
        piece = field + ("}" if i == len(fields) - 1 else ",")
        if len(line) + 1 + len(piece) > width and line.strip() != "{":
            lines.append(line)
            line = "     " + piece
        else:
            line = f"{line}{'' if line.endswith('{') else ' '}{piece}"
    lines.append(line)
    params = json.dumps(example_request(market)["params"])
    return "\n".join([f"curl -s {url} -H 'Content-Type: application/json' -d '{{",
                      '  "dataframe_records": [', *lines, "  ],", f'  "params": {params}}}\''])
