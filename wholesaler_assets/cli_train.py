"""`wholesaler train --dataset-spec my.yaml`: learn from a user's own lead file, with no synthetic market.

Each step is a Dagster run on an instance under the data root (unless DAGSTER_HOME says otherwise),
tracked in an MLflow store under the data root (unless `--tracking-uri` says otherwise):

1. `lead_file_job`: the file validated into the lead tables (bad rows quarantined), then its features.
2. For each target the file has (and only those): `training_data_job`, then `model_training_job`
   (baseline and XGBoost, calibration, the gated holdout evaluation); its verdict is printed once.
3. `registration_job` for the targets that passed their gates (champion when it earned it).
4. `lead_file_scoring_job`: the file's open leads at its cutoff, scored, ranked and exported.

The exit code says whether the command did its job: 0 scored, 1 the spec or file cannot be used,
3 no model passed its gates or was promoted, 4 nothing was scored.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wholesaler_assets.replay import GATED_MODEL_STEPS, failure_of, run_job

UNUSABLE, NOT_PROMOTED, NOT_SCORED = 1, 3, 4
FIGURE_COLUMNS = (("holdout_pr_auc", "PR-AUC", "{:.4f}"), ("holdout_roc_auc", "ROC-AUC", "{:.4f}"),
                  ("holdout_top_decile_lift", "top-decile lift", "{:.2f}"), ("holdout_brier", "Brier", "{:.4f}"),
                  ("holdout_ece", "ECE", "{:.4f}"), ("holdout_mean_predicted", "mean predicted", "{:.2%}"),
                  ("holdout_actual_rate", "actual rate", "{:.2%}"))


def lead_file_paths(data_root: Path, tracking_uri: str | None) -> tuple[Path, str, str]:
    """The Dagster home, MLflow tracking URI and artifact location a lead-file run uses."""
    home = Path(os.environ.get("DAGSTER_HOME") or data_root / "dagster_home").resolve()
    store = (data_root / "mlruns").resolve()
    return home, tracking_uri or f"sqlite:///{store}/mlflow.db", str(store / "artifacts")


def dagster_instance(data_root: Path):
    """The Dagster instance of DAGSTER_HOME, else of <data root>/dagster_home (created): a command run
    outside the Makefile needs no DAGSTER_HOME."""
    import dagster as dg

    home = lead_file_paths(data_root, None)[0]
    home.mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.from_config(str(home))


def lead_file_definitions(data_root: Path, spec_path: Path, tracking_uri: str | None):
    """The platform's definitions bound to the data root, the spec and the MLflow store."""
    from wholesaler_assets.definitions import build_definitions, embedded_resources
    from wholesaler_assets.resources import MlflowResource

    _, uri, artifacts = lead_file_paths(data_root, tracking_uri)
    resources = embedded_resources(str(data_root), str(spec_path), mlruns=str(data_root / "mlruns"))
    resources["mlflow_tracking"] = MlflowResource(tracking_uri=uri, artifact_location=artifacts)
    return build_definitions(resources)


def train_lead_file(spec_path: Path, data_root: Path, tracking_uri: str | None = None, say=print,
                    model_config: dict[str, Any] | None = None) -> int:
    """Train on the file's targets, register what passed, score the open leads; the exit code (module doc)."""
    from wholesaler_assets.domain.contracts.dataset_spec import DatasetSpecError
    from wholesaler_assets.domain.ingestion.reading import FileRejected
    from wholesaler_assets.io.dataset_spec_files import load_dataset_spec, validate_lead_file

    try:  # checked before anything is written: a spec or file that cannot be used leaves no trace
        spec = load_dataset_spec(spec_path)
        validate_lead_file(spec, dt.datetime.now(dt.UTC))
    except (DatasetSpecError, FileRejected) as error:
        say(f"train stopped: {error}")
        return UNUSABLE
    home, uri, _ = lead_file_paths(data_root, tracking_uri)
    data_root.mkdir(parents=True, exist_ok=True)
    instance = dagster_instance(data_root)
    defs = lead_file_definitions(data_root, spec_path, tracking_uri)
    say(f"{spec.name}: {spec.path} (Dagster home {home}, MLflow {uri})")

    tables = run_job(defs, instance, "lead_file_job")
    if not tables.success:
        say(f"train stopped: the lead file cannot be used: {failure_of(tables)}")
        return UNUSABLE
    targets = sorted(tables.asset_materializations_for_node("lead_tables")[0].metadata["targets"].value)
    say(f"[1/4] lead tables and features built; targets in the file: {', '.join(targets)}")

    say("[2/4] training tables and gated models, per target")
    passed = [t for t in targets if _train_target(defs, instance, t, say, model_config)]
    if not passed:
        say("train incomplete: no model passed its gates, so nothing was promoted or scored "
            "(each target's verdict is above)")
        return NOT_PROMOTED

    registration = run_job(defs, instance, "registration_job",
                           run_config={"ops": {"registered_scorer": {"config": {"targets": passed}}}})
    if not registration.success:
        say(f"train incomplete: registration failed: {failure_of(registration)}")
        return NOT_PROMOTED
    meta = registration.asset_materializations_for_node("registered_scorer")[0].metadata
    say(f"[3/4] lead_scorer v{meta['version'].value} ({', '.join(passed)}): {meta['promotion'].value}")

    scoring = run_job(defs, instance, "lead_file_scoring_job")
    if not scoring.success:
        say(f"train incomplete: nothing was scored: {failure_of(scoring)}")
        return NOT_SCORED
    scored = {k: v.value for k, v in scoring.asset_materializations_for_node("lead_file_scores")[0].metadata.items()}
    tiers = "; ".join(f"{t} {r['leads']:,} (p {r['min_probability']:.3f}-{r['max_probability']:.3f})"
                      for t, r in scored["tiers"].items())
    say(f"[4/4] {scored['scored_leads']:,} open leads scored as of {scored['as_of']} by {scored['model_version']} "
        f"(ranked by {scored['ranked_by']}): {tiers}")
    report = write_lead_file_report(data_root, spec.name, targets, scored)
    say(f"queue {scored['csv']}\nreport {report}\nMLflow UI: mlflow ui --backend-store-uri {uri}\n"
        f"Dagster UI: DAGSTER_HOME={home} dagster dev -m wholesaler_assets.definitions")
    return 0


def _train_target(defs, instance, target: str, say, model_config: dict[str, Any] | None) -> bool:
    """One target's training data and gated models; prints its verdict once. True when a model won."""
    tables = run_job(defs, instance, "training_data_job", target)
    if not tables.success:
        say(f"      {target}: training table refused: {failure_of(tables)}")
        return False
    config = {"ops": {n: {"config": model_config} for n in GATED_MODEL_STEPS}} if model_config else None
    models = run_job(defs, instance, "model_training_job", target, config)
    evaluation = models.asset_materializations_for_node("model_evaluation")
    if not evaluation:
        say(f"      {target}: not evaluated: {failure_of(models)}")
        return False
    say(f"      {target}: {model_verdict(evaluation[0].metadata)}")
    return models.success


def model_verdict(metadata) -> str:
    """The evaluation's verdict and the judged model's holdout figures, as printed once per target."""
    return f"{metadata['why'].value}\n        holdout {metadata['holdout_figures'].value}"


def evaluation_table(models_folder: Path, targets: Sequence[str] | None = None) -> list[str]:
    """Markdown rows of each target's evaluation (models/<target>/evaluation.json): winner and figures."""
    evaluations = [p for p in sorted(models_folder.glob("*/evaluation.json"))
                   if targets is None or p.parent.name in targets]
    if not evaluations:
        return []
    lines = ["| model | winner | " + " | ".join(label for _, label, _ in FIGURE_COLUMNS) + " | why |",
             "|---|---|" + "---|" * len(FIGURE_COLUMNS) + "---|"]
    for path in evaluations:
        e = json.loads(path.read_text())
        figures = [_figure(e.get(key), fmt) for key, _, fmt in FIGURE_COLUMNS]
        lines.append(f"| {e['target']} | {e['winner']} | {' | '.join(figures)} | {e['explanation']} |")
    return lines


def _figure(value: Any, fmt: str) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else fmt.format(value)


def write_lead_file_report(data_root: Path, name: str, targets: Sequence[str], scored: dict[str, Any]) -> Path:
    """reports/<name>_report.md: each target's verdict and holdout figures, and the scored leads by tier."""
    lines = [f"# Lead file {name}", "", *evaluation_table(data_root / "models", targets), "",
             f"{scored['scored_leads']:,} open leads scored as of {scored['as_of']} by {scored['model_version']} "
             f"(open rule: {scored['open_rule']}; ranked by {scored['ranked_by']}).", "",
             "| tier | leads | probability from | to |", "|---|---|---|---|"]
    lines += [f"| {t} | {r['leads']:,} | {r['min_probability']:.4f} | {r['max_probability']:.4f} |"
              for t, r in scored["tiers"].items()]
    path = data_root / "reports" / f"{name}_report.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + f"\n\nQueue: `{scored['csv']}`\n")
    return path
