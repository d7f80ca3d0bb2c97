"""The statistical audit of one target's training rows: collinearity, stability and signal.

Computed on the training rows only (holdout excluded): information value per feature, feature
pairs with |correlation| above `max_correlation`, variance inflation factors, and the largest PSI
of each feature across quarters (each quarter against the first). Three warning gates flag
correlated pairs, high VIFs and unstable features; the report is a markdown table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from wholesaler_assets.domain.gates.result import GateResult
from wholesaler_assets.domain.training.collinearity import high_correlation_pairs, variance_inflation_factors
from wholesaler_assets.domain.training.labels import LABEL
from wholesaler_assets.domain.training.selection import SelectionThresholds
from wholesaler_assets.domain.training.splits import TRAIN
from wholesaler_assets.domain.training.statistics import information_values, max_psi_by_feature, psi_across_quarters

STAT_CHECKS = {
    "no_highly_correlated_pairs": "No pair of features with |correlation| above 0.90 (warning).",
    "no_high_vif": "No feature with a variance inflation factor above 10 (warning).",
    "no_unstable_features": "No feature with PSI across quarters above 0.25 (warning).",
}


@dataclass(frozen=True)
class FeatureAudit:
    """The figures of the audit, its markdown report and its warning gates."""

    information_value: dict[str, float]
    correlated_pairs: list[tuple[str, str, float]]
    vif: dict[str, float]
    max_psi: dict[str, float]
    report: str
    gates: list[GateResult]


def audit_features(table: pl.DataFrame, kinds: dict[str, str], target: str, t: SelectionThresholds,
                   sentinels: Mapping[str, Sequence[float]] | None = None) -> FeatureAudit:
    """Audit the contract features (`kinds`) of one target's table (IV binned as selection bins it)."""
    numeric = [f for f, k in kinds.items() if k in ("numeric", "boolean")]
    train = table.filter(pl.col("split") == TRAIN)
    iv = information_values(train, kinds, LABEL, t.iv_bins, t.iv_spike_share, sentinels)
    pairs = high_correlation_pairs(train, numeric, t.max_correlation)
    vif = variance_inflation_factors(train, numeric)
    psi = max_psi_by_feature(psi_across_quarters(table, kinds))
    high_vif = {f: round(v, 2) for f, v in vif.items() if v > t.max_vif}
    unstable = {f: round(v, 4) for f, v in psi.items() if v > t.max_psi}
    gates = [
        GateResult(name="no_highly_correlated_pairs", passed=not pairs, value=len(pairs), threshold=t.max_correlation,
                   summary=f"{len(pairs)} pair(s) above |r| {t.max_correlation}",
                   details={"pairs": [f"{a} ~ {b}: {r:.3f}" for a, b, r in pairs]}),
        GateResult(name="no_high_vif", passed=not high_vif, value=len(high_vif), threshold=t.max_vif,
                   summary=f"{len(high_vif)} feature(s) with VIF above {t.max_vif}", details={"features": high_vif}),
        GateResult(name="no_unstable_features", passed=not unstable, value=len(unstable), threshold=t.max_psi,
                   summary=f"{len(unstable)} feature(s) with PSI across quarters above {t.max_psi}",
                   details={"features": unstable}),
    ]
    return FeatureAudit(iv, pairs, vif, psi, audit_markdown(target, iv, pairs, vif, psi, t), gates)


def audit_markdown(target: str, iv: dict[str, float], pairs: list[tuple[str, str, float]],
                   vif: dict[str, float], psi: dict[str, float], t: SelectionThresholds) -> str:
    lines = [f"# Statistical validation: {target}", "",
             "Computed on the training rows (holdout excluded); PSI compares each quarter with the first.", "",
             "| feature | IV | max PSI | VIF | flags |", "|---|---|---|---|---|"]
    for feature in sorted(iv, key=lambda f: -iv[f]):
        flags = []
        if iv[feature] < t.min_information_value:
            flags.append("low IV")
        if psi.get(feature, 0.0) > t.max_psi:
            flags.append("unstable")
        if vif.get(feature, 0.0) > t.max_vif:
            flags.append("high VIF")
        vif_text = f"{vif[feature]:.2f}" if feature in vif else ""
        lines.append(f"| {feature} | {iv[feature]:.4f} | {psi.get(feature, 0.0):.4f} | {vif_text} | "
                     f"{', '.join(flags)} |")
    lines += ["", f"Pairs with |correlation| above {t.max_correlation}: "
              + (", ".join(f"{a} ~ {b} ({r:.3f})" for a, b, r in pairs) if pairs else "none")]
    return "\n".join(lines) + "\n"
