"""`wholesaler score` against a real `mlflow models serve` of the same champion: CSV and Parquet
files give exactly the endpoint's answers (JSON and text/csv bodies alike), and a bad file is refused
with the endpoint's own message."""

from __future__ import annotations

import io
import json

import pandas as pd
import polars as pl
import pytest
import requests

from wholesaler_assets.cli import main
from wholesaler_assets.io.scoring_inputs import active_records, load_scorer

pytestmark = [pytest.mark.slow, pytest.mark.serving]

LEADS = 12
COMPARED = ("lead_id", "scoring_date", "p_booked_call_7d", "p_deal_30d", "arv", "arv_method", "conservative_profit",
            "passes_buy_box", "expected_value", "priority_score", "tier", "top_reasons", "narrative",
            "reasons_method", "model_version")


@pytest.fixture(scope="module")
def lead_file(champion_market, tmp_path_factory) -> pd.DataFrame:
    """Active lead records of the scoring day as a CRM exports them (dates as text, ZIP codes as text)."""
    resources = champion_market.resources(tmp_path_factory.mktemp("cli-score") / "data")
    scorer, _ = load_scorer(resources["mlflow_tracking"], "champion")
    records = active_records(resources["warehouse"].open(), scorer, champion_market.scoring_day, 7, "cold_call", False)
    return records.head(LEADS).with_columns(pl.col(pl.Date).cast(pl.String)).to_pandas()


def _tracking(champion_market) -> list[str]:
    return ["--tracking-uri", f"sqlite:///{champion_market.mlruns}/mlflow.db"]


def _rows(frame: pd.DataFrame | pl.DataFrame) -> list[dict]:
    frame = frame if isinstance(frame, pl.DataFrame) else pl.from_pandas(frame)
    return frame.select(COMPARED).with_columns(pl.col(pl.Date).cast(pl.String)).to_dicts()


def test_score_csv_and_parquet_give_the_endpoint_answer(champion_market, scoring_server, lead_file, tmp_path, capsys):
    csv_in, parquet_in = tmp_path / "leads.csv", tmp_path / "leads.parquet"
    lead_file.to_csv(csv_in, index=False)
    lead_file.to_parquet(parquet_in)
    assert pd.read_csv(csv_in)["zip_code"].dtype.kind == "i"  # what a CSV reader makes of ZIP codes
    for source, target in ((csv_in, tmp_path / "scored.csv"), (parquet_in, tmp_path / "scored.parquet"),
                           (csv_in, tmp_path / "by_version.parquet")):
        version = ["--version", "1"] if target.name == "by_version.parquet" else []
        assert main(["score", str(source), "-o", str(target), *version, *_tracking(champion_market)]) == 0
        assert f"scored {LEADS} leads with lead_scorer v1" in capsys.readouterr().out
    endpoint = scoring_server.score(lead_file.to_dict("records"))
    assert endpoint.status_code == 200, endpoint.text[:500]
    expected = _rows(pd.DataFrame(endpoint.json()["predictions"]))
    as_csv = pl.read_csv(tmp_path / "scored.csv", schema_overrides={"lead_id": pl.String})
    assert _rows(as_csv) == expected
    assert _rows(pl.read_parquet(tmp_path / "scored.parquet")) == expected
    assert _rows(pl.read_parquet(tmp_path / "by_version.parquet")) == expected
    assert {r["reasons_method"] for r in expected} == {"exact"}  # 12 leads: exact, as one request of 12


def test_the_endpoint_takes_a_csv_body_with_zip_codes_as_numbers(scoring_server, lead_file):
    """`mlflow models serve` reads a text/csv body with pandas.read_csv: ZIP codes arrive as integers."""
    body = lead_file.to_csv(index=False).encode()
    assert pd.read_csv(io.BytesIO(body))["zip_code"].dtype.kind == "i"
    as_csv = requests.post(f"{scoring_server.url}/invocations", data=body, headers={"Content-Type": "text/csv"},
                           timeout=60)
    as_json = scoring_server.score(lead_file.to_dict("records"))
    assert as_csv.status_code == as_json.status_code == 200, as_csv.text[:500]
    assert _rows(pd.DataFrame(as_csv.json()["predictions"])) == _rows(pd.DataFrame(as_json.json()["predictions"]))


def test_a_bad_file_is_refused_with_the_endpoint_message(champion_market, scoring_server, lead_file, tmp_path,
                                                         capsys):
    bad = lead_file.copy()
    bad.loc[3, "sqft"] = -5.0
    bad["sqft_living"] = 100.0  # unknown fields are refused, as at the endpoint
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    out = tmp_path / "never.csv"
    assert main(["score", str(path), "-o", str(out), *_tracking(champion_market)]) == 2
    message = capsys.readouterr().err.strip().splitlines()[-1]
    endpoint = scoring_server.score(json.loads(bad.to_json(orient="records")))
    assert endpoint.status_code == 400
    assert message.startswith(f"{path}: invalid lead records: ")
    assert message.removeprefix(f"{path}: ") in endpoint.json()["message"]  # MLflow wraps the model's message
    assert "row 3: field 'sqft' must be greater than 0, got -5.0" in message and "sqft_living" in message
    assert not out.exists()
    assert main(["score", str(path), "-o", str(tmp_path / "x.xlsx"), *_tracking(champion_market)]) == 2
    assert main(["score", str(path), "-o", str(out), "--version", "99", *_tracking(champion_market)]) == 1
    assert "no models:/lead_scorer/99" in capsys.readouterr().err
