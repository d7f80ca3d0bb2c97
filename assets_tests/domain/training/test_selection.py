"""Feature selection drops weak, redundant and collinear features, and only sees training rows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from wholesaler_assets.domain.training.selection import SelectionResult, SelectionThresholds, select_features

FEATURES = {
    "equity_share": "numeric",
    "noise": "numeric",
    "equity_share_copy": "numeric",
    "x1": "numeric",
    "x2": "numeric",
    "x3": "numeric",
    "is_absentee": "boolean",
    "channel": "categorical",
}


def _training_frame(n: int = 20_000, seed: int = 11) -> pl.DataFrame:
    """Label driven by equity_share, x1, x2, is_absentee and channel; the rest are planted traps."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    equity_share = signal + rng.normal(0, 0.3, n)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    is_absentee = rng.random(n) < 0.4
    channel = rng.choice(["web", "referral", "cold"], size=n)
    channel_effect = np.select([channel == "web", channel == "cold"], [1.0, -1.0], 0.0)
    logit = -0.5 + 1.2 * signal + 0.6 * x1 + 0.6 * x2 + 0.8 * is_absentee + channel_effect
    label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    return pl.DataFrame({
        "label": label,
        "equity_share": equity_share,
        "noise": rng.normal(size=n),                                      # uninformative
        "equity_share_copy": equity_share + rng.normal(0, 0.15, n),       # r ~ 0.99, noisier
        "x1": x1,
        "x2": x2,
        "x3": x1 + x2 + rng.normal(0, 0.01, n),                           # collinear, pairwise r ~ 0.71
        "is_absentee": is_absentee,
        "channel": channel,
    }).with_columns(  # some missing channels
        pl.when(pl.int_range(pl.len()) % 20 == 0).then(None).otherwise(pl.col("channel")).alias("channel"))


@pytest.fixture(scope="module")
def result() -> SelectionResult:
    return select_features(_training_frame(), FEATURES, "label")


def test_uninformative_feature_is_removed_for_low_iv(result):
    assert result.removed["noise"].startswith("IV ")
    assert "below 0.02" in result.removed["noise"]
    assert result.information_values["noise"] < 0.02


def test_of_two_correlated_features_the_lower_iv_one_goes(result):
    ivs = result.information_values
    assert ivs["equity_share_copy"] < ivs["equity_share"]
    reason = result.removed["equity_share_copy"]
    assert reason.startswith("correlation 0.99")
    assert "with equity_share (higher IV kept)" in reason
    assert "equity_share" in result.selected


def test_collinear_triplet_loses_one_member_to_vif(result):
    pruned = [f for f in ("x1", "x2", "x3") if f in result.removed]
    assert len(pruned) == 1
    assert result.removed[pruned[0]].startswith("VIF ")
    assert "above 10" in result.removed[pruned[0]]
    assert set(result.vif) == {"equity_share", "x1", "x2", "x3"} - set(pruned)
    assert max(result.vif.values()) < 10


def test_informative_categorical_and_boolean_features_are_kept(result):
    assert "channel" in result.selected
    assert "is_absentee" in result.selected
    assert result.information_values["channel"] >= 0.02


def test_selection_is_deterministic_and_keeps_input_order(result):
    again = select_features(_training_frame(), FEATURES, "label")
    assert again == result
    assert result.selected == [f for f in FEATURES if f not in result.removed]
    assert list(result.information_values) == list(FEATURES)
    assert set(result.selected) | set(result.removed) == set(FEATURES)


def test_every_feature_below_min_iv_goes_when_the_bar_is_high():
    frame = _training_frame(n=5_000)
    high_bar = select_features(frame, FEATURES, "label", SelectionThresholds(min_information_value=100.0))
    assert high_bar.selected == []
    assert all(reason.startswith("IV ") for reason in high_bar.removed.values())
    assert high_bar.vif == {}


def test_holdout_leak_is_invisible_when_fitting_on_training_rows_only():
    rng = np.random.default_rng(12)
    n = 10_000
    signal = rng.normal(size=n)
    label = (rng.random(n) < 1 / (1 + np.exp(-(signal - 0.5)))).astype(np.int8)
    holdout = np.arange(n) >= int(n * 0.8)
    # "leaky" equals the label in the holdout (last 20% in time) and is a coin flip before it.
    leaky = np.where(holdout, label, rng.random(n) < 0.5).astype(float)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    frame = pl.DataFrame({
        "contact_time": [start + dt.timedelta(hours=i) for i in range(n)],
        "label": label,
        "signal": signal,
        "leaky": leaky,
    })
    features = {"signal": "numeric", "leaky": "numeric"}
    train = frame.filter(pl.col("contact_time") < frame["contact_time"][int(n * 0.8)])
    assert train.height == int(n * 0.8)

    on_train = select_features(train, features, "label")

    assert on_train.removed["leaky"].startswith("IV ")
    assert on_train.selected == ["signal"]
    # The same call on all rows would have been fooled: the planted leak is real.
    assert "leaky" in select_features(frame, features, "label").selected


def test_per_fold_selection_uses_only_that_folds_training_rows():
    from wholesaler_assets.domain.training.selection import FINAL_FOLD, select_per_fold, selection_table

    rng = np.random.default_rng(3)
    n = 4_000
    label = (rng.random(n) < 0.2).astype(np.int8)
    late = np.arange(n) >= 2_000  # informative only in the later half of the rows
    frame = pl.DataFrame({
        "contact_id": [f"C{i:08d}" for i in range(n)],
        "late_signal": np.where(late, label + rng.normal(0, 0.1, n), 0.0),
        "steady": label + rng.normal(0, 0.5, n),
        "label": label,
    })
    folds = pl.DataFrame({"fold": [1] * 2_000 + [1] * 2_000, "role": ["train"] * 2_000 + ["validation"] * 2_000,
                          "contact_id": frame["contact_id"]}).with_columns(pl.col("fold").cast(pl.Int32))
    features = {"late_signal": "numeric", "steady": "numeric"}
    results = select_per_fold(frame, folds, features, "label")
    assert "late_signal" in results[FINAL_FOLD].selected
    assert "late_signal" not in results[1].selected  # fold 1 never saw its validation rows
    assert "steady" in results[1].selected
    table = selection_table(results, features)
    assert table.height == 4 and set(table["fold"]) == {0, 1}
