"""The fitted logistic baseline as plain arrays: the same probabilities and per-feature terms in numpy.

The baseline is a scikit-learn pipeline (median imputation with missing indicators and scaling
for numbers, a "missing" fill and one-hot encoding for categories, then logistic regression).
Through the pipeline a single lead costs about 15 ms (a pandas frame, a column transformer and
four estimators), most of a serving request's budget. `LinearTerms` reads the fitted parameters
once and computes the same logit from `FeatureSpace.to_matrix` in a few array operations; the
results agree with `predict_proba` to floating-point rounding (a test holds them to 1e-12).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from wholesaler_assets.domain.features.feature_space import FeatureSpace

MISSING_CATEGORY = "missing"  # the categorical imputer's fill value (training.fit_baseline)


@dataclass(frozen=True)
class LinearTerms:
    """Intercept, and per feature the columns of the fitted design it produces and their weights."""

    intercept: float
    numeric: list[tuple[int, float, float, float]]  # (matrix column, median, mean, scale x coef) per number
    indicators: list[tuple[int, float, float]]  # (matrix column, mean, scale x coef) per "was missing" flag
    categorical: list[tuple[int, np.ndarray, float]]  # (matrix column, weight per code, weight when missing)
    n_features: int

    @classmethod
    def from_pipeline(cls, pipeline: Any, space: FeatureSpace) -> LinearTerms:
        """Read `training.fit_baseline`'s fitted pipeline; `space` is the feature space it was fitted on."""
        prepare, model = pipeline.named_steps["prepare"], pipeline.named_steps["model"]
        coef = model.coef_[0]
        position = {f: i for i, f in enumerate(space.features)}
        numeric, indicators, categorical = [], [], []
        start = 0
        for name, transformer, columns in prepare.transformers_:
            if name == "numeric":
                imputer, scaler = transformer.steps[0][1], transformer.steps[1][1]
                flagged = list(imputer.indicator_.features_) if imputer.indicator_ is not None else []
                width = len(columns) + len(flagged)
                weights = coef[start:start + width] / scaler.scale_
                for j, feature in enumerate(columns):
                    numeric.append((position[feature], float(imputer.statistics_[j]), float(scaler.mean_[j]),
                                    float(weights[j])))
                for k, j in enumerate(flagged):
                    indicators.append((position[columns[j]], float(scaler.mean_[len(columns) + k]),
                                       float(weights[len(columns) + k])))
                start += width
            elif name == "categorical":
                encoder = transformer.steps[-1][1]
                for feature, seen in zip(columns, encoder.categories_, strict=True):
                    column_of = {str(c): start + i for i, c in enumerate(seen)}
                    known = space.categories[feature]
                    per_code = np.array([coef[column_of[c]] if c in column_of else 0.0 for c in known])
                    when_missing = float(coef[column_of[MISSING_CATEGORY]]) if MISSING_CATEGORY in column_of else 0.0
                    categorical.append((position[feature], per_code, when_missing))
                    start += len(seen)
        return cls(float(model.intercept_[0]), numeric, indicators, categorical, len(space.features))

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Each feature's term of the logit, rows x features: coefficient x scaled value, plus the scaled
        missing flag for a number, or the coefficient of its category; with `intercept` they sum to
        the logit."""
        terms = np.zeros((matrix.shape[0], self.n_features))
        for column, median, mean, weight in self.numeric:
            values = matrix[:, column]
            terms[:, column] += (np.where(np.isnan(values), median, values) - mean) * weight
        for column, mean, weight in self.indicators:
            terms[:, column] += (np.isnan(matrix[:, column]) - mean) * weight
        for column, per_code, when_missing in self.categorical:
            codes = matrix[:, column]
            missing = np.isnan(codes)
            terms[:, column] += np.where(missing, when_missing,
                                         per_code[np.where(missing, 0, codes).astype(np.int64)] if len(per_code)
                                         else 0.0)
        return terms

    def logits(self, matrix: np.ndarray) -> np.ndarray:
        return self.contributions(matrix).sum(axis=1) + self.intercept

    def probabilities(self, matrix: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logits(matrix)))
