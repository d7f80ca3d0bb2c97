"""Plain-English phrases of feature values, the words of a lead's narrative.

`describe_feature` looks a feature up in `FEATURE_PHRASES` (name -> function of a non-null value
returning a phrase). Other modules may add or replace entries; a phrase function that raises
`ValueError` or `TypeError` (a value it cannot read) falls back to the generic phrase
"<readable name> of <value>". Readable names come from `FEATURE_LABELS`, else
`name.replace("_", " ")`. Null values (None, NaN, pandas NA/NaT) always give
"unknown <readable name>".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from wholesaler_assets.domain.explain.values import (
    as_bool,
    as_count,
    as_float,
    count_words,
    counted,
    days_text,
    format_value,
    int_text,
    is_null,
    money,
    ordinal,
    percent,
    pluralized,
)

PhraseFunction = Callable[[object], str]


def _boolean(if_true: str, if_false: str) -> PhraseFunction:
    def phrase(value: object) -> str:
        return if_true if as_bool(value) else if_false
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
    share = as_float(value)
    return f"negative equity ({percent(share)})" if share < 0 else f"{percent(share)} equity"


def _years_owned(value: object) -> str:
    years = as_float(value)
    if years < 1:
        return "owned for under a year"
    whole = int(math.floor(years))
    return f"owned for {int_text(whole)} {pluralized(whole, 'year')}"


def _tax_years_delinquent(value: object) -> str:
    n = as_count(value)
    if n <= 0:
        return "no years of unpaid taxes"
    return f"{count_words(n)} {pluralized(n, 'year')} of unpaid taxes"


def _tax_owed_share(value: object) -> str:
    share = as_float(value)
    return "no taxes owed" if share <= 0 else f"taxes owed equal to {percent(share)} of the value"


def _days_to_auction(value: object) -> str:
    n = as_count(value)
    if n == 0:
        return "auction today"
    return f"auction in {days_text(n)}" if n > 0 else f"auction {days_text(-n)} ago"


def _days_since_latest_event(value: object) -> str:
    n = as_count(value)
    return "a distress event today" if n <= 0 else f"latest distress event {days_text(n)} ago"


def _events(window: str) -> PhraseFunction:
    def phrase(value: object) -> str:
        return f"{counted(as_count(value), 'distress event')} in the last {window}"
    return phrase


def _distress_signal_count(value: object) -> str:
    return counted(as_count(value), "distress signal")


def _open_code_violations(value: object) -> str:
    return counted(as_count(value), "open code violation")


def _market_value(value: object) -> str:
    return f"a {money(as_float(value))} home"


def _sqft(value: object) -> str:
    return f"{round(as_float(value)):,} sq ft"


def _rooms(singular: str) -> PhraseFunction:
    def phrase(value: object) -> str:
        number = as_float(value)
        text = format_value(number)
        return f"{text} {pluralized(1 if number == 1 else 2, singular)}"
    return phrase


def _building_age(value: object) -> str:
    years = as_count(value)
    return "a new building" if years < 1 else f"a {int_text(years)}-year-old building"


def _campaign_step(value: object) -> str:
    return f"the {ordinal(max(as_count(value), 1))} touch"


def _prior_contacts(value: object) -> str:
    n = as_count(value)
    return "first contact" if n <= 0 else f"{count_words(n)} earlier {pluralized(n, 'contact')}"


def _prior(singular: str, plural: str | None = None) -> PhraseFunction:
    def phrase(value: object) -> str:
        return counted(as_count(value), f"earlier {singular}", f"earlier {plural or singular + 's'}")
    return phrase


def _days_since_previous_contact(value: object) -> str:
    n = as_count(value)
    return "contacted earlier today" if n <= 0 else f"last contacted {days_text(n)} ago"


def _zip_price_trend(value: object) -> str:
    trend = as_float(value)
    if abs(trend) < 0.0005:
        return "flat zip prices"
    direction = "up" if trend > 0 else "down"
    return f"zip prices {direction} {percent(abs(trend))} in 6 months"


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
    if is_null(value):
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
