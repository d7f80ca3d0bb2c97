"""The drift report of one day's scored leads against a reference (Evidently 0.7 DataDriftPreset).

Every numeric column (the probabilities among them, so prediction drift of each target is in
the same report) is compared by the normed Wasserstein distance, every categorical one by the
Jensen-Shannon distance, whatever the sample size, so a column's score means the same on every
day. A column drifts (the status of its "Value Drift" test) when its score exceeds:
  categorical  0.1 (Evidently's default);
  numeric      max(0.05, 3 * sqrt(1/n_reference + 1/n_current)): the distance two samples of
               one distribution show by chance shrinks like that root, about 0.06 at 1,500 rows
               each and 0.02 at 20,000, so a fixed 0.05 would cry wolf on small days and 0.1
               would miss a regional price shock on large ones (it moves the value columns by
               about 0.12).
The dataset drifts when the share of drifted columns reaches DRIFT_SHARE = 0.2, not Evidently's
0.5: a 15% price drop in two of six metros moves the value columns (market value, ARV, profit,
expected value) and little else, three or four of a report's ~14 columns, never half. Measured
figures are in docs/monitoring.md. PSI (`psi.py`) of every column is reported beside the score.

Frames above `max_rows` are sampled (seeded) so a report on 200k leads stays in seconds; the
threshold uses the sampled sizes. Evidently is imported inside the function (it takes seconds).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from wholesaler_assets.domain.monitoring.psi import psi_by_column

DRIFT_SHARE = 0.2
MIN_NUM_THRESHOLD = 0.05
NOISE_MULTIPLE = 3.0
CAT_THRESHOLD = 0.1
NUM_METHOD = "wasserstein"
CAT_METHOD = "jensenshannon"
MAX_ROWS = 20_000
SEED = 0
_COLUMN_TEST = "evidently:metric_v2:ValueDrift"
_SHARE_METRIC = "evidently:metric_v2:DriftedColumnsCount"


@dataclass(frozen=True)
class ColumnDrift:
    """One column's drift: Evidently's score, method, threshold and test verdict, and its PSI."""

    column: str
    kind: str  # numerical | categorical | probability
    method: str
    score: float
    threshold: float
    drifted: bool
    psi: float


@dataclass(frozen=True, eq=False)
class DriftSummary:
    """What the report says, in our terms; `snapshot` is Evidently's own (for save_html / json)."""

    snapshot: Any
    reference_rows: int
    current_rows: int
    drift_share_threshold: float
    drifted_share: float
    drifted_count: int
    dataset_drift: bool
    columns: dict[str, ColumnDrift] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # column -> why it was left out

    @property
    def psi(self) -> dict[str, float]:
        return {name: c.psi for name, c in self.columns.items()}

    def as_dict(self) -> dict[str, Any]:
        """The figures as plain JSON values (the snapshot left out)."""
        return {
            "reference_rows": self.reference_rows, "current_rows": self.current_rows,
            "drift_share_threshold": self.drift_share_threshold, "drifted_share": self.drifted_share,
            "drifted_count": self.drifted_count, "dataset_drift": self.dataset_drift,
            "columns": {name: c.__dict__ for name, c in self.columns.items()}, "skipped": self.skipped,
        }


def numeric_threshold(reference_rows: int, current_rows: int) -> float:
    """The normed Wasserstein distance above which a numeric column drifts, for these sample sizes."""
    return max(MIN_NUM_THRESHOLD, NOISE_MULTIPLE * math.sqrt(1 / reference_rows + 1 / current_rows))


def _check(reference: pl.DataFrame, current: pl.DataFrame, kinds: dict[str, str]) -> None:
    if current.height == 0:
        raise ValueError("the current frame is empty: nothing was scored to compare")
    if reference.height == 0:
        raise ValueError("the reference frame is empty")
    for frame, name in ((reference, "reference"), (current, "current")):
        missing = [c for c in kinds if c not in frame.columns]
        if missing:
            raise ValueError(f"columns missing in {name}: {missing}")


def _kinds(numerical: list[str], categorical: list[str], probability_columns: list[str]) -> dict[str, str]:
    listed = [*numerical, *categorical, *probability_columns]
    repeated = sorted({c for c in listed if listed.count(c) > 1})
    if repeated:
        raise ValueError(f"columns listed more than once: {repeated}")
    if not listed:
        raise ValueError("no columns to compare")
    return {**dict.fromkeys(numerical, "numerical"), **dict.fromkeys(categorical, "categorical"),
            **dict.fromkeys(probability_columns, "probability")}


def _sample(frame: pl.DataFrame, max_rows: int, seed: int) -> pl.DataFrame:
    return frame.sample(n=max_rows, seed=seed) if frame.height > max_rows else frame


def _prepared(frame: pl.DataFrame, kinds: dict[str, str]) -> Any:
    """The pandas frame Evidently reads: numbers as float64, categories as strings."""
    return frame.select(
        pl.col(c).cast(pl.String) if kind == "categorical" else pl.col(c).cast(pl.Float64)
        for c, kind in kinds.items()
    ).to_pandas()


def drift_report(reference: pl.DataFrame, current: pl.DataFrame, numerical: list[str], categorical: list[str],
                 probability_columns: list[str], drift_share: float = DRIFT_SHARE,
                 num_threshold: float | None = None, max_rows: int = MAX_ROWS, seed: int = SEED) -> DriftSummary:
    """Evidently's data drift report of `current` against `reference`, summarised (no file is written).

    `num_threshold` None means `numeric_threshold` of the (sampled) sizes.
    """
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    if not 0 < drift_share <= 1:
        raise ValueError("drift_share must be in (0, 1]")
    kinds = _kinds(numerical, categorical, probability_columns)
    _check(reference, current, kinds)
    skipped = {c: f"all null in {side}" for side, frame in (("current", current), ("reference", reference))
               for c in kinds if frame.get_column(c).null_count() == frame.height}
    kinds = {c: k for c, k in kinds.items() if c not in skipped}
    if not kinds:
        raise ValueError(f"every column is all null: {skipped}")
    ref, cur = _sample(reference, max_rows, seed), _sample(current, max_rows, seed)
    definition = DataDefinition(numerical_columns=[c for c, k in kinds.items() if k != "categorical"],
                                categorical_columns=[c for c, k in kinds.items() if k == "categorical"])
    preset = DataDriftPreset(columns=list(kinds), drift_share=drift_share, num_method=NUM_METHOD,
                             cat_method=CAT_METHOD, cat_threshold=CAT_THRESHOLD,
                             num_threshold=num_threshold or numeric_threshold(ref.height, cur.height))
    snapshot = Report([preset], include_tests=True).run(
        current_data=Dataset.from_pandas(_prepared(cur, kinds), data_definition=definition),
        reference_data=Dataset.from_pandas(_prepared(ref, kinds), data_definition=definition))
    result = json.loads(snapshot.json())
    scores = {m["config"]["column"]: m for m in result["metrics"] if m["config"].get("type") == _COLUMN_TEST}
    status = {t["metric_config"]["params"]["column"]: t["status"] for t in result["tests"]
              if t["metric_config"]["params"].get("type") == _COLUMN_TEST}
    share = next(m["value"] for m in result["metrics"] if m["config"].get("type") == _SHARE_METRIC)
    psis = psi_by_column(ref.with_columns(pl.col(c).cast(pl.String) for c, k in kinds.items() if k == "categorical"),
                         cur.with_columns(pl.col(c).cast(pl.String) for c, k in kinds.items() if k == "categorical"),
                         list(kinds))
    columns = {c: ColumnDrift(c, kind, scores[c]["config"]["method"], float(scores[c]["value"]),
                              float(scores[c]["config"]["threshold"]), status[c] == "FAIL",
                              psis[c] if math.isfinite(psis[c]) else math.nan)
               for c, kind in kinds.items()}
    drifted_share = float(share["share"])
    return DriftSummary(snapshot, ref.height, cur.height, drift_share, drifted_share, int(share["count"]),
                        drifted_share >= drift_share, columns, skipped)
