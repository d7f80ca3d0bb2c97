"""What registration reads and writes: the judged models, the scorer's parts, the MLflow registry.

A target is registrable only when its evaluation let a candidate through and the model files
are still the ones that evaluation judged (their hashes match).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import dagster as dg
import mlflow
import pandas as pd
import polars as pl
from mlflow import MlflowClient

from wholesaler_assets.domain.contracts.choices import ModelKind
from wholesaler_assets.domain.evaluation.metrics import pr_auc
from wholesaler_assets.domain.evaluation.registry_card import SCHEMA_ARTIFACT
from wholesaler_assets.domain.features.record_schema import schema_markdown
from wholesaler_assets.domain.features.warehouse_records import records_as_of
from wholesaler_assets.domain.features.zip_market import zip_market_levels, zip_metros
from wholesaler_assets.domain.scoring.ranking import TierConfig
from wholesaler_assets.domain.scoring.scorer import Scorer, TargetModel
from wholesaler_assets.domain.snapshots.lead_tables import DatasetCatalog
from wholesaler_assets.domain.training.labels import LABEL
from wholesaler_assets.domain.valuation.arv import renovated_medians
from wholesaler_assets.io.artifacts import (
    judged_arv_model,
    judged_files_unchanged,
    load_calibrators,
    load_candidate,
    read_evaluation,
)
from wholesaler_assets.io.registry import log_lead_scorer, model_version_label
from wholesaler_assets.io.warehouse import WarehouseBackend


def judged_model(data_root: str | Path, target: str) -> tuple[TargetModel, dict[str, Any]]:
    """The target's winning model and its evaluation; fails when none won or the files changed since."""
    evaluation = read_evaluation(data_root, target)
    if evaluation is None or evaluation["winner"] == "none":
        raise dg.Failure(f"no registrable model for {target}: "
                         + (evaluation["explanation"] if evaluation else "model_evaluation has not run"),
                         allow_retries=False)
    if not judged_files_unchanged(data_root, target, evaluation):
        raise dg.Failure(f"the {target} models changed after they were evaluated: materialize "
                         f"model_evaluation for {target} again before registering", allow_retries=False)
    winner: ModelKind = evaluation["winner"]
    candidate = load_candidate(data_root, target, winner)
    calibrator = load_calibrators(data_root, target)[winner]
    return TargetModel(target, candidate.kind, candidate.model, candidate.space, calibrator), evaluation


def build_scorer(models: list[TargetModel], catalog: DatasetCatalog, wh: WarehouseBackend, data_root: str | Path,
                 tiers: TierConfig, exact_reasons_max_rows: int) -> Scorer:
    """The scorer around the chosen models: ARV (or, unless it passed its gates, its fallback medians),
    market levels and settings."""
    if catalog.origin == "dataset_spec":
        tiers = TierConfig(**{**tiers.as_dict(), "quantile_shares": tuple(catalog.tier_shares)})
        return Scorer(models, None, ({}, {}), pl.DataFrame(), {}, tiers=tiers,
                      spec_features=dict(catalog.feature_columns), exact_reasons_max_rows=exact_reasons_max_rows)
    sales = wh.read("comparable_sales")
    arv, _ = judged_arv_model(data_root)  # a gate-failed or changed ARV model is never packed
    return Scorer(models, arv, renovated_medians(sales), zip_market_levels(sales), zip_metros(sales),
                  tiers=tiers, exact_reasons_max_rows=exact_reasons_max_rows)


def input_example(scorer: Scorer, wh: WarehouseBackend, holdout: pl.DataFrame) -> pd.DataFrame:
    """Three real lead records as a user's system would send them (JSON-friendly types)."""
    if scorer.spec_features is not None:
        rows = holdout.head(3).select("lead_id", *[c for c in scorer.spec_features if c in holdout.columns])
    else:
        day = wh.query("select max(snapshot_date) as d from property_snapshots")["d"][0]
        snapshot = wh.read("property_snapshots", "snapshot_date = ?", [day])
        contacts = wh.read("lead_contacts", "lead_id in (select lead_id from lead_contacts order by contact_time "
                                            "desc limit 3)")
        rows = records_as_of(day, snapshot, contacts, wh.read("lead_outcomes").head(0),
                             include_uncontacted_distressed=False).head(3)
    return rows.with_columns(pl.col(pl.Date).cast(pl.String)).to_pandas()


def holdout_pr_auc(models: list[TargetModel], holdouts: dict[str, pl.DataFrame]) -> dict[str, float]:
    """Each target's PR-AUC of `models` on its holdout rows (a target without rows is left out)."""
    by_target = {m.target: m for m in models}
    return {target: pr_auc(holdout[LABEL].to_numpy(), by_target[target].probabilities(holdout))
            for target, holdout in holdouts.items() if holdout.height and target in by_target}


def served_models(name: str, version: str) -> dict[str, TargetModel]:
    """The target models a registered version serves, by target (one load of its pyfunc)."""
    scorer = getattr(mlflow.pyfunc.load_model(f"models:/{name}/{version}").unwrap_python_model(), "scorer", None)
    return {m.target: m for m in getattr(scorer, "models", [])}


def champion_models(client: MlflowClient, name: str, version: str, served: dict[str, TargetModel],
                    why: dict[str, str], contract_version: str) -> tuple[list[TargetModel], dict[str, dict[str, Any]]]:
    """The champion's own models of the targets in `why` out of those it `served` (a retraining's
    challenger keeps them where its retraining failed a gate or ranked worse), with evaluation-like
    entries that say why; fails when the champion lacks one or was built on another feature contract."""
    targets = list(why)
    if not targets:
        return [], {}
    registered = client.get_model_version(name, version)
    if not same_contract(client, name, version, contract_version):
        raise dg.Failure(f"cannot keep {', '.join(targets)} of {name} v{version}: it was built on feature contract "
                         f"{registered.tags['feature_contract_hash']}, the challenger on {contract_version}",
                         allow_retries=False)
    missing = [t for t in targets if t not in served]
    if missing:
        raise dg.Failure(f"cannot keep {', '.join(missing)} of {name} v{version}: it serves "
                         f"{sorted(served)}", allow_retries=False)
    params = client.get_run(registered.run_id).data.params if registered.run_id else {}
    evaluations = {t: {"winner": served[t].kind, "run_id": params.get(f"{t}_training_run", ""), "gates": {},
                       "carried_from": model_version_label(name, version),
                       "explanation": f"kept from {model_version_label(name, version)}: {why[t]}"} for t in targets}
    return [served[t] for t in targets], evaluations


def same_contract(client: MlflowClient, name: str, version: str, contract_version: str) -> bool:
    """Whether a registered version was built on this feature contract (or predates the tag)."""
    return client.get_model_version(name, version).tags.get("feature_contract_hash") in (None, contract_version)


TRAINED_THROUGH_TAG = "trained_through"  # a version's last training contact day: later rows are fair to compare on


def trained_through(wh: WarehouseBackend, targets: list[str]) -> dt.date | None:
    """The last contact day of the training tables of `targets` (what a registration learned from)."""
    if not targets:
        return None
    marks = ", ".join("?" for _ in targets)
    latest = wh.query(f"select max(contact_time) as d from training_table where target in ({marks})", targets)["d"][0]
    return latest.date() if isinstance(latest, dt.datetime) else latest


def champion_trained_through(client: MlflowClient, name: str, version: str) -> dt.date | None:
    tag = client.get_model_version(name, version).tags.get(TRAINED_THROUGH_TAG)
    return dt.date.fromisoformat(tag) if tag else None


def champion_pr_auc(name: str, version: str, holdouts: dict[str, pl.DataFrame]) -> dict[str, float]:
    """The current champion's PR-AUC on today's holdout rows, for the targets it serves."""
    return holdout_pr_auc(list(served_models(name, version).values()), holdouts)


def register_scorer(client: MlflowClient, name: str, scorer: Scorer, example: pd.DataFrame,
                    params: dict[str, Any], metrics: dict[str, float]) -> tuple[str, str, pl.DataFrame]:
    """Log the scorer as a pyfunc (with the lead record's schema beside it, `serving_schema.md`) and
    register it; returns its version, run id and scored example.

    The scorer is stamped with the version it will get; if another registration took that
    number meanwhile, the run fails rather than serve a scorer that names the wrong version.
    """
    with tempfile.TemporaryDirectory() as tmp, mlflow.start_run(run_name="register-lead-scorer") as run:
        version = str(_next_version(client, name))
        scorer.model_version, scorer.model_run_id = model_version_label(name, version), run.info.run_id
        info, scored_example = log_lead_scorer(scorer, example, Path(tmp))
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        mlflow.log_text(f"# The lead record {name} v{version} takes\n\n{schema_markdown(scorer.record_fields)}\n",
                        SCHEMA_ARTIFACT)
        registered = mlflow.register_model(info.model_uri, name).version
    if str(registered) != version:
        raise dg.Failure(f"another registration took {name} v{version} meanwhile (got v{registered}): "
                         "register again so the scorer names its own version", allow_retries=False)
    return version, run.info.run_id, scored_example


def describe_version(client: MlflowClient, name: str, version: str, description: str, tags: dict[str, str]) -> None:
    """The version's description and tags, as the registry UI and `wholesaler champion` show them."""
    client.update_model_version(name, version, description=description)
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)


def _next_version(client: MlflowClient, name: str) -> int:
    versions = client.search_model_versions(f"name = '{name}'")
    return max((int(v.version) for v in versions), default=0) + 1
