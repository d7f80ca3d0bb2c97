"""The serving documentation held equal to the code: docs/serving.md's schema table and example
request, and the production proxy's list of params (no server started here)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from wholesaler_assets.cli import main
from wholesaler_assets.domain.synthetic.config import MarketConfig
from wholesaler_assets.domain.synthetic.market import market_zip_codes
from wholesaler_assets.io.registry import SCORER_PARAMS
from wholesaler_assets.serving.example import example_curl, example_lead, example_request

PROJECT = Path(__file__).parents[2]
README = (PROJECT / "docs" / "serving.md").read_text()


def test_the_serving_schema_is_printed_for_the_readme(capsys):
    from wholesaler_assets.domain.features.record_schema import RECORD_FIELDS

    assert main(["serving-schema"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("| field | type | required | allowed values / range | description |")
    for field in RECORD_FIELDS:
        assert f"| `{field.name}` | {field.kind} | {'yes' if field.required else ''} |" in table
    assert "| `sqft` | number | yes | > 0 and <= 100,000 |" in table
    assert table.strip() in README, "regenerate docs/serving.md's serving schema: wholesaler serving-schema"


def test_the_readme_example_request_is_a_lead_of_the_demo_market(capsys):
    assert main(["serving-example"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == example_curl(MarketConfig())
    assert printed in README, "regenerate docs/serving.md's example request: wholesaler serving-example"
    # the curl's body is exactly the example request, and its ZIP one of the demo market's
    body = json.loads(printed.split(" -d '", 1)[1].removesuffix("'"))
    assert body == example_request(MarketConfig())
    lead = example_lead(MarketConfig())
    assert (lead["zip_code"], lead["metro"]) in market_zip_codes(MarketConfig())
    assert lead["scoring_date"] == MarketConfig().end_date.isoformat()


def test_the_example_follows_the_market_it_is_built_for():
    other = MarketConfig(seed=99)
    assert example_lead(other)["zip_code"] == market_zip_codes(other)[0][0]
    assert market_zip_codes(MarketConfig(n_properties=1_000)) == market_zip_codes(MarketConfig())


def test_the_proxy_guard_takes_exactly_the_models_params():
    guard = (PROJECT / "deploy" / "production" / "nginx" / "scoring_guard.js").read_text()
    listed = re.search(r"^const PARAMS = \[(.*)\];", guard, re.M)
    assert listed is not None
    assert re.findall(r"'([^']+)'", listed.group(1)) == [p.name for p in SCORER_PARAMS.params]
