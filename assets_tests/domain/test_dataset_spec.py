"""Bring-your-own leads: a spec and a small hand-written lead file become the canonical lead tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from wholesaler_assets.domain.dataset_spec import (
    DatasetSpecError,
    lead_tables_from_spec,
    load_dataset_spec,
    validate_lead_file,
)
from wholesaler_assets.domain.ingestion import FileRejected

FIXTURES = Path(__file__).parents[1] / "fixtures" / "byo"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_outcome_time_spec_builds_contacts_and_outcomes():
    spec = load_dataset_spec(FIXTURES / "acme_leads.yaml")
    assert spec.path == (FIXTURES / "acme_leads.csv").resolve()
    verdict, catalog = validate_lead_file(spec, NOW)
    assert verdict.bad_rows.is_empty()
    assert catalog.targets == {"booked_call_7d": "outcome_time", "qualified_14d": "outcome_time"}
    assert "deal_30d" not in catalog.targets  # absent target skipped, not faked
    assert catalog.feature_columns == {"list_source": "categorical", "equity_pct": "numeric",
                                       "years_owned": "numeric", "absentee": "boolean", "tax_owed": "numeric"}
    assert catalog.excluded_columns["owner_name"] == "PII"
    assert catalog.excluded_columns["phone"] == "PII"
    assert catalog.excluded_columns["crm_ref"] == "id"
    assert catalog.excluded_columns["last_note_on"].startswith("a date")
    assert catalog.positive_share_bands == {"booked_call_7d": [0.05, 0.6]}
    assert catalog.data_cutoff == "2025-02-18T10:00:00+00:00"

    contacts, outcomes = lead_tables_from_spec(spec, verdict.good_rows, catalog.feature_columns)
    assert contacts.height == 12
    assert contacts.columns == ["contact_id", "lead_id", "contact_time", "list_source", "equity_pct",
                                "years_owned", "absentee", "tax_owed"]
    assert contacts["equity_pct"].dtype == pl.Float64
    assert not {"owner_name", "phone", "crm_ref"} & set(contacts.columns)
    assert outcomes.columns == ["lead_id", "call_booked_at", "qualified_at"]
    assert outcomes["call_booked_at"].is_not_null().sum() == 4


def test_ready_labels_and_one_target_with_bad_rows_quarantined():
    spec = load_dataset_spec(FIXTURES / "labelled_leads.yaml")
    verdict, catalog = validate_lead_file(spec, NOW, max_bad_row_share=0.5)
    assert catalog.targets == {"booked_call_7d": "provided_label"}
    assert catalog.feature_columns == {"channel": "categorical", "motivation_score": "numeric",
                                       "vacant": "boolean"}
    reasons = dict(zip(verdict.bad_rows["id"], verdict.bad_rows["_reasons"], strict=True))
    assert set(reasons) == {"B7", "B8"}
    assert "booked: <=(1) (2)" in reasons["B7"]
    assert "motivation_score: 'oops' is not a valid Float64" in reasons["B8"]
    contacts, outcomes = lead_tables_from_spec(spec, verdict.good_rows, catalog.feature_columns)
    assert contacts.height == 6
    assert outcomes.columns == ["lead_id", "label_booked_call_7d"]
    assert outcomes["label_booked_call_7d"].sum() == 2


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("name: x\npath: f.csv\nlead_id: id\ncontact_time: t\ntargets: {}\n", "targets"),
        ("name: x\npath: f.csv\nlead_id: id\ncontact_time: t\ntargets:\n  booked_call_7d: {}\n",
         "exactly one of outcome_time or label"),
        ("name: x\npath: f.csv\nlead_id: id\ncontact_time: t\ntargets:\n  sold_90d: {label: s}\n", "sold_90d"),
        ("name: x\npath: f.csv\nlead_id: id\ncontact_time: t\nlables: []\ntargets:\n  deal_30d: {label: s}\n",
         "lables"),
        ("name: [unclosed\n", "not valid YAML"),
    ],
    ids=["no-targets", "target-without-source", "unknown-target", "typo-key", "bad-yaml"],
)
def test_bad_spec_is_refused_with_a_message(tmp_path, yaml_text, message):
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml_text)
    with pytest.raises(DatasetSpecError, match=message):
        load_dataset_spec(spec_file)


def test_spec_naming_absent_columns_or_files_is_refused(tmp_path):
    (tmp_path / "leads.csv").write_text("lead,t\nA,2025-01-01T00:00:00Z\n")
    (tmp_path / "spec.yaml").write_text(
        "name: x\npath: leads.csv\nlead_id: lead\ncontact_time: t\ntargets:\n  deal_30d: {label: closed}\n")
    with pytest.raises(DatasetSpecError, match="lacks column\\(s\\) named in the spec: closed"):
        validate_lead_file(load_dataset_spec(tmp_path / "spec.yaml"), NOW)
    (tmp_path / "leads.csv").unlink()
    with pytest.raises(DatasetSpecError, match="lead file not found"):
        validate_lead_file(load_dataset_spec(tmp_path / "spec.yaml"), NOW)
    (tmp_path / "leads.csv").write_bytes(b"")
    with pytest.raises(FileRejected, match="empty file"):
        validate_lead_file(load_dataset_spec(tmp_path / "spec.yaml"), NOW)
