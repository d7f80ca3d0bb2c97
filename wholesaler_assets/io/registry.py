"""The MLflow model registry: log the scorer, promote challenger to champion, roll back.

`log_lead_scorer` logs a `Scorer` as the `LeadScorer` pyfunc (the `registered_scorer` asset and
the serving benchmark log it the same way). A new version gets the alias `challenger`. It becomes
`champion` only when every gate passed and it is not worse than the current champion on the same
holdout; the version it replaces is noted on it (tag `replaced_champion`), so `wholesaler
rollback` can put the previous champion back. Older versions stay registered.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
import polars as pl
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature, infer_signature
from mlflow.models.model import ModelInfo
from mlflow.types.schema import ParamSchema, ParamSpec

from wholesaler_assets.domain.scoring.scorer import Scorer
from wholesaler_assets.io.scorer_artifacts import save_scorer
from wholesaler_assets.serving.pyfunc import LeadScorer, to_response

CHAMPION, CHALLENGER = "champion", "challenger"
REPLACED_TAG = "replaced_champion"
SHADOW_REFUSED_TAG = "shadow_refused"  # a retraining's challenger worse on the holdout: never shadowed
# The endpoint's params; the production proxy's guard refuses any other (held equal by a test).
SCORER_PARAMS = ParamSchema([ParamSpec("reasons", "string", "auto")])


def log_lead_scorer(scorer: Scorer, example: pd.DataFrame, folder: Path) -> tuple[ModelInfo, pl.DataFrame]:
    """Log `scorer` into the active MLflow run as the `LeadScorer` pyfunc named `lead_scorer`;
    returns the model info and the scored leads of `example` (lead records as a user sends them).

    The signature has the outputs and the `reasons` param but no input schema: MLflow's input
    enforcement drops unknown fields silently and lets nulls through, where the scorer's own
    validation names each bad field (HTTP 400). The package's code travels with the model
    (`code_paths`) and the requirements are pinned, so `mlflow models serve --env-manager local`
    needs nothing else. `folder` receives the scorer's files before MLflow copies them.
    """
    days = [pd.Timestamp(d).date() for d in example["scoring_date"].dropna()] if "scoring_date" in example else []
    scored = scorer.score(scorer.validate(example, max(days, default=dt.date.today())))
    outputs = infer_signature(example, pd.DataFrame(to_response(scored))).outputs
    info = mlflow.pyfunc.log_model(
        name="lead_scorer", python_model=LeadScorer(), artifacts=save_scorer(scorer, folder),
        code_paths=[str(Path(__file__).parents[1])], input_example=example,
        signature=ModelSignature(outputs=outputs, params=SCORER_PARAMS),
        model_config={"model_version": scorer.model_version, "model_run_id": scorer.model_run_id},
        pip_requirements=_requirements(),
    )
    return info, scored


def _requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{p}=={version(p)}" for p in ("mlflow", "xgboost-cpu", "scikit-learn", "pandas", "polars", "numpy")]


@dataclass(frozen=True)
class Promotion:
    """What the promotion step decided and why."""

    version: str
    promoted: bool
    reason: str
    previous_champion: str | None


def alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def model_version_label(name: str, version: str | int) -> str:
    """How a scorer names its registry version (stamped on every score it makes)."""
    return f"{name} v{version}"


def champion_holdout(client: MlflowClient, name: str) -> tuple[str, dict[str, float]] | None:
    """The champion's version label and the holdout PR-AUC per target its registration logged; None without one."""
    version = alias_version(client, name, CHAMPION)
    if version is None:
        return None
    run_id = client.get_model_version(name, version).run_id
    metrics = client.get_run(run_id).data.metrics if run_id else {}
    return model_version_label(name, version), {key.removesuffix("_holdout_pr_auc"): value
                                                 for key, value in metrics.items() if key.endswith("_holdout_pr_auc")}


def promote(client: MlflowClient, name: str, version: str) -> str | None:
    """Give `champion` to `version`, remembering the champion it replaced (for rollback); returns that one."""
    current = alias_version(client, name, CHAMPION)
    client.set_registered_model_alias(name, CHAMPION, version)
    if current is not None and current != version:
        client.set_model_version_tag(name, version, REPLACED_TAG, current)
    return current


def decide_promotion(
    client: MlflowClient,
    name: str,
    version: str | int,
    gates_passed: bool,
    challenger_pr_auc: dict[str, float],
    champion_pr_auc: dict[str, float] | None,
    shadow: bool = False,
) -> Promotion:
    """Set `challenger` on the new version and `champion` when it has earned it.

    With `shadow` (a retraining's challenger) and a champion in place, a version at least as good
    on the holdout stays challenger until `shadow_scores` promotes it; a worse one is marked
    `shadow_refused` and never shadowed."""
    version = str(version)
    client.set_registered_model_alias(name, CHALLENGER, version)
    current = alias_version(client, name, CHAMPION)
    if not gates_passed:
        return Promotion(version, False, "not promoted: a gate failed", current)
    if current is not None and champion_pr_auc:
        worse = {t: (challenger_pr_auc.get(t, 0.0), champion_pr_auc[t]) for t in champion_pr_auc
                 if challenger_pr_auc.get(t, 0.0) < champion_pr_auc[t]}
        if worse:
            if shadow:
                client.set_model_version_tag(name, version, SHADOW_REFUSED_TAG, "worse on the holdout")
            detail = ", ".join(f"{t} PR-AUC {new:.4f} < champion {old:.4f}" for t, (new, old) in worse.items())
            return Promotion(version, False, f"not promoted: worse than champion v{current} on the same holdout "
                                             f"({detail})", current)
    if shadow and current is not None:
        return Promotion(version, False, f"challenger v{version} shadows champion v{current}: promoted by "
                                         "shadow_scores once it has earned it", current)
    promote(client, name, version)
    reason = f"promoted over champion v{current}" if current else "promoted: first champion"
    return Promotion(version, True, reason, current)


def rollback(client: MlflowClient, name: str, reason: str | None = None) -> tuple[str, str]:
    """Give `champion` back to the version the current champion replaced; returns (from, to).
    The rolled-back version keeps the tag `rolled_back` and, when given, why (`rollback_reason`)."""
    current = alias_version(client, name, CHAMPION)
    if current is None:
        raise ValueError(f"registered model {name!r} has no champion to roll back")
    previous = client.get_model_version(name, current).tags.get(REPLACED_TAG)
    if not previous:
        raise ValueError(f"champion v{current} of {name!r} replaced no earlier champion: nothing to roll back to")
    client.set_registered_model_alias(name, CHAMPION, previous)
    client.set_model_version_tag(name, current, "rolled_back", "true")
    if reason:
        client.set_model_version_tag(name, current, ROLLBACK_REASON_TAG, reason)
    return current, str(previous)


ROLLBACK_REASON_TAG, PROMOTION_REASON_TAG = "rollback_reason", "promotion_reason"
REFUSED_TAGS = (SHADOW_REFUSED_TAG, "rolled_back")  # a person promoting such a version must say --force


def promote_by_hand(client: MlflowClient, name: str, version: str, reason: str, force: bool = False) -> str | None:
    """A person gives `champion` to `version` and says why (tag `promotion_reason`); returns the
    champion it replaced. A version the shadow refused or that was rolled back needs `force`."""
    found = client.get_model_version(name, version)  # MlflowException when there is no such version
    if alias_version(client, name, CHAMPION) == str(version):
        raise ValueError(f"{name} v{version} is already the champion")
    flagged = [t for t in REFUSED_TAGS if found.tags.get(t)]
    if flagged and not force:
        raise ValueError(f"{name} v{version} is tagged {', '.join(flagged)}: promote it with --force if you mean it")
    previous = promote(client, name, str(version))
    client.set_model_version_tag(name, str(version), PROMOTION_REASON_TAG, reason)
    return previous
