"""The market released as it becomes known: nothing before its day, nothing lost, nothing twice."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from wholesaler_assets.domain.contracts.sources import CONTRACTS, SOURCES
from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig
from wholesaler_assets.domain.synthetic.market import generate_market
from wholesaler_assets.domain.synthetic.release import released_after_day, released_before, released_on

START = dt.date(2026, 4, 1)
DAYS = 45


@pytest.fixture(scope="module")
def market():
    return generate_market(MarketConfig(n_properties=1_500, seed=11, dirt=DirtConfig.clean(),
                                        start_date=START - dt.timedelta(days=400),
                                        end_date=START + dt.timedelta(days=DAYS - 1)))


def test_no_release_carries_a_date_after_its_day(market):
    history = released_before(market, START)
    day_before = START - dt.timedelta(days=1)
    assert all(released_after_day(history[s], s, day_before).height == 0 for s in SOURCES)
    for i in range(DAYS):
        day = START + dt.timedelta(days=i)
        for source, frame in released_on(market, day).items():
            late = released_after_day(frame, source, day)
            assert late.height == 0, (day, source, late.head(3))


def test_the_releases_rebuild_the_market_without_loss_or_repeat(market):
    releases = [released_before(market, START)] + [released_on(market, START + dt.timedelta(days=i))
                                                   for i in range(DAYS)]
    for source in SOURCES:
        key = list(CONTRACTS[source].key)
        rows = pl.concat([r[source] for r in releases])
        if source == "distress_events":  # an event resolved later is delivered twice: filed, then resolved
            rows = rows.sort("resolved_date", nulls_last=False).unique(key, keep="last")
        assert rows.height == market.source(source).height, source
        assert rows.select(key).is_duplicated().sum() == 0, source
        assert rows.sort(key).equals(market.source(source).sort(key), null_equal=True), source


def test_an_events_resolution_is_unknown_until_its_day(market):
    events = market.distress_events
    later = events.filter(pl.col("resolved_date") > START + dt.timedelta(days=5))
    history = released_before(market, START)["distress_events"]
    known = history.join(later.select(CONTRACTS["distress_events"].key), on=list(CONTRACTS["distress_events"].key))
    assert known.height > 0 and known["resolved_date"].null_count() == known.height


def test_a_day_outside_the_market_is_refused(market):
    with pytest.raises(ValueError, match="outside the market"):
        released_on(market, dt.date(2000, 1, 1))
