"""One registration, start to end: the challenger's models (judged, or kept from the champion), the
scorer, its holdout comparison with the champion, the registry entry, its tags and the promotion.

`registered_scorer` calls `register_challenger` once and turns the `Registration` into metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
from mlflow import MlflowClient

from wholesaler_assets.domain.contracts.targets import TARGET_NAMES
from wholesaler_assets.domain.evaluation.fair_holdout import unseen_holdouts, worse_than_champion
from wholesaler_assets.domain.evaluation.registry_card import version_description, version_tags
from wholesaler_assets.domain.retraining.challenger import ChallengerModels, with_champion_models
from wholesaler_assets.domain.scoring.ranking import TierConfig
from wholesaler_assets.domain.snapshots.lead_tables import DatasetCatalog
from wholesaler_assets.io.artifacts import judged_arv_model
from wholesaler_assets.io.inputs import contract_of, holdout_rows
from wholesaler_assets.io.registration import (
    TRAINED_THROUGH_TAG,
    build_scorer,
    champion_models,
    champion_trained_through,
    describe_version,
    holdout_pr_auc,
    input_example,
    judged_model,
    register_scorer,
    same_contract,
    served_models,
    trained_through,
)
from wholesaler_assets.io.registry import CHAMPION, Promotion, alias_version, decide_promotion, model_version_label
from wholesaler_assets.io.warehouse import WarehouseBackend
from wholesaler_assets.run_tags import CARRIED_TAG, REPAIR_TAG


@dataclass(frozen=True)
class RegistrationRequest:
    """What to register: the judged targets, the champion's targets to keep, and the scorer's settings."""

    name: str
    targets: list[str]
    carried_from_champion: list[str]
    tiers: TierConfig
    exact_reasons_max_rows: int
    shadow: bool  # a retraining's challenger: compared on unseen holdout rows, promoted by shadow_scores
    keep_champion_where_better: bool = False  # a shadow challenger keeps the champion's model where it ranks worse
    run_tags: dict[str, str] = field(default_factory=dict)  # the launching run's retraining tags


@dataclass(frozen=True)
class Registration:
    """The registered version, why it exists, how it compared with the champion and what was decided."""

    version: str
    run_id: str
    promotion: Promotion
    winners: dict[str, str]
    carried: dict[str, str]  # target -> why the champion's model was kept
    arv: str
    contract: str
    holdout_pr_auc: dict[str, float]
    compared_with_champion: dict[str, dict[str, Any]]
    not_compared_on_holdout: dict[str, str]
    tags: dict[str, str]
    scored_example: pl.DataFrame


def register_challenger(client: MlflowClient, wh: WarehouseBackend, data_root: str | Path, catalog: DatasetCatalog,
                        request: RegistrationRequest) -> Registration:
    """Register the scorer of `request.targets` (plus the champion's kept models) and decide its promotion."""
    name, contract = request.name, contract_of(wh).version
    challenger = _challenger_models(client, data_root, request, contract)
    holdouts = {target: holdout_rows(wh, target) for target in challenger.targets}
    # A retraining's challenger is compared only on holdout contacts the champion never trained on
    # (domain/evaluation/fair_holdout.py); a registration by hand trains on the champion's own data.
    champion = challenger.champion
    fair, not_compared = unseen_holdouts(holdouts, champion_trained_through(client, name, champion)) \
        if champion and request.shadow else (holdouts, {})
    champion_fair = holdout_pr_auc(list(challenger.served_by_champion.values()), fair) if champion else None
    challenger_fair = holdout_pr_auc(challenger.models, fair)
    if champion and champion_fair and request.shadow and request.keep_champion_where_better and same_contract(
            client, name, champion, contract):
        worse = worse_than_champion(challenger_fair, champion_fair)
        challenger = with_champion_models(challenger, *champion_models(
            client, name, champion, challenger.served_by_champion, worse, contract))
        challenger_fair |= {t: champion_fair[t] for t in worse}  # the kept model is the champion's own
    full = holdout_pr_auc(challenger.models, holdouts)
    targets = challenger.targets
    scorer = build_scorer(challenger.models, catalog, wh, data_root, request.tiers, request.exact_reasons_max_rows)
    evaluations = challenger.evaluations
    params = {**{f"{t}_model": e["winner"] for t, e in evaluations.items()},
              **{f"{t}_training_run": e["run_id"] for t, e in evaluations.items()},
              "arv": "model" if scorer.arv else "fallback medians", **request.tiers.as_dict()}
    version, run_id, scored_example = register_scorer(
        client, name, scorer, input_example(scorer, wh, holdouts[targets[-1]]), params,
        {f"{t}_holdout_pr_auc": v for t, v in full.items()})
    tags = request.run_tags | ({REPAIR_TAG: "retraining"} if request.shadow else {}) \
        | ({CARRIED_TAG: f"{','.join(challenger.carried)} from {model_version_label(name, champion or '')}"}
           if challenger.carried else {})
    for tag, value in tags.items():  # why this version exists, beside it in the registry
        client.set_model_version_tag(name, version, tag, value)
    client.set_model_version_tag(name, version, TRAINED_THROUGH_TAG, str(trained_through(wh, request.targets)))
    promotion = decide_promotion(client, name, version, gates_passed=True, challenger_pr_auc=challenger_fair,
                                 champion_pr_auc=champion_fair, shadow=request.shadow)
    arv = "model" if scorer.arv else f"fallback medians: {judged_arv_model(data_root)[1]}"
    describe_version(client, name, version, version_description(
        model_version_label(name, version), evaluations, full, promotion.reason, catalog.name, contract,
        arv, scorer.record_fields), version_tags(evaluations, catalog.name, contract, arv))
    compared = {t: {"challenger": round(challenger_fair[t], 5), "champion": round(v, 5), "contacts": fair[t].height}
                for t, v in (champion_fair or {}).items() if t in challenger_fair}
    return Registration(version, run_id, promotion, {t: e["winner"] for t, e in evaluations.items()},
                        {t: evaluations[t]["explanation"] for t in challenger.carried}, arv, contract, full, compared,
                        not_compared, tags, scored_example)


def _challenger_models(client: MlflowClient, data_root: str | Path, request: RegistrationRequest,
                       contract: str) -> ChallengerModels:
    """The judged models of the request's targets and the champion's kept ones, in target order."""
    judged = {target: judged_model(data_root, target) for target in request.targets}
    champion = alias_version(client, request.name, CHAMPION)
    carried = [t for t in TARGET_NAMES if t in request.carried_from_champion and t not in judged]
    if carried and champion is None:
        raise dg.Failure(f"asked to keep the champion's {', '.join(carried)} but there is no champion",
                         allow_retries=False)
    served = served_models(request.name, champion) if champion else {}  # the champion's pyfunc, loaded once
    judged_only = ChallengerModels([m for m, _ in judged.values()], {t: e for t, (_, e) in judged.items()},
                                   served, champion, [])
    if champion is None:
        return judged_only
    return with_champion_models(judged_only, *champion_models(
        client, request.name, champion, served, {t: f"this retraining's {t} failed a gate" for t in carried}, contract))

