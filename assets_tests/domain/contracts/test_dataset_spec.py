"""Bring-your-own leads, pure: a spec's text and a lead file's bytes become the canonical lead
tables, bad rows come back with reasons, a bad spec is refused with a message."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from wholesaler_assets.domain.contracts.dataset_spec import (
    DatasetSpec,
    DatasetSpecError,
    lead_tables_from_spec,
    parse_dataset_spec,
    validate_lead_data,
)
from wholesaler_assets.domain.ingestion.validation import FileRejected

FIXTURES = Path(__file__).parents[2] / "fixtures" / "byo"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SPEC = "name: x\npath: leads.csv\nlead_id: lead\ncontact_time: t\ntargets:\n  deal_30d: {label: closed}\n"


def _fixture_spec(name: str) -> DatasetSpec:
    return parse_dataset_spec((FIXTURES / name).read_text(), name)


def test_ready_labels_and_one_target_with_bad_rows_quarantined():
    spec = _fixture_spec("labelled_leads.yaml")
    assert spec.path == Path("labelled_leads.csv")  # as written: the folder it is relative to is not known here
    verdict, catalog = validate_lead_data(spec, (FIXTURES / spec.path).read_bytes(), NOW, max_bad_row_share=0.5)
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
def test_bad_spec_is_refused_with_a_message(yaml_text, message):
    with pytest.raises(DatasetSpecError, match=f"dataset spec my_spec.yaml.*{message}"):
        parse_dataset_spec(yaml_text, "my_spec.yaml")


def test_lead_data_lacking_spec_columns_or_empty_is_refused():
    spec = parse_dataset_spec(SPEC, "spec.yaml")
    with pytest.raises(DatasetSpecError, match="lacks column\\(s\\) named in the spec: closed"):
        validate_lead_data(spec, b"lead,t\nA,2025-01-01T00:00:00Z\n", NOW)
    with pytest.raises(FileRejected, match="empty file"):
        validate_lead_data(spec, b"", NOW)




# --- feature selection's controls -----------------------------------------------------------------

def _acme(extra: str) -> DatasetSpec:
    return parse_dataset_spec((FIXTURES / "acme_leads.yaml").read_text() + extra, "acme_leads.yaml")


def test_selection_controls_reach_the_catalog_and_drop_excludes_the_column():
    spec = _acme("keep: [years_owned]\ndrop: [list_source]\nsentinel_values: {tax_owed: [0]}\nselection: off\n")
    assert spec.selection is False  # YAML's `off`
    _, catalog = validate_lead_data(spec, (FIXTURES / spec.path).read_bytes(), NOW, max_bad_row_share=0.5)
    assert "list_source" not in catalog.feature_columns
    assert catalog.excluded_columns["list_source"] == "dropped by the spec (drop)"
    assert catalog.feature_selection == {"enabled": False, "keep": ["years_owned"],
                                         "sentinel_values": {"tax_owed": [0.0]}}


def test_the_default_catalog_lets_selection_run():
    spec = _fixture_spec("acme_leads.yaml")
    _, catalog = validate_lead_data(spec, (FIXTURES / spec.path).read_bytes(), NOW, max_bad_row_share=0.5)
    assert catalog.feature_selection == {"enabled": True, "keep": [], "sentinel_values": {}}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("keep: [equity]\n", "keep names 'equity', which the lead file does not have"),
        ("drop: [notes]\n", "drop names 'notes', which the lead file does not have"),
        ("sentinel_values: {days: [999]}\n", "sentinel_values names 'days', which the lead file does not have"),
        ("keep: [phone]\n", r"keep names 'phone', which is not a feature \(PII\)"),
        ("sentinel_values: {list_source: [1]}\n", "a categorical feature: only numeric values can be sentinels"),
    ],
    ids=["keep-unknown", "drop-unknown", "sentinel-unknown", "keep-pii", "sentinel-categorical"],
)
def test_selection_controls_naming_what_is_not_there_are_refused(extra, message):
    spec = _acme(extra)
    with pytest.raises(DatasetSpecError, match=f"dataset spec acme_leads: .*{message}"):
        validate_lead_data(spec, (FIXTURES / spec.path).read_bytes(), NOW, max_bad_row_share=0.5)


@pytest.mark.parametrize(
    ("extra", "message"),
    [("keep: [absentee]\ndrop: [absentee]\n", "both in keep and drop: absentee"),
     ("sentinel_values: {tax_owed: [never]}\n", "sentinel_values.tax_owed.0"),
     ("selection: sometimes\n", "selection")],
    ids=["keep-and-drop", "sentinel-not-a-number", "selection-not-on-off"],
)
def test_bad_selection_controls_in_the_yaml_are_refused(extra, message):
    with pytest.raises(DatasetSpecError, match=f"dataset spec acme_leads.yaml.*{message}"):
        _acme(extra)
