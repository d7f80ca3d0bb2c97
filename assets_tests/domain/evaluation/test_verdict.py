"""Cohorts for explanations and value segments of rows."""

from __future__ import annotations

import polars as pl

from wholesaler_assets.domain.evaluation.verdict import cohorts_of, segments_of


def test_cohorts_name_the_main_distress_and_value_segment():
    frame = pl.DataFrame({
        "market_value": [100_000.0, 500_000.0, None], "channel": ["sms", "cold_call", "door_knock"],
        "in_foreclosure": [True, False, False], "tax_delinquent": [True, True, False],
        "in_probate": [False, False, False], "vacant": [False, True, False],
    })
    cohorts = cohorts_of(frame)
    assert cohorts.columns == ["value_segment", "channel", "distress_type"]
    assert cohorts["value_segment"].to_list() == ["under_150k", "over_400k", "unknown"]
    assert cohorts["distress_type"].to_list() == ["foreclosure", "tax_delinquent", "none"]


def test_segments_follow_configured_edges_and_datasets_without_values():
    frame = pl.DataFrame({"market_value": [100_000.0, 300_000.0]})
    assert segments_of(frame, (200_000.0,)).tolist() == ["under_200k", "over_200k"]
    assert set(segments_of(pl.DataFrame({"x": [1, 2]})).tolist()) == {"all"}
    assert cohorts_of(pl.DataFrame({"x": [1]})).columns == ["value_segment"]


def test_a_lead_files_segments_are_the_values_of_the_column_its_spec_names():
    frame = pl.DataFrame({"list_source": ["probate", None, "tax_list"], "market_value": [1e5, 2e5, 5e5]})
    assert segments_of(frame, column="list_source").tolist() == ["probate", "missing", "tax_list"]
    assert segments_of(frame).tolist() == ["under_150k", "150k_400k", "over_400k"]
