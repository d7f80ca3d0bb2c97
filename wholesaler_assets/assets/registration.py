"""The registered scorer: the judged models, ARV and buy-box as one MLflow pyfunc; champion when earned."""

import dagster as dg
from mlflow import MlflowClient

from wholesaler_assets.assets.metadata import OWNERS, STORAGE_RETRY, as_domain, preview
from wholesaler_assets.domain.contracts.targets import TARGET_NAMES
from wholesaler_assets.domain.scoring.ranking import TierConfig
from wholesaler_assets.domain.scoring.scorer import Scorer
from wholesaler_assets.io.inputs import load_catalog
from wholesaler_assets.io.registration_flow import RegistrationRequest, register_challenger
from wholesaler_assets.io.registry_views import model_version_url
from wholesaler_assets.resources import DataFolderResource, MlflowResource, WarehouseResource
from wholesaler_assets.run_tags import retraining_tags

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
    keep_champion_where_better: bool = False  # with shadow: keep the champion's model where the new one ranks worse


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
    experiment_id = mlflow_tracking.start()  # before the client: it points MLflow at the store
    client, name = MlflowClient(), mlflow_tracking.registered_model
    done = register_challenger(client, wh, data_folder.root, catalog, RegistrationRequest(
        name, targets, config.carried_from_champion, as_domain(config, TierConfig), config.exact_reasons_max_rows,
        config.shadow, config.keep_champion_where_better, retraining_tags(dict(context.run.tags))))
    version, promotion = done.version, done.promotion
    context.log.info(f"{name} v{version}: {promotion.reason}")
    return dg.MaterializeResult(metadata={
        "registered_model": name,
        "version": version,
        "promoted_to_champion": promotion.promoted,
        "promotion": promotion.reason,
        "previous_champion": promotion.previous_champion or "none",
        "retraining": dg.MetadataValue.json(done.tags) if done.tags else "not a retraining (launched by hand)",
        "targets": dg.MetadataValue.json(done.winners),
        "kept_from_champion": dg.MetadataValue.json(done.carried) if done.carried else "none",
        "arv": done.arv,
        "feature_contract": done.contract,
        "holdout_pr_auc": dg.MetadataValue.json({t: round(v, 5) for t, v in done.holdout_pr_auc.items()}),
        "compared_with_champion": dg.MetadataValue.json(done.compared_with_champion),
        "not_compared_on_holdout": dg.MetadataValue.json(done.not_compared_on_holdout)
        if done.not_compared_on_holdout else "none",
        "mlflow_run": dg.MetadataValue.url(mlflow_tracking.run_url(experiment_id, done.run_id)),
        "mlflow_model_version": dg.MetadataValue.url(model_version_url(mlflow_tracking.ui_url, name, version)),
        "model_uri": f"models:/{name}/{version}",
        "serve_command": f"PATH=<venv>/bin:$PATH MLFLOW_TRACKING_URI={mlflow_tracking.tracking_uri} "
                         f"mlflow models serve -m models:/{name}@champion --env-manager local -p 5001",
        "example_output": preview(done.scored_example.select("lead_id", "tier", "priority_score", "narrative")),
    })
