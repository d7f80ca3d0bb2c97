"""Per-lead explanations from SHAP contributions: top drivers, plain-English narratives, global
importance, cohort summaries and a markdown report.

Contributions are per-row arrays of shape (n_rows, n_features) in log-odds: XGBoost's
`pred_contribs=True` output without its last (bias) column, which equals
`shap.TreeExplainer(booster).shap_values(X)` (see STACK_NOTES §5). A positive contribution
raises the chance of conversion, a negative one lowers it; contributions plus the bias add up to
the model's margin (log-odds), not to the probability.

Phrases: `describe_feature` looks a feature up in `FEATURE_PHRASES` (name -> function of a
non-null value returning a phrase). Other modules may add or replace entries; a phrase function
that raises `ValueError` or `TypeError` (a value it cannot read) falls back to the generic phrase
"<readable name> of <value>". Readable names come from `FEATURE_LABELS`, else
`name.replace("_", " ")`. Null values (None, NaN, pandas NA/NaT) always give
"unknown <readable name>".

Nothing happens at import time; xgboost is only needed by `contributions_from_booster` and is
never imported here (the booster and DMatrix are passed in).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

if TYPE_CHECKING:
    import xgboost

__all__ = [
    "FEATURE_LABELS",
    "FEATURE_PHRASES",
    "NO_DRIVER_SENTENCE",
    "cohort_summary",
    "contributions_from_booster",
    "describe_feature",
    "format_value",
    "global_importance",
    "narrative",
    "narratives",
    "readable_name",
    "summary_markdown",
    "top_drivers",
]

NO_DRIVER_SENTENCE = "No single factor stands out."

PhraseFunction = Callable[[object], str]

# --- value helpers ------------------------------------------------------------------------------

_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_TRUE_STRINGS = frozenset({"true", "t", "yes", "y", "1"})
_FALSE_STRINGS = frozenset({"false", "f", "no", "n", "0"})


def _is_null(value: object) -> bool:
    """None, float NaN, pandas NA / NaT and numpy NaT count as null."""
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(value))
    return type(value).__name__ in ("NAType", "NaTType")


def _as_float(value: object) -> float:
    """A finite float, or ValueError / TypeError."""
    if isinstance(value, str):
        value = value.strip().replace(",", "")
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number


def _as_bool(value: object) -> bool:
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


def _as_count(value: object) -> int:
    """A number rounded to the nearest integer (counts and day numbers)."""
    return int(round(_as_float(value)))


def _strip_zeros(text: str) -> str:
    """'2.50' -> '2.5', '3.00' -> '3'; text without a decimal point is left alone."""
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _int_text(number: int) -> str:
    """Thousands separators from 10,000 up (so years such as 1998 stay as they are)."""
    return f"{number:,}" if abs(number) >= 10_000 else str(number)


def _count_words(n: int) -> str:
    """0-10 as words, larger counts as digits."""
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else _int_text(n)


def _plural(n: int, singular: str, plural: str | None = None) -> str:
    return singular if n == 1 else (plural or singular + "s")


def _counted(n: int, singular: str, plural: str | None = None, *, words: bool = True) -> str:
    """'no open code violations', 'one open code violation', 'two open code violations'."""
    if n == 0:
        return f"no {_plural(0, singular, plural)}"
    count = _count_words(n) if words else _int_text(n)
    return f"{count} {_plural(n, singular, plural)}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _percent(fraction: float) -> str:
    """0.62 -> '62%', 0.035 -> '3.5%' (one decimal below 10%)."""
    pct = fraction * 100
    if abs(pct) >= 9.95:
        return f"{round(pct)}%"
    return _strip_zeros(f"{pct:.1f}") + "%"


def _money(amount: float) -> str:
    """245000 -> '$245k', 1250000 -> '$1.25M', 950 -> '$950'."""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount >= 999_500:
        return f"{sign}${_strip_zeros(f'{amount / 1e6:.2f}')}M"
    if amount >= 1_000:
        return f"{sign}${round(amount / 1e3)}k"
    return f"{sign}${round(amount)}"


def _days(n: int) -> str:
    return f"{_int_text(n)} {_plural(n, 'day')}"


def format_value(value: object) -> str:
    """A value as text for the generic phrase: booleans yes/no, integers (and whole floats) without
    decimals, other floats to 2 decimals (2 significant digits below 1), strings with underscores
    turned into spaces."""
    if _is_null(value):
        return "unknown"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return _int_text(int(value))
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isinf(number):
            return "infinite" if number > 0 else "minus infinite"
        if number.is_integer() and abs(number) < 1e15:
            return _int_text(int(number))
        if abs(number) >= 10_000:
            return _strip_zeros(f"{number:,.2f}")
        if abs(number) >= 1:
            return _strip_zeros(f"{number:.2f}")
        return str(np.format_float_positional(number, precision=2, unique=True, fractional=False, trim="-"))
    if isinstance(value, str):
        return value.replace("_", " ").strip()
    return str(value)


# --- phrases of the known features --------------------------------------------------------------

def _boolean(if_true: str, if_false: str) -> PhraseFunction:
    def phrase(value: object) -> str:
        return if_true if _as_bool(value) else if_false
    return phrase


def _category(options: Mapping[str, str]) -> PhraseFunction:
    """A phrase per known category value; an unknown value raises so the generic phrase is used."""
    def phrase(value: object) -> str:
        key = str(value).strip().lower()
        if key not in options:
            raise ValueError(f"unknown category {value!r}")
        return options[key]
    return phrase


def _equity_share(value: object) -> str:
    share = _as_float(value)
    return f"negative equity ({_percent(share)})" if share < 0 else f"{_percent(share)} equity"


def _years_owned(value: object) -> str:
    years = _as_float(value)
    if years < 1:
        return "owned for under a year"
    whole = int(math.floor(years))
    return f"owned for {_int_text(whole)} {_plural(whole, 'year')}"


def _tax_years_delinquent(value: object) -> str:
    n = _as_count(value)
    if n <= 0:
        return "no years of unpaid taxes"
    return f"{_count_words(n)} {_plural(n, 'year')} of unpaid taxes"


def _tax_owed_share(value: object) -> str:
    share = _as_float(value)
    return "no taxes owed" if share <= 0 else f"taxes owed equal to {_percent(share)} of the value"


def _days_to_auction(value: object) -> str:
    n = _as_count(value)
    if n == 0:
        return "auction today"
    return f"auction in {_days(n)}" if n > 0 else f"auction {_days(-n)} ago"


def _days_since_latest_event(value: object) -> str:
    n = _as_count(value)
    return "a distress event today" if n <= 0 else f"latest distress event {_days(n)} ago"


def _events(window: str) -> PhraseFunction:
    def phrase(value: object) -> str:
        return f"{_counted(_as_count(value), 'distress event')} in the last {window}"
    return phrase


def _distress_signal_count(value: object) -> str:
    return _counted(_as_count(value), "distress signal")


def _open_code_violations(value: object) -> str:
    return _counted(_as_count(value), "open code violation")


def _market_value(value: object) -> str:
    return f"a {_money(_as_float(value))} home"


def _sqft(value: object) -> str:
    return f"{round(_as_float(value)):,} sq ft"


def _rooms(singular: str) -> PhraseFunction:
    def phrase(value: object) -> str:
        number = _as_float(value)
        text = format_value(number)
        return f"{text} {_plural(1 if number == 1 else 2, singular)}"
    return phrase


def _building_age(value: object) -> str:
    years = _as_count(value)
    return "a new building" if years < 1 else f"a {_int_text(years)}-year-old building"


def _campaign_step(value: object) -> str:
    return f"the {_ordinal(max(_as_count(value), 1))} touch"


def _prior_contacts(value: object) -> str:
    n = _as_count(value)
    return "first contact" if n <= 0 else f"{_count_words(n)} earlier {_plural(n, 'contact')}"


def _prior(singular: str, plural: str | None = None) -> PhraseFunction:
    def phrase(value: object) -> str:
        return _counted(_as_count(value), f"earlier {singular}", f"earlier {plural or singular + 's'}")
    return phrase


def _days_since_previous_contact(value: object) -> str:
    n = _as_count(value)
    return "contacted earlier today" if n <= 0 else f"last contacted {_days(n)} ago"


def _zip_price_trend(value: object) -> str:
    trend = _as_float(value)
    if abs(trend) < 0.0005:
        return "flat zip prices"
    direction = "up" if trend > 0 else "down"
    return f"zip prices {direction} {_percent(abs(trend))} in 6 months"


def _metro(value: object) -> str:
    name = str(value).strip()
    if not name:
        raise ValueError("empty metro")
    return f"the {name} metro"


FEATURE_PHRASES: dict[str, PhraseFunction] = {
    # property and equity
    "equity_share": _equity_share,
    "years_owned": _years_owned,
    "market_value": _market_value,
    "sqft": _sqft,
    "beds": _rooms("bedroom"),
    "baths": _rooms("bathroom"),
    "building_age": _building_age,
    "zip_price_trend": _zip_price_trend,
    # distress
    "tax_delinquent": _boolean("unpaid property taxes", "taxes paid up"),
    "tax_years_delinquent": _tax_years_delinquent,
    "tax_owed_share": _tax_owed_share,
    "in_foreclosure": _boolean("a foreclosure filing", "no foreclosure filing"),
    "days_to_auction": _days_to_auction,
    "in_probate": _boolean("a probate case", "no probate case"),
    "vacant": _boolean("a vacant house", "an occupied house"),
    "open_code_violations": _open_code_violations,
    "distress_signal_count": _distress_signal_count,
    "distress_events_90d": _events("90 days"),
    "distress_events_365d": _events("year"),
    "days_since_latest_event": _days_since_latest_event,
    # owner
    "absentee_owner": _boolean("absentee owner", "owner lives in the house"),
    "out_of_state_owner": _boolean("out-of-state owner", "in-state owner"),
    "owner_type": _category({"individual": "an individual owner", "llc": "an LLC owner",
                             "trust": "a trust owner", "estate": "an estate owner"}),
    # categorical property facts
    "metro": _metro,
    "property_type": _category({"single_family": "a single-family home", "condo": "a condo",
                                "townhouse": "a townhouse", "multi_family": "a multi-family property",
                                "mobile_home": "a mobile home"}),
    "condition": _category({c: f"{c} condition" for c in ("excellent", "good", "fair", "poor", "distressed")}),
    # outreach
    "channel": _category({"cold_call": "a cold call", "sms": "a text message",
                          "direct_mail": "direct mail", "door_knock": "a door knock"}),
    "campaign_step": _campaign_step,
    "prior_contacts": _prior_contacts,
    "prior_cold_call": _prior("cold call"),
    "prior_sms": _prior("text"),
    "prior_direct_mail": _prior("mailer"),
    "prior_door_knock": _prior("door knock"),
    "days_since_previous_contact": _days_since_previous_contact,
}
"""Feature name -> phrase of a non-null value. Extend or override freely."""

FEATURE_LABELS: dict[str, str] = {
    "equity_share": "equity",
    "sqft": "square footage",
    "tax_owed_share": "share of value owed in taxes",
    "days_to_auction": "auction date",
    "days_since_latest_event": "date of the latest distress event",
    "days_since_previous_contact": "time since the previous contact",
    "prior_sms": "prior texts",
}
"""Feature name -> readable name, where `name.replace("_", " ")` reads badly. Extend freely."""


def readable_name(name: str) -> str:
    """The feature's readable name: `FEATURE_LABELS` entry, else underscores become spaces."""
    return FEATURE_LABELS.get(name, name.replace("_", " ").strip())


def describe_feature(name: str, value: object) -> str:
    """A plain-English phrase for one feature value.

    Known features use `FEATURE_PHRASES` (e.g. equity_share 0.62 -> "62% equity", absentee_owner
    False -> "owner lives in the house", campaign_step 4 -> "the 4th touch"). A null value gives
    "unknown <readable name>". Any other name, or a value the known phrase cannot read (e.g. an
    unseen category), gives "<readable name> of <value>" with `format_value` formatting.
    """
    if _is_null(value):
        return f"unknown {readable_name(name)}"
    phrase_of = FEATURE_PHRASES.get(name)
    if phrase_of is None:
        phrase_of = FEATURE_PHRASES.get(name.lower())
    if phrase_of is not None:
        try:
            return phrase_of(value)
        except (ValueError, TypeError, OverflowError):
            pass
    return f"{readable_name(name)} of {format_value(value)}"


# --- drivers and narratives ---------------------------------------------------------------------

def _as_matrix(contributions: np.ndarray, feature_names: Sequence[str]) -> np.ndarray:
    matrix = np.asarray(contributions, dtype=np.float64)
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.ndim != 2:
        raise ValueError(f"contributions must be 2-D (rows, features); got shape {matrix.shape}")
    if matrix.shape[1] != len(feature_names):
        raise ValueError(f"contributions have {matrix.shape[1]} columns but {len(feature_names)} "
                         "feature names were given (drop the bias column of pred_contribs first)")
    return matrix


def top_drivers(contributions: np.ndarray, feature_names: list[str], k: int = 3) -> list[list[tuple[str, float]]]:
    """Per row, the k features with the largest |contribution| as (name, contribution).

    Sorted by |contribution| descending; ties keep feature order. Zero (and NaN) contributions
    are never drivers, so a row may have fewer than k (possibly none). A 1-D array is one row.
    """
    matrix = _as_matrix(contributions, feature_names)
    if k <= 0 or matrix.shape[0] == 0:
        return [[] for _ in range(matrix.shape[0])]
    magnitude = np.nan_to_num(np.abs(matrix), nan=0.0)
    order = np.argsort(-magnitude, axis=1, kind="stable")[:, :k]
    # Python lists, not numpy scalars, in the per-row loop: a tenth of the cost on 1,000 rows.
    values = np.take_along_axis(matrix, order, axis=1).tolist()
    sizes = np.take_along_axis(magnitude, order, axis=1).tolist()
    return [[(feature_names[j], v) for j, v, size in zip(columns, row_values, row_sizes, strict=True) if size > 0]
            for columns, row_values, row_sizes in zip(order.tolist(), values, sizes, strict=True)]


def _join(phrases: Sequence[str]) -> str:
    """'a' / 'a and b' / 'a, b and c'."""
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def narrative(drivers: Sequence[tuple[str, float]], values: Mapping[str, object]) -> str:
    """One sentence naming what raises and what lowers the chance, raisers first.

    e.g. "62% equity and two years of unpaid taxes raise the chance; owner lives in the house
    lowers it." Only lowerers: "... lowers the chance." No non-zero drivers: "No single factor
    stands out." Drivers keep their given order within each side; a feature missing from
    `values` is described as unknown.
    """
    raisers = [describe_feature(name, values.get(name)) for name, c in drivers if c > 0]
    lowerers = [describe_feature(name, values.get(name)) for name, c in drivers if c < 0]
    parts = []
    if raisers:
        parts.append(f"{_join(raisers)} {'raises' if len(raisers) == 1 else 'raise'} the chance")
    if lowerers:
        verb = "lowers" if len(lowerers) == 1 else "lower"
        parts.append(f"{_join(lowerers)} {verb} {'it' if raisers else 'the chance'}")
    if not parts:
        return NO_DRIVER_SENTENCE
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def narratives(contributions: np.ndarray, feature_names: list[str],
               rows: Sequence[Mapping[str, object]] | pl.DataFrame, k: int = 3) -> list[str]:
    """One narrative per row: `top_drivers` (k per row) described with that row's feature values.

    `rows` is one mapping of feature values per contribution row, in the same order (a polars
    DataFrame is accepted too and read with `to_dicts()`).
    """
    if isinstance(rows, pl.DataFrame):
        rows = rows.to_dicts()
    drivers = top_drivers(contributions, feature_names, k)
    if len(rows) != len(drivers):
        raise ValueError(f"{len(drivers)} contribution rows but {len(rows)} value rows")
    return [narrative(d, r) for d, r in zip(drivers, rows, strict=True)]


# --- global and cohort summaries ----------------------------------------------------------------

def global_importance(contributions: np.ndarray, feature_names: list[str]) -> pl.DataFrame:
    """Mean |contribution| per feature, with its share of the total and a rank (1 = most important).

    Columns: feature, mean_abs_contribution, mean_contribution, share, rank; sorted by rank.
    Ties in mean |contribution| rank in feature order. With no rows (or all contributions zero)
    every share is 0.
    """
    matrix = _as_matrix(contributions, feature_names)
    if matrix.shape[0] == 0:
        mean_abs = np.zeros(matrix.shape[1])
        mean = np.zeros(matrix.shape[1])
    else:
        mean_abs = np.abs(matrix).mean(axis=0)
        mean = matrix.mean(axis=0)
    total = float(mean_abs.sum())
    share = mean_abs / total if total > 0 else np.zeros_like(mean_abs)
    order = np.argsort(-mean_abs, kind="stable")
    return pl.DataFrame({
        "feature": [feature_names[j] for j in order],
        "mean_abs_contribution": mean_abs[order],
        "mean_contribution": mean[order],
        "share": share[order],
        "rank": np.arange(1, len(order) + 1, dtype=np.int64),
    }, schema={"feature": pl.String, "mean_abs_contribution": pl.Float64, "mean_contribution": pl.Float64,
               "share": pl.Float64, "rank": pl.Int64})


_COHORT_SCHEMA = {"cohort_column": pl.String, "cohort_value": pl.String, "rows": pl.Int64,
                  "mean_probability": pl.Float64, "top_features": pl.String}


def _top_feature_text(mean_abs: np.ndarray, feature_names: Sequence[str], top: int) -> str:
    order = np.argsort(-mean_abs, kind="stable")[:max(top, 0)]
    return ", ".join(feature_names[j] for j in order if mean_abs[j] > 0)


def cohort_summary(contributions: np.ndarray, feature_names: list[str], cohorts: pl.DataFrame,
                   probabilities: np.ndarray, top: int = 3) -> pl.DataFrame:
    """Per cohort of every cohort column: its row count, mean probability and top features.

    `cohorts` holds one or more cohort columns (e.g. value_segment, distress_type, channel), one row
    per contribution row. Output is long: cohort_column, cohort_value (as text; null stays null),
    rows, mean_probability, top_features ("a, b, c": the `top` features by mean |contribution|
    within the cohort, ties in feature order, zero-importance features left out). Cohort columns
    keep their order; values within a column are sorted (nulls last).
    """
    matrix = _as_matrix(contributions, feature_names)
    probs = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    if cohorts.height != matrix.shape[0] or probs.shape[0] != matrix.shape[0]:
        raise ValueError(f"row counts differ: contributions {matrix.shape[0]}, cohorts {cohorts.height}, "
                         f"probabilities {probs.shape[0]}")
    magnitude = np.abs(matrix)
    records: list[dict[str, object]] = []
    index_name = "__row__"
    while index_name in cohorts.columns:
        index_name += "_"
    for column in cohorts.columns:
        groups = (cohorts.select(column).with_row_index(index_name)
                  .group_by(column).agg(pl.col(index_name))
                  .sort(column, nulls_last=True))
        for value, indices in groups.iter_rows():
            idx = np.asarray(indices, dtype=np.int64)
            records.append({
                "cohort_column": column,
                "cohort_value": None if value is None else str(value),
                "rows": len(idx),
                "mean_probability": float(probs[idx].mean()),
                "top_features": _top_feature_text(magnitude[idx].mean(axis=0), feature_names, top),
            })
    return pl.DataFrame(records, schema=_COHORT_SCHEMA)


# --- XGBoost ------------------------------------------------------------------------------------

def contributions_from_booster(booster: xgboost.Booster, dmatrix: xgboost.DMatrix,
                               approximate: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(contributions without the bias column, bias per row), both float64, in log-odds.

    Uses `booster.predict(dmatrix, pred_contribs=True, approx_contribs=approximate)`. The exact
    contributions equal `shap.TreeExplainer(booster).shap_values(X)`, and contributions summed
    over features plus the bias give the margin (`output_margin=True`). The bias is the model's
    expected margin (plus any base_margin set on the DMatrix) — use it rather than a freshly built
    explainer's `expected_value` (STACK_NOTES §5). A multi-class booster gives 3-D output
    (rows, classes, features) and (rows, classes); the other functions here take 2-D arrays.
    """
    raw = np.asarray(booster.predict(dmatrix, pred_contribs=True, approx_contribs=approximate), dtype=np.float64)
    return raw[..., :-1], raw[..., -1]


# --- report -------------------------------------------------------------------------------------

def _cell(value: object) -> str:
    if value is None:
        return "(missing)"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def summary_markdown(importance: pl.DataFrame, cohorts: pl.DataFrame, title: str, top: int = 15) -> str:
    """A markdown report: the `top` features of `global_importance` and the `cohort_summary` table."""
    lines = [f"# {title}", "",
             "Contributions are SHAP values in log-odds: positive raises the chance of conversion, "
             "negative lowers it.", "", "## Global feature importance", ""]
    if importance.height == 0:
        lines.append("No features.")
    else:
        shown = importance.sort("rank").head(top)
        lines += _table(["rank", "feature", "mean abs contribution", "mean contribution", "share"],
                        [(r["rank"], r["feature"], f"{r['mean_abs_contribution']:.4f}",
                          f"{r['mean_contribution']:+.4f}", f"{100 * r['share']:.1f}%")
                         for r in shown.iter_rows(named=True)])
        if importance.height > top:
            lines += ["", f"({importance.height - top} more features not shown.)"]
    lines += ["", "## Cohorts", ""]
    if cohorts.height == 0:
        lines.append("No cohorts.")
    else:
        lines += _table(["cohort", "value", "rows", "mean probability", "top features"],
                        [(r["cohort_column"], r["cohort_value"], r["rows"], f"{r['mean_probability']:.3f}",
                          r["top_features"] or "-")
                         for r in cohorts.iter_rows(named=True)])
    return "\n".join(lines) + "\n"
