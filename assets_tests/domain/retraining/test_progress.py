"""A retraining goes features, then every target's gated training, then registration; a failure stops it."""

from __future__ import annotations

from wholesaler_assets.domain.retraining.progress import FEATURES, REGISTER, TRAIN, StageRun, next_step

TARGETS = ["booked_call_7d", "qualified_14d"]


def _train(target: str, status: str = "success") -> StageRun:
    return StageRun(TRAIN, target, status)  # type: ignore[arg-type]


def test_each_step_follows_the_last_successful_one():
    features = StageRun(FEATURES, None, "success")
    assert next_step([features], TARGETS).action == "train"
    assert next_step([features], TARGETS).targets == tuple(TARGETS)
    assert next_step([features, _train(TARGETS[0])], TARGETS).targets == (TARGETS[1],)
    step = next_step([features, _train(TARGETS[0]), _train(TARGETS[1])], TARGETS)
    assert (step.action, step.targets) == ("register", tuple(TARGETS))
    done = next_step([features, _train(TARGETS[0]), _train(TARGETS[1]), StageRun(REGISTER, None, "success")], TARGETS)
    assert done.action == "done"


def test_a_running_step_is_waited_for():
    step = next_step([StageRun(FEATURES, None, "success"), _train(TARGETS[0], "running")], TARGETS)
    assert step.action == "wait" and TARGETS[0] in step.reason
    assert next_step([StageRun(FEATURES, None, "running")], TARGETS).action == "wait"


def test_a_failed_gate_of_a_target_the_champion_serves_stops_the_retraining_without_a_challenger():
    runs = [StageRun(FEATURES, None, "success"), _train(TARGETS[0]), _train(TARGETS[1], "failure")]
    step = next_step(runs, TARGETS, required=TARGETS)
    assert step.action == "stopped" and TARGETS[1] in step.reason and "champion stays" in step.reason
    left_out = next_step(runs, TARGETS, required=TARGETS[:1])  # the champion never served the other
    assert (left_out.action, left_out.targets) == ("register", (TARGETS[0],)) and "left out" in left_out.reason
    nothing = [StageRun(FEATURES, None, "success"), _train(TARGETS[0], "failure"), _train(TARGETS[1], "failure")]
    assert next_step(nothing, TARGETS).action == "stopped"
    assert next_step([StageRun(FEATURES, None, "failure")], TARGETS).action == "stopped"
    assert next_step([], TARGETS).action == "stopped"
    assert next_step([StageRun(FEATURES, None, "success")], []).action == "stopped"  # never waits forever
    failed_registration = [StageRun(FEATURES, None, "success"), _train(TARGETS[0]), _train(TARGETS[1]),
                           StageRun(REGISTER, None, "failure")]
    assert next_step(failed_registration, TARGETS).action == "stopped"
