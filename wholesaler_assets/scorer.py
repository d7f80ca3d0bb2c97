"""The registered lead scorer: one MLflow pyfunc holding feature preparation and every target's model.

Per target it carries the chosen model (XGBoost booster or the logistic baseline), its feature
space and its calibrator. `predict` takes contact feature rows and returns, per row, a calibrated
probability per target, the top three reasons of the first target and a one-sentence narrative.
The batch assets and the serving endpoint load this same object, so they give the same numbers.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import polars as pl
import xgboost as xgb

from wholesaler_assets.domain.calibration import SegmentedCalibrator
from wholesaler_assets.domain.explanations import narrative, top_drivers
from wholesaler_assets.domain.model_frame import FeatureSpace
from wholesaler_assets.domain.modeling import segments_of
from wholesaler_assets.domain.training import predict_baseline

@dataclass
class TargetModel:
    """Everything one target needs to turn feature rows into calibrated probabilities."""

    target: str
    kind: str  # xgboost | baseline
    model: Any
    space: FeatureSpace
    calibrator: SegmentedCalibrator

    def raw_scores(self, frame: pl.DataFrame) -> np.ndarray:
        if self.kind == "xgboost":
            return self.model.inplace_predict(self.space.to_pandas(frame))
        return predict_baseline(self.model, frame, self.space)

    def probabilities(self, frame: pl.DataFrame) -> np.ndarray:
        segments = segments_of(frame, self.calibrator.edges)
        return np.clip(self.calibrator.predict(self.raw_scores(frame), segments), 0.0, 1.0)

    def contributions(self, frame: pl.DataFrame) -> np.ndarray:
        """Per-feature contributions to the log-odds: exact TreeSHAP for XGBoost, coefficient x value otherwise."""
        if self.kind == "xgboost":
            matrix = xgb.DMatrix(self.space.to_pandas(frame), enable_categorical=True)
            return self.model.predict(matrix, pred_contribs=True)[:, :-1]
        return _linear_contributions(self.model, frame, self.space)


def _linear_contributions(pipeline: Any, frame: pl.DataFrame, space: FeatureSpace) -> np.ndarray:
    """Logistic-regression terms (coefficient x transformed value), summed back to each input feature."""
    from wholesaler_assets.domain.training import _baseline_frame

    prepare, model = pipeline.named_steps["prepare"], pipeline.named_steps["model"]
    transformed = prepare.transform(_baseline_frame(frame, space))
    transformed = transformed.toarray() if hasattr(transformed, "toarray") else np.asarray(transformed)
    terms = transformed * model.coef_[0]
    names = prepare.get_feature_names_out()
    result = np.zeros((frame.height, len(space.features)))
    for j, name in enumerate(names):
        source = name.split("__", 1)[1]
        source = source.removeprefix("missingindicator_")
        owner = next((i for i, f in enumerate(space.features) if source == f or source.startswith(f"{f}_")), None)
        if owner is not None:
            result[:, owner] += terms[:, j]
    return result


def score_frame(models: list[TargetModel], frame: pl.DataFrame) -> pd.DataFrame:
    """Calibrated probabilities of every target, plus reasons and a narrative from the first target."""
    out = {f"p_{m.target}": m.probabilities(frame) for m in models}
    lead = models[0]
    contributions = lead.contributions(frame)
    drivers = top_drivers(contributions, list(lead.space.features), k=3)
    rows = frame.select([c for c in lead.space.features if c in frame.columns]).to_dicts()
    out["top_reasons"] = [", ".join(name for name, _ in d) for d in drivers]
    out["narrative"] = [narrative(d, r) for d, r in zip(drivers, rows, strict=True)]
    return pd.DataFrame(out)


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


class LeadScorer(mlflow.pyfunc.PythonModel):
    """The pyfunc MLflow serves: contact feature rows in, probabilities, reasons and narrative out."""

    def __init__(self, targets: list[str] | None = None) -> None:
        self.targets = targets or []
        self.models: list[TargetModel] = []

    def load_context(self, context: Any) -> None:
        self.models = [load_target_model(t, context.artifacts) for t in self.targets]

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        frame = pl.from_pandas(pd.DataFrame(model_input))
        return score_frame(self.models, frame)
