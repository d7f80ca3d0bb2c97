"""`wholesaler replay --dataset-spec`: a user's lead file replayed by month of its contact times.

The platform trains on the contacts before `--start` (a copy of the spec with `data_cutoff` set
there, so training rows whose window reaches past it are censored), with the demo's gated jobs.
Then `lead_file_monitoring` judges every month from `--start` on: the estimate (CBPE) of the
month's contacts, the realized figures from the file's outcomes, and an Evidently drift report
against the training window. Every step is a Dagster run on the instance, so it shows in the UI.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from wholesaler_assets.replay import QUIET_RUN, ReplayFailed, failure_of, register, run_job, train_targets

DEFAULT_TRAIN_SHARE = 0.6  # without --start, training takes the months holding the first 60% of contacts


def default_start(contact_times: pl.Series, train_share: float = DEFAULT_TRAIN_SHARE) -> dt.date:
    """The first day of the month after the one where `train_share` of the contacts have been made."""
    at = contact_times.sort()[min(int(contact_times.len() * train_share), contact_times.len() - 1)]
    return (at.replace(day=1) + dt.timedelta(days=32)).replace(day=1).date()


def replay_lead_file(spec_path: Path, start: dt.date | None, data_root: Path, mlruns: Path, say=print,
                     model_config: dict[str, Any] | None = None) -> int:
    """Train before `start`, then judge each month after it; 0 when the months were judged, 1 otherwise."""
    import dagster as dg

    from wholesaler_assets.definitions import build_definitions, embedded_resources
    from wholesaler_assets.domain.contracts.dataset_spec import DatasetSpecError
    from wholesaler_assets.domain.ingestion.reading import FileRejected
    from wholesaler_assets.io.dataset_spec_files import load_dataset_spec, spec_with_cutoff, validate_lead_file

    try:
        spec = load_dataset_spec(spec_path)
        if start is None:
            verdict, _ = validate_lead_file(spec, dt.datetime.now(dt.UTC))
            start = default_start(verdict.good_rows[spec.contact_time])
        cutoff = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
        derived = spec_with_cutoff(spec_path, cutoff, data_root)
    except (DatasetSpecError, FileRejected) as error:
        say(f"replay stopped: {error}")
        return 1
    say(f"{spec.name}: training on contacts before {start}, then each month from {start} ({derived})")
    defs = build_definitions(embedded_resources(str(data_root), str(derived), mlruns=str(mlruns)))
    instance = dg.DagsterInstance.get()
    try:
        tables = run_job(defs, instance, "lead_file_job")
        if not tables.success:
            raise ReplayFailed(f"lead_file_job: {failure_of(tables)}")
        targets = tables.asset_materializations_for_node("lead_tables")[0].metadata["targets"].value
        register(defs, instance, train_targets(defs, instance, sorted(targets), say, model_config))
        monitoring = defs.resolve_job_def("lead_file_monitoring_job").execute_in_process(
            instance=instance, run_config=QUIET_RUN, raise_on_error=False)
        if not monitoring.success:
            raise ReplayFailed(f"lead_file_monitoring: {failure_of(monitoring)}")
    except ReplayFailed as failure:
        say(f"replay stopped: {failure}")
        return 1
    meta: dict[str, Any] = {k: v.value for k, v in monitoring.asset_materializations_for_node("lead_file_monitoring")[0]
            .metadata.items()}
    say(f"{meta['months']} month(s) judged, {meta['contacts_after_cutoff']:,} contacts after {start}: "
        f"{meta['months_outside_estimate']} month(s) outside the estimate, drifted: "
        f"{', '.join(meta['months_drifted']) or 'none'}")
    say(f"by month: table lead_file_monitoring in {data_root / 'warehouse.duckdb'}; "
        f"drift reports under {data_root / 'reports' / 'drift' / spec.name}/")
    return 0
