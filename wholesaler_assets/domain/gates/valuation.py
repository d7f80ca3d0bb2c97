"""The after-repair value model's gates on its temporal holdout (defaults from the seeds' plan)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic.dataclasses import dataclass

from wholesaler_assets.domain.gates.result import GateResult
from wholesaler_assets.domain.valuation.arv import ArvEvaluation


@dataclass(frozen=True)
class ArvThresholds:
    """How accurate ARV must be, alone and against the ZIP-median comparator."""

    max_mdape: Annotated[float, Field(gt=0)] = 0.15
    min_mae_improvement: float = 0.20


def arv_gates(evaluation: ArvEvaluation, thresholds: ArvThresholds) -> list[GateResult]:
    """mdape_within_limit and beats_zip_median_baseline, in that order."""
    t = thresholds
    return [
        GateResult(
            name="mdape_within_limit", passed=evaluation.model_mdape <= t.max_mdape,
            value=evaluation.model_mdape, threshold=t.max_mdape,
            summary=f"holdout MdAPE {evaluation.model_mdape:.1%}; must be <= {t.max_mdape:.0%}",
            details={"mdape": evaluation.model_mdape, "limit": t.max_mdape}),
        GateResult(
            name="beats_zip_median_baseline", passed=evaluation.mae_improvement >= t.min_mae_improvement,
            value=evaluation.mae_improvement, threshold=t.min_mae_improvement,
            summary=f"holdout MAE ${evaluation.model_mae:,.0f} vs ZIP-median ${evaluation.baseline_mae:,.0f}: "
                    f"{evaluation.mae_improvement:.1%} better; needs {t.min_mae_improvement:.0%}",
            details={"mae": evaluation.model_mae, "baseline_mae": evaluation.baseline_mae,
                     "improvement": evaluation.mae_improvement, "needed": t.min_mae_improvement}),
    ]
