"""A retraining's challenger takes the champion's own model of a target, in target order, saying why."""

from __future__ import annotations

from wholesaler_assets.domain.retraining.challenger import ChallengerModels, with_champion_models
from wholesaler_assets.domain.scoring.scorer import TargetModel


def _model(target: str, kind: str) -> TargetModel:
    return TargetModel(target=target, kind=kind, model=None, space=None, calibrator=None)  # type: ignore[arg-type]


def _evaluation(winner: str, why: str | None = None) -> dict:
    return {"winner": winner, "run_id": "r", **({"carried_from": "lead_scorer v1", "explanation": why} if why else {})}


def test_the_champions_models_replace_and_join_the_retrained_ones_in_target_order():
    retrained = ChallengerModels([_model("qualified_14d", "xgboost"), _model("booked_call_7d", "xgboost")],
                                 {"qualified_14d": _evaluation("xgboost"), "booked_call_7d": _evaluation("xgboost")},
                                 {}, "1", [])
    failed = _evaluation("baseline", "this retraining's deal_30d failed a gate")
    gate_failed = with_champion_models(retrained, [_model("deal_30d", "baseline")], {"deal_30d": failed})
    assert gate_failed.targets == ["booked_call_7d", "qualified_14d", "deal_30d"]
    assert gate_failed.carried == ["deal_30d"]

    champions_booked = _model("booked_call_7d", "baseline")
    kept = with_champion_models(gate_failed, [champions_booked],
                                {"booked_call_7d": _evaluation("baseline", "its retrained model ranked worse")})
    assert kept.targets == ["booked_call_7d", "qualified_14d", "deal_30d"]
    assert kept.models[0] is champions_booked  # the champion's own object, not a refit
    assert kept.carried == ["booked_call_7d", "deal_30d"]
    assert kept.evaluations["booked_call_7d"]["explanation"] == "its retrained model ranked worse"
    assert kept.evaluations["qualified_14d"] == _evaluation("xgboost")  # the rest untouched
    assert retrained.carried == [] and len(retrained.models) == 2  # the input is not changed


def test_nothing_kept_leaves_the_challenger_as_it_was():
    retrained = ChallengerModels([_model("booked_call_7d", "xgboost")], {"booked_call_7d": _evaluation("xgboost")},
                                 {}, None, [])
    assert with_champion_models(retrained, [], {}) == retrained
