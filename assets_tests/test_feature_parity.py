"""Training, the Scorer and a real endpoint agree on the default market's holdout contacts.

The booked-call model of the default market (`default_market`, shared with the quality bar) is
registered as lead_scorer@champion and served by `mlflow models serve`. For each holdout contact
its lead record as of the contact is built from the warehouse and sent as a CRM would send it
(JSON, dates as text): every feature the Scorer computes equals the contact's training row, nulls
included, and the probabilities of the Scorer and of the endpoint equal the calibrated holdout
probabilities the evaluation judged (the `holdout_scores` table).
"""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import numpy as np
import polars as pl
import pytest

from wholesaler_assets.assets.registration import registered_scorer
from wholesaler_assets.assets.valuation import arv_model
from wholesaler_assets.domain.features.contract import cast_features, source_feature_contract
from wholesaler_assets.domain.features.record_schema import RECORD_SCHEMA, REQUIRED_FIELDS
from wholesaler_assets.domain.features.warehouse_records import SNAPSHOT_COLUMNS, contact_records
from wholesaler_assets.domain.training.splits import HOLDOUT
from wholesaler_assets.io.scoring_inputs import load_scorer

PARITY_CONTACTS = 1_200
REQUEST_ROWS = 300

pytestmark = [pytest.mark.slow, pytest.mark.serving]


@pytest.fixture(scope="module")
def champion(default_market):
    """The default market's evaluated model registered (with the ARV model) and loaded back as a Scorer."""
    resources = default_market.resources
    assert dg.materialize([arv_model], resources=resources).success
    assert dg.materialize([registered_scorer], resources=resources, run_config={
        "ops": {"registered_scorer": {"config": {"targets": [default_market.target]}}}}).success
    scorer, _ = load_scorer(resources["mlflow_tracking"], "champion")
    return scorer


@pytest.fixture(scope="module")
def holdout_records(default_market) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Evenly spread holdout contacts with complete records: their training rows and lead records."""
    wh = default_market.resources["warehouse"].open()
    holdout = wh.read("training_table", "target = ? and split = ?", [default_market.target, HOLDOUT])
    snapshots = wh.query(f"select {', '.join(SNAPSHOT_COLUMNS)} from property_snapshots "
                         "where property_id in (select distinct property_id from lead_contacts)")
    records = contact_records(wh.read("lead_contacts"), snapshots).join(
        holdout.select("contact_id"), on="contact_id", how="semi")
    complete = records.filter(pl.all_horizontal(pl.col(REQUIRED_FIELDS).is_not_null()))
    step = max(complete.height // PARITY_CONTACTS, 1)
    chosen = complete.gather_every(step).head(PARITY_CONTACTS)
    assert chosen.height >= 1_000, f"only {chosen.height} holdout contacts with complete records"
    rows = holdout.join(chosen.select("contact_id"), on="contact_id", how="semi", maintain_order="left")
    return rows.sort("contact_id"), chosen.sort("contact_id")


def as_payload(records: pl.DataFrame) -> list[dict]:
    """Lead records as JSON a CRM would send: dates as ISO text, nulls kept."""
    frame = records.select(list(RECORD_SCHEMA)).with_columns(pl.col(pl.Date).cast(pl.String))
    return json.loads(json.dumps(frame.to_dicts()))


def test_every_feature_of_a_holdout_contact_equals_its_training_row(champion, holdout_records):
    rows, records = holdout_records
    validated = champion.validate(as_payload(records), dt.datetime.now(dt.UTC).date())
    contract = source_feature_contract()
    features = cast_features(champion.features(validated), contract)
    assert features["lead_id"].to_list() == rows["lead_id"].to_list()
    differing = {}
    for spec in contract.features:
        served, trained = features[spec.name], rows[spec.name]
        same = (served == trained) | (served.is_null() & trained.is_null())
        if not same.fill_null(False).all():
            at = int((~same.fill_null(False)).arg_max())
            differing[spec.name] = (rows["contact_id"][at], trained[at], served[at])
    assert not differing, f"features that differ from training (contact, training, scoring): {differing}"


def test_scorer_and_endpoint_give_the_evaluations_holdout_probabilities(default_market, champion, holdout_records,
                                                                       serve_model, tmp_path_factory):
    rows, records = holdout_records
    target = default_market.target
    winner = json.loads((default_market.root / "models" / target / "evaluation.json").read_text())["winner"]
    judged = default_market.resources["warehouse"].open().read(
        "holdout_scores", "target = ? and candidate = ?", [target, winner])
    expected = rows.select("contact_id").join(judged, on="contact_id", how="left", maintain_order="left")
    assert expected["probability"].null_count() == 0, "a holdout contact without its evaluated score"
    expected_p = expected["probability"].to_numpy()

    payload = as_payload(records)
    validated = champion.validate(payload, dt.datetime.now(dt.UTC).date())
    scored = champion.score(validated, reasons="approximate")
    np.testing.assert_array_equal(scored[f"p_{target}"].to_numpy(), expected_p)

    with serve_model(default_market.mlruns, tmp_path_factory.mktemp("parity-serving") / "server.log") as server:
        served = []
        for start in range(0, len(payload), REQUEST_ROWS):
            response = server.score(payload[start:start + REQUEST_ROWS], reasons="approximate")
            assert response.status_code == 200, response.text[:1000]
            served += response.json()["predictions"]
    assert [r["lead_id"] for r in served] == rows["lead_id"].to_list()
    np.testing.assert_array_equal(np.array([r[f"p_{target}"] for r in served]), expected_p)
