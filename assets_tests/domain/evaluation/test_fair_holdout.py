"""A challenger is compared with the champion only on holdout contacts the champion never trained on."""

from __future__ import annotations

import datetime as dt

import polars as pl

from wholesaler_assets.domain.evaluation.fair_holdout import unseen_holdouts, worse_than_champion


def _holdout(first: dt.date, days: int, positive_every: int) -> pl.DataFrame:
    return pl.DataFrame({"contact_time": [dt.datetime.combine(first + dt.timedelta(days=i // 10), dt.time(9))
                                          for i in range(days * 10)],
                         "label": [int(i % positive_every == 0) for i in range(days * 10)]})


def test_only_contacts_after_the_champions_training_days_are_compared():
    holdout = _holdout(dt.date(2026, 4, 1), 40, 5)  # April 1 to May 10, 2 positives a day
    fair, left_out = unseen_holdouts({"booked_call_7d": holdout}, dt.date(2026, 4, 30))
    rows = fair["booked_call_7d"]
    assert left_out == {} and rows.height == 100  # May 1..10
    assert rows["contact_time"].min().date() == dt.date(2026, 5, 1)


def test_a_target_with_too_few_unseen_positives_is_left_to_the_shadow_days():
    holdouts = {"booked_call_7d": _holdout(dt.date(2026, 4, 1), 40, 5),
                "deal_30d": _holdout(dt.date(2026, 4, 1), 40, 60)}
    fair, left_out = unseen_holdouts(holdouts, dt.date(2026, 4, 30))
    assert list(fair) == ["booked_call_7d"]
    assert "positive(s) among 100 holdout contacts" in left_out["deal_30d"] and "needs 10" in left_out["deal_30d"]
    nothing, all_out = unseen_holdouts(holdouts, dt.date(2026, 5, 10))
    assert nothing == {} and set(all_out) == {"booked_call_7d", "deal_30d"}


def test_without_the_champions_training_day_every_row_counts():
    holdouts = {"booked_call_7d": _holdout(dt.date(2026, 4, 1), 5, 5)}
    assert unseen_holdouts(holdouts, None) == (holdouts, {})


def test_a_target_whose_retrained_model_ranks_worse_is_named_with_its_figures():
    worse = worse_than_champion({"booked_call_7d": 0.1329, "qualified_14d": 0.0990, "deal_30d": 0.05},
                                {"booked_call_7d": 0.1566, "qualified_14d": 0.0990})
    # equal is not worse; a target the champion does not serve is not compared
    assert list(worse) == ["booked_call_7d"]
    assert "ranked worse on unseen holdout contacts (PR-AUC 0.1329 < 0.1566)" in worse["booked_call_7d"]
    assert worse_than_champion({"booked_call_7d": 0.2}, {}) == {}
