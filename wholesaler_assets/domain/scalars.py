"""Polars aggregates as the plain Python value the caller knows they hold.

`Series.mean()`, `.max()`, `.median()`, `.item()` and friends are typed as any Python literal
(number, date, text, list or None). These narrow one to a number or a timestamp, and raise
`TypeError` on anything else, as `float(None)` would (give a default with `or` first).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


def as_float(value: object) -> float:
    if isinstance(value, int | float | Decimal):
        return float(value)
    raise TypeError(f"expected a number, got {value!r}")


def as_int(value: object) -> int:
    if isinstance(value, int | float | Decimal):
        return int(value)
    raise TypeError(f"expected a number, got {value!r}")


def as_date(value: object) -> dt.date:
    """A date (or datetime) aggregate, as it is."""
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"expected a date, got {value!r}")


def as_datetime(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    raise TypeError(f"expected a datetime, got {value!r}")
