"""Valuation assets: the after-repair value model of comparable sales, gated on a temporal holdout.

The model file is written for inspection whatever its gates say; beside it, the gates' verdict
with the file's hash decides whether registration may pack it into the scorer.
"""

import datetime as dt

import dagster as dg

from wholesaler_assets.assets.metadata import OWNERS, as_domain, check_specs, gate_check
from wholesaler_assets.domain.features.zip_market import zip_market_levels
from wholesaler_assets.domain.gates.valuation import ArvThresholds, arv_gates
from wholesaler_assets.domain.valuation.accuracy import arv_error_against_truth, error_table_markdown
from wholesaler_assets.domain.valuation.arv import (
    HOLDOUT_SHARE,
    ArvModel,
    arv_features,
    evaluate_arv,
    fit_arv_model,
    sale_features,
    temporal_split,
)
from wholesaler_assets.io.artifacts import ARV_FILE, write_arv_verdict
from wholesaler_assets.io.inputs import sales_extra_features
from wholesaler_assets.io.synthetic_files import read_renovated_values
from wholesaler_assets.io.tracking import log_arv_run
from wholesaler_assets.resources import DataFolderResource, MlflowResource, WarehouseResource

ARV_CHECKS = {
    "mdape_within_limit": "Holdout median absolute percentage error at most 15% (configurable).",
    "beats_zip_median_baseline": "Holdout MAE at least 20% better than ZIP median price per sqft x sqft.",
}
MIN_SALES = 100
_ARV = ArvThresholds()


class ValuationConfig(dg.Config):
    """ARV gates (defaults: `ArvThresholds`) and the share of the latest sales held out."""

    max_mdape: float = _ARV.max_mdape
    min_mae_improvement: float = _ARV.min_mae_improvement
    holdout_share: float = HOLDOUT_SHARE


@dg.asset(deps=["comparable_sales"], group_name="valuation", kinds={"xgboost", "mlflow"}, owners=OWNERS,
          code_version="2", io_manager_key="model_io_manager", metadata={"artifact_file": ARV_FILE},
          check_specs=check_specs("arv_model", ARV_CHECKS))
def arv_model(config: ValuationConfig, warehouse: WarehouseResource, data_folder: DataFolderResource,
              mlflow_tracking: MlflowResource):
    """XGBoost of log sale price on comparable sales (facts, extras, ZIP level and trend); used only past its gates."""
    wh = warehouse.open()
    sales = wh.read("comparable_sales")
    if sales.height < MIN_SALES:
        raise dg.Failure(f"only {sales.height} comparable sales: ARV needs at least {MIN_SALES} "
                         "(ingest landing/sales/ or point a sales spec at a sales file)", allow_retries=False)
    features = arv_features(sales, sales_extra_features(wh))
    train, holdout = temporal_split(sale_features(sales), config.holdout_share)
    model: ArvModel = fit_arv_model(train, zip_market_levels(train), features)
    evaluation = evaluate_arv(model, train, holdout)
    gates = arv_gates(evaluation, as_domain(config, ArvThresholds))
    passed = all(gate.passed for gate in gates)
    figures = {"holdout_mdape": evaluation.model_mdape, "holdout_mae": evaluation.model_mae,
               "baseline_mdape": evaluation.baseline_mdape, "baseline_mae": evaluation.baseline_mae,
               "mae_improvement": evaluation.mae_improvement}
    truth = read_renovated_values(data_folder.layout().ground_truth)
    truth_metadata: dict = {}
    last_sale = sales["sale_date"].max()
    if truth is not None and isinstance(last_sale, dt.date) and wh.table_exists("raw_properties"):
        # a synthetic market: ARV against the true renovated value, by condition
        errors = arv_error_against_truth(model, wh.read("raw_properties"), truth, last_sale)
        figures |= {f"truth_mdape_{r['condition']}": r["mdape"] for r in errors.iter_rows(named=True)}
        figures |= {f"truth_bias_{r['condition']}": r["median_bias"] for r in errors.iter_rows(named=True)}
        truth_metadata = {"arv_error_by_condition": dg.MetadataValue.md(error_table_markdown(errors))}
    run_url = log_arv_run(mlflow_tracking, {"train_sales": train.height, "holdout_sales": holdout.height,
                                            "max_mdape": config.max_mdape,
                                            "min_mae_improvement": config.min_mae_improvement,
                                            "gates_passed": passed}, figures, model.space.to_dict())
    yield dg.Output(model, metadata={**figures, **truth_metadata, "train_sales": train.height,
                                     "holdout_sales": holdout.height,
                                     "features": dg.MetadataValue.json(dict(model.space.kinds)),
                                     "usable_for_scoring": passed,
                                     "mlflow_run": dg.MetadataValue.url(run_url)})
    # After the IO manager wrote the model file: the verdict names the very file its gates judged,
    # and registration packs the model only when it says passed (`io.artifacts.judged_arv_model`).
    write_arv_verdict(data_folder.root, passed, {g.name: g.summary for g in gates}, list(model.space.features))
    for gate in gates:
        yield gate_check(gate)
