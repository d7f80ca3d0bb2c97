"""Summaries over many leads: global importance, cohorts and the markdown report."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from wholesaler_assets.domain.explain.summaries import cohort_summary, global_importance, summary_markdown


def test_global_importance_ranks_and_shares():
    contributions = np.array([[0.1, -2.0, 0.5], [-0.1, 1.0, 0.5]])
    table = global_importance(contributions, ["x", "y", "z"])
    assert table.columns == ["feature", "mean_abs_contribution", "mean_contribution", "share", "rank"]
    assert table["feature"].to_list() == ["y", "z", "x"]
    assert table["rank"].to_list() == [1, 2, 3]
    assert table["mean_abs_contribution"].to_list() == pytest.approx([1.5, 0.5, 0.1])
    assert table["mean_contribution"].to_list() == pytest.approx([-0.5, 0.5, 0.0])
    assert table["share"].sum() == pytest.approx(1.0)
    assert table["share"][0] == pytest.approx(1.5 / 2.1)


def test_cohort_summary_rows_probability_and_top_features():
    names = ["equity_share", "in_foreclosure", "channel", "sqft"]
    contributions = np.array([
        [0.9, 0.0, 0.1, 0.01],
        [0.7, 0.2, -0.3, 0.0],
        [0.0, 1.5, 0.2, 0.0],
        [-0.1, 1.1, 0.6, 0.0],
        [0.0, 0.0, 0.0, 0.0],
    ])
    cohorts = pl.DataFrame({
        "value_segment": ["high", "high", "low", "low", None],
        "channel": ["sms", "cold_call", "sms", "sms", "cold_call"],
    })
    probs = np.array([0.8, 0.6, 0.3, 0.5, 0.1])
    summary = cohort_summary(contributions, names, cohorts, probs, top=2)
    assert summary.columns == ["cohort_column", "cohort_value", "rows", "mean_probability", "top_features"]
    rows = {(r["cohort_column"], r["cohort_value"]): r for r in summary.iter_rows(named=True)}
    assert summary["cohort_column"].to_list() == ["value_segment"] * 3 + ["channel"] * 2
    assert summary.filter(pl.col("cohort_column") == "value_segment")["rows"].sum() == 5
    assert rows[("value_segment", "high")]["rows"] == 2
    assert rows[("value_segment", "high")]["mean_probability"] == pytest.approx(0.7)
    assert rows[("value_segment", "high")]["top_features"] == "equity_share, channel"
    assert rows[("value_segment", "low")]["top_features"] == "in_foreclosure, channel"
    assert rows[("value_segment", None)]["top_features"] == ""  # all zero: nothing stands out
    assert rows[("channel", "sms")]["rows"] == 3
    assert rows[("channel", "sms")]["mean_probability"] == pytest.approx(1.6 / 3)
    # sms rows 0, 2, 3: mean |c| equity 1.0/3, in_foreclosure 2.6/3, channel 0.9/3, sqft 0.01/3
    assert rows[("channel", "sms")]["top_features"] == "in_foreclosure, equity_share"
    assert rows[("channel", "cold_call")]["top_features"] == "equity_share, channel"
    wide = cohort_summary(contributions, names, cohorts, probs, top=3)
    assert wide.row(0, named=True)["top_features"] == "equity_share, channel, in_foreclosure"
    with pytest.raises(ValueError, match="row counts"):
        cohort_summary(contributions, names, cohorts.head(4), probs)


def test_summary_markdown_has_both_tables():
    contributions = np.array([[0.1, -2.0, 0.5], [-0.1, 1.0, 0.5]])
    importance = global_importance(contributions, ["x", "y", "z"])
    cohorts = cohort_summary(contributions, ["x", "y", "z"], pl.DataFrame({"seg": ["a", None]}),
                                np.array([0.2, 0.4]))
    text = summary_markdown(importance, cohorts, "Lead model v1")
    assert text.startswith("# Lead model v1\n")
    assert "## Global feature importance" in text and "## Cohorts" in text
    assert "| 1 | y | 1.5000 | -0.5000 | 71.4% |" in text
    assert "| seg | a | 1 | 0.200 | y, z, x |" in text
    assert "| seg | (missing) | 1 | 0.400 | y, z, x |" in text
    many = global_importance(np.ones((1, 20)), [f"f{i}" for i in range(20)])
    long_text = summary_markdown(many, cohorts.head(0), "t")
    assert "| 15 | f14 |" in long_text and "f15" not in long_text and "No cohorts." in long_text
