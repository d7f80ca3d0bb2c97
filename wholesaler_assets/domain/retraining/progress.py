"""The steps of one retraining, and which comes next given the runs made so far.

A retraining is three steps, each its own run so each holds its own gates: the contact features
rebuilt from the lead tables; each target's training table, models, calibration and gated holdout
evaluation (one run per target); then registration of the scorer as challenger. Registration waits
for every target and registers those whose runs passed. A target the champion serves whose
retraining failed a gate keeps the champion's own model in the challenger (`carried`: a window too
short for a rare outcome must not block repairing the others); a failed target the champion never
served is left out. A gate-failed model is never packed, and when no target passed the champion
stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

FEATURES, TRAIN, REGISTER, RECALIBRATE = "features", "train", "register", "recalibrate"
Status = Literal["success", "failure", "running"]
Action = Literal["wait", "train", "register", "done", "stopped"]


@dataclass(frozen=True)
class StageRun:
    """One run of a retraining: its step, its target (train runs) and where it stands."""

    stage: str
    target: str | None
    status: Status


@dataclass(frozen=True)
class NextStep:
    """What the retraining does next, for which targets, and why."""

    action: Action
    targets: tuple[str, ...] = ()
    reason: str = ""
    carried: tuple[str, ...] = ()  # targets whose champion model the challenger keeps (their retraining failed)


def next_step(runs: Sequence[StageRun], targets: Sequence[str], required: Sequence[str] = (),
              carry_champion_models: bool = True) -> NextStep:
    """The next step of a retraining whose runs so far are `runs`, training `targets`; the
    challenger must answer for every `required` target (the champion's), with the champion's own
    model where the retraining failed (unless `carry_champion_models` is off: then it stops)."""
    by_stage = {stage: [r for r in runs if r.stage == stage] for stage in (FEATURES, TRAIN, REGISTER)}
    for stage, stage_runs in by_stage.items():
        running = [r for r in stage_runs if r.status == "running"]
        if running:
            return NextStep("wait", reason=f"{stage} run(s) still running: "
                                           + ", ".join(r.target or stage for r in running))
    features = by_stage[FEATURES]
    if not features:
        return NextStep("stopped", reason="no features run started this retraining")
    if not any(r.status == "success" for r in features):
        return NextStep("stopped", reason="the contact features run failed: nothing was retrained")
    if not targets:
        return NextStep("stopped", reason="no target to train: the dataset catalog names none")
    if not by_stage[TRAIN]:
        return NextStep("train", tuple(targets), "features rebuilt: train each target")
    passed = {r.target for r in by_stage[TRAIN] if r.status == "success"}
    missing = [t for t in targets if t not in passed and not any(r.target == t for r in by_stage[TRAIN])]
    if missing:
        return NextStep("train", tuple(missing), f"no training run yet for {', '.join(missing)}")
    failed = [t for t in dict.fromkeys((*required, *targets)) if t not in passed]
    carried = tuple(t for t in failed if t in required) if carry_champion_models else ()
    if not passed or (not carry_champion_models and any(t in failed for t in required)):
        return NextStep("stopped", reason=f"training of {', '.join(failed)} failed a gate: "
                                          "no challenger, the champion stays")
    register = by_stage[REGISTER]
    if not register:
        kept = tuple(t for t in targets if t in passed)
        left_out = [t for t in failed if t not in carried]
        notes = ([f"{', '.join(carried)} failed a gate: the champion's model kept"] if carried else []) + \
                ([f"{', '.join(left_out)} left out: failed a gate"] if left_out else [])
        return NextStep("register", kept, f"{', '.join(kept)} passed their gates"
                                          + (f" ({'; '.join(notes)})" if notes else "")
                                          + ": register the challenger", carried)
    if any(r.status == "success" for r in register):
        return NextStep("done", reason="challenger registered")
    return NextStep("stopped", reason="registration failed")
