"""Feature values as plain English: null checks, readers of numbers, booleans and counts, and the
text of counts, ordinals, percentages, money and days that the phrases are built from.

Readers raise `ValueError` or `TypeError` on a value they cannot read, so a phrase can fall back
to the generic one; null values (None, NaN, pandas NA/NaT) are recognised by `is_null`.
"""

from __future__ import annotations

import math

import numpy as np

_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_TRUE_STRINGS = frozenset({"true", "t", "yes", "y", "1"})
_FALSE_STRINGS = frozenset({"false", "f", "no", "n", "0"})


def is_null(value: object) -> bool:
    """None, float NaN, pandas NA / NaT and numpy NaT count as null."""
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(value))
    return type(value).__name__ in ("NAType", "NaTType")


def as_float(value: object) -> float:
    """A finite float, or ValueError / TypeError."""
    if isinstance(value, str):
        value = value.strip().replace(",", "")
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number


def as_bool(value: object) -> bool:
    """True/False from a bool, a 0/1 number or a yes/no-like string; ValueError otherwise."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        if value in (0, 1):
            return bool(value)
        raise ValueError(f"not a boolean: {value!r}")
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE_STRINGS:
            return True
        if text in _FALSE_STRINGS:
            return False
    raise ValueError(f"not a boolean: {value!r}")


def as_count(value: object) -> int:
    """A number rounded to the nearest integer (counts and day numbers)."""
    return int(round(as_float(value)))


def strip_zeros(text: str) -> str:
    """'2.50' -> '2.5', '3.00' -> '3'; text without a decimal point is left alone."""
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def int_text(number: int) -> str:
    """Thousands separators from 10,000 up (so years such as 1998 stay as they are)."""
    return f"{number:,}" if abs(number) >= 10_000 else str(number)


def count_words(n: int) -> str:
    """0-10 as words, larger counts as digits."""
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else int_text(n)


def pluralized(n: int, singular: str, plural: str | None = None) -> str:
    return singular if n == 1 else (plural or singular + "s")


def counted(n: int, singular: str, plural: str | None = None, *, words: bool = True) -> str:
    """'no open code violations', 'one open code violation', 'two open code violations'."""
    if n == 0:
        return f"no {pluralized(0, singular, plural)}"
    count = count_words(n) if words else int_text(n)
    return f"{count} {pluralized(n, singular, plural)}"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def percent(fraction: float) -> str:
    """0.62 -> '62%', 0.035 -> '3.5%' (one decimal below 10%)."""
    pct = fraction * 100
    if abs(pct) >= 9.95:
        return f"{round(pct)}%"
    return strip_zeros(f"{pct:.1f}") + "%"


def money(amount: float) -> str:
    """245000 -> '$245k', 1250000 -> '$1.25M', 950 -> '$950'."""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount >= 999_500:
        return f"{sign}${strip_zeros(f'{amount / 1e6:.2f}')}M"
    if amount >= 1_000:
        return f"{sign}${round(amount / 1e3)}k"
    return f"{sign}${round(amount)}"


def days_text(n: int) -> str:
    return f"{int_text(n)} {pluralized(n, 'day')}"


def format_value(value: object) -> str:
    """A value as text for the generic phrase: booleans yes/no, integers (and whole floats) without
    decimals, other floats to 2 decimals (2 significant digits below 1), strings with underscores
    turned into spaces."""
    if is_null(value):
        return "unknown"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return int_text(int(value))
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isinf(number):
            return "infinite" if number > 0 else "minus infinite"
        if number.is_integer() and abs(number) < 1e15:
            return int_text(int(number))
        if abs(number) >= 10_000:
            return strip_zeros(f"{number:,.2f}")
        if abs(number) >= 1:
            return strip_zeros(f"{number:.2f}")
        return str(np.format_float_positional(number, precision=2, unique=True, fractional=False, trim="-"))
    if isinstance(value, str):
        return value.replace("_", " ").strip()
    return str(value)
