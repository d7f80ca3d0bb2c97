"""The model's view of features: fixed order, numeric as float64, categories fixed at training time.

XGBoost needs pandas `category` columns with the training categories (an unseen value raises,
STACK_NOTES §4), so every frame a model sees, in training, batch scoring or serving, goes through
`FeatureSpace.to_pandas`: unseen categories become missing, booleans become 0/1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from wholesaler_assets.domain.features.lookups import mapped


@dataclass(frozen=True)
class FeatureSpace:
    """The ordered features a model was trained on, their kinds and the categories it knows."""

    features: tuple[str, ...]
    kinds: Mapping[str, str]
    categories: Mapping[str, tuple[str, ...]]

    @classmethod
    def fit(cls, frame: pl.DataFrame, features: list[str], kinds: Mapping[str, str]) -> FeatureSpace:
        categories = {
            f: tuple(sorted(frame.get_column(f).drop_nulls().cast(pl.String).unique().to_list()))
            for f in features if kinds[f] == "categorical"
        }
        return cls(features=tuple(features), kinds={f: kinds[f] for f in features}, categories=categories)

    @property
    def categorical(self) -> list[str]:
        return [f for f in self.features if self.kinds[f] == "categorical"]

    @property
    def numeric(self) -> list[str]:
        return [f for f in self.features if self.kinds[f] != "categorical"]

    def to_pandas(self, frame: pl.DataFrame | pd.DataFrame) -> pd.DataFrame:
        """The model matrix: the features in order; a missing column is all-missing."""
        if isinstance(frame, pl.DataFrame):
            schema = frame.schema  # built once: it costs a walk over every column
            if all(_fast_column(schema.get(f), k) for f, k in self.kinds.items()):
                return self._polars_to_pandas(frame)
        data = frame if isinstance(frame, pd.DataFrame) else frame.to_pandas()
        columns: dict[str, Any] = {}
        for f in self.features:
            raw = data[f] if f in data.columns else pd.Series([None] * len(data), index=data.index)
            if self.kinds[f] == "categorical":
                text = raw.astype("object").where(raw.notna(), None)
                columns[f] = pd.Categorical(text, categories=list(self.categories[f]))
            else:
                columns[f] = pd.to_numeric(raw.astype("object").where(raw.notna(), np.nan), errors="coerce"
                                           ).astype("float64")
        return pd.DataFrame(columns, index=data.index)

    def to_matrix(self, frame: pl.DataFrame) -> np.ndarray:
        """The model matrix as float64 numpy: numbers and booleans as values, categories as their code
        among the training categories, missing (null, unseen or absent) as NaN.

        XGBoost reads it with the booster's own feature types and predicts exactly what it
        predicts from `to_pandas`, at a tenth of the per-call cost (no pandas categoricals), which
        is what a one-lead serving request pays for.
        """
        matrix = np.full((frame.height, len(self.features)), np.nan)
        present = set(frame.columns)
        for j, f in enumerate(self.features):
            if f not in present:
                continue
            column = frame.get_column(f)
            if self.kinds[f] == "categorical":
                column = mapped(column.cast(pl.String), self.category_codes[f], pl.Float64)
            matrix[:, j] = column.cast(pl.Float64).to_numpy()
        return matrix

    @cached_property
    def category_codes(self) -> dict[str, dict[str, float]]:
        """Each categorical feature's categories -> their code (position among the training categories)."""
        return {f: {c: float(i) for i, c in enumerate(categories)} for f, categories in self.categories.items()}

    def _polars_to_pandas(self, frame: pl.DataFrame) -> pd.DataFrame:
        """The same matrix as the pandas route, built column by column from polars (about 10x faster
        on the few rows of a serving request): numbers and booleans as float64 with NaN for nulls,
        text as category codes of the training categories (unseen or null -> missing)."""
        columns: dict[str, Any] = {}
        present = set(frame.columns)
        for f in self.features:
            if f not in present:
                if self.kinds[f] == "categorical":
                    columns[f] = pd.Categorical.from_codes(np.full(frame.height, -1, dtype=np.int8),
                                                           categories=list(self.categories[f]))
                else:
                    columns[f] = np.full(frame.height, np.nan)
            elif self.kinds[f] == "categorical":
                categories = list(self.categories[f])
                codes = frame.get_column(f).cast(pl.String).replace_strict(
                    categories, list(range(len(categories))), default=-1, return_dtype=pl.Int32).to_numpy()
                columns[f] = pd.Categorical.from_codes(codes, categories=categories)
            else:
                columns[f] = frame.get_column(f).cast(pl.Float64).to_numpy()
        return pd.DataFrame(columns, index=pd.RangeIndex(frame.height))

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(self.features), "kinds": dict(self.kinds),
                "categories": {k: list(v) for k, v in self.categories.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSpace:
        return cls(features=tuple(data["features"]), kinds=dict(data["kinds"]),
                   categories={k: tuple(v) for k, v in data["categories"].items()})


def _fast_column(dtype: pl.DataType | None, kind: str) -> bool:
    """Whether `FeatureSpace._polars_to_pandas` gives exactly what the pandas route gives for a column
    of `dtype` (None: absent): text for a categorical feature; a number or boolean for the rest."""
    if dtype is None:
        return True
    if kind == "categorical":
        return dtype == pl.String
    return dtype.is_numeric() or dtype == pl.Boolean
