"""Valuation assets: the after-repair value model of comparable sales, gated on a temporal holdout."""

import pickle

import dagster as dg
import mlflow

from wholesaler_assets.assets.common import OWNERS, gate_check
from wholesaler_assets.domain.features import zip_market_levels
from wholesaler_assets.domain.quality import GateResult
from wholesaler_assets.domain.valuation import evaluate_arv, fit_arv_model, sale_features, temporal_split
from wholesaler_assets.resources import DataFolderResource, MlflowResource, WarehouseResource

ARV_CHECKS = {
    "mdape_within_limit": "Holdout median absolute percentage error at most 15% (configurable).",
    "beats_zip_median_baseline": "Holdout MAE at least 20% better than ZIP median price per sqft x sqft.",
}


class ValuationConfig(dg.Config):
    """ARV gates (defaults from the seeds' plan) and the share of the latest sales held out."""

    max_mdape: float = 0.15
    min_mae_improvement: float = 0.20
    holdout_share: float = 0.2


@dg.asset(
    deps=["comparable_sales"],
    group_name="valuation",
    kinds={"xgboost", "mlflow"},
    owners=OWNERS,
    check_specs=[dg.AssetCheckSpec(name, asset="arv_model", blocking=True, description=text)
                 for name, text in ARV_CHECKS.items()],
)
def arv_model(config: ValuationConfig, warehouse: WarehouseResource, data_folder: DataFolderResource,
              mlflow_tracking: MlflowResource) -> dg.MaterializeResult:
    """XGBoost of log sale price on comparable sales (facts, condition, ZIP level and trend); ARV = price renovated."""
    sales = warehouse.open().read("comparable_sales")
    if sales.height < 100:
        raise dg.Failure(f"only {sales.height} comparable sales: ARV needs at least 100 (ingest landing/sales/)")
    train, holdout = temporal_split(sale_features(sales), config.holdout_share)
    model = fit_arv_model(train, zip_market_levels(train))
    evaluation = evaluate_arv(model, train, holdout)
    folder = data_folder.layout().root / "models" / "arv"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "arv_model.pkl").write_bytes(pickle.dumps(model))
    experiment_id = mlflow_tracking.start()
    figures = {"holdout_mdape": evaluation.model_mdape, "holdout_mae": evaluation.model_mae,
               "baseline_mdape": evaluation.baseline_mdape, "baseline_mae": evaluation.baseline_mae,
               "mae_improvement": evaluation.mae_improvement}
    with mlflow.start_run(run_name="train-arv") as run:
        mlflow.set_tags({"model": "arv"})
        mlflow.log_params({"train_sales": train.height, "holdout_sales": holdout.height,
                           "max_mdape": config.max_mdape, "min_mae_improvement": config.min_mae_improvement})
        mlflow.log_metrics(figures)
    mdape_ok = evaluation.model_mdape <= config.max_mdape
    beats = evaluation.mae_improvement >= config.min_mae_improvement
    return dg.MaterializeResult(
        metadata={**figures, "train_sales": train.height, "holdout_sales": holdout.height,
                  "model_file": dg.MetadataValue.path(str(folder / "arv_model.pkl")),
                  "mlflow_run": dg.MetadataValue.url(mlflow_tracking.run_url(experiment_id, run.info.run_id))},
        check_results=[
            gate_check("mdape_within_limit", GateResult(
                mdape_ok, f"holdout MdAPE {evaluation.model_mdape:.1%}; must be <= {config.max_mdape:.0%}",
                {"mdape": evaluation.model_mdape, "limit": config.max_mdape})),
            gate_check("beats_zip_median_baseline", GateResult(
                beats, f"holdout MAE ${evaluation.model_mae:,.0f} vs ZIP-median ${evaluation.baseline_mae:,.0f}: "
                f"{evaluation.mae_improvement:.1%} better; needs {config.min_mae_improvement:.0%}",
                {"mae": evaluation.model_mae, "baseline_mae": evaluation.baseline_mae,
                 "improvement": evaluation.mae_improvement, "needed": config.min_mae_improvement})),
        ],
    )
