"""A `Scorer` as files: what MLflow logs as the pyfunc's artifacts, and loading them back."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import polars as pl
import xgboost as xgb

from wholesaler_assets.domain.features.feature_space import FeatureSpace
from wholesaler_assets.domain.scoring.ranking import TierConfig
from wholesaler_assets.domain.scoring.scorer import Scorer, TargetModel
from wholesaler_assets.domain.valuation.buy_box_config import BuyBoxConfig


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
