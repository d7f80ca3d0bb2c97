"""The lead scorer: one object from raw lead records to everything the outreach team works from.

`Scorer` holds every target's calibrated model, the ARV model (or its fallback medians), the ZIP
market levels, the buy-box and the tier settings. `Scorer.score` takes validated lead records and
returns per lead: the calibrated probability of each target, ARV and its method, the buy-box
figures, expected value, priority score, tier, top three reasons, narrative and model version.
The daily `scored_leads` asset and the MLflow endpoint (`LeadScorer`, the registered pyfunc) both
call it, so they give the same numbers.

Reasons come from per-feature contributions of the deal model (the target the expected value
uses): exact TreeSHAP where a person reads them, XGBoost's approximate contributions (about 50x
faster) for the rest; every row says which (`reasons_method`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import xgboost as xgb

from wholesaler_assets.domain.evaluation.verdict import segments_of
from wholesaler_assets.domain.explain.contributions import top_drivers
from wholesaler_assets.domain.explain.narratives import narrative
from wholesaler_assets.domain.features.feature_space import FeatureSpace
from wholesaler_assets.domain.features.lead_features import property_facts, record_features
from wholesaler_assets.domain.features.record_schema import RECORD_FIELDS, RecordField, spec_record_fields
from wholesaler_assets.domain.features.record_validation import InvalidRecords, unknown_zip_problems, validate_records
from wholesaler_assets.domain.features.zip_market import ZipFigures, levels_known_on
from wholesaler_assets.domain.scoring.lead_file import rank_in_batch
from wholesaler_assets.domain.scoring.ranking import TierConfig, rank_leads
from wholesaler_assets.domain.training.calibration import SegmentedCalibrator
from wholesaler_assets.domain.training.linear_terms import LinearTerms
from wholesaler_assets.domain.valuation.arv import ArvModel, estimate_arv
from wholesaler_assets.domain.valuation.buy_box_config import BuyBoxConfig
from wholesaler_assets.domain.valuation.buy_box_frame import DEAL_FIGURES, deal_figures

EXACT, APPROXIMATE = "exact", "approximate"
VALUE_TARGET = "deal_30d"


@dataclass
class TargetModel:
    """Everything one target needs to turn feature rows into calibrated probabilities.

    Both kinds read the numpy model matrix (`FeatureSpace.to_matrix`): XGBoost with the booster's
    own feature types, the baseline through `LinearTerms` (its fitted pipeline as arrays). Either
    gives what the pandas route gives, at a fraction of the per-call cost of a one-lead request.
    """

    target: str
    kind: str  # xgboost | baseline
    model: Any
    space: FeatureSpace
    calibrator: SegmentedCalibrator

    @cached_property
    def linear(self) -> LinearTerms:
        return LinearTerms.from_pipeline(self.model, self.space)

    def matrix(self, frame: pl.DataFrame) -> np.ndarray:
        return self.space.to_matrix(frame)

    def raw_scores(self, frame: pl.DataFrame, matrix: np.ndarray | None = None) -> np.ndarray:
        matrix = self.matrix(frame) if matrix is None else matrix
        if self.kind == "xgboost":
            return self.model.inplace_predict(matrix)
        return self.linear.probabilities(matrix)

    def probabilities(self, frame: pl.DataFrame, matrix: np.ndarray | None = None,
                      segments: np.ndarray | None = None) -> np.ndarray:
        segments = (segments_of(frame, self.calibrator.edges, self.calibrator.segment_column) if segments is None
                    else segments)
        return np.clip(self.calibrator.predict(self.raw_scores(frame, matrix), segments), 0.0, 1.0)

    def contributions(self, frame: pl.DataFrame, method: str = EXACT, matrix: np.ndarray | None = None
                      ) -> np.ndarray:
        """Per-feature contributions to the log-odds: TreeSHAP (exact or approximate) for XGBoost,
        coefficient x value for the baseline (always exact)."""
        matrix = self.matrix(frame) if matrix is None else matrix
        if self.kind == "xgboost":
            data = xgb.DMatrix(matrix, feature_names=self.model.feature_names, feature_types=self.model.feature_types,
                               enable_categorical=True)
            return self.model.predict(data, pred_contribs=True, approx_contribs=method == APPROXIMATE)[:, :-1]
        return self.linear.contributions(matrix)


def score_frame(models: list[TargetModel], frame: pl.DataFrame) -> pd.DataFrame:
    """Calibrated probabilities of every target on model feature rows (training-table shape)."""
    return pd.DataFrame({f"p_{m.target}": m.probabilities(frame) for m in models})


def explain(model: TargetModel, features: pl.DataFrame, method: str, matrix: np.ndarray | None = None
            ) -> pl.DataFrame:
    """Top three reasons and the narrative of each row, by `method` (exact | approximate)."""
    if features.height == 0:
        return pl.DataFrame(schema={"top_reasons": pl.String, "narrative": pl.String, "reasons_method": pl.String})
    names = list(model.space.features)
    drivers = top_drivers(model.contributions(features, method, matrix), names, k=3)
    # Only the drivers' values are described: reading those columns, not whole rows, halves the cost.
    present = set(features.columns)
    needed = {name for d in drivers for name, _ in d if name in present}
    columns = {name: features.get_column(name).to_list() for name in needed}
    method = EXACT if model.kind != "xgboost" else method
    return pl.DataFrame({
        "top_reasons": [", ".join(name for name, _ in d) for d in drivers],
        "narrative": [narrative(d, {name: columns[name][i] for name, _ in d if name in columns})
                      for i, d in enumerate(drivers)],
        "reasons_method": [method] * features.height,
    })


@dataclass
class Scorer:
    """The calibrated models, valuation, buy-box and tiers that turn lead records into scored leads."""

    models: list[TargetModel]
    arv: ArvModel | None
    arv_fallback: tuple[dict[str, float], dict[str, float]]  # renovated $/sqft by ZIP, by metro
    levels: pl.DataFrame  # ZIP market levels (features.zip_market_levels)
    zip_metros: dict[str, str]
    buy_box: BuyBoxConfig = field(default_factory=BuyBoxConfig)
    tiers: TierConfig = field(default_factory=TierConfig)
    spec_features: dict[str, str] | None = None  # a bring-your-own lead file: its feature columns
    model_version: str = "unregistered"
    model_run_id: str = ""
    exact_reasons_max_rows: int = 100
    _known_on: dict[tuple[str, dt.date], ZipFigures] = field(default_factory=dict, init=False, repr=False,
                                                              compare=False)

    def known_on(self, which: str, day: dt.date) -> ZipFigures:
        """The ZIP figures known on `day` (`trends` for features, `market` for ARV), kept for the
        last few days: every request of a day looks up the same day."""
        known = self._known_on.get((which, day))
        if known is None:  # computed outside the dict, so concurrent requests never see it half-cleared
            known = (levels_known_on(self.levels, day, "zip_price_trend") if which == "trends"
                     else levels_known_on(self.arv.levels, day))  # type: ignore[union-attr]
            if len(self._known_on) >= 8:
                self._known_on.clear()
            self._known_on[(which, day)] = known
        return known

    def _single_day(self, records: pl.DataFrame) -> dt.date | None:
        days = records["scoring_date"]
        return days[0] if records.height and days.n_unique() == 1 else None

    @property
    def record_fields(self) -> tuple[RecordField, ...]:
        return spec_record_fields(self.spec_features) if self.spec_features is not None else RECORD_FIELDS

    @property
    def value_model(self) -> TargetModel:
        """The model whose probability prices the lead (the deal target, else the deepest one carried)."""
        return next((m for m in self.models if m.target == VALUE_TARGET), self.models[-1])

    def validate(self, rows: pd.DataFrame | list[dict[str, Any]], today: dt.date) -> pl.DataFrame:
        """Typed records, or `InvalidRecords`; a ZIP code the market data never saw is refused too,
        because its price level, trend and metro would all be guesses."""
        records = validate_records(rows, today, self.record_fields)
        if self.spec_features is None and self.zip_metros:
            problems = unknown_zip_problems(records, list(self.zip_metros))
            if problems:
                raise InvalidRecords(problems)
        return records

    def features(self, records: pl.DataFrame) -> pl.DataFrame:
        if self.spec_features is not None:
            return records.select("lead_id", *self.spec_features)
        day = self._single_day(records)
        return record_features(records, self.levels, self.zip_metros,
                               None if day is None else self.known_on("trends", day))

    def matrices(self, features: pl.DataFrame) -> list[np.ndarray]:
        """Each model's matrix, built once per distinct feature space."""
        built: list[tuple[FeatureSpace, np.ndarray]] = []
        for model in self.models:
            if not any(space == model.space for space, _ in built):
                built.append((model.space, model.matrix(features)))
        return [next(matrix for space, matrix in built if space == model.space) for model in self.models]

    def probabilities(self, features: pl.DataFrame, matrices: list[np.ndarray] | None = None) -> list[pl.Series]:
        """The calibrated `p_<target>` of every model, in the models' order (batch, endpoint and monitoring)."""
        matrices = self.matrices(features) if matrices is None else matrices
        segments: dict[tuple[tuple[float, ...], str | None], np.ndarray] = {}  # once per edges (or column)
        keys = [(tuple(m.calibrator.edges), m.calibrator.segment_column) for m in self.models]
        for edges, column in keys:
            if (edges, column) not in segments:
                segments[(edges, column)] = segments_of(features, edges, column)
        return [pl.Series(f"p_{m.target}", m.probabilities(features, matrix, segments[key]))
                for m, matrix, key in zip(self.models, matrices, keys, strict=True)]

    def numbers(self, records: pl.DataFrame, features: pl.DataFrame, matrices: list[np.ndarray] | None = None
                ) -> pl.DataFrame:
        """Everything but the reasons: probabilities, ARV, buy-box, expected value, priority and tier."""
        # One frame from series and one ranking pass: each frame operation counts on a one-lead request.
        n = records.height
        if self.spec_features is not None:
            return self._lead_file_numbers(records, features, matrices)
        out = pl.DataFrame([
            *[records.get_column(c) for c in ("lead_id", "property_id", "scoring_date") if c in records.columns],
            *self.probabilities(features, matrices),
            *self._valuation(records),
            pl.repeat(self.model_version, n, dtype=pl.String, eager=True).alias("model_version"),
            pl.repeat(self.model_run_id, n, dtype=pl.String, eager=True).alias("model_run_id"),
        ])
        return rank_leads(out, f"p_{self.value_model.target}", self.tiers)

    def _lead_file_numbers(self, records: pl.DataFrame, features: pl.DataFrame,
                           matrices: list[np.ndarray] | None) -> pl.DataFrame:
        """A lead file has no property facts: probabilities, the value model's raw score and the
        rank among the leads scored together (no ARV, buy-box or expected value)."""
        matrices = self.matrices(features) if matrices is None else matrices
        value = self.value_model
        matrix = next(m for model, m in zip(self.models, matrices, strict=True) if model is value)
        n = records.height
        out = pl.DataFrame([
            records.get_column("lead_id"), records.get_column("scoring_date"),
            *self.probabilities(features, matrices),
            pl.Series("model_score", value.raw_scores(features, matrix), pl.Float64),
            pl.repeat(self.model_version, n, dtype=pl.String, eager=True).alias("model_version"),
            pl.repeat(self.model_run_id, n, dtype=pl.String, eager=True).alias("model_run_id"),
        ])
        return self.ranked(out)

    def ranked(self, numbers: pl.DataFrame) -> pl.DataFrame:
        """A lead file's numbers ranked within the batch (again, once a chunked batch is whole)."""
        return rank_in_batch(numbers.drop("priority_score", "tier", strict=False), f"p_{self.value_model.target}",
                             "model_score", self.tiers.quantile_shares)

    def _valuation(self, records: pl.DataFrame) -> list[pl.Series]:
        """ARV and its method, then the buy-box figures (never for a lead file: see `_lead_file_numbers`)."""
        facts = property_facts(records, self.zip_metros)
        fallback = None if self.arv else self.arv_fallback
        day = self._single_day(records)
        if day is not None:  # a day's batch, a request: one as-of date
            arv = estimate_arv(self.arv, facts, day, fallback, self.known_on("market", day) if self.arv else None)
        else:
            dated = facts.with_columns(records["scoring_date"], _record=pl.int_range(pl.len()))
            parts = [estimate_arv(self.arv, group.drop("_record"), on, fallback).with_columns(group["_record"])
                     for (on,), group in dated.group_by("scoring_date")]
            arv = (pl.concat(parts).sort("_record") if parts
                   else estimate_arv(self.arv, facts, dt.date.today(), fallback))
        deals = deal_figures(pl.DataFrame([*facts, arv.get_column("arv")]), self.buy_box)
        return [arv.get_column("arv"), arv.get_column("arv_method"), *deals]

    def score(self, records: pl.DataFrame, reasons: str = "auto") -> pl.DataFrame:
        """Scored leads with reasons: `auto` explains exactly up to `exact_reasons_max_rows` rows."""
        features = self.features(records)
        matrices = self.matrices(features)
        numbers = self.numbers(records, features, matrices)
        method = reasons if reasons != "auto" else (EXACT if records.height <= self.exact_reasons_max_rows
                                                    else APPROXIMATE)
        value_matrix = next(matrix for model, matrix in zip(self.models, matrices, strict=True)
                            if model is self.value_model)
        explained = explain(self.value_model, features, method, value_matrix)
        return with_output_order(self, pl.DataFrame([*numbers, *explained,
                                                     records.get_column("scoring_date").alias("reasons_as_of")]))


def output_columns(scorer: Scorer) -> list[str]:
    """The columns every scored lead has, in order (the serving response and `scored_leads`)."""
    if scorer.spec_features is not None:  # a lead file: no ARV, buy-box or expected value
        return ["lead_id", "scoring_date", *[f"p_{m.target}" for m in scorer.models], "model_score",
                "priority_score", "tier", "top_reasons", "narrative", "reasons_method", "reasons_as_of",
                "model_version", "model_run_id"]
    return ["lead_id", "scoring_date", *[f"p_{m.target}" for m in scorer.models], "arv", "arv_method",
            *DEAL_FIGURES, "expected_value", "priority_score", "priority_basis", "tier", "top_reasons",
            "narrative", "reasons_method", "reasons_as_of", "model_version", "model_run_id"]


def with_output_order(scorer: Scorer, scored: pl.DataFrame) -> pl.DataFrame:
    """The output columns first, in their order; anything else (e.g. property_id) after."""
    first = output_columns(scorer)
    if scored.columns[:len(first)] == first:
        return scored
    by_name = {s.name: s for s in scored}  # series, not a select: one frame operation less per request
    return pl.DataFrame([*[by_name[c] for c in first], *[s for s in scored if s.name not in first]])
