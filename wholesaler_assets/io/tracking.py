"""MLflow runs of training: the ARV model's and each target's gated evaluation."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mlflow
import numpy as np

from wholesaler_assets.domain.contracts.choices import ModelKind
from wholesaler_assets.domain.gates.result import GateResult
from wholesaler_assets.resources import MlflowResource


def log_arv_run(mlflow_tracking: MlflowResource, params: Mapping[str, Any], figures: Mapping[str, float],
                feature_space: Mapping[str, Any] | None = None) -> str:
    """One run tagged model=arv with its parameters, holdout figures and feature list (arv_features.json);
    returns its UI address."""
    experiment_id = mlflow_tracking.start()
    with mlflow.start_run(run_name="train-arv") as run:
        mlflow.set_tags({"model": "arv"})
        mlflow.log_params(dict(params))
        mlflow.log_metrics(dict(figures))
        if feature_space is not None:
            mlflow.log_dict(dict(feature_space), "arv_features.json")
    return mlflow_tracking.run_url(experiment_id, run.info.run_id)


def log_evaluation_run(mlflow_tracking: MlflowResource, target: str, tags: Mapping[str, str],
                       params: Mapping[str, Any], metrics: Mapping[ModelKind, Mapping[str, float]],
                       gates: Mapping[ModelKind, list[GateResult]], artifacts: Path) -> tuple[str, str]:
    """One run per evaluation: parameters, every finite metric and gate, and the report folder.

    Returns the run id and its UI address.
    """
    experiment_id = mlflow_tracking.start()
    with mlflow.start_run(run_name=f"train-{target}") as run:
        mlflow.set_tags(dict(tags))
        mlflow.log_params(dict(params))
        for kind, values in metrics.items():
            mlflow.log_metrics({f"{kind}_{k}": float(v) for k, v in values.items() if np.isfinite(v)})
        for kind, kind_gates in gates.items():
            mlflow.log_metrics({f"{kind}_gate_{g.name}_passed": float(g.passed) for g in kind_gates})
        mlflow.log_artifacts(str(artifacts))
    return run.info.run_id, mlflow_tracking.run_url(experiment_id, run.info.run_id)
