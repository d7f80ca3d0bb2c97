"""Feature selection fitted on training rows only: IV filter, correlation culling, VIF pruning.

Steps, in order (formulas and smoothing in `statistics`):
1. Information value: every feature (numeric, boolean, categorical) with IV below `min_iv`
   is dropped; it carries too little univariate signal to earn a place.
2. Correlation: among the remaining numeric and boolean features, pairs with |r| above
   `max_correlation` are visited from the highest |r| down; while both are still in, the one
   with the lower IV goes (equal IVs: the name sorting later goes). Pairwise r does not change
   when other columns leave, so it is computed once.
3. VIF: among the remaining numeric features, the one with the highest VIF is dropped while
   that VIF exceeds `max_vif`, recomputing after each drop (one drop changes every other VIF).
   Ties go to the lower IV, then to the name sorting first.
Categorical features only go through step 1. Everything is computed from `train` alone, so a
caller that passes only training-fold rows cannot leak holdout information into the choice.

A user's spec has the last word (`SelectionControls`): features it names in `keep` survive every
step (a kept feature still counts in the VIFs of the others, and wins its correlated pairs),
declared sentinel values get IV bins of their own, and `selection: off` keeps every feature.
Whether the chosen set does as well as all features is `selection_check`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import polars as pl
from pydantic import Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from wholesaler_assets.domain.training.collinearity import high_correlation_pairs, variance_inflation_factors
from wholesaler_assets.domain.training.statistics import (
    BOOLEAN,
    FEATURE_KINDS,
    IV_BINS,
    NUMERIC,
    SPIKE_SHARE,
    information_values,
)


@dataclass(frozen=True)
class SelectionResult:
    """Outcome of `select_features`."""

    selected: list[str]                 # kept features, in the input order of `features`
    removed: dict[str, str]             # feature -> reason, in the order they were removed
    information_values: dict[str, float]  # IV of every input feature (input order)
    vif: dict[str, float]               # VIF of the numeric features kept, after pruning


@pydantic_dataclass(frozen=True)
class SelectionThresholds:
    """Feature selection's filters, its check against all features, and the audit's instability flag."""

    min_information_value: Annotated[float, Field(ge=0)] = 0.02
    max_correlation: Annotated[float, Field(gt=0, le=1)] = 0.9
    max_vif: Annotated[float, Field(ge=1)] = 10.0
    max_psi: Annotated[float, Field(gt=0)] = 0.25
    iv_bins: Annotated[int, Field(ge=2)] = IV_BINS  # bins of a numeric feature's IV, spikes included
    iv_spike_share: Annotated[float, Field(gt=0, le=1)] = SPIKE_SHARE  # a value this common is its own IV bin
    # Keep every feature when the selected set's CV PR-AUC is more than this share below all
    # features' (plain XGBoost, same folds); 1.0 never overrules the filters.
    max_selection_loss: Annotated[float, Field(ge=0, le=1)] = 0.05
    # Where the cost of single drops is cheap to measure: this many dropped features (highest IV
    # first), on training windows of at most this many rows.
    drop_cost_features: Annotated[int, Field(ge=0)] = 3
    drop_cost_max_rows: Annotated[int, Field(ge=0)] = 10_000


@dataclass(frozen=True)
class SelectionControls:
    """What a dataset spec says about selection: on or off, features always kept, sentinel values."""

    enabled: bool = True
    keep: tuple[str, ...] = ()
    sentinel_values: Mapping[str, Sequence[float]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> SelectionControls:
        data = data or {}
        return cls(enabled=bool(data.get("enabled", True)), keep=tuple(data.get("keep", ())),
                   sentinel_values={k: tuple(v) for k, v in data.get("sentinel_values", {}).items()})


KEPT_BY_SPEC = "kept by the spec"
DEFAULT_THRESHOLDS, NO_CONTROLS = SelectionThresholds(), SelectionControls()


def select_features(train: pl.DataFrame, features: dict[str, str], label: str,
                    thresholds: SelectionThresholds = DEFAULT_THRESHOLDS,
                    controls: SelectionControls = NO_CONTROLS) -> SelectionResult:
    """Choose features on training rows: IV >= min_iv, no |r| > max_correlation, VIF <= max_vif,
    except the ones `controls` keeps (all of them when selection is off)."""
    unknown = {f: k for f, k in features.items() if k not in FEATURE_KINDS}
    if unknown:
        raise ValueError(f"unknown feature kinds: {unknown}")
    t = thresholds
    ivs = information_values(train, features, label, t.iv_bins, t.iv_spike_share, controls.sentinel_values)
    if not controls.enabled:
        return SelectionResult(selected=list(features), removed={}, information_values=ivs, vif={})
    kept = set(controls.keep)
    removed: dict[str, str] = {}

    for feature, iv in ivs.items():
        if iv < t.min_information_value and feature not in kept:
            removed[feature] = f"IV {iv:.4f} below {t.min_information_value:g}"

    _cull_correlated(train, features, ivs, removed, t.max_correlation, kept)
    vif = _prune_high_vif(train, features, ivs, removed, t.max_vif, kept)

    selected = [f for f in features if f not in removed]
    return SelectionResult(selected=selected, removed=removed, information_values=ivs, vif=vif)


def _remaining(features: dict[str, str], removed: dict[str, str], kinds: tuple[str, ...]) -> list[str]:
    return [f for f, kind in features.items() if kind in kinds and f not in removed]


def _cull_correlated(train: pl.DataFrame, features: dict[str, str], ivs: dict[str, float],
                     removed: dict[str, str], max_correlation: float, kept_by_spec: set[str]) -> None:
    """Step 2: of each pair above max_correlation (highest |r| first), drop the lower-IV one
    (a feature the spec keeps wins; two of them both stay)."""
    candidates = _remaining(features, removed, (NUMERIC, BOOLEAN))
    for first, second, r in high_correlation_pairs(train, candidates, max_correlation):
        if first in removed or second in removed or {first, second} <= kept_by_spec:
            continue
        # Keep the spec's choice, then the higher IV; on equal IV keep the name sorting first.
        kept, dropped = sorted((first, second), key=lambda f: (f not in kept_by_spec, -ivs[f], f))
        why = KEPT_BY_SPEC if kept in kept_by_spec else "higher IV kept"
        removed[dropped] = f"correlation {r:.3f} with {kept} ({why})"


def _prune_high_vif(train: pl.DataFrame, features: dict[str, str], ivs: dict[str, float],
                    removed: dict[str, str], max_vif: float, kept_by_spec: set[str]) -> dict[str, float]:
    """Step 3: drop the highest-VIF numeric feature (not one the spec keeps) while it exceeds
    max_vif; final VIFs."""
    while True:
        vif = variance_inflation_factors(train, _remaining(features, removed, (NUMERIC,)))
        over = [f for f, v in vif.items() if v > max_vif and f not in kept_by_spec]
        if not over:
            return vif
        worst = min(over, key=lambda f: (-vif[f], ivs[f], f))
        removed[worst] = f"VIF {_format_vif(vif[worst])} above {max_vif:g}"


def _format_vif(value: float) -> str:
    return "inf (exactly collinear)" if math.isinf(value) else f"{value:.1f}"


FINAL_FOLD = 0  # fold number under which the selection fitted on all training rows is stored


def select_per_fold(
    table: pl.DataFrame,
    folds: pl.DataFrame,
    features: dict[str, str],
    label: str,
    thresholds: SelectionThresholds = DEFAULT_THRESHOLDS,
    controls: SelectionControls = NO_CONTROLS,
) -> dict[int, SelectionResult]:
    """The final selection (all training rows, fold 0) and one per CV fold, fitted on that fold's train part.

    `table` must hold only training rows; `folds` is the (fold, role, contact_id) membership. The
    per-fold selections let cross-validation score each fold with features chosen without its
    validation rows.
    """
    results = {FINAL_FOLD: select_features(table, features, label, thresholds, controls)}
    for fold in sorted(folds["fold"].unique().to_list()):
        fit_ids = folds.filter((pl.col("fold") == fold) & (pl.col("role") == "train"))["contact_id"]
        fit = table.filter(pl.col("contact_id").is_in(fit_ids.implode()))
        if fit[label].n_unique() > 1:  # a fold without both classes cannot rank features
            results[int(fold)] = select_features(fit, features, label, thresholds, controls)
    return results


def selection_table(results: dict[int, SelectionResult], features: dict[str, str]) -> pl.DataFrame:
    """One row per (fold, feature): kept or not, its position in the order, the reason, its IV."""
    frames = []
    for fold, result in results.items():
        position = {name: i for i, name in enumerate(result.selected)}
        frames.append(pl.DataFrame({
            "fold": [fold] * len(features),
            "feature": list(features),
            "kind": list(features.values()),
            "selected": [f in position for f in features],
            "position": [position.get(f) for f in features],
            "reason": [result.removed.get(f) for f in features],
            "information_value": [result.information_values.get(f) for f in features],
        }, schema_overrides={"fold": pl.Int32, "position": pl.Int64, "reason": pl.String,
                             "information_value": pl.Float64}))
    return pl.concat(frames)
