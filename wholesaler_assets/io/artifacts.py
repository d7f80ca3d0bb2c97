"""Model artifacts under <data>/models/: candidates, calibrators, the ARV model and evaluations.

Layout: models/<target>/{xgboost,baseline}.pkl, models/<target>/calibrators.pkl (one per kind),
models/<target>/evaluation.json (the gated decision and the hashes of the files it judged) and
models/arv/arv_model.pkl with models/arv/arv_verdict.json (its gates, its features and the hash
of the file they judged). Registration refuses models whose files changed after their evaluation,
and packs the ARV model only when its gates passed (`judged_arv_model`).
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

from wholesaler_assets.domain.contracts.choices import MODEL_KINDS, ModelKind
from wholesaler_assets.domain.ingestion.validation import sha256_of
from wholesaler_assets.domain.training.calibration import SegmentedCalibrator
from wholesaler_assets.domain.training.search import TrainedCandidate

CANDIDATE_FILES: dict[ModelKind, str] = {"xgboost": "xgboost.pkl", "baseline": "baseline.pkl"}
CALIBRATORS_FILE = "calibrators.pkl"
EVALUATION_FILE = "evaluation.json"
ARV_FILE = "arv/arv_model.pkl"
ARV_VERDICT_FILE = "arv/arv_verdict.json"
JUDGED_FILES = (*CANDIDATE_FILES.values(), CALIBRATORS_FILE)


class MissingArtifact(FileNotFoundError):
    """A model file an asset needs has not been written yet; the message names the asset to run."""


def models_root(data_root: str | Path) -> Path:
    return Path(data_root) / "models"


def target_folder(data_root: str | Path, target: str) -> Path:
    return models_root(data_root) / target


def write_pickle(path: Path, value: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(value))
    return path


def read_pickle(path: Path, made_by: str) -> Any:
    if not path.exists():
        raise MissingArtifact(f"{path} is missing: materialize {made_by} first")
    return pickle.loads(path.read_bytes())


def load_candidate(data_root: str | Path, target: str, kind: ModelKind) -> TrainedCandidate:
    return read_pickle(target_folder(data_root, target) / CANDIDATE_FILES[kind],
                       f"the model assets of {target}")


def load_candidates(data_root: str | Path, target: str) -> dict[ModelKind, TrainedCandidate]:
    return {kind: load_candidate(data_root, target, kind) for kind in MODEL_KINDS}


def load_calibrators(data_root: str | Path, target: str) -> dict[ModelKind, SegmentedCalibrator]:
    return read_pickle(target_folder(data_root, target) / CALIBRATORS_FILE, f"calibrator for {target}")


def write_arv_verdict(data_root: str | Path, gates_passed: bool, gates: dict[str, str],
                      features: list[str]) -> Path:
    """The ARV gates' decision, stamped with the hash of the model file they judged."""
    model_file, path = models_root(data_root) / ARV_FILE, models_root(data_root) / ARV_VERDICT_FILE
    verdict = {"gates_passed": gates_passed, "gates": gates, "features": features,
               "model_sha256": sha256_of(model_file.read_bytes())}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(verdict, indent=2) + "\n")
    return path


def judged_arv_model(data_root: str | Path) -> tuple[Any | None, str]:
    """The ARV model when its gates passed and its file is the one they judged, else None; and why."""
    model_file, path = models_root(data_root) / ARV_FILE, models_root(data_root) / ARV_VERDICT_FILE
    if not model_file.exists() or not path.exists():
        return None, "no judged ARV model (materialize arv_model, valuation_job)"
    verdict = json.loads(path.read_text())
    if not verdict["gates_passed"]:
        failed = "; ".join(f"{name}: {summary}" for name, summary in verdict["gates"].items())
        return None, f"the ARV model failed its gates ({failed})"
    if verdict["model_sha256"] != sha256_of(model_file.read_bytes()):
        return None, "the ARV model file changed after its gates judged it (materialize arv_model again)"
    return read_pickle(model_file, "arv_model (valuation_job)"), "model (passed its gates)"


def artifact_hashes(data_root: str | Path, target: str) -> dict[str, str]:
    """Content hashes of the files an evaluation judged, so registration can refuse newer, unjudged ones."""
    folder = target_folder(data_root, target)
    return {name: sha256_of((folder / name).read_bytes()) for name in JUDGED_FILES if (folder / name).exists()}


def write_evaluation(data_root: str | Path, target: str, summary: dict[str, Any]) -> Path:
    """The evaluation's decision, stamped with the hashes of the files it judged."""
    path = target_folder(data_root, target) / EVALUATION_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    stamped = {**summary, "artifacts_sha256": artifact_hashes(data_root, target)}
    path.write_text(json.dumps(stamped, indent=2, default=float) + "\n")
    return path


def read_evaluation(data_root: str | Path, target: str) -> dict[str, Any] | None:
    path = target_folder(data_root, target) / EVALUATION_FILE
    return json.loads(path.read_text()) if path.exists() else None


def judged_files_unchanged(data_root: str | Path, target: str, evaluation: dict[str, Any]) -> bool:
    return evaluation.get("artifacts_sha256") == artifact_hashes(data_root, target)
