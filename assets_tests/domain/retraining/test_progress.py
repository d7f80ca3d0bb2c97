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


def test_a_target_the_champion_serves_whose_retraining_failed_keeps_the_champions_model():
    runs = [StageRun(FEATURES, None, "success"), _train(TARGETS[0]), _train(TARGETS[1], "failure")]
    step = next_step(runs, TARGETS, required=TARGETS)
    assert (step.action, step.targets, step.carried) == ("register", (TARGETS[0],), (TARGETS[1],))
    assert f"{TARGETS[1]} failed a gate: the champion's model kept" in step.reason
    # Registered: the retraining is done, whatever was kept.
    assert next_step([*runs, StageRun(REGISTER, None, "success")], TARGETS, required=TARGETS).action == "done"
    # With the rule off, a failed target the champion serves stops the retraining.
    strict = next_step(runs, TARGETS, required=TARGETS, carry_champion_models=False)
    assert strict.action == "stopped" and TARGETS[1] in strict.reason and "champion stays" in strict.reason
    # A target the champion never served is left out, never kept.
    left_out = next_step(runs, TARGETS, required=TARGETS[:1])
    assert (left_out.action, left_out.targets, left_out.carried) == ("register", (TARGETS[0],), ())
    assert "left out" in left_out.reason


def test_a_retraining_where_every_target_failed_stops_without_a_challenger():
    runs = [StageRun(FEATURES, None, "success"), _train(TARGETS[0], "failure"), _train(TARGETS[1], "failure")]
    step = next_step(runs, TARGETS, required=TARGETS)
    assert step.action == "stopped" and "no challenger, the champion stays" in step.reason
    nothing = [StageRun(FEATURES, None, "success"), _train(TARGETS[0], "failure"), _train(TARGETS[1], "failure")]
    assert next_step(nothing, TARGETS).action == "stopped"
    assert next_step([StageRun(FEATURES, None, "failure")], TARGETS).action == "stopped"
    assert next_step([], TARGETS).action == "stopped"
    assert next_step([StageRun(FEATURES, None, "success")], []).action == "stopped"  # never waits forever
    failed_registration = [StageRun(FEATURES, None, "success"), _train(TARGETS[0]), _train(TARGETS[1]),
                           StageRun(REGISTER, None, "failure")]
    assert next_step(failed_registration, TARGETS).action == "stopped"
