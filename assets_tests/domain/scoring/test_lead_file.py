"""A lead file's batch ranking (quantile tiers, no ties) and which of its leads are open at the cutoff."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from wholesaler_assets.domain.scoring.lead_file import open_leads, rank_in_batch, tier_ranges

CUTOFF = dt.datetime(2024, 6, 30, tzinfo=dt.UTC)


def test_tied_probabilities_get_distinct_priorities_and_quantile_tiers():
    # An isotonic calibrator gives whole blocks the same probability: the raw score breaks the tie.
    frame = pl.DataFrame({"lead_id": [f"L{i:02d}" for i in range(20)],
                          "p": [0.9] * 5 + [0.5] * 10 + [0.1] * 5,
                          "model_score": [0.70 + i / 100 for i in range(20)]})
    ranked = rank_in_batch(frame, "p", "model_score", (0.1, 0.3, 0.6))
    assert ranked["lead_id"].to_list() == frame["lead_id"].to_list()  # the frame's own order is kept
    assert ranked["priority_score"].n_unique() == 20
    top = ranked.sort("priority_score", descending=True)
    assert top["lead_id"].to_list()[:5] == ["L04", "L03", "L02", "L01", "L00"]  # within p 0.9, by raw score
    assert top["priority_score"][0] == 100.0 and top["priority_score"][-1] == pytest.approx(5.0)
    assert top["tier"].to_list() == ["A"] * 2 + ["B"] * 4 + ["C"] * 6 + ["D"] * 8
    assert tier_ranges(ranked, "p")["A"] == {"leads": 2, "min_probability": 0.9, "max_probability": 0.9}


def test_equal_probability_and_score_fall_back_to_the_lead_id_and_bad_shares_are_refused():
    frame = pl.DataFrame({"lead_id": ["b", "a", "c"], "p": [0.5] * 3, "model_score": [0.2] * 3})
    ranked = rank_in_batch(frame, "p", "model_score", (0.34, 0.67, 1.0))
    assert ranked.sort("priority_score", descending=True)["lead_id"].to_list() == ["a", "b", "c"]
    with pytest.raises(ValueError, match="tier shares"):
        rank_in_batch(frame, "p", "model_score", (0.5, 0.3, 0.6))


def _contacts(**extra):
    return pl.DataFrame({
        "contact_id": ["c1", "c2", "c3", "c4", "c5"], "lead_id": ["a", "b", "c", "d", "e"],
        "contact_time": [CUTOFF - dt.timedelta(days=d) for d in (40, 3, 2, 1, -1)], **extra})


def test_the_window_rule_takes_recent_leads_without_an_outcome_and_never_a_training_row():
    outcomes = pl.DataFrame({"lead_id": ["a", "b", "c", "d", "e"],
                             "call_booked_at": [None, CUTOFF - dt.timedelta(days=1), None, None, None]},
                            schema_overrides={"call_booked_at": pl.Datetime("us", "UTC")})
    found = open_leads(_contacts(), outcomes, {"booked_call_7d": "outcome_time"}, CUTOFF, "window",
                       training_contacts=pl.Series(["c4"]))
    # a: contacted 40 days ago (its window closed); b: booked; d: a training row; e: after the cutoff.
    assert found["lead_id"].to_list() == ["c"]


def test_the_column_rule_takes_the_leads_the_file_marks_open():
    found = open_leads(_contacts(lead_open=[True, False, None, True, True]), pl.DataFrame({"lead_id": []}),
                       {"booked_call_7d": "provided_label"}, CUTOFF, "column")
    assert found["lead_id"].to_list() == ["a", "d"]  # e is marked open but contacted after the cutoff
    with pytest.raises(ValueError, match="lead_open"):
        open_leads(_contacts(), pl.DataFrame({"lead_id": []}), {"booked_call_7d": "provided_label"}, CUTOFF,
                   "column")
