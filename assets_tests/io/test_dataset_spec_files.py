"""Bring-your-own leads from disk: a spec file and its lead file become the canonical lead tables;
missing files are named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from wholesaler_assets.domain.contracts.dataset_spec import DatasetSpecError, lead_tables_from_spec
from wholesaler_assets.domain.ingestion.validation import FileRejected
from wholesaler_assets.io.dataset_spec_files import load_dataset_spec, validate_lead_file

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


def test_missing_spec_file_is_named(tmp_path):
    with pytest.raises(DatasetSpecError, match="dataset spec not found: .*absent.yaml"):
        load_dataset_spec(tmp_path / "absent.yaml")


def test_absolute_lead_path_is_kept(tmp_path):
    lead_file = (FIXTURES / "labelled_leads.csv").resolve()
    (tmp_path / "spec.yaml").write_text(
        f"name: x\npath: {lead_file}\nlead_id: id\ncontact_time: t\ntargets:\n  deal_30d: {{label: s}}\n")
    assert load_dataset_spec(tmp_path / "spec.yaml").path == lead_file
