"""Training data assets: point-in-time contact features, per-target training tables and their audits."""

import datetime as dt
from typing import Any

import dagster as dg
import polars as pl

from wholesaler_assets.assets.metadata import (
    OWNERS,
    STORAGE_RETRY,
    as_domain,
    check_specs,
    counts_table,
    gate_check,
    preview,
)
from wholesaler_assets.domain.contracts.targets import TARGETS
from wholesaler_assets.domain.features.contact_features import source_contact_features, spec_contact_features
from wholesaler_assets.domain.features.contract import contract_violations
from wholesaler_assets.domain.gates.data_quality import QualityThresholds
from wholesaler_assets.domain.gates.tables import TRAINING_TABLE_CHECKS, not_applicable, training_table_gates
from wholesaler_assets.domain.scalars import as_float
from wholesaler_assets.domain.training.audit import STAT_CHECKS, audit_features
from wholesaler_assets.domain.training.labels import LABEL
from wholesaler_assets.domain.training.selection import (
    FINAL_FOLD,
    SelectionControls,
    SelectionThresholds,
    select_per_fold,
    selection_table,
)
from wholesaler_assets.domain.training.selection_check import apply_check, check_selection
from wholesaler_assets.domain.training.splits import TRAIN, SplitConfig, fold_summary
from wholesaler_assets.domain.training.table import build_training_table, feature_contract_of, positive_band
from wholesaler_assets.io.inputs import contact_feature_inputs, load_catalog, target_table
from wholesaler_assets.io.reports import write_feature_contract, write_feature_order, write_statistical_report
from wholesaler_assets.partitions import TARGET_PARTITIONS
from wholesaler_assets.resources import DataFolderResource, WarehouseResource

GROUP = "training"
TABLE_IO = "warehouse_io_manager"
BY_TARGET = {"partition_column": "target"}
_SPLIT, _QUALITY, _SELECTION = SplitConfig(), QualityThresholds(), SelectionThresholds()


@dg.asset(retry_policy=STORAGE_RETRY,
          deps=["lead_contacts", "property_snapshots", "comparable_sales"], group_name=GROUP,
          kinds={"polars", "duckdb"}, owners=OWNERS, code_version="1", io_manager_key=TABLE_IO)
def contact_features(warehouse: WarehouseResource) -> dg.Output[pl.DataFrame]:
    """Point-in-time features of every contact: latest snapshot on or before the contact, history, ZIP trend."""
    wh = warehouse.open()
    catalog = load_catalog(wh)
    if catalog.origin == "dataset_spec":
        features = spec_contact_features(wh.read("lead_contacts"), catalog.feature_columns)
    else:
        inputs = contact_feature_inputs(wh)
        features = source_contact_features(inputs["contacts"], inputs["snapshots"], inputs["sales"])
    return dg.Output(features, metadata={
        "dagster/row_count": features.height,
        "dataset": catalog.name,
        "snapshot_matched_share": as_float(features["snapshot_date"].is_not_null().mean()) if features.height else 0.0,
        "features": len(feature_contract_of(catalog).features),
        "preview": preview(features),
    })


class TrainingTableConfig(dg.Config):
    """Splits (defaults: `SplitConfig`) and gate thresholds; a band left unset comes from the dataset."""

    gap_days: int = _SPLIT.gap_days
    holdout_share: float = _SPLIT.holdout_share
    n_folds: int = _SPLIT.n_folds
    min_snapshot_match: float = _QUALITY.min_snapshot_match
    positive_share_low: float | None = None
    positive_share_high: float | None = None
    window_days: int | None = None  # only contacts of this many days before the cutoff (None: all history)


@dg.asset(partitions_def=TARGET_PARTITIONS, deps=["contact_features", "lead_outcomes"], group_name=GROUP,
          kinds={"polars", "duckdb"}, owners=OWNERS, code_version="1", io_manager_key=TABLE_IO, metadata=BY_TARGET,
          output_required=False, check_specs=check_specs("training_table", TRAINING_TABLE_CHECKS,
                                                              partitions_def=TARGET_PARTITIONS))
def training_table(context: dg.AssetExecutionContext, config: TrainingTableConfig, warehouse: WarehouseResource,
                   data_folder: DataFolderResource):
    """One row per lead contact: as-of features, label from the window after it, censored leads left out, folds."""
    target = TARGETS[context.partition_key]
    wh = warehouse.open()
    catalog = load_catalog(wh)
    if target.name not in catalog.targets:
        # No table and no materialization, so nothing downstream runs; the checks must still answer.
        reason = f"dataset {catalog.name} has no {target.name}: partition skipped, not faked"
        context.log.info(reason)
        for stale in ("training_table", "training_folds", "feature_selection"):  # a previous dataset's rows go
            if wh.table_exists(stale):
                wh.replace_partition(stale, wh.read(stale, "target = ?", [target.name]).head(0), "target",
                                     target.name)
        for gate in not_applicable(list(TRAINING_TABLE_CHECKS), reason):
            yield gate_check(gate, partition=target.name)
        return
    contract = feature_contract_of(catalog)
    built = build_training_table(
        wh.read("contact_features"), wh.read("lead_outcomes"), target, catalog.targets[target.name],
        dt.datetime.fromisoformat(catalog.data_cutoff), contract, gap_days=config.gap_days,
        holdout_share=config.holdout_share, n_folds=config.n_folds,
        censor_provided_labels=catalog.censor_provided_labels, window_days=config.window_days)
    table = built.table
    if table.is_empty():
        raise dg.Failure(f"no labelled contacts for {target.name}: every contact is censored by the data "
                         f"cutoff {catalog.data_cutoff} ({built.censored} censored)", allow_retries=False)
    contract_path = write_feature_contract(data_folder.layout().reports, catalog.name, contract.to_json())
    band = positive_band(target.name, catalog.positive_share_bands, catalog.origin == "dataset_spec")
    band = (config.positive_share_low or band[0], config.positive_share_high or band[1])
    gates = training_table_gates(table, target.name, built.positive_share, band, contract_violations(table, contract),
                                 len(contract.features), contract.version, catalog.origin != "dataset_spec",
                                 as_domain(config, QualityThresholds))
    yield dg.Output({"training_table": table, "training_folds": built.folds}, metadata={
        "dagster/row_count": table.height,
        "target": target.name,
        "positive_share": built.positive_share,
        "positives": int(table[LABEL].sum()),
        "censored_contacts": built.censored,
        "window": f"contacts of the {config.window_days} days before the cutoff" if config.window_days
        else "all history",
        "rows_by_split": dg.MetadataValue.json(dict(table.group_by("split").len().iter_rows())),
        "folds": dg.MetadataValue.json(fold_summary(built.folds, table)),
        "feature_contract": dg.MetadataValue.path(str(contract_path)),
        "feature_contract_version": contract.version,
        "preview": preview(table),
    })
    for gate in gates:
        yield gate_check(gate, partition=target.name)


class SelectionConfig(dg.Config):
    """Thresholds of feature selection and of the statistical flags (defaults: `SelectionThresholds`)."""

    min_information_value: float = _SELECTION.min_information_value
    max_correlation: float = _SELECTION.max_correlation
    max_vif: float = _SELECTION.max_vif
    max_psi: float = _SELECTION.max_psi
    iv_bins: int = _SELECTION.iv_bins
    iv_spike_share: float = _SELECTION.iv_spike_share
    max_selection_loss: float = _SELECTION.max_selection_loss
    drop_cost_features: int = _SELECTION.drop_cost_features
    drop_cost_max_rows: int = _SELECTION.drop_cost_max_rows


# The per-target audits of a training table share their place in the graph.
_AUDIT_OF_TABLE: dict[str, Any] = {"partitions_def": TARGET_PARTITIONS, "deps": ["training_table"], "group_name": GROUP,
                   "kinds": {"statsmodels", "polars"}, "owners": OWNERS, "code_version": "1"}


@dg.asset(**_AUDIT_OF_TABLE, check_specs=check_specs("statistical_validation", STAT_CHECKS, blocking=False,
                                                             partitions_def=TARGET_PARTITIONS))
def statistical_validation(context: dg.AssetExecutionContext, config: SelectionConfig,
                           warehouse: WarehouseResource, data_folder: DataFolderResource) -> dg.MaterializeResult:
    """Collinearity (correlation, VIF), stability across quarters (PSI) and information value of each feature."""
    target = context.partition_key
    wh = warehouse.open()
    table, kinds = target_table(wh, target)
    controls = SelectionControls.from_dict(load_catalog(wh).feature_selection)
    audit = audit_features(table, kinds, target, as_domain(config, SelectionThresholds), controls.sentinel_values)
    path = write_statistical_report(data_folder.layout().reports, target, audit.report)
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.path(str(path)),
            "report_preview": dg.MetadataValue.md(audit.report),
            "features": len(kinds),
            "information_value": dg.MetadataValue.json({k: round(v, 4) for k, v in audit.information_value.items()}),
            "max_psi": dg.MetadataValue.json({k: round(v, 4) for k, v in audit.max_psi.items()}),
        },
        check_results=[gate_check(g, partition=target, severity=dg.AssetCheckSeverity.WARN) for g in audit.gates],
    )


@dg.asset(**_AUDIT_OF_TABLE, io_manager_key=TABLE_IO, metadata=BY_TARGET)
def feature_selection(context: dg.AssetExecutionContext, config: SelectionConfig, warehouse: WarehouseResource,
                      data_folder: DataFolderResource) -> dg.Output[pl.DataFrame]:
    """Features kept for training (IV, correlation and VIF filters fitted on training rows only) and why others left."""
    target = context.partition_key
    wh = warehouse.open()
    table, kinds = target_table(wh, target)
    controls = SelectionControls.from_dict(load_catalog(wh).feature_selection)
    thresholds = as_domain(config, SelectionThresholds)
    train = table.filter(pl.col("split") == TRAIN)  # never the gap or holdout rows
    folds = wh.read("training_folds", "target = ?", [target])
    results = select_per_fold(train, folds, kinds, LABEL, thresholds, controls)
    check_figures: dict[str, Any] = {}
    if not controls.enabled:
        verdict = f"selection off (the dataset spec): all {len(kinds)} features kept"
    else:
        check = check_selection(train, folds, results, kinds, thresholds)
        results, verdict = apply_check(results, check, kinds), check.verdict
        check_figures = {"selected_cv_pr_auc": check.selected_cv_pr_auc,
                         "all_features_cv_pr_auc": check.all_features_cv_pr_auc, "kept_all": check.kept_all,
                         "drop_cost_cv_pr_auc": dg.MetadataValue.json(
                             {f: round(v, 5) for f, v in check.drop_costs.items()})}
    context.log.info(f"feature selection of {target}: {verdict}")
    result = results[FINAL_FOLD]
    path = write_feature_order(data_folder.layout().reports, target, {
        "features": result.selected, "kinds": {f: kinds[f] for f in result.selected}, "removed": result.removed,
        "verdict": verdict, "kept_by_spec": list(controls.keep)})
    return dg.Output(selection_table(results, kinds), metadata={
        "verdict": verdict,
        **check_figures,
        "selected_features": len(result.selected),
        "removed_features": len(result.removed),
        "feature_order": dg.MetadataValue.json(result.selected),
        "removed": counts_table(result.removed, "feature", "reason"),
        "information_value": dg.MetadataValue.json(
            {k: round(v, 4) for k, v in result.information_values.items()}),
        "feature_order_file": dg.MetadataValue.path(str(path)),
        "training_rows": train.height,
        "folds_selected": len(results) - 1,
        "kept_in_every_fold": dg.MetadataValue.json(
            [f for f in result.selected if all(f in r.selected for r in results.values())]),
    })
