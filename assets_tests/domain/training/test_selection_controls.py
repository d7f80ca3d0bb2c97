"""Feature selection a user can trust: sentinel and spike values keep their information value, the
spec's keep / sentinel / off controls hold, and the check against all features overrules filters
that threw signal away."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from wholesaler_assets.domain.training import statistics as st
from wholesaler_assets.domain.training.selection import (
    FINAL_FOLD,
    SelectionControls,
    SelectionThresholds,
    select_features,
    select_per_fold,
)
from wholesaler_assets.domain.training.selection_check import apply_check, check_selection


def _days_since_last_contact(n: int = 20_000, seed: int = 3) -> pl.DataFrame:
    """999 ("never contacted") for 96% of leads converting at 9%; the 4% contacted before convert at 64%."""
    rng = np.random.default_rng(seed)
    contacted = rng.random(n) < 0.04
    days = np.where(contacted, rng.integers(1, 60, n), 999).astype(float)
    label = (rng.random(n) < np.where(contacted, 0.64, 0.09)).astype(np.int8)
    return pl.DataFrame({"label": label, "days_since_last_contact": days})


def test_a_sentinel_that_holds_most_rows_keeps_its_information_value():
    frame = _days_since_last_contact()
    feature, label = frame["days_since_last_contact"], frame["label"]
    quantile_only = st.information_value(feature, label, "numeric", spike_share=1.0)  # the old binning
    spike_aware = st.information_value(feature, label, "numeric")
    assert quantile_only < 0.02  # the spike folds into one bin with its neighbours: no signal seen
    assert spike_aware > 0.3  # the sentinel alone separates 64% from 9% conversion
    selected = select_features(frame, {"days_since_last_contact": "numeric"}, "label")
    assert selected.selected == ["days_since_last_contact"]


def test_a_declared_sentinel_is_binned_alone_whatever_its_share():
    # -1 ("unknown") on 3% of rows, below the spike share, converting at 70% against 10%.
    rng = np.random.default_rng(5)
    unknown = rng.random(20_000) < 0.03
    values = pl.Series(np.where(unknown, -1.0, rng.normal(50, 10, 20_000)))
    label = pl.Series((rng.random(20_000) < np.where(unknown, 0.7, 0.1)).astype(np.int8))
    codes = st.spike_bin_codes(values, sentinels=[-1.0])
    assert set(codes[unknown.nonzero()[0]]) == {1}  # its own bin
    assert 1 not in set(codes[(~unknown).nonzero()[0]])
    declared = st.information_value(values, label, "numeric", sentinels=[-1.0])
    assert declared > st.information_value(values, label, "numeric") + 0.05


def test_zero_inflation_and_missing_values_are_bins_of_their_own():
    values = pl.Series([0.0] * 60 + [None] * 20 + [float(v) for v in range(1, 21)])
    codes = st.spike_bin_codes(values, bins=4)
    assert set(codes[:60]) == {1} and set(codes[60:80]) == {0}
    assert set(codes[80:]) <= {2, 3, 4} and len(set(codes[80:])) == 3  # 4 bins, the zero spike is one
    with pytest.raises(ValueError, match="spike_share"):
        st.spike_bin_codes(values, spike_share=0.0)


def _frame(n: int = 8_000, seed: int = 9) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    label = (rng.random(n) < 1 / (1 + np.exp(1.0 - 1.5 * signal))).astype(np.int8)
    return pl.DataFrame({"label": label, "signal": signal, "copy": signal + rng.normal(0, 0.25, n),
                         "noise": rng.normal(size=n)})


KINDS = {"signal": "numeric", "copy": "numeric", "noise": "numeric"}


def test_the_spec_keeps_what_the_filters_would_drop():
    frame = _frame()
    default = select_features(frame, KINDS, "label")
    assert "noise" in default.removed and "copy" in default.removed  # low IV; correlated with signal
    kept = select_features(frame, KINDS, "label", controls=SelectionControls(keep=("noise", "copy")))
    assert kept.selected == ["copy", "noise"]  # the kept copy wins its pair against the stronger signal
    assert kept.removed == {"signal": kept.removed["signal"]}
    assert kept.removed["signal"].endswith("with copy (kept by the spec)")
    both = select_features(frame, KINDS, "label", controls=SelectionControls(keep=("signal", "copy")))
    assert both.selected == ["signal", "copy"]  # two kept features both stay, however correlated


def test_selection_off_keeps_every_feature_and_still_reports_information_values():
    frame = _frame()
    off = select_features(frame, KINDS, "label", controls=SelectionControls(enabled=False))
    assert off.selected == list(KINDS) and not off.removed
    assert off.information_values["signal"] > off.information_values["noise"]


def test_every_threshold_is_configuration():
    frame = _frame()
    strict = select_features(frame, KINDS, "label", SelectionThresholds(min_information_value=50.0))
    assert not strict.selected
    lenient = select_features(frame, KINDS, "label", SelectionThresholds(min_information_value=0.0,
                                                                          max_correlation=1.0, max_vif=1e9))
    assert lenient.selected == list(KINDS)
    with pytest.raises(ValueError, match="iv_spike_share"):
        SelectionThresholds(iv_spike_share=1.5)


def _xor_frame(n: int = 4_000, seed: int = 4) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The label is the XOR of two signs: each half alone carries no information value."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    label = (rng.random(n) < np.where((a > 0) ^ (b > 0), 0.6, 0.05)).astype(np.int8)
    frame = pl.DataFrame({"contact_id": [f"C{i:05d}" for i in range(n)], "label": label, "a": a, "b": b,
                          "weak": np.where(label == 1, rng.normal(0.6, 1, n), rng.normal(0, 1, n))})
    # Two expanding-window folds: validate on the third quarter of the rows, then on the last.
    folds = pl.concat([
        pl.DataFrame({"fold": [fold] * end, "role": ["train"] * start + ["validation"] * (end - start),
                      "contact_id": frame["contact_id"][:end]})
        for fold, (start, end) in enumerate([(n // 2, 3 * n // 4), (3 * n // 4, n)], start=1)
    ]).with_columns(pl.col("fold").cast(pl.Int32))
    return frame, folds


def test_filters_that_throw_signal_away_are_overruled_and_say_so():
    frame, folds = _xor_frame()
    kinds = {"a": "numeric", "b": "numeric", "weak": "numeric"}
    thresholds = SelectionThresholds()
    results = select_per_fold(frame, folds, kinds, "label", thresholds)
    assert results[FINAL_FOLD].selected == ["weak"]  # a and b each have IV ~0
    check = check_selection(frame, folds, results, kinds, thresholds)
    assert check.kept_all
    assert check.all_features_cv_pr_auc > check.selected_cv_pr_auc * 1.1
    assert check.verdict.startswith("kept all 3 features")
    applied = apply_check(results, check, kinds)
    assert all(r.selected == list(kinds) and not r.removed for r in applied.values())


def test_a_selection_that_holds_up_is_kept_with_the_cost_of_each_drop():
    frame, folds = _xor_frame()
    frame = frame.with_columns(a=pl.Series(np.random.default_rng(8).normal(size=frame.height)))  # now noise
    kinds = {"a": "numeric", "b": "numeric", "weak": "numeric"}
    thresholds = SelectionThresholds(drop_cost_features=1)
    results = select_per_fold(frame, folds, kinds, "label", thresholds)
    check = check_selection(frame, folds, results, kinds, thresholds)
    assert not check.kept_all
    assert len(check.drop_costs) == 1  # only as many as configured
    assert abs(next(iter(check.drop_costs.values()))) < 0.05
    final = apply_check(results, check, kinds)[FINAL_FOLD]
    assert final.selected == ["weak"]
    assert "CV PR-AUC cost" in final.removed[next(iter(check.drop_costs))]
