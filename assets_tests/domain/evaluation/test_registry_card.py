"""The registered version's card: gates and figures a person reads, within MLflow's 5,000 characters."""

from __future__ import annotations

import json

from wholesaler_assets.domain.evaluation.registry_card import (
    MAX_DESCRIPTION,
    SCHEMA_ARTIFACT,
    version_description,
    version_tags,
)
from wholesaler_assets.domain.features.record_schema import RECORD_FIELDS, RecordField

EVALUATIONS = {
    "booked_call_7d": {"winner": "xgboost", "explanation": "xgboost passes all 7 gates | beats the baseline",
                       "gates": {"xgboost": [{"name": "ece_global", "passed": True},
                                             {"name": "top_decile_lift", "passed": False}]}},
    "deal_30d": {"winner": "baseline", "explanation": "the baseline wins", "gates": {"baseline": []}},
}


def test_the_card_names_gates_figures_and_the_lead_record():
    text = version_description("lead_scorer v3", EVALUATIONS, {"booked_call_7d": 0.18234}, "promoted: first champion",
                               "synthetic_market", "fc-0123", "model", RECORD_FIELDS)
    assert "| booked_call_7d | xgboost | 0.182 | 1/2 passed (failed: top_decile_lift) |" in text
    assert "| deal_30d | baseline |  | 0/0 passed |" in text
    assert "beats the baseline" in text and "| beats" not in text  # a pipe in the text cannot break the table
    assert "| zip_code | text | yes |  |" in text and "| scoring_date | date |  | YYYY-MM-DD |" in text
    assert len(text) <= MAX_DESCRIPTION


def test_a_long_schema_is_cut_to_fit_with_a_pointer_to_the_artifact():
    fields = tuple(RecordField(f"feature_number_{i:03d}_with_a_long_name", "number", False, "x", 0, 1e9)
                   for i in range(200))
    text = version_description("v1", EVALUATIONS, {}, "kept", "lead_file", "fc-1", "none", fields)
    assert len(text) <= MAX_DESCRIPTION and text.endswith(f"see {SCHEMA_ARTIFACT})_")


def test_the_tags_a_version_is_found_by():
    tags = version_tags(EVALUATIONS, "synthetic_market", "fc-0123", "model")
    assert tags["targets"] == "booked_call_7d,deal_30d" and tags["feature_contract_hash"] == "fc-0123"
    assert json.loads(tags["winners"]) == {"booked_call_7d": "xgboost", "deal_30d": "baseline"}
    assert tags["gates"] == "booked_call_7d: xgboost 1/2 gates passed; deal_30d: baseline 0/0 gates passed"
