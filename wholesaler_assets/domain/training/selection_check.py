"""Does feature selection earn its keep? Its chosen set against all features, on the same folds.

A plain XGBoost (`PROBE`, one fixed configuration, no search) is cross-validated on the saved
blocked folds twice: with each fold's selected features, and with every feature. When the
selected set's mean fold PR-AUC falls more than `max_selection_loss` (relative) below all
features', the filters threw away signal the data has: every feature is kept, and the verdict
says so. Then, where cheap (`drop_cost_features` of the dropped features, highest IV first, on
training windows of at most `drop_cost_max_rows` rows), each drop's cost: the CV PR-AUC of the
selected set with that one feature added back, minus the selected set's own. A positive cost is
signal the drop lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import polars as pl
import xgboost as xgb

from wholesaler_assets.domain.features.feature_space import FeatureSpace
from wholesaler_assets.domain.training.search import LABEL, XGBConfig, cross_validate, predict_xgboost
from wholesaler_assets.domain.training.selection import FINAL_FOLD, SelectionResult, SelectionThresholds

# Few rounds at a brisk rate: the check runs on every selection, so it must stay cheap.
PROBE = XGBConfig(max_depth=3, learning_rate=0.2, num_rounds=60, min_child_weight=10.0)


@dataclass(frozen=True)
class SelectionCheck:
    """The selected set against all features (mean fold PR-AUC, plain XGBoost, same folds)."""

    selected_cv_pr_auc: float
    all_features_cv_pr_auc: float
    kept_all: bool
    verdict: str
    drop_costs: dict[str, float]  # dropped feature -> CV PR-AUC it would add back (positive: the drop cost signal)


def _fit_probe(fit: pl.DataFrame, space: FeatureSpace) -> xgb.Booster:
    # One thread: the probe's small fits gain nothing from two, and on a busy machine two OpenMP
    # threads spin-wait for each other (measured: 12x slower at a load of 11 on 2 cores).
    y = fit.get_column(LABEL).to_numpy()
    matrix = xgb.DMatrix(space.to_pandas(fit), label=y, enable_categorical=True, nthread=1)
    return xgb.train({**PROBE.params(float(y.mean()), space.features), "nthread": 1}, matrix,
                     num_boost_round=PROBE.num_rounds)


def _probe_cv(train: pl.DataFrame, folds: pl.DataFrame, fold_features: Mapping[int, list[str]],
              kinds: Mapping[str, str]) -> float:
    cv = cross_validate(train, folds, fold_features, kinds,
                        lambda fit, val, space: predict_xgboost(_fit_probe(fit, space), val, space))
    return cv.mean_pr_auc


def check_selection(train: pl.DataFrame, folds: pl.DataFrame, results: Mapping[int, SelectionResult],
                    kinds: Mapping[str, str], thresholds: SelectionThresholds) -> SelectionCheck:
    """Compare the per-fold selections with all features on the folds `results` covers; cost the drops."""
    per_fold = {fold: r.selected for fold, r in results.items() if fold != FINAL_FOLD}
    everything = list(kinds)
    selected = _probe_cv(train, folds, per_fold, kinds)
    full = _probe_cv(train, folds, {fold: everything for fold in per_fold}, kinds)
    final = results[FINAL_FOLD]
    loss = 1 - selected / full if full > 0 else 0.0
    kept_all = bool(final.removed) and loss > thresholds.max_selection_loss
    n_selected, n_all = len(final.selected), len(everything)
    if not final.removed:
        verdict = f"selection kept all {n_all} features"
    elif kept_all:
        verdict = (f"kept all {n_all} features: the {n_selected} selected scored CV PR-AUC {selected:.4f}, "
                   f"{loss:.1%} below all features' {full:.4f} (plain XGBoost, same folds; more than the "
                   f"{thresholds.max_selection_loss:.0%} allowed)")
    else:
        verdict = (f"kept the {n_selected} selected of {n_all} features: CV PR-AUC {selected:.4f} against "
                   f"{full:.4f} with all (plain XGBoost, same folds)")
    cheap = not kept_all and train.height <= thresholds.drop_cost_max_rows
    costly = sorted(final.removed, key=lambda f: (-final.information_values[f], f))[
        :thresholds.drop_cost_features] if cheap else []
    costs = {feature: _probe_cv(train, folds, {fold: [*chosen, feature] if feature not in chosen else chosen
                                               for fold, chosen in per_fold.items()}, kinds) - selected
             for feature in costly}
    return SelectionCheck(selected, full, kept_all, verdict, costs)


def apply_check(results: Mapping[int, SelectionResult], check: SelectionCheck,
                kinds: Mapping[str, str]) -> dict[int, SelectionResult]:
    """The selections to train with: every feature in every fold when the check kept all, else as
    chosen, with each costed drop's reason saying what it cost."""
    if check.kept_all:
        return {fold: replace(r, selected=list(kinds), removed={}) for fold, r in results.items()}
    final = results[FINAL_FOLD]
    reasons = {f: (f"{why}; CV PR-AUC cost {check.drop_costs[f]:+.4f}" if f in check.drop_costs else why)
               for f, why in final.removed.items()}
    return {**results, FINAL_FOLD: replace(final, removed=reasons)}
