"""`wholesaler demo`: the whole pipeline on a synthetic market, step by step, each step a Dagster run.

Generate, ingest, snapshot, train, gate, register and score, printing each run's checks as it goes,
then a data report and what to open next. The exit code says whether the demo did its job:
0 scored, 1 a run failed, 3 (`DEMO_NOT_SCORED`) the pipeline ran but no scorer was promoted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from wholesaler_assets.cli_train import dagster_instance, evaluation_table, model_verdict
from wholesaler_assets.domain.contracts.targets import TARGET_NAMES
from wholesaler_assets.domain.synthetic.config import MarketConfig

QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}  # the demo prints its own summary

DEMO_NOT_SCORED = 3  # exit code: the pipeline ran, but no scorer was promoted, so nothing was scored


def run_demo(args: argparse.Namespace) -> int:
    """`wholesaler demo`: the seven steps, each a Dagster run, then the report and what to open next."""
    from wholesaler_assets.definitions import build_definitions, embedded_resources
    from wholesaler_assets.io.landing import DataLayout, ensure_synthetic_market

    started = time.perf_counter()
    layout = DataLayout(Path(args.data_root))
    layout.ensure()
    market = MarketConfig(n_properties=args.properties, seed=args.seed)
    _step(1, f"synthetic market of {market.n_properties:,} properties into {layout.landing}/")
    wrote = ensure_synthetic_market(layout, market)
    print(f"      {'written' if wrote else 'already there (same seed and size): kept'}")

    defs = build_definitions(embedded_resources(args.data_root))
    instance = dagster_instance(layout.root)  # DAGSTER_HOME, else <data root>/dagster_home
    _step(2, "ingest_job: validate landing files, load raw tables, build lead tables")
    result = defs.resolve_job_def("ingest_job").execute_in_process(instance=instance, run_config=QUIET_RUN,
                                                                    raise_on_error=False)
    _report_run(result)
    if not result.success:
        return 1

    if not _snapshot_history(defs, instance, market.start_date, market.end_date, args.snapshot_every_days, started):
        return 1

    _step(4, "training data: contact_features, then per target training_table, statistics, feature selection")
    features = defs.resolve_job_def("features_job").execute_in_process(instance=instance, run_config=QUIET_RUN,
                                                                       raise_on_error=False)
    if not features.success:
        _report_run(features)
        return 1
    training = defs.resolve_job_def("training_data_job")
    for target in TARGET_NAMES:
        run = training.execute_in_process(instance=instance, partition_key=target, run_config=QUIET_RUN,
                                          raise_on_error=False)
        print(f"      {target}:")
        _report_run(run)
        if not run.success:
            return 1

    _step(5, "models: baseline and XGBoost, calibration, gated evaluation (MLflow), ARV, registration")
    models = defs.resolve_job_def("model_training_job")
    for target in TARGET_NAMES:
        run = models.execute_in_process(instance=instance, partition_key=target, run_config=QUIET_RUN,
                                        raise_on_error=False)
        evaluation = run.asset_materializations_for_node("model_evaluation")
        print(f"      {target}: {model_verdict(evaluation[0].metadata) if evaluation else _failure_reason(run)}")
        _report_run(run, verdict_printed=bool(evaluation))
    valuation = defs.resolve_job_def("valuation_job").execute_in_process(instance=instance, run_config=QUIET_RUN,
                                                                         raise_on_error=False)
    arv = valuation.asset_materializations_for_node("arv_model")
    if arv:
        print(f"      arv_model: holdout MdAPE {arv[0].metadata['holdout_mdape'].value:.1%}, "
              f"MAE {arv[0].metadata['mae_improvement'].value:.0%} better than the ZIP median")
    _report_run(valuation)

    registration = defs.resolve_job_def("registration_job").execute_in_process(
        instance=instance, run_config=QUIET_RUN, raise_on_error=False)
    registered = registration.asset_materializations_for_node("registered_scorer")
    if registered:
        meta = registered[0].metadata
        print(f"      lead_scorer v{meta['version'].value}: {meta['promotion'].value}")
    else:
        print(f"      no scorer registered: the gates decided no model is good enough yet "
              f"({_failure_reason(registration)})")

    _step(6, f"scoring_job for {market.end_date}: scored leads, lead_scores upsert, priority queue")
    scoring = defs.resolve_job_def("scoring_job").execute_in_process(
        instance=instance, partition_key=market.end_date.isoformat(), run_config=QUIET_RUN, raise_on_error=False)
    scored = scoring.asset_materializations_for_node("scored_leads")
    if scored:
        meta = scored[0].metadata
        tiers = ", ".join(f"{t} {meta[f'tier_{t}_leads'].value:,}" for t in "ABCD")
        print(f"      {meta['scored_leads'].value:,} active leads scored by {meta['model_version'].value}: {tiers}; "
              f"{meta['share_passing_buy_box'].value:.0%} pass the buy-box")
        queue = scoring.asset_materializations_for_node("priority_queue")
        if queue:
            print(f"      queue: {queue[0].metadata['csv'].value}")
    else:
        print(f"      not scored: {_failure_reason(scoring)}")
    _report_run(scoring)

    _step(7, "summary")
    report = _write_demo_report(defs, layout)
    print(report)
    print(_next_steps(layout, time.perf_counter() - started))
    if not scored:  # the report and the runs are there to read, but the demo did not do its job
        print(f"demo incomplete: nothing was scored ({_failure_reason(scoring)})", file=sys.stderr)
        return DEMO_NOT_SCORED
    return 0


def _snapshot_history(defs, instance, start: dt.date, end: dt.date, every_days: int, started: float) -> bool:
    """One run per date every `every_days` back from the cutoff; with 1, every day from `start` to `end` in one
    run (a single-run backfill of the range: no per-run overhead, but 7x the days to build and store)."""
    from wholesaler_assets.partitions import range_tags

    snapshot_job = defs.resolve_job_def("snapshot_job")
    if every_days <= 1:
        _step(3, f"property_snapshots: one backfill run of every day, {start} to {end} ({(end - start).days + 1} "
                 "daily partitions)")
        run = snapshot_job.execute_in_process(instance=instance, tags=range_tags(start, end), run_config=QUIET_RUN,
                                              raise_on_error=False)
        _report_run(run)
        print(f"      {time.perf_counter() - started:.0f} s elapsed")
        return run.success
    dates = _snapshot_dates(start, end, every_days)
    _step(3, f"property_snapshots: {len(dates)} point-in-time partitions, one run each, {dates[0]} to {dates[-1]}")
    for i, day in enumerate(dates, 1):
        run = snapshot_job.execute_in_process(instance=instance, partition_key=day.isoformat(),
                                              run_config=QUIET_RUN, raise_on_error=False)
        if not run.success:
            _report_run(run)
            return False
        if i % 10 == 0 or i == len(dates):
            print(f"      {i}/{len(dates)} snapshots done ({time.perf_counter() - started:.0f} s elapsed)")
    return True


def _snapshot_dates(start: dt.date, end: dt.date, every_days: int) -> list[dt.date]:
    """Every N days back from the cutoff, plus the first day so the earliest contacts find a snapshot."""
    dates = {end - dt.timedelta(days=every_days * k) for k in range((end - start).days // every_days + 1)}
    return sorted({start, *(d for d in dates if d >= start)})


def _step(number: int, text: str) -> None:
    print(f"[{number}/7] {text}", flush=True)


def _failure_reason(result) -> str:
    """The first line of the first failed step's error, without the exception's class name."""
    failure = next((e for e in result.all_events if e.is_step_failure), None)
    if failure is None:
        return "unknown"
    line = failure.event_specific_data.error.message.splitlines()[0]
    return line.removeprefix("dagster._core.definitions.events.Failure: ")


# The warnings every demo run shows, and why they are no fault (the demo says so beside each).
EXPECTED_DEMO_WARNINGS = {
    "no_high_vif": "prior_contacts is the sum of the prior_<channel> counts; feature_selection drops the redundant",
    "no_highly_correlated_pairs": "tax_years_delinquent and tax_owed_share move together; feature_selection keeps one",
    "no_unstable_features": "outreach history and distress counts grow over the market's two years",
}


def _report_run(result, verdict_printed: bool = False) -> None:
    for evaluation in result.get_asset_check_evaluations():
        if verdict_printed and evaluation.asset_key.to_user_string() == "model_evaluation":
            continue  # its failed gates are in the verdict already
        if not evaluation.passed:
            verdict = "warning" if evaluation.severity.value == "WARN" else "FAILED"
            if "planted on purpose" in (evaluation.description or ""):
                verdict = "warning (expected: planted on purpose)"
            elif evaluation.check_name in EXPECTED_DEMO_WARNINGS and verdict == "warning":
                verdict = f"warning (expected on the demo market: {EXPECTED_DEMO_WARNINGS[evaluation.check_name]})"
            print(f"      check {evaluation.asset_key.to_user_string()}.{evaluation.check_name} {verdict}: "
                  f"{evaluation.description}")
    status = "succeeded" if result.success else "FAILED (see the run in the Dagster UI)"
    print(f"      run {result.run_id[:8]} {status}")


def _write_demo_report(defs, layout) -> str:
    warehouse = defs.resources["warehouse"].open()
    manifest = warehouse.read("ingest_manifest")
    lines = ["# Demo data report", "", "| table | rows |", "|---|---|"]
    for table in ("raw_properties", "raw_distress_events", "raw_contacts", "raw_outcomes", "raw_sales",
                  "lead_contacts", "lead_outcomes", "comparable_sales", "property_snapshots", "contact_features"):
        lines.append(f"| {table} | {warehouse.row_count(table):,} |")
    if warehouse.table_exists("training_table"):
        shares = warehouse.query("select target, count(*) as n, avg(label) as positive_share, "
                                 "sum(case when split = 'holdout' then 1 else 0 end) as holdout "
                                 "from training_table group by target order by target")
        selected = warehouse.query("select target, sum(case when selected then 1 else 0 end) as kept "
                                   "from feature_selection where fold = 0 group by target")
        kept = dict(zip(selected["target"], selected["kept"], strict=True))
        lines += ["", "| training table | rows | positive share | holdout rows | features kept |",
                  "|---|---|---|---|---|"]
        for r in shares.iter_rows(named=True):
            lines.append(f"| {r['target']} | {r['n']:,} | {r['positive_share']:.2%} | {r['holdout']:,} | "
                         f"{kept.get(r['target'], 0)} |")
    lines += ["", *evaluation_table(layout.root / "models")]
    lines += ["", "| source | file | status | rows loaded | rows quarantined | reason |", "|---|---|---|---|---|---|"]
    for r in manifest.sort("source", "file_name").iter_rows(named=True):
        lines.append(f"| {r['source']} | {r['file_name']} | {r['status']} | {r['rows_loaded']:,} | "
                     f"{r['rows_quarantined']:,} | {r['reason'] or ''} |")
    text = "\n".join(lines) + "\n"
    layout.reports.mkdir(parents=True, exist_ok=True)
    (layout.reports / "demo_data_report.md").write_text(text)
    return text


def _next_steps(layout, seconds: float) -> str:
    return f"""
Demo finished in {seconds:.0f} s. Open next:
  Dagster UI     make dev   ->  http://127.0.0.1:3000  (assets, checks and the runs above)
  MLflow UI      .venv/bin/mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db -p 5000
                 ->  http://127.0.0.1:5000/#/experiments/1?workflowType=machine_learning  (training runs;
                 the UI's top-left switch: Model training, not GenAI)
  Reports        {layout.reports}/  (demo_data_report.md, statistical_validation_<target>.md,
                 models/<target>/, profitability/<date>/ for every tier-A lead)
  Queue          {layout.root / 'exports'}/priority_queue_<date>.csv  (the outreach list, best first)
  Serve          PATH=$PWD/.venv/bin:$PATH MLFLOW_TRACKING_URI=sqlite:///$PWD/mlruns/mlflow.db \\
                   mlflow models serve -m models:/lead_scorer@champion --env-manager local -p 5001
  Warehouse      {layout.root / 'warehouse.duckdb'}
  Quarantine     {layout.quarantine}/  (rejected files with .reason.json, bad rows as CSV)
  Ground truth   {layout.ground_truth / 'contact_probabilities.parquet'}, renovated_values.parquet
"""
