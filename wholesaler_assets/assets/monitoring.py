"""Monitoring assets: realized and estimated performance of the daily scores, and the Evidently drift report."""


import datetime as dt
import json

import dagster as dg
import polars as pl
import polars.selectors as cs

from wholesaler_assets.assets.metadata import (
    OWNERS,
    STORAGE_RETRY,
    check_spec,
    gate_check,
    inline_png,
    parameter_default,
    preview,
)
from wholesaler_assets.domain.features.warehouse_records import records_as_of
from wholesaler_assets.domain.gates.result import GateResult
from wholesaler_assets.domain.monitoring.daily import (
    KEY_FEATURES,
    LONG_POOL_DAYS,
    POOL_DAYS,
    Z_LIMIT,
    CalibrationCheck,
    calibration_gate,
    days_to_judge,
    drift_columns,
    drift_frame,
    estimate_day,
    judge_day,
    pool_days_of,
    pools_checks,
    scored_contacts,
    scored_targets,
    window_performance,
)
from wholesaler_assets.domain.monitoring.drift import DRIFT_SHARE
from wholesaler_assets.domain.monitoring.drift import drift_report as evidently_drift
from wholesaler_assets.domain.monitoring.estimation import (
    N_DRAWS,
    estimate_gaps,
    estimated_table,
    performance_over_time,
)
from wholesaler_assets.domain.monitoring.labels import end_of
from wholesaler_assets.domain.monitoring.performance import ALL, SEGMENT, realized_table
from wholesaler_assets.domain.monitoring.psi import psi
from wholesaler_assets.domain.monitoring.segment_shift import segment_shifts, shifted_segments, value_shift_gate
from wholesaler_assets.io.drift_reports import load_or_keep_reference, save_drift_report, save_performance_plot
from wholesaler_assets.io.inputs import (
    CONTACT_SCORES_TABLE,
    DRIFT_TABLE,
    ESTIMATED_TABLE,
    REALIZED_TABLE,
    SCORED_TABLE,
    WINDOW_TABLE,
    scored_day,
)
from wholesaler_assets.io.registry import CHAMPION
from wholesaler_assets.io.scoring_inputs import active_records, latest_snapshot, load_scorer
from wholesaler_assets.partitions import DAILY_PARTITIONS
from wholesaler_assets.resources import DataFolderResource, MlflowResource, WarehouseResource

GROUP = "monitoring"
PLOT_DAYS = 90


class PerformanceConfig(dg.Config):
    """How the estimate is drawn and how far back closed windows are looked for."""

    n_draws: int = N_DRAWS  # simulated label sets behind each interval
    max_rows: int = 20_000  # leads sampled per day for the estimate
    lookback_days: int = 120
    pool_days: int = POOL_DAYS  # closed scoring days the calibration gate pools
    long_pool_days: int = LONG_POOL_DAYS  # and its longer pool (small groups need weeks of outcomes)
    z_limit: float = Z_LIMIT  # standardized gap between observed and expected positives that warns
    model_alias: str = CHAMPION


def _calibration_preview(checks: list[CalibrationCheck]) -> dg.MetadataValue | str:
    if not checks:
        return "no closed window yet"
    return preview(pl.DataFrame([{"target": c.target, "group": c.group, "days": f"{c.first_day}..{c.last_day}",
                                  "n": c.n, "observed": c.observed, "expected": round(c.expected, 2),
                                  "z": round(c.z, 2)} for c in checks]), rows=20)


def _png_markdown(path) -> dg.MetadataValue:
    return dg.MetadataValue.md(inline_png(path.read_bytes(), "realized vs estimated"))


@dg.asset(retry_policy=STORAGE_RETRY,
          partitions_def=DAILY_PARTITIONS, deps=["scored_leads", "lead_contacts", "lead_outcomes",
                                                 "property_snapshots"], group_name=GROUP,
          kinds={"polars", "numpy"}, owners=OWNERS, code_version="2",
          check_specs=[check_spec("estimate_matches_realized", "realized_performance", blocking=False,
                                         partitions_def=DAILY_PARTITIONS,
                                         description="Warns when the realized positives of the last closed windows "
                                                     "leave what the calibrated scores promised (calibration broke).")])
def realized_performance(context: dg.AssetExecutionContext, config: PerformanceConfig, warehouse: WarehouseResource,
                         data_folder: DataFolderResource, mlflow_tracking: MlflowResource):
    """The day's contacts scored by the champion, their estimate (CBPE), and the realized figures of closed windows."""
    day = dt.date.fromisoformat(context.partition_key)
    wh = warehouse.open()
    scorer, version = load_scorer(mlflow_tracking, config.model_alias)
    today = scored_contacts(scorer, wh.read("lead_contacts", "contact_time < ?", [end_of(day)]),
                            latest_snapshot(wh, day), day)
    today = today.with_columns(pl.lit(scorer.model_version).alias("model_version"))
    targets = scored_targets(today)
    if today.height:
        wh.replace_rows(CONTACT_SCORES_TABLE, today, ("scoring_date",))
    estimated = estimated_table([e for t in targets
                                 if (e := estimate_day(today, t, day, config.max_rows, config.n_draws)) is not None])
    if estimated.height:
        wh.replace_rows(ESTIMATED_TABLE, estimated, ("target", "scoring_date"))

    judged_before = set(wh.read(REALIZED_TABLE, "segment = ?", [ALL]).select("target", "scoring_date").iter_rows()) \
        if wh.table_exists(REALIZED_TABLE) else set()
    scored_days = wh.query(f"select distinct scoring_date from {CONTACT_SCORES_TABLE}")["scoring_date"].to_list() \
        if wh.table_exists(CONTACT_SCORES_TABLE) else []
    outcomes = wh.read("lead_outcomes")
    realized, judged, checks, windows = [], [], [], []
    for target in targets:
        for past in days_to_judge(scored_days, judged_before, target, day, config.lookback_days):
            realized.append(judge_day(wh.read(CONTACT_SCORES_TABLE, "scoring_date = ?", [past]), outcomes, target,
                                      past, day))
            judged.append((target, past))
        if scored_days:
            lengths = (config.pool_days, config.long_pool_days)
            pool = wh.read(CONTACT_SCORES_TABLE, "scoring_date between ? and ?",
                           list(pool_days_of(day, target, max(lengths))))
            checks += pools_checks(pool, outcomes, target, day, lengths)
            window = window_performance(pool, outcomes, target, day, config.long_pool_days, scorer.model_version)
            windows += [window] if window is not None else []
    if windows:
        wh.replace_rows(WINDOW_TABLE, pl.DataFrame(windows), ("target", "as_of"))
    if realized:
        wh.replace_rows(REALIZED_TABLE, realized_table(realized), ("target", "scoring_date", SEGMENT))

    oldest = day - dt.timedelta(days=PLOT_DAYS)
    history = performance_over_time(
        wh.read(REALIZED_TABLE, "scoring_date >= ?", [oldest]) if wh.table_exists(REALIZED_TABLE)
        else realized_table([]), wh.read(ESTIMATED_TABLE, "scoring_date >= ?", [oldest])
        if wh.table_exists(ESTIMATED_TABLE) else estimated_table([]))
    plot = save_performance_plot(history, data_folder.layout().reports / "performance" / f"{day.isoformat()}.png") \
        if history.height else None
    gaps = estimate_gaps(history, judged)
    figures = {f"estimated_{r['target']}_{m}": r[m] for r in estimated.iter_rows(named=True)
               for m in ("base_rate", "pr_auc")}
    closed = history.join(pl.DataFrame({"target": [t for t, _ in judged], "scoring_date": [d for _, d in judged]},
                                       schema={"target": pl.String, "scoring_date": pl.Date}),
                          on=["target", "scoring_date"], how="semi")
    yield dg.Output(None, metadata={
        **figures,
        "contacts_scored": today.height,
        "model_registry_version": version,
        "windows_closed_today": len(judged),
        "gaps": len(gaps),
        **({"plot": _png_markdown(plot), "plot_path": dg.MetadataValue.path(str(plot))} if plot else {}),
        "calibration": _calibration_preview(checks),
        "judged_today": preview(closed.select("target", "scoring_date", "metric", "estimate", "lower", "upper",
                                              "realized", "outside"), rows=12),
        "estimated_today": preview(estimated, rows=max(len(targets), 1)),
        "matured_window": preview(pl.DataFrame(windows).drop("model_version", "as_of").with_columns(
            cs.float().round(4)), rows=max(len(targets), 1)) if windows else "no matured contacts yet",
        **{f"window_{w['target']}_{m}": w[m] for w in windows for m in ("pr_auc", "ece") if w[m] == w[m]},
    })
    yield gate_check(calibration_gate(checks, config.z_limit), partition=context.partition_key,
                     severity=dg.AssetCheckSeverity.WARN)


class DriftConfig(dg.Config):
    """Which model's features are compared, and how the dataset verdict is reached."""

    model_alias: str = CHAMPION
    drift_share: float = DRIFT_SHARE  # share of drifted columns that makes the dataset drift
    max_snapshot_age_days: int = 7
    next_channel: str = parameter_default(records_as_of, "next_channel")
    include_uncontacted_distressed: bool = parameter_default(records_as_of, "include_uncontacted_distressed")


def _day_over_day_psi(wh, day: dt.date, today: pl.DataFrame) -> dict[str, float]:
    previous = wh.query(f"select max(scoring_date) as d from {SCORED_TABLE} where scoring_date < ?", [day])["d"][0]
    if previous is None:
        return {}
    before = scored_day(wh, previous)
    return {t: psi(before[f"p_{t}"].drop_nulls(), today[f"p_{t}"].drop_nulls())
            for t in scored_targets(today) if f"p_{t}" in before.columns}


@dg.asset(retry_policy=STORAGE_RETRY, partitions_def=DAILY_PARTITIONS, deps=["scored_leads"], group_name=GROUP,
          kinds={"evidently", "polars"}, owners=OWNERS, code_version="1",
          check_specs=[check_spec("no_dataset_drift", "drift_report", blocking=False,
                                         partitions_def=DAILY_PARTITIONS,
                                         description="Warns when the share of drifted columns reaches the limit "
                                                     "(the day's leads no longer look like the champion's first)."),
                       check_spec("no_value_shift", "drift_report", blocking=False,
                                         partitions_def=DAILY_PARTITIONS,
                                         description="Warns when a metro's leads changed value by more than 5% "
                                                     "since the champion's first day (a local price shock).")])
def drift_report(context: dg.AssetExecutionContext, config: DriftConfig, warehouse: WarehouseResource,
                 mlflow_tracking: MlflowResource, data_folder: DataFolderResource):
    """Evidently data and prediction drift of the day's scored leads against the champion's first scored day."""
    day = dt.date.fromisoformat(context.partition_key)
    wh = warehouse.open()
    scorer, version = load_scorer(mlflow_tracking, config.model_alias)
    records = active_records(wh, scorer, day, config.max_snapshot_age_days, config.next_channel,
                             config.include_uncontacted_distressed)
    today = scored_day(wh, day)
    current = drift_frame(scorer.features(records), today)
    reference = load_or_keep_reference(data_folder.layout().reports / "drift" / "reference", scorer.model_version,
                                       current.with_columns(pl.lit(day).alias("reference_date")))
    reference_date = reference["reference_date"][0]
    kinds = {f: scorer.value_model.space.kinds[f] for f in scorer.value_model.space.features}
    numerical, categorical, probabilities = drift_columns(current, kinds)
    summary = evidently_drift(reference.select(current.columns), current, numerical, categorical, probabilities,
                           drift_share=config.drift_share)
    files = save_drift_report(summary, data_folder.layout().reports / "drift" / day.isoformat())
    shifts = segment_shifts(reference, current)
    day_psi = _day_over_day_psi(wh, day, today)
    key_psi = {c: summary.columns[c].psi for c in KEY_FEATURES if c in summary.columns}
    drifted = sorted(c for c, col in summary.columns.items() if col.drifted)
    psis = {**key_psi, **{f"p_{t}": summary.columns[f"p_{t}"].psi for t in scored_targets(today)},
            **{f"day_over_day_p_{t}": v for t, v in day_psi.items()}}
    wh.replace_rows(DRIFT_TABLE, pl.DataFrame({
        "report_date": [day], "model_version": [scorer.model_version], "reference_date": [reference_date],
        "drifted_share": [summary.drifted_share], "dataset_drift": [summary.dataset_drift],
        "drifted_columns": [",".join(drifted)], "psi": [json.dumps(psis, sort_keys=True)],
        "value_shift": [json.dumps({s.segment: round(s.median_change, 4) for s in shifted_segments(shifts)},
                                   sort_keys=True)]}), ("report_date",))
    yield dg.Output(None, metadata={
        "drifted_share": summary.drifted_share,
        "drifted_columns": dg.MetadataValue.json(drifted),
        "dataset_drift": summary.dataset_drift,
        "reference_date": str(reference_date),
        "model_registry_version": version,
        **{f"psi_{c}": v for c, v in psis.items()},
        "report_html": dg.MetadataValue.path(str(files["html"])),
        "report_json": dg.MetadataValue.path(str(files["json"])),
        "value_change_by_metro": preview(pl.DataFrame([s.__dict__ for s in shifts]), rows=12)
        if shifts else "no metro seen on both days",
        "columns": preview(pl.DataFrame([{"column": c.column, "kind": c.kind, "score": c.score,
                                          "threshold": c.threshold, "drifted": c.drifted, "psi": c.psi}
                                         for c in summary.columns.values()]).sort("score", descending=True),
                           rows=12),
    })
    share = summary.drifted_share
    yield gate_check(GateResult(
        name="no_dataset_drift", passed=not summary.dataset_drift, value=share, threshold=config.drift_share,
        summary=(f"{share:.0%} of columns drifted (limit {config.drift_share:.0%})"
                 + (f": {', '.join(drifted[:8])}" if drifted else "")),
        details={"drifted_columns": drifted}), partition=context.partition_key, severity=dg.AssetCheckSeverity.WARN)
    yield gate_check(value_shift_gate(shifts), partition=context.partition_key, severity=dg.AssetCheckSeverity.WARN)


MONITORING_ASSETS = [realized_performance, drift_report]
