"""Training data assets: point-in-time contact features, per-target training tables and their audits."""

import datetime as dt
import json

import dagster as dg
import polars as pl

from wholesaler_assets.assets.common import OWNERS, counts_table, gate_check, preview
from wholesaler_assets.domain import quality
from wholesaler_assets.domain.feature_contract import (
    FeatureContract,
    contract_violations,
    source_feature_contract,
    spec_feature_contract,
)
from wholesaler_assets.domain.features import SNAPSHOT_COLUMNS, source_contact_features, spec_contact_features
from wholesaler_assets.domain.labels import LABEL
from wholesaler_assets.domain.leads import DatasetCatalog
from wholesaler_assets.domain.selection import FINAL_FOLD, select_per_fold, selection_table
from wholesaler_assets.domain.splits import TRAIN, fold_summary
from wholesaler_assets.domain.statistics import (
    high_correlation_pairs,
    information_values,
    max_psi_by_feature,
    psi_across_quarters,
    variance_inflation_factors,
)
from wholesaler_assets.domain.targets import TARGET_NAMES, TARGETS
from wholesaler_assets.domain.training_table import build_training_table, positive_band
from wholesaler_assets.resources import DataFolderResource, WarehouseResource
from wholesaler_assets.warehouse import WarehouseBackend

GROUP = "training"
TARGET_PARTITIONS = dg.StaticPartitionsDefinition(list(TARGET_NAMES))
TABLE_CHECKS = {
    "nothing_known_after_contact": "Leakage: no feature value was effective after its contact.",
    "no_outcome_before_contact": "Leakage: no contact comes after its lead already reached the outcome.",
    "no_duplicated_leads": "One row per lead contact.",
    "positive_share_in_band": "Positive share inside the configured band (seeds: 3-6% booked calls).",
    "snapshot_match_share": "At least 95% of contacts matched a property snapshot.",
    "matches_feature_contract": "The table meets the versioned feature contract; offenders are named.",
}
STAT_CHECKS = {
    "no_highly_correlated_pairs": "No pair of features with |correlation| above 0.90 (warning).",
    "no_high_vif": "No feature with a variance inflation factor above 10 (warning).",
    "no_unstable_features": "No feature with PSI across quarters above 0.25 (warning).",
}


def load_catalog(warehouse: WarehouseBackend) -> DatasetCatalog:
    if not warehouse.table_exists("dataset_catalog"):
        raise dg.Failure("no dataset catalog yet: materialize lead_contacts first")
    return DatasetCatalog.from_dict(json.loads(warehouse.read("dataset_catalog")["catalog_json"][0]))


def feature_contract_of(catalog: DatasetCatalog) -> FeatureContract:
    if catalog.origin == "dataset_spec":
        return spec_feature_contract(catalog.name, catalog.feature_columns)
    return source_feature_contract()


@dg.asset(
    deps=["lead_contacts", "property_snapshots", "comparable_sales"],
    group_name=GROUP,
    kinds={"polars", "duckdb"},
    owners=OWNERS,
)
def contact_features(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Point-in-time features of every contact: latest snapshot on or before the contact, history, ZIP trend."""
    wh = warehouse.open()
    catalog = load_catalog(wh)
    contacts = wh.read("lead_contacts")
    if catalog.origin == "dataset_spec":
        features = spec_contact_features(contacts, catalog.feature_columns)
    else:
        if not wh.table_exists("property_snapshots"):
            raise dg.Failure("no property snapshots yet: materialize property_snapshots partitions covering the "
                             "contacts (e.g. `wholesaler demo` takes one every 7 days)")
        snapshots = wh.query(
            f"select {', '.join(SNAPSHOT_COLUMNS)} from property_snapshots "
            "where property_id in (select distinct property_id from lead_contacts)")
        sales = wh.read("comparable_sales") if wh.table_exists("comparable_sales") else pl.DataFrame(
            schema={"zip_code": pl.String, "sale_date": pl.Date, "price_per_sqft": pl.Float64})
        features = source_contact_features(contacts, snapshots, sales)
    wh.replace_table("contact_features", features)
    matched = float(features["snapshot_date"].is_not_null().mean()) if features.height else 0.0
    return dg.MaterializeResult(metadata={
        "dagster/row_count": features.height,
        "dataset": catalog.name,
        "snapshot_matched_share": matched,
        "features": len(feature_contract_of(catalog).features),
        "preview": preview(features),
    })


class TrainingTableConfig(dg.Config):
    """Splits and gate thresholds of the training tables; a band left unset comes from the dataset."""

    gap_days: int = 30
    holdout_share: float = 0.2
    n_folds: int = 4
    min_snapshot_match: float = 0.95
    positive_share_low: float | None = None
    positive_share_high: float | None = None


@dg.asset(
    partitions_def=TARGET_PARTITIONS,
    deps=["contact_features", "lead_outcomes"],
    group_name=GROUP,
    kinds={"polars", "duckdb"},
    owners=OWNERS,
    output_required=False,
    check_specs=[dg.AssetCheckSpec(name, asset="training_table", blocking=True, description=text)
                 for name, text in TABLE_CHECKS.items()],
)
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
        for name in TABLE_CHECKS:
            yield dg.AssetCheckResult(check_name=name, passed=True, description=f"not applicable: {reason}",
                                      metadata={"skipped": True})
        return
    contract = feature_contract_of(catalog)
    built = build_training_table(
        wh.read("contact_features"), wh.read("lead_outcomes"), target, catalog.targets[target.name],
        dt.datetime.fromisoformat(catalog.data_cutoff), contract,
        gap_days=config.gap_days, holdout_share=config.holdout_share, n_folds=config.n_folds,
        censor_provided_labels=catalog.censor_provided_labels,
    )
    table = built.table
    if table.is_empty():
        raise dg.Failure(f"no labelled contacts for {target.name}: every contact is censored by the data "
                         f"cutoff {catalog.data_cutoff} ({built.censored} censored)")
    wh.replace_partition("training_table", table.with_columns(target=pl.lit(target.name)), "target", target.name)
    wh.replace_partition("training_folds", built.folds.with_columns(target=pl.lit(target.name)), "target",
                         target.name)
    reports = data_folder.layout().reports
    reports.mkdir(parents=True, exist_ok=True)
    contract_path = reports / f"feature_contract_{catalog.name}.json"
    contract_path.write_text(contract.to_json() + "\n")

    band = positive_band(target.name, catalog.positive_share_bands, catalog.origin == "dataset_spec")
    band = (config.positive_share_low or band[0], config.positive_share_high or band[1])
    violations = contract_violations(table, contract)
    gates = {
        "nothing_known_after_contact": quality.nothing_known_after_contact(table),
        "no_outcome_before_contact": quality.no_outcome_before_contact(table),
        "no_duplicated_leads": quality.unique_keys(table, ["contact_id"]),
        "positive_share_in_band": quality.share_in_band(built.positive_share, *band, f"{target.name} positive share"),
        "snapshot_match_share": quality.matched_share(table, "snapshot_date", config.min_snapshot_match,
                                                      applicable=catalog.origin != "dataset_spec"),
        "matches_feature_contract": quality.GateResult(
            passed=not violations,
            summary=("columns break the feature contract: " + "; ".join(f"{c}: {v}" for c, v in violations.items()))
            if violations else f"all {len(contract.features)} features meet contract {contract.version}",
            details={"offending_columns": violations, "contract_version": contract.version},
        ),
    }
    splits = dict(table.group_by("split").len().iter_rows())
    yield dg.MaterializeResult(metadata={
        "dagster/row_count": table.height,
        "target": target.name,
        "positive_share": built.positive_share,
        "positives": int(table[LABEL].sum()),
        "censored_contacts": built.censored,
        "rows_by_split": dg.MetadataValue.json(splits),
        "folds": dg.MetadataValue.json(fold_summary(built.folds, table)),
        "feature_contract": dg.MetadataValue.path(str(contract_path)),
        "feature_contract_version": contract.version,
        "preview": preview(table),
    })
    for name, gate in gates.items():
        yield gate_check(name, gate)


class SelectionConfig(dg.Config):
    """Thresholds of feature selection and of the statistical flags."""

    min_information_value: float = 0.02
    max_correlation: float = 0.9
    max_vif: float = 10.0
    max_psi: float = 0.25


def _target_table(wh: WarehouseBackend, target: str) -> tuple[pl.DataFrame, dict[str, str]]:
    """One target's training table and the kinds of the contract features it holds."""
    table = wh.read("training_table", "target = ?", [target])
    kinds = {f: k for f, k in feature_contract_of(load_catalog(wh)).kinds.items() if f in table.columns}
    return table, kinds


# The per-target audits of a training table share their place in the graph.
_AUDIT_OF_TABLE = {"partitions_def": TARGET_PARTITIONS, "deps": ["training_table"], "group_name": GROUP,
                   "kinds": {"statsmodels", "polars"}, "owners": OWNERS}


@dg.asset(
    **_AUDIT_OF_TABLE,
    check_specs=[dg.AssetCheckSpec(name, asset="statistical_validation", description=text)
                 for name, text in STAT_CHECKS.items()],
)
def statistical_validation(context: dg.AssetExecutionContext, config: SelectionConfig,
                           warehouse: WarehouseResource, data_folder: DataFolderResource) -> dg.MaterializeResult:
    """Collinearity (correlation, VIF), stability across quarters (PSI) and information value of each feature."""
    wh = warehouse.open()
    table, kinds = _target_table(wh, context.partition_key)
    numeric = [f for f, k in kinds.items() if k in ("numeric", "boolean")]
    train = table.filter(pl.col("split") == TRAIN)
    iv = information_values(train, kinds, LABEL)
    pairs = high_correlation_pairs(train, numeric, config.max_correlation)
    vif = variance_inflation_factors(train, numeric)
    psi = max_psi_by_feature(psi_across_quarters(table, kinds))
    high_vif = {f: v for f, v in vif.items() if v > config.max_vif}
    unstable = {f: v for f, v in psi.items() if v > config.max_psi}
    report = _statistics_markdown(context.partition_key, iv, pairs, vif, psi, config)
    path = data_folder.layout().reports / f"statistical_validation_{context.partition_key}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report)
    warn = dg.AssetCheckSeverity.WARN
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.path(str(path)),
            "report_preview": dg.MetadataValue.md(report),
            "features": len(kinds),
            "information_value": dg.MetadataValue.json({k: round(v, 4) for k, v in iv.items()}),
            "max_psi": dg.MetadataValue.json({k: round(v, 4) for k, v in psi.items()}),
        },
        check_results=[
            gate_check("no_highly_correlated_pairs", quality.GateResult(
                not pairs, f"{len(pairs)} pair(s) above |r| {config.max_correlation}",
                {"pairs": [f"{a} ~ {b}: {r:.3f}" for a, b, r in pairs]}), severity=warn),
            gate_check("no_high_vif", quality.GateResult(
                not high_vif, f"{len(high_vif)} feature(s) with VIF above {config.max_vif}",
                {"features": {k: round(v, 2) for k, v in high_vif.items()}}), severity=warn),
            gate_check("no_unstable_features", quality.GateResult(
                not unstable, f"{len(unstable)} feature(s) with PSI across quarters above {config.max_psi}",
                {"features": {k: round(v, 4) for k, v in unstable.items()}}), severity=warn),
        ],
    )


@dg.asset(**_AUDIT_OF_TABLE)
def feature_selection(context: dg.AssetExecutionContext, config: SelectionConfig, warehouse: WarehouseResource,
                      data_folder: DataFolderResource) -> dg.MaterializeResult:
    """Features kept for training (IV, correlation and VIF filters fitted on training rows only) and why others left."""
    wh = warehouse.open()
    table, kinds = _target_table(wh, context.partition_key)
    train = table.filter(pl.col("split") == TRAIN)  # never the gap or holdout rows
    folds = wh.read("training_folds", "target = ?", [context.partition_key])
    results = select_per_fold(train, folds, kinds, LABEL, min_iv=config.min_information_value,
                              max_correlation=config.max_correlation, max_vif=config.max_vif)
    result = results[FINAL_FOLD]
    rows = selection_table(results, kinds).with_columns(target=pl.lit(context.partition_key))
    kept_everywhere = [f for f in result.selected if all(f in r.selected for r in results.values())]
    wh.replace_partition("feature_selection", rows, "target", context.partition_key)
    path = data_folder.layout().reports / f"feature_order_{context.partition_key}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"target": context.partition_key, "features": result.selected,
                                "kinds": {f: kinds[f] for f in result.selected}, "removed": result.removed},
                               indent=2) + "\n")
    return dg.MaterializeResult(metadata={
        "selected_features": len(result.selected),
        "removed_features": len(result.removed),
        "feature_order": dg.MetadataValue.json(result.selected),
        "removed": counts_table(result.removed, "feature", "reason"),
        "feature_order_file": dg.MetadataValue.path(str(path)),
        "training_rows": train.height,
        "folds_selected": len(results) - 1,
        "kept_in_every_fold": dg.MetadataValue.json(kept_everywhere),
    })


def _statistics_markdown(target: str, iv: dict[str, float], pairs: list[tuple[str, str, float]],
                         vif: dict[str, float], psi: dict[str, float], config: SelectionConfig) -> str:
    lines = [f"# Statistical validation: {target}", "",
             "Computed on the training rows (holdout excluded); PSI compares each quarter with the first.", "",
             "| feature | IV | max PSI | VIF | flags |", "|---|---|---|---|---|"]
    for feature in sorted(iv, key=lambda f: -iv[f]):
        flags = []
        if iv[feature] < config.min_information_value:
            flags.append("low IV")
        if psi.get(feature, 0.0) > config.max_psi:
            flags.append("unstable")
        if vif.get(feature, 0.0) > config.max_vif:
            flags.append("high VIF")
        vif_text = f"{vif[feature]:.2f}" if feature in vif else ""
        lines.append(f"| {feature} | {iv[feature]:.4f} | {psi.get(feature, 0.0):.4f} | {vif_text} | "
                     f"{', '.join(flags)} |")
    lines += ["", f"Pairs with |correlation| above {config.max_correlation}: "
              + (", ".join(f"{a} ~ {b} ({r:.3f})" for a, b, r in pairs) if pairs else "none")]
    return "\n".join(lines) + "\n"
