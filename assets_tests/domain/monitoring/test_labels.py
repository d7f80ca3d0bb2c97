"""Realized labels: the (D, D + window] boundary in UTC days, closed vs open windows, bad inputs."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from wholesaler_assets.domain.monitoring.labels import LABEL, WINDOW_CLOSED, WINDOW_END, realized_labels

D = dt.date(2025, 3, 10)


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def _scores(leads: list[str], day: dt.date = D, target: str = "booked_call_7d") -> pl.DataFrame:
    return pl.DataFrame({"lead_id": leads, "target": target, "scoring_date": day, "probability": 0.1})


def _outcomes(times: dict[str, dt.datetime | None]) -> pl.DataFrame:
    return pl.DataFrame({"lead_id": list(times), "call_booked_at": list(times.values())},
                        schema={"lead_id": pl.String, "call_booked_at": pl.Datetime("us", "UTC")})


def test_outcome_days_in_the_window_count_and_the_boundaries_are_d_exclusive_and_d_plus_7_inclusive():
    outcomes = _outcomes({
        "same_day": _at(D, 23),                          # known when the score was made: not counted
        "next_midnight": dt.datetime.combine(D + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC),
        "last_day": _at(D + dt.timedelta(days=7), 23),   # day D+7, still inside
        "too_late": _at(D + dt.timedelta(days=8), 0),
        "before": _at(D - dt.timedelta(days=2)),         # first call before the score: not this score's
        "never": None,
    })
    leads = [*outcomes["lead_id"].to_list(), "no_outcome_row"]
    out = realized_labels(_scores(leads), outcomes, "booked_call_7d", as_of=D + dt.timedelta(days=7))
    labels = dict(zip(out["lead_id"], out[LABEL], strict=True))
    assert labels == {"same_day": 0, "next_midnight": 1, "last_day": 1, "too_late": 0, "before": 0, "never": 0,
                      "no_outcome_row": 0}
    assert out[WINDOW_CLOSED].all() and out[WINDOW_END].unique().to_list() == [D + dt.timedelta(days=7)]


def test_an_open_window_keeps_a_null_label_even_when_the_outcome_already_happened():
    outcomes = _outcomes({"a": _at(D + dt.timedelta(days=1)), "b": None})
    out = realized_labels(_scores(["a", "b"]), outcomes, "booked_call_7d", as_of=D + dt.timedelta(days=6))
    assert out[WINDOW_CLOSED].to_list() == [False, False]
    assert out[LABEL].null_count() == 2


def test_each_target_uses_its_own_outcome_column_and_window_and_only_its_rows():
    outcomes = pl.DataFrame({"lead_id": ["a"], "call_booked_at": [_at(D + dt.timedelta(days=2))],
                             "qualified_at": [_at(D + dt.timedelta(days=14))], "contract_signed_at": [None]},
                            schema_overrides={"contract_signed_at": pl.Datetime("us", "UTC")})
    scores = pl.concat([_scores(["a"], target=t) for t in ("booked_call_7d", "qualified_14d", "deal_30d")])
    as_of = D + dt.timedelta(days=13)
    q = realized_labels(scores, outcomes, "qualified_14d", as_of)
    assert q.height == 1 and q[WINDOW_CLOSED].to_list() == [False]  # 14 days not yet over
    q = realized_labels(scores, outcomes, "qualified_14d", as_of + dt.timedelta(days=1))
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
    with pytest.raises(ValueError, match="qualified_at"):
        realized_labels(_scores(["a"]), outcomes, "qualified_14d", D)
    with pytest.raises(ValueError, match="unknown target"):
        realized_labels(_scores(["a"]), outcomes, "sold_90d", D)
