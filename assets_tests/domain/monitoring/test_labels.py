"""Realized labels of scored contacts: training's own rule (contact_time, contact_time + window], open windows."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from wholesaler_assets.domain.monitoring.labels import LABEL, WINDOW_CLOSED, realized_labels, window_closes

D = dt.date(2025, 3, 10)


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def _scores(leads: list[str], day: dt.date = D, target: str = "booked_call_7d", hour: int = 12) -> pl.DataFrame:
    return pl.DataFrame({"lead_id": leads, "contact_id": [f"c-{lead}-{day}" for lead in leads],
                         "contact_time": _at(day, hour), "target": target, "scoring_date": day, "probability": 0.1})


def _outcomes(times: dict[str, dt.datetime | None]) -> pl.DataFrame:
    return pl.DataFrame({"lead_id": list(times), "call_booked_at": list(times.values())},
                        schema={"lead_id": pl.String, "call_booked_at": pl.Datetime("us", "UTC")})


def test_an_outcome_counts_after_the_contact_and_up_to_seven_days_after_it():
    outcomes = _outcomes({
        "before_contact": _at(D, 11),                    # the same day but before the contact: not this one's
        "after_contact": _at(D, 13),
        "last_moment": _at(D + dt.timedelta(days=7), 12),  # contact_time + 7 days exactly: inside
        "too_late": _at(D + dt.timedelta(days=7), 13),
        "earlier_contact": _at(D - dt.timedelta(days=2)),
        "never": None,
    })
    leads = [*outcomes["lead_id"].to_list(), "no_outcome_row"]
    out = realized_labels(_scores(leads), outcomes, "booked_call_7d", as_of=window_closes(D, "booked_call_7d"))
    labels = dict(zip(out["lead_id"], out[LABEL], strict=True))
    assert labels == {"before_contact": 0, "after_contact": 1, "last_moment": 1, "too_late": 0, "earlier_contact": 0,
                      "never": 0, "no_outcome_row": 0}
    assert out[WINDOW_CLOSED].all() and window_closes(D, "booked_call_7d") == D + dt.timedelta(days=7)


def test_the_labels_are_the_training_labels_of_the_same_contacts():
    from wholesaler_assets.domain.contracts.targets import TARGETS
    from wholesaler_assets.domain.training.labels import label_contacts

    outcomes = _outcomes({"a": _at(D, 20), "b": _at(D + dt.timedelta(days=9)), "c": None})
    scores = _scores(["a", "b", "c"], hour=18)
    cutoff = dt.datetime.combine(D + dt.timedelta(days=8), dt.time(), tzinfo=dt.UTC)
    training = label_contacts(scores, outcomes, TARGETS["booked_call_7d"], "outcome_time", cutoff).frame
    out = realized_labels(scores, outcomes, "booked_call_7d", as_of=D + dt.timedelta(days=7))
    assert out[LABEL].to_list() == training.sort("lead_id")[LABEL].to_list() == [1, 0, 0]


def test_an_open_window_keeps_a_null_label_even_when_the_outcome_already_happened():
    outcomes = _outcomes({"a": _at(D + dt.timedelta(days=1)), "b": None})
    out = realized_labels(_scores(["a", "b"]), outcomes, "booked_call_7d", as_of=D + dt.timedelta(days=6))
    assert out[WINDOW_CLOSED].to_list() == [False, False]
    assert out[LABEL].null_count() == 2


def test_each_target_uses_its_own_outcome_column_and_window_and_only_its_rows():
    outcomes = pl.DataFrame({"lead_id": ["a"], "call_booked_at": [_at(D + dt.timedelta(days=2))],
                             "qualified_at": [_at(D + dt.timedelta(days=13))], "contract_signed_at": [None]},
                            schema_overrides={"contract_signed_at": pl.Datetime("us", "UTC")})
    scores = pl.concat([_scores(["a"], target=t) for t in ("booked_call_7d", "qualified_14d", "deal_30d")])
    q = realized_labels(scores, outcomes, "qualified_14d", D + dt.timedelta(days=13))
    assert q.height == 1 and q[WINDOW_CLOSED].to_list() == [False]  # 14 days not yet over
    q = realized_labels(scores, outcomes, "qualified_14d", D + dt.timedelta(days=14))
    assert q[LABEL].to_list() == [1]
    deal = realized_labels(scores, outcomes, "deal_30d", D + dt.timedelta(days=30))
    assert deal[LABEL].to_list() == [0]


def test_several_scoring_days_close_one_by_one():
    days = [D + dt.timedelta(days=i) for i in range(3)]
    scores = pl.concat([_scores(["a"], day) for day in days])
    out = realized_labels(scores, _outcomes({"a": _at(D + dt.timedelta(days=5))}), "booked_call_7d",
                          as_of=D + dt.timedelta(days=8))
    assert out[WINDOW_CLOSED].to_list() == [True, True, False]
    assert out[LABEL].to_list() == [1, 1, None]


def test_missing_columns_and_unknown_targets_are_refused():
    outcomes = _outcomes({"a": None})
    with pytest.raises(ValueError, match="probability"):
        realized_labels(_scores(["a"]).drop("probability"), outcomes, "booked_call_7d", D)
    with pytest.raises(ValueError, match="contact_time"):
        realized_labels(_scores(["a"]).drop("contact_time"), outcomes, "booked_call_7d", D)
    with pytest.raises(ValueError, match="qualified_at"):
        realized_labels(_scores(["a"]), outcomes, "qualified_14d", D)
    with pytest.raises(ValueError, match="unknown target"):
        realized_labels(_scores(["a"]), outcomes, "sold_90d", D)
