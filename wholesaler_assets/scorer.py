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
import json
import pickle
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import polars as pl
import xgboost as xgb

from wholesaler_assets.domain.buy_box import DEAL_FIGURES, BuyBoxConfig, deal_figures
from wholesaler_assets.domain.calibration import SegmentedCalibrator
from wholesaler_assets.domain.explanations import narrative, top_drivers
from wholesaler_assets.domain.features import ZipFigures, levels_known_on
from wholesaler_assets.domain.lead_records import (
    RECORD_FIELDS,
    InvalidRecords,
    RecordField,
    property_facts,
    record_features,
    spec_record_fields,
    unknown_zip_problems,
    validate_records,
)
from wholesaler_assets.domain.linear_terms import LinearTerms
from wholesaler_assets.domain.model_frame import FeatureSpace
from wholesaler_assets.domain.modeling import segments_of
from wholesaler_assets.domain.scoring import TierConfig, rank_leads
from wholesaler_assets.domain.valuation import UNAVAILABLE, ArvModel, estimate_arv

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
        segments = segments_of(frame, self.calibrator.edges) if segments is None else segments
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

    def numbers(self, records: pl.DataFrame, features: pl.DataFrame, matrices: list[np.ndarray] | None = None
                ) -> pl.DataFrame:
        """Everything but the reasons: probabilities, ARV, buy-box, expected value, priority and tier."""
        matrices = self.matrices(features) if matrices is None else matrices
        segments: dict[tuple[float, ...], np.ndarray] = {}  # value segments, once per set of edges
        for m in self.models:
            if tuple(m.calibrator.edges) not in segments:
                segments[tuple(m.calibrator.edges)] = segments_of(features, m.calibrator.edges)
        # One frame from series and one ranking pass: a frame operation costs ~0.2 ms on a one-lead request.
        n = records.height
        out = pl.DataFrame([
            *[records.get_column(c) for c in ("lead_id", "property_id", "scoring_date") if c in records.columns],
            *[pl.Series(f"p_{m.target}", m.probabilities(features, matrix, segments[tuple(m.calibrator.edges)]))
              for m, matrix in zip(self.models, matrices, strict=True)],
            *self._valuation(records),
            pl.repeat(self.model_version, n, dtype=pl.String, eager=True).alias("model_version"),
            pl.repeat(self.model_run_id, n, dtype=pl.String, eager=True).alias("model_run_id"),
        ])
        return rank_leads(out, f"p_{self.value_model.target}", self.tiers)

    def _valuation(self, records: pl.DataFrame) -> list[pl.Series]:
        """ARV and its method, then the buy-box figures (lead files without property facts get neither)."""
        if self.spec_features is not None:
            n = records.height
            figures = [pl.Series(c, [None] * n, pl.Float64) for c in DEAL_FIGURES if c != "passes_buy_box"]
            return [pl.Series("arv", [None] * n, pl.Float64), pl.Series("arv_method", [UNAVAILABLE] * n, pl.String),
                    *figures, pl.Series("passes_buy_box", [False] * n, pl.Boolean)]
        facts = property_facts(records, self.zip_metros)
        fallback = None if self.arv else self.arv_fallback
        day = self._single_day(records)
        if day is not None:  # a day's batch, a request: one as-of date
            arv = estimate_arv(self.arv, facts, day, fallback, self.known_on("market", day) if self.arv else None)
        else:
            dated = facts.with_columns(records["scoring_date"], _row=pl.int_range(pl.len()))
            parts = [estimate_arv(self.arv, group, on, fallback).with_columns(group["_row"])
                     for (on,), group in dated.group_by("scoring_date")]
            arv = pl.concat(parts).sort("_row") if parts else estimate_arv(self.arv, facts, dt.date.today(), fallback)
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


@dataclass(frozen=True)
class BatchStats:
    """How the reasons of a batch were obtained."""

    leads: int
    reasons_reused: int
    reasons_exact: int
    reasons_approximate: int


def record_hashes(scorer: Scorer, records: pl.DataFrame) -> pl.Series:
    """A fingerprint of what is known about each lead, and of the model, that does not move with the calendar.

    The scoring date is left out and years owned becomes the implied purchase day, so a lead
    whose record did not change since yesterday keeps its fingerprint (and its reasons).
    """
    stable = records.drop("scoring_date", "lead_id")
    if "years_owned" in stable.columns:
        stable = stable.with_columns(
            (records["scoring_date"] - pl.duration(days=(pl.col("years_owned") * 365.25).round(0).cast(pl.Int64)))
            .alias("years_owned"))
    return stable.select(pl.struct(pl.all()).hash(seed=7).alias("h"))["h"].cast(pl.String) + f"@{scorer.model_version}"


def score_batch(scorer: Scorer, records: pl.DataFrame, previous: pl.DataFrame | None = None,
                exact_top_n: int = 1_000, chunk_rows: int = 200_000, reasons: bool = True
                ) -> tuple[pl.DataFrame, BatchStats]:
    """Score many leads in chunks; reasons are re-used where nothing the model sees has changed.

    `previous` holds earlier scores (lead_id, feature_hash, top_reasons, narrative,
    reasons_method, reasons_as_of); re-used reasons keep the date they were made on. The `exact_top_n` leads of highest priority and every tier-A lead get exact
    reasons (re-used only when those were exact); every other changed lead gets approximate ones.
    Returns the scored leads (with `feature_hash`) and how the reasons were obtained.
    """
    parts, features_parts = [], []
    for start in range(0, records.height, chunk_rows):
        chunk = records.slice(start, chunk_rows)
        features = scorer.features(chunk)
        numbers = scorer.numbers(chunk, features).with_columns(feature_hash=record_hashes(scorer, chunk))
        parts.append(numbers)
        features_parts.append(features)
    numbers = pl.concat(parts) if parts else scorer.numbers(records, scorer.features(records))
    if not reasons:
        return numbers, BatchStats(numbers.height, 0, 0, 0)
    surfaced = numbers.select(
        (pl.col("priority_score").rank("ordinal", descending=True) <= exact_top_n) | (pl.col("tier") == "A"))
    numbers = numbers.with_columns(_needs_exact=surfaced.to_series(), _row=pl.int_range(pl.len()))
    reason_schema = {"top_reasons": pl.String, "narrative": pl.String, "reasons_method": pl.String,
                     "reasons_as_of": pl.Date}
    if previous is not None and previous.height:
        numbers = numbers.join(previous.select("lead_id", "feature_hash", *reason_schema).unique("lead_id"),
                               on=["lead_id", "feature_hash"], how="left", maintain_order="left")
    else:
        numbers = numbers.with_columns(pl.lit(None, t).alias(c) for c, t in reason_schema.items())
    keep = pl.col("top_reasons").is_not_null() & (~pl.col("_needs_exact") | (pl.col("reasons_method") == EXACT))
    numbers = numbers.with_columns(_keep=keep)
    all_features = pl.concat(features_parts) if features_parts else scorer.features(records)
    explained = [numbers.filter(pl.col("_keep")).select("_row", *reason_schema)]
    counts = {}
    for method, wanted in ((EXACT, pl.col("_needs_exact")), (APPROXIMATE, ~pl.col("_needs_exact"))):
        rows = numbers.filter(~pl.col("_keep") & wanted)["_row"]
        counts[method] = rows.len()
        for start in range(0, rows.len(), chunk_rows):
            batch = rows.slice(start, chunk_rows)
            fresh = explain(scorer.value_model, all_features[batch], method)
            explained.append(pl.concat([batch.to_frame(), fresh.with_columns(
                numbers["scoring_date"].gather(batch).alias("reasons_as_of"))], how="horizontal"))
    reasons_frame = pl.concat(explained).sort("_row")
    scored = pl.concat([numbers.drop(*reason_schema, "_keep", "_needs_exact", "_row"),
                        reasons_frame.drop("_row")], how="horizontal")
    stats = BatchStats(scored.height, int(numbers["_keep"].sum()), counts[EXACT], counts[APPROXIMATE])
    return with_output_order(scorer, scored), stats


def output_columns(scorer: Scorer) -> list[str]:
    """The columns every scored lead has, in order (the serving response and `scored_leads`)."""
    return ["lead_id", "scoring_date", *[f"p_{m.target}" for m in scorer.models], "arv", "arv_method",
            *DEAL_FIGURES, "expected_value", "priority_score", "priority_basis", "tier", "top_reasons",
            "narrative", "reasons_method", "reasons_as_of", "model_version", "model_run_id"]


def with_output_order(scorer: Scorer, scored: pl.DataFrame) -> pl.DataFrame:
    """The output columns first, in their order; anything else (e.g. property_id) after."""
    first = output_columns(scorer)
    if scored.columns[:len(first)] == first:
        return scored
    by_name = {s.name: s for s in scored}  # series, not a select: ~0.2 ms less on a one-lead request
    return pl.DataFrame([*[by_name[c] for c in first], *[s for s in scored if s.name not in first]])


# --- files and the MLflow pyfunc ----------------------------------------------------------------

def save_scorer(scorer: Scorer, folder: Path) -> dict[str, str]:
    """Write the scorer's parts as files; returns the artifact map MLflow logs."""
    folder.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, str] = {}
    for model in scorer.models:
        artifacts.update(save_target_model(model, folder))
    (folder / "valuation.pkl").write_bytes(pickle.dumps({"arv": scorer.arv, "arv_fallback": scorer.arv_fallback}))
    scorer.levels.write_parquet(folder / "zip_market_levels.parquet")
    (folder / "settings.json").write_text(json.dumps({
        "targets": [m.target for m in scorer.models], "zip_metros": scorer.zip_metros,
        "buy_box": scorer.buy_box.as_dict(), "tiers": scorer.tiers.as_dict(), "spec_features": scorer.spec_features,
        "exact_reasons_max_rows": scorer.exact_reasons_max_rows}, indent=1, sort_keys=True))
    artifacts.update({"valuation": str(folder / "valuation.pkl"), "levels": str(folder / "zip_market_levels.parquet"),
                      "settings": str(folder / "settings.json")})
    return artifacts


def load_scorer(artifacts: dict[str, str], model_version: str = "unregistered", model_run_id: str = "") -> Scorer:
    settings = json.loads(Path(artifacts["settings"]).read_text())
    valuation = pickle.loads(Path(artifacts["valuation"]).read_bytes())
    return Scorer(
        models=[load_target_model(t, artifacts) for t in settings["targets"]],
        arv=valuation["arv"], arv_fallback=valuation["arv_fallback"],
        levels=pl.read_parquet(artifacts["levels"]), zip_metros=settings["zip_metros"],
        buy_box=BuyBoxConfig(**settings["buy_box"]), tiers=TierConfig(**settings["tiers"]),
        spec_features=settings["spec_features"], model_version=model_version, model_run_id=model_run_id,
        exact_reasons_max_rows=settings["exact_reasons_max_rows"],
    )


def save_target_model(model: TargetModel, folder: Path) -> dict[str, str]:
    """Write one target's parts as files; returns the artifact map MLflow logs."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"space": folder / f"{model.target}_space.json", "calibrator": folder / f"{model.target}_calibrator.pkl"}
    paths["space"].write_text(json.dumps({**model.space.to_dict(), "kind": model.kind}))
    paths["calibrator"].write_bytes(pickle.dumps(model.calibrator))
    if model.kind == "xgboost":
        paths["model"] = folder / f"{model.target}_model.ubj"
        model.model.save_model(paths["model"])
    else:
        paths["model"] = folder / f"{model.target}_model.pkl"
        paths["model"].write_bytes(pickle.dumps(model.model))
    return {f"{model.target}_{part}": str(path) for part, path in paths.items()}


def load_target_model(target: str, artifacts: dict[str, str]) -> TargetModel:
    spec = json.loads(Path(artifacts[f"{target}_space"]).read_text())
    kind = spec.pop("kind")
    if kind == "xgboost":
        model: Any = xgb.Booster()
        model.load_model(artifacts[f"{target}_model"])
    else:
        model = pickle.loads(Path(artifacts[f"{target}_model"]).read_bytes())
    calibrator = pickle.loads(Path(artifacts[f"{target}_calibrator"]).read_bytes())
    return TargetModel(target, kind, model, FeatureSpace.from_dict(spec), calibrator)


def to_response(scored: pl.DataFrame) -> list[dict[str, Any]]:
    """Scored leads as JSON-ready records, the endpoint's `predictions`: dates as ISO text, missing
    values as None (JSON null, never NaN).

    Records rather than a pandas frame: MLflow serialises a frame through `DataFrame.to_dict`,
    which cost about 1 ms on a one-lead request and 10 ms on a 1,000-lead one.
    """
    frame = scored.with_columns(pl.col(pl.Date).cast(pl.String), pl.col(pl.Float32, pl.Float64).fill_nan(None))
    return frame.to_dicts()


# XGBoost threads per request. With its default (every core) each tiny prediction wakes an OpenMP
# team, and on a busy 2-core machine that cost 3x the whole single-lead latency (300 ms against
# 100 ms at p50; a 1,000-lead request 350 ms against 200 ms). The numbers do not depend on it.
SERVING_XGBOOST_THREADS = 1


class LeadScorer(mlflow.pyfunc.PythonModel):
    """The pyfunc MLflow serves: raw lead records in, scored leads out (see the README's serving schema).

    `predict` returns one JSON-ready record per lead, exactly the endpoint's `predictions`
    (`pandas.DataFrame(records)` gives the `scored_leads` columns). Bad records raise
    `MlflowException(INVALID_PARAMETER_VALUE)` naming each field and row, which
    `mlflow models serve` answers with HTTP 400. `params={"reasons": "exact" | "approximate" |
    "auto"}` chooses how reasons are computed (auto: exact up to 100 leads a request).
    """

    def __init__(self) -> None:
        self.scorer: Scorer | None = None

    def load_context(self, context: Any) -> None:
        config = context.model_config or {}
        self.scorer = load_scorer(context.artifacts, str(config.get("model_version", "unregistered")),
                                  str(config.get("model_run_id", "")))

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
                ) -> list[dict[str, Any]]:
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

        assert self.scorer is not None, "load_context has not run"
        reasons = (params or {}).get("reasons", "auto")
        if reasons not in ("auto", EXACT, APPROXIMATE):
            raise MlflowException(f"param 'reasons' must be auto, exact or approximate, got {reasons!r}",
                                  error_code=INVALID_PARAMETER_VALUE)
        try:
            records = self.scorer.validate(_as_pandas(model_input), dt.datetime.now(dt.UTC).date())
        except InvalidRecords as exc:
            raise MlflowException(str(exc), error_code=INVALID_PARAMETER_VALUE) from None
        with xgb.config_context(nthread=SERVING_XGBOOST_THREADS):  # thread-local: concurrent requests keep theirs
            return to_response(self.scorer.score(records, reasons))


def _as_pandas(model_input: Any) -> pd.DataFrame:
    """What MLflow hands `predict` (a pandas frame from JSON, or a frame, dict or records in-process)."""
    if isinstance(model_input, pd.DataFrame):
        return model_input
    if isinstance(model_input, pl.DataFrame):
        return model_input.to_pandas()
    return pd.DataFrame(model_input)
