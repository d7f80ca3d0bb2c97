"""A retraining's challenger, target by target: its own retrained models, or the champion's where the
retraining failed a gate or its model ranks worse (a repair never makes a target worse)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wholesaler_assets.domain.contracts.targets import TARGET_NAMES
from wholesaler_assets.domain.scoring.scorer import TargetModel


@dataclass(frozen=True)
class ChallengerModels:
    """The models a challenger will serve (in target order), their evaluations, and what the champion serves."""

    models: list[TargetModel]
    evaluations: dict[str, dict[str, Any]]
    served_by_champion: dict[str, TargetModel]
    champion: str | None  # the champion's version, when there is one
    carried: list[str]  # targets whose model is the champion's own

    @property
    def targets(self) -> list[str]:
        return [m.target for m in self.models]


def with_champion_models(challenger: ChallengerModels, kept: list[TargetModel],
                         kept_evaluations: dict[str, dict[str, Any]]) -> ChallengerModels:
    """The challenger with the champion's own models of some targets in place of (or beside) its own."""
    by_target = {**{m.target: m for m in challenger.models}, **{m.target: m for m in kept}}
    evaluations = {**challenger.evaluations, **kept_evaluations}
    order = [t for t in TARGET_NAMES if t in by_target]
    carried = [t for t in TARGET_NAMES if t in challenger.carried or t in kept_evaluations]
    return ChallengerModels([by_target[t] for t in order], {t: evaluations[t] for t in order},
                            challenger.served_by_champion, challenger.champion, carried)
