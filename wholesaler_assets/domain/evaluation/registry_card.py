"""What a registered scorer version says about itself in the registry: a description a person reads
(what it scores, its gates and holdout figures, the lead record it takes) and tags to search by.

MLflow keeps a version's description to 5,000 characters (a PostgreSQL column), so the card is
built to fit: the gate lines and the compact schema first, cut with a pointer to the full schema
artifact if a dataset's fields ever make it longer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from wholesaler_assets.domain.features.record_schema import RecordField

MAX_DESCRIPTION = 5_000
SCHEMA_ARTIFACT = "serving_schema.md"


def gate_summary(evaluations: Mapping[str, Mapping[str, Any]]) -> str:
    """One line: each target's winner and how many of its gates passed."""
    parts = []
    for target, evaluation in evaluations.items():
        if "carried_from" in evaluation:  # a retraining that failed this target kept the champion's model
            parts.append(f"{target}: {evaluation['winner']} kept from {evaluation['carried_from']}")
            continue
        gates = evaluation.get("gates", {}).get(evaluation["winner"], [])
        passed = sum(1 for g in gates if g["passed"])
        parts.append(f"{target}: {evaluation['winner']} {passed}/{len(gates)} gates passed")
    return "; ".join(parts)


def version_tags(evaluations: Mapping[str, Mapping[str, Any]], dataset: str, contract_version: str,
                 arv: str) -> dict[str, str]:
    """Tags to find a version by: its targets, winning model kinds, dataset, feature contract and gates."""
    return {
        "targets": ",".join(evaluations),
        "winners": json.dumps({t: e["winner"] for t, e in evaluations.items()}),
        "dataset": dataset,
        "feature_contract_hash": contract_version,
        "arv": arv,
        "gates": gate_summary(evaluations),
    }


def compact_schema(fields: Sequence[RecordField]) -> str:
    """The lead record as a short markdown table: field, type, required, allowed values or range."""
    lines = ["| field | type | required | allowed |", "|---|---|---|---|"]
    for f in fields:
        allowed = ", ".join(f.allowed) if f.allowed else ("YYYY-MM-DD" if f.kind == "date" else "")
        if f.kind in ("number", "integer"):
            low = "> 0" if f.strictly_positive else (f">= {f.min_value:g}" if f.min_value is not None else "")
            high = f"<= {f.max_value:g}" if f.max_value is not None else ""
            allowed = " and ".join(p for p in (low, high) if p)
        lines.append(f"| {f.name} | {f.kind} | {'yes' if f.required else ''} | {allowed} |")
    return "\n".join(lines)


def version_description(label: str, evaluations: Mapping[str, Mapping[str, Any]],
                        holdout_pr_auc: Mapping[str, float], promotion: str, dataset: str, contract_version: str,
                        arv: str, fields: Sequence[RecordField]) -> str:
    """The version's description: what it does, its gates and holdout metrics, and its input."""
    rows = ["| target | model | holdout PR-AUC | gates | why |", "|---|---|---|---|---|"]
    for target, evaluation in evaluations.items():
        gates = evaluation.get("gates", {}).get(evaluation["winner"], [])
        failed = [g["name"] for g in gates if not g["passed"]]
        verdict = f"{len(gates) - len(failed)}/{len(gates)} passed" + (f" (failed: {', '.join(failed)})"
                                                                       if failed else "")
        if "carried_from" in evaluation:
            verdict = f"kept from {evaluation['carried_from']} (its gates passed there)"
        figure = holdout_pr_auc.get(target)
        rows.append(f"| {target} | {evaluation['winner']} | {'' if figure is None else f'{figure:.3f}'} | "
                    f"{verdict} | {_cell(evaluation.get('explanation', ''), 160)} |")
    head = "\n".join([
        f"**{label}**: scores raw lead records (the schema below) into calibrated probabilities, ARV, "
        "buy-box profit, expected value, priority, tier and reasons.",
        "",
        f"**Promotion:** {promotion}. **Dataset:** {dataset}. **Feature contract:** {contract_version}. "
        f"**ARV:** {arv}.",
        "",
        *rows,
        "",
        "**Lead record** (the endpoint's and `wholesaler score`'s input; unknown fields are refused, so "
        "the signature lists outputs only: an MLflow input schema would drop them silently). Full "
        f"schema with descriptions: the run's `{SCHEMA_ARTIFACT}` artifact.",
        "", "",
    ])
    text = head + compact_schema(fields)
    if len(text) > MAX_DESCRIPTION:
        cut = f"\n\n_(cut to fit the registry: see {SCHEMA_ARTIFACT})_"
        text = text[:MAX_DESCRIPTION - len(cut)].rsplit("\n", 1)[0] + cut
    return text


def _cell(text: str, limit: int) -> str:
    text = " ".join(str(text).split()).replace("|", "/")
    return text if len(text) <= limit else text[:limit - 1] + "…"
