"""The challenger in shadow: it scores the champion's leads and contacts each day, and is promoted once it
has earned it (`domain/retraining/shadow.py`). The endpoint serves the champion only."""

import datetime as dt

import dagster as dg
import polars as pl
from mlflow import MlflowClient

from wholesaler_assets.assets.metadata import OWNERS, STORAGE_RETRY, as_domain, parameter_default, preview
from wholesaler_assets.domain.features.warehouse_records import records_as_of
from wholesaler_assets.domain.monitoring.daily import scored_contacts, scored_targets
from wholesaler_assets.domain.monitoring.labels import end_of
from wholesaler_assets.domain.retraining.shadow import ShadowPolicy, compare_scores, judge_challenger
from wholesaler_assets.domain.scoring.batch import score_batch
from wholesaler_assets.io.inputs import scored_day
from wholesaler_assets.io.registry import CHALLENGER, CHAMPION, SHADOW_REFUSED_TAG, alias_version, promote
from wholesaler_assets.io.scoring_inputs import active_records, latest_snapshot, load_scorer
from wholesaler_assets.io.shadow_store import record_shadow_day, shadow_evidence
from wholesaler_assets.partitions import DAILY_PARTITIONS
from wholesaler_assets.resources import MlflowResource, WarehouseResource
from wholesaler_assets.run_tags import REPAIR_TAG

FIGURES = ("rank_correlation", "top_decile_overlap", "tier_a_overlap", "score_psi")
_POLICY = ShadowPolicy()


class ShadowConfig(dg.Config):
    """How long a challenger shadows and how much worse its realized PR-AUC may be (defaults: the seeds')."""

    min_shadow_days: int = _POLICY.min_shadow_days
    pr_auc_tolerance: float = _POLICY.pr_auc_tolerance
    ece_tolerance: float = _POLICY.ece_tolerance
    min_rank_correlation: float = _POLICY.min_rank_correlation  # below it on any day: an alarm, never promoted
    max_score_psi: float = _POLICY.max_score_psi
    max_snapshot_age_days: int = 7
    next_channel: str = parameter_default(records_as_of, "next_channel")  # as scored_leads scores
    include_uncontacted_distressed: bool = parameter_default(records_as_of, "include_uncontacted_distressed")


def _in_shadow(client: MlflowClient, name: str) -> tuple[str | None, str | None, str]:
    """(challenger version in shadow or None, champion version, why none is, else its repair)."""
    challenger, champion = alias_version(client, name, CHALLENGER), alias_version(client, name, CHAMPION)
    if challenger is None or champion is None or challenger == champion:
        return None, champion, "no challenger in shadow (the challenger is the champion, or there is none)"
    tags = client.get_model_version(name, challenger).tags
    if SHADOW_REFUSED_TAG in tags:
        return None, champion, f"challenger v{challenger} was worse on the holdout: not shadowed"
    return challenger, champion, tags.get(REPAIR_TAG, "retraining")


@dg.asset(retry_policy=STORAGE_RETRY, partitions_def=DAILY_PARTITIONS, deps=["scored_leads", "realized_performance"],
          group_name="monitoring", kinds={"mlflow", "polars"}, owners=OWNERS, code_version="1")
def shadow_scores(context: dg.AssetExecutionContext, config: ShadowConfig, warehouse: WarehouseResource,
                  mlflow_tracking: MlflowResource) -> dg.MaterializeResult:
    """The challenger scored beside the champion on the day's leads and contacts; promoted once it earned it."""
    day = dt.date.fromisoformat(context.partition_key)
    mlflow_tracking.start()
    client, name = MlflowClient(), mlflow_tracking.registered_model
    challenger, champion, repair = _in_shadow(client, name)
    if challenger is None:
        return dg.MaterializeResult(metadata={"shadowing": repair, "champion": f"v{champion}"})
    wh = warehouse.open()
    scorer, _ = load_scorer(mlflow_tracking, CHALLENGER)
    records = active_records(wh, scorer, day, config.max_snapshot_age_days, config.next_channel,
                             config.include_uncontacted_distressed)
    shadowed, _ = score_batch(scorer, records, reasons=False)
    champion_scored = scored_day(wh, day)
    targets = [t for t in scored_targets(champion_scored) if f"p_{t}" in shadowed.columns]
    today = compare_scores(champion_scored, shadowed, targets, day)
    contacts = scored_contacts(scorer, wh.read("lead_contacts", "contact_time < ?", [end_of(day)]),
                               latest_snapshot(wh, day, config.max_snapshot_age_days), day)
    champion_label = champion_scored["model_version"][0] if "model_version" in champion_scored.columns \
        else f"v{champion}"
    record_shadow_day(wh, scorer.model_version, champion_label, today, contacts)
    evidence = shadow_evidence(wh, scorer.model_version)
    judged = judge_challenger(evidence.history, evidence.champion_contacts, evidence.challenger_contacts,
                              evidence.outcomes, targets, day, repair, as_domain(config, ShadowPolicy))
    verdict, realized, realized_ece = judged.verdict, judged.realized_pr_auc, judged.realized_ece
    if verdict.promote:
        promote(client, name, challenger)
        context.log.info(f"{name} v{challenger} promoted over v{champion}: {verdict.reason}")
    return dg.MaterializeResult(metadata={
        "shadowing": f"challenger v{challenger} ({repair}) beside champion v{champion}",
        "shadow_days": len({d.day for d in evidence.history}),
        "promoted": verdict.promote,
        "verdict": verdict.reason,
        **{f"{d.target}_{f}": float(getattr(d, f)) for d in today for f in FIGURES},
        "realized_pr_auc": dg.MetadataValue.json({t: {"challenger": v[0], "champion": v[1]}
                                                  for t, v in realized.items()}),
        "realized_ece": dg.MetadataValue.json({t: {"challenger": v[0], "champion": v[1]}
                                               for t, v in realized_ece.items()}),
        "today": preview(pl.DataFrame([d.__dict__ for d in today]), rows=len(today) or 1),
    })
