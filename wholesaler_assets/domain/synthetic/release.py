"""The synthetic market released as it becomes known: the history before a day, and each day after.

A real platform never sees the future. What a county, a CRM or an MLS delivers on day D is:
property records effective on D, distress events filed on D (their resolution not yet known) and
events resolved on D (re-delivered with their resolution), contacts made on D, outcomes that
happened on D, and sales closed on D. The history before a day is everything released before it,
so `released_before(m, d)` plus `released_on(m, x)` for every x from d on rebuild the market
(the one difference being the resolution of an event filed before d, delivered on its day).
A foreclosure's auction date is a scheduled date, known at filing, so it is not audited.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from wholesaler_assets.domain.contracts.sources import SOURCES
from wholesaler_assets.domain.scalars import as_date, as_datetime
from wholesaler_assets.domain.synthetic.market import SyntheticMarket

KNOWN_ON: dict[str, str] = {"properties": "effective_date", "distress_events": "event_date",
                            "contacts": "contact_time", "outcomes": "outcome_time", "sales": "sale_date"}
"""The column whose date says when a row of each source became known."""
AUDITED: dict[str, tuple[str, ...]] = {
    "properties": ("effective_date", "last_sale_date"), "distress_events": ("event_date", "resolved_date"),
    "contacts": ("contact_time",), "outcomes": ("outcome_time",), "sales": ("sale_date",)}
"""Every date of a released row that must not lie after its release day."""


def _day_of(frame: pl.DataFrame, column: str) -> pl.Expr:
    col = pl.col(column)
    return col.dt.convert_time_zone("UTC").dt.date() if isinstance(frame.schema[column], pl.Datetime) \
        else col.cast(pl.Date)


def _check_day(market: SyntheticMarket, day: dt.date) -> None:
    first = as_date(market.properties["effective_date"].min())
    last = max(as_datetime(market.contacts["contact_time"].max()).date(), as_date(market.sales["sale_date"].max()))
    if not first <= day <= last + dt.timedelta(days=60):
        raise ValueError(f"{day} is outside the market ({first} to {last})")


def released_before(market: SyntheticMarket, day: dt.date) -> dict[str, pl.DataFrame]:
    """Every source as it was known at the start of `day`: resolutions on or after it not yet known."""
    _check_day(market, day)
    out = {name: market.source(name).filter(_day_of(market.source(name), KNOWN_ON[name]) < day) for name in SOURCES}
    out["distress_events"] = out["distress_events"].with_columns(
        pl.when(pl.col("resolved_date") < day).then(pl.col("resolved_date")).alias("resolved_date"))
    return out


def released_on(market: SyntheticMarket, day: dt.date) -> dict[str, pl.DataFrame]:
    """What became known on `day`, per source (a source with nothing new gets an empty frame)."""
    _check_day(market, day)
    out = {name: market.source(name).filter(_day_of(market.source(name), KNOWN_ON[name]) == day) for name in SOURCES}
    events = market.distress_events
    filed = out["distress_events"].with_columns(
        pl.when(pl.col("resolved_date") <= day).then(pl.col("resolved_date")).alias("resolved_date"))
    resolved = events.filter((pl.col("resolved_date") == day) & (pl.col("event_date") < day))
    out["distress_events"] = pl.concat([filed, resolved])
    return out


def released_after_day(frame: pl.DataFrame, source: str, day: dt.date) -> pl.DataFrame:
    """The as-of audit: rows of a release of `day` carrying any date after it (must be empty)."""
    late = [(_day_of(frame, c) > day).fill_null(False) for c in AUDITED[source] if c in frame.columns]
    return frame.filter(pl.any_horizontal(late)) if late else frame.head(0)
