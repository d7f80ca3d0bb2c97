"""The registered scorer: the judged models, ARV and buy-box as one MLflow pyfunc; champion when earned."""

import dagster as dg
from mlflow import MlflowClient

from wholesaler_assets.assets.metadata import OWNERS, STORAGE_RETRY, as_domain, preview
from wholesaler_assets.domain.contracts.targets import TARGET_NAMES
from wholesaler_assets.domain.evaluation.fair_holdout import unseen_holdouts
from wholesaler_assets.domain.evaluation.registry_card import version_description, version_tags
from wholesaler_assets.domain.scoring.ranking import TierConfig
from wholesaler_assets.domain.scoring.scorer import Scorer
from wholesaler_assets.io.artifacts import judged_arv_model
from wholesaler_assets.io.inputs import contract_of, holdout_rows, load_catalog
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
    served_models,
    trained_through,
)
from wholesaler_assets.io.registry import CHAMPION, alias_version, decide_promotion, model_version_label
from wholesaler_assets.io.registry_views import model_version_url
from wholesaler_assets.resources import DataFolderResource, MlflowResource, WarehouseResource
from wholesaler_assets.run_tags import CARRIED_TAG, REPAIR_TAG, retraining_tags

_TIERS = TierConfig()


class RegistrationConfig(dg.Config):
    """Which targets the scorer carries (default: every target of the dataset), and its tier settings."""

    targets: list[str] | None = None
    ev_scale: float = _TIERS.ev_scale  # on the default market: tier A about 9% of active leads (the seeds: 7%)
    tier_a_min_priority: float = _TIERS.tier_a_min_priority
    tier_b_min_priority: float = _TIERS.tier_b_min_priority
    tier_c_min_priority: float = _TIERS.tier_c_min_priority
    exact_reasons_max_rows: int = Scorer.exact_reasons_max_rows  # a serving request up to this size: exact reasons
    shadow: bool = False  # a retraining's challenger: promoted by shadow_scores, not by the holdout alone
    carried_from_champion: list[str] = []  # targets whose champion model the challenger keeps (retraining failed)


@dg.asset(retry_policy=STORAGE_RETRY,
          deps=["model_evaluation", "arv_model"], group_name="models", kinds={"mlflow"}, owners=OWNERS,
          code_version="1")
def registered_scorer(context: dg.AssetExecutionContext, config: RegistrationConfig, warehouse: WarehouseResource,
                      data_folder: DataFolderResource, mlflow_tracking: MlflowResource) -> dg.MaterializeResult:
    """One pyfunc from lead records to scored leads (models, ARV, buy-box, tiers); champion only when earned."""
    wh = warehouse.open()
    catalog = load_catalog(wh)
    targets = [t for t in TARGET_NAMES if t in catalog.targets and (config.targets is None or t in config.targets)]
    if not targets:
        raise dg.Failure(f"no target to register: dataset {catalog.name} has {sorted(catalog.targets)}, "
                         f"asked for {config.targets}", allow_retries=False)
    judged = {target: judged_model(data_folder.root, target) for target in targets}
    experiment_id = mlflow_tracking.start()
    client, name = MlflowClient(), mlflow_tracking.registered_model
    champion = alias_version(client, name, CHAMPION)
    carried = [t for t in TARGET_NAMES if t in config.carried_from_champion and t not in judged]
    if carried and champion is None:
        raise dg.Failure(f"asked to keep the champion's {', '.join(carried)} but there is no champion",
                         allow_retries=False)
    served = served_models(name, champion) if champion else {}  # the champion's pyfunc, loaded once
    kept, kept_evaluations = ([], {}) if champion is None else \
        champion_models(client, name, champion, served, carried, contract_of(wh).version)
    by_target = {**{t: m for t, (m, _) in judged.items()}, **{m.target: m for m in kept}}
    evaluations = {**{t: e for t, (_, e) in judged.items()}, **kept_evaluations}
    targets = [t for t in TARGET_NAMES if t in by_target]
    models, evaluations = [by_target[t] for t in targets], {t: evaluations[t] for t in targets}
    holdouts = {target: holdout_rows(wh, target) for target in targets}
    tiers = as_domain(config, TierConfig)
    scorer = build_scorer(models, catalog, wh, data_folder.root, tiers, config.exact_reasons_max_rows)
    challenger_pr_auc = holdout_pr_auc(models, holdouts)
    # A retraining's challenger is compared only on holdout contacts the champion never trained on
    # (domain/evaluation/fair_holdout.py); a registration by hand trains on the champion's own data.
    fair, not_compared = unseen_holdouts(holdouts, champion_trained_through(client, name, champion)) \
        if champion and config.shadow else (holdouts, {})
    champion_figures = holdout_pr_auc(list(served.values()), fair) if champion else None
    challenger_fair = holdout_pr_auc(models, fair)
    params = {**{f"{t}_model": e["winner"] for t, e in evaluations.items()},
              **{f"{t}_training_run": e["run_id"] for t, e in evaluations.items()},
              "arv": "model" if scorer.arv else "fallback medians", **tiers.as_dict()}
    version, run_id, scored_example = register_scorer(
        client, name, scorer, input_example(scorer, wh, holdouts[targets[-1]]), params,
        {f"{t}_holdout_pr_auc": v for t, v in challenger_pr_auc.items()})
    retraining = retraining_tags(dict(context.run.tags)) | ({REPAIR_TAG: "retraining"} if config.shadow else {}) \
        | ({CARRIED_TAG: f"{','.join(carried)} from {model_version_label(name, champion or '')}"} if kept else {})
    for tag, value in retraining.items():  # why this version exists, beside it in the registry
        client.set_model_version_tag(name, version, tag, value)
    client.set_model_version_tag(name, version, TRAINED_THROUGH_TAG, str(trained_through(wh, list(judged))))
    promotion = decide_promotion(client, name, version, gates_passed=True, challenger_pr_auc=challenger_fair,
                                 champion_pr_auc=champion_figures, shadow=config.shadow)
    context.log.info(f"{name} v{version}: {promotion.reason}")
    arv = "model" if scorer.arv else f"fallback medians: {judged_arv_model(data_folder.root)[1]}"
    contract = contract_of(wh).version
    describe_version(client, name, version, version_description(
        model_version_label(name, version), evaluations, challenger_pr_auc, promotion.reason, catalog.name, contract,
        arv, scorer.record_fields), version_tags(evaluations, catalog.name, contract, arv))
    return dg.MaterializeResult(metadata={
        "registered_model": name,
        "version": version,
        "promoted_to_champion": promotion.promoted,
        "promotion": promotion.reason,
        "previous_champion": promotion.previous_champion or "none",
        "retraining": dg.MetadataValue.json(retraining) if retraining else "not a retraining (launched by hand)",
        "targets": dg.MetadataValue.json({t: e["winner"] for t, e in evaluations.items()}),
        "kept_from_champion": dg.MetadataValue.json(carried) if kept else "none",
        "arv": arv,
        "feature_contract": contract,
        "holdout_pr_auc": dg.MetadataValue.json({t: round(v, 5) for t, v in challenger_pr_auc.items()}),
        "compared_with_champion": dg.MetadataValue.json(
            {t: {"challenger": round(challenger_fair[t], 5), "champion": round(v, 5), "contacts": fair[t].height}
             for t, v in (champion_figures or {}).items() if t in challenger_fair}),
        "not_compared_on_holdout": dg.MetadataValue.json(not_compared) if not_compared else "none",
        "mlflow_run": dg.MetadataValue.url(mlflow_tracking.run_url(experiment_id, run_id)),
        "mlflow_model_version": dg.MetadataValue.url(model_version_url(mlflow_tracking.ui_url, name, version)),
        "model_uri": f"models:/{name}/{version}",
        "serve_command": f"PATH=<venv>/bin:$PATH MLFLOW_TRACKING_URI={mlflow_tracking.tracking_uri} "
                         f"mlflow models serve -m models:/{name}@champion --env-manager local -p 5001",
        "example_output": preview(scored_example.select("lead_id", "tier", "priority_score", "narrative")),
    })
