"""One target's training table: point-in-time features, a label from real outcomes, splits and folds.

Columns, in order: the audit columns (ids, contact_time, snapshot_date, feature_known_at,
outcome_time), `label`, `split`, then the features in the feature contract's order. Rows are
sorted by contact time. PII never enters: only contract features and audit ids are kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from wholesaler_assets.domain.contracts.targets import Target
from wholesaler_assets.domain.features.contract import (
    FeatureContract,
    cast_features,
    source_feature_contract,
    spec_feature_contract,
)
from wholesaler_assets.domain.scalars import as_float
from wholesaler_assets.domain.snapshots.lead_tables import DatasetCatalog
from wholesaler_assets.domain.training.labels import LABEL, OUTCOME_TIME, label_contacts
from wholesaler_assets.domain.training.splits import SplitConfig, assign_splits, blocked_folds

AUDIT = ("contact_id", "lead_id", "property_id", "contact_time", "snapshot_date", "feature_known_at", OUTCOME_TIME)

RETRAINING_WINDOW_DAYS = 365  # a retraining's training window, newest matured part held out

# Default bands of the positive share per target on the synthetic market: the seeds' 3-6% booked
# calls, and about one percent closing (qualification sits between).
DEFAULT_POSITIVE_BANDS: dict[str, tuple[float, float]] = {
    "booked_call_7d": (0.03, 0.06),
    "qualified_14d": (0.01, 0.04),
    "deal_30d": (0.005, 0.025),
}
# A user's file has unknown base rates: only a degenerate label is refused unless the spec says more.
DATASET_SPEC_BAND = (0.001, 0.6)


@dataclass(frozen=True)
class TrainingTable:
    """The table, its fold membership and what was left out."""

    table: pl.DataFrame
    folds: pl.DataFrame
    censored: int
    contract: FeatureContract

    @property
    def positive_share(self) -> float:
        return as_float(self.table[LABEL].mean()) if self.table.height else 0.0


def build_training_table(
    contact_features: pl.DataFrame,
    lead_outcomes: pl.DataFrame,
    target: Target,
    label_source: str,
    data_cutoff: dt.datetime,
    contract: FeatureContract,
    gap_days: int = SplitConfig.gap_days,
    holdout_share: float = SplitConfig.holdout_share,
    n_folds: int = SplitConfig.n_folds,
    censor_provided_labels: bool = True,
    window_days: int | None = None,
) -> TrainingTable:
    """Label every uncensored contact, split by time and assign blocked folds.

    `window_days` keeps only the contacts of that many days before the cutoff (a retraining's
    moving window: the market of two years ago is not today's); None keeps all history."""
    censor = label_source != "provided_label" or censor_provided_labels
    if window_days is not None:
        contact_features = contact_features.filter(
            pl.col("contact_time") >= data_cutoff - dt.timedelta(days=window_days))
    labelled = label_contacts(contact_features, lead_outcomes, target, label_source, data_cutoff, censor)
    features = [f.name for f in contract.features if f.name in labelled.frame.columns]
    table = cast_features(labelled.frame.select(*AUDIT, LABEL, *features), contract)
    config = SplitConfig(holdout_share=holdout_share, n_folds=n_folds, gap_days=gap_days,
                         label_window_days=target.window_days)
    table = assign_splits(table, config).select(*AUDIT, LABEL, "split", *features)
    return TrainingTable(table=table, folds=blocked_folds(table, config), censored=labelled.censored,
                         contract=contract)


def positive_band(target: str, dataset_bands: dict[str, list[float]], from_spec: bool) -> tuple[float, float]:
    """The configured band of positive share: the dataset spec's, else the default of its kind."""
    if target in dataset_bands:
        low, high = dataset_bands[target]
        return float(low), float(high)
    return DATASET_SPEC_BAND if from_spec else DEFAULT_POSITIVE_BANDS[target]


def feature_contract_of(catalog: DatasetCatalog) -> FeatureContract:
    """The feature contract a dataset's tables are held to: the sources' one, or a spec's own."""
    if catalog.origin == "dataset_spec":
        return spec_feature_contract(catalog.name, catalog.feature_columns)
    return source_feature_contract()
