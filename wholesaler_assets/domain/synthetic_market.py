"""A synthetic wholesaler market: properties, distress, outreach, outcomes and comparable sales.

The generator writes the five landing sources of `contracts.py` for a market of metros and ZIP codes
(Orlando 328xx, Tampa 336xx, Atlanta 303xx, Phoenix 850xx, Dallas 752xx, Cleveland 441xx). Each ZIP
has a price level (median market value: Cleveland ~$115k, Orlando/Atlanta/Dallas ~$300k, Tampa
~$350k, Phoenix ~$390k; +/-30% by ZIP) and an annual trend between -4% and +12%. Everything is
drawn from `np.random.SeedSequence(seed)`: the same config gives the same frames and the same bytes.

- properties: versioned records. The first record of each property is effective in the year before
  `start_date`; ~35% of properties get 1-2 full later records (reassessment, sale, condition change).
  market_value = ZIP price/sqft x sqft x property type x condition x ZIP trend; 35% free and clear
  (long tenure, estates, trusts), otherwise a 30-year loan amortised from the purchase.
- distress_events: tax delinquency (~8% of properties), foreclosure (~3%, only with a mortgage, more
  with low equity), code violations (~6%, old or poor houses), probate (~2.5%, estates), vacancy (~4%).
- contacts: wholesalers pull distress lists, so distressed properties become leads far more often
  (~50% of all properties overall). A lead is worked by a campaign (one list type, launched every
  quarter, with its own channel mix) in up to 6 steps 8-21 days apart, until a call is booked.
- outcomes: call_booked within 7 days of a contact, qualified 1-6 days later, contract_signed 2-12
  days after that (purchase price ~65-75% of ARV minus repairs). Nothing after `end_date` is written.
- sales: every recorded sale in [start_date - 365 days, end_date] (~5-7% of properties a year),
  renovated (~35%), average or distressed, with the property facts at the sale.

## Conversion function

For each contact the state of the property AS OF the contact date (the UTC date of contact_time) is
used: the latest property record with `effective_date <= contact date`, and the distress events with
`event_date <= contact date < resolved_date` (open events). With
`equity_share = clip(estimated_equity / market_value, -0.5, 1)`,
`years_owned = (contact date - last_sale_date) / 365.25`, `days_to_auction` the days from the contact
date to the nearest auction date (today or later) of an open foreclosure, and `absentee` = not owner
occupied:

    distress = sum(coefficient x feature) over the distress rows of the table
    logit = base + sum(coefficient x feature) over the other rows
            + distress x (1 if equity_share >= 0.35 else distress_scale_below_35pct_equity) + u_lead
    u_lead ~ N(0, latent_sd) per lead,   p_book = sigmoid(logit)

The effects are the thresholds, steps and interactions of real wholesaling, which a model linear
in the features cannot express: equity only matters above ~35% (a hinge), and distress other than
a foreclosure only makes an owner call back when there is equity to sell at a discount; an auction
within 45 days is far more urgent than one 3 months away, equity or not; two or more years of
unpaid taxes, stacked distress types and a vacant house of an absentee owner add on top; recent
buyers (< 2 years) rarely sell, owners of 20+ years more often; a door knock reaches an owner
occupant but only a tenant or an empty house of an absentee owner, who answers a text instead; the
2nd-3rd touch books best, later ones tire.

| feature | coefficient |
|---|---|
| base | -4.6 |
| max(equity_share - 0.35, 0) | 2.5 |
| equity_share < 0 (underwater) | 0.8 |
| distress: tax_delinquent | 0.4 |
| distress: tax years delinquent >= 2 | 0.8 |
| distress: probate_active | 1.0 |
| distress: vacant | 0.3 |
| distress: vacant x absentee | 1.0 |
| distress: min(open code violations, 3) | 0.3 |
| distress: 2+ distress types open (stacked) | 0.6 |
| distress_scale_below_35pct_equity (distress multiplier when equity_share < 0.35) | 0.0 |
| foreclosure_active | 1.0 |
| auction in 0-45 days / 46-90 days | 1.6 / 0.7 |
| out_of_state owner | 0.2 |
| owner estate / trust / llc | 0.35 / 0.1 / -0.5 |
| years_owned < 2 / >= 20 | -0.8 / 0.45 |
| condition poor / distressed | 0.25 / 0.5 |
| channel, owner occupied: cold_call / sms / direct_mail / door_knock | 0.2 / -0.8 / -0.6 / 1.4 |
| channel, absentee: cold_call / sms / direct_mail / door_knock | 0.2 / 0.8 / -0.1 / -1.4 |
| campaign_step 2 / 3 / 4 / 5 / 6 (step 1: 0) | 0.2 / 0.1 / -0.1 / -0.3 / -0.5 |
| latent_sd | 0.1 |

Given a booking, `p_qual = sigmoid(-1.6 + 1.4 [equity_share >= 0.4] - 1.0 [equity_share < 0]
+ 0.35 any_open_distress + 0.5 auction_in_0_45_days + 0.3 estate - 0.3 llc + u_lead)` (~47%): a
wholesaler qualifies a seller when there is room for a discount. Given qualification `p_deal =
sigmoid(-1.8 + 4.0 [equity_share >= 0.5 and condition poor or worse] (the spread an investor
buys) - 2.0 condition_poor_or_worse (without that equity the repairs eat the discount: no deal) +
2.5 [100k <= market_value <= 350k] (the price band cash buyers take) + 1.0 [foreclosure_active and
equity_share >= 0.35] (a foreclosure with equity to save: the owner sells before the auction) +
0.5 estate (heirs sell) - 0.6 llc)` (~51%), so ~4-5% of contacts book a call and ~1.2% reach a
contract from that booking (the 30-day deal label, which also counts later steps of the same lead,
is ~1.8% of contacts).

Draws: a lead's steps are scheduled up front; step s books with probability p_book(s); contacting
stops after the first booking. The booking comes 0-7 days after the contact (front-loaded), the
qualification 1-6 days after the booking, the contract 2-12 days after that. Contact times are whole
minutes and booking times carry 1-59 seconds, so "within N days" is never a tie.

Ground truth (`contact_probabilities.parquet`) is the exact probability of each label of a contact
at step s, "the lead has an outcome of that type with contact_time < outcome_time <= contact_time +
N days", given the lead's schedule and latent effect, for every contact, censored or not:

- `p_booked_call_7d = p_book(s)`: steps are > 7 days apart and stop after a booking.
- `p_qualified_14d = sum over m >= s of P(no booking at s..m-1) p_book(m) p_qual(m)
  P(t_m - t_s + booking delay + qualification delay < 14 days)`: p_book x p_qual plus the chance
  that a later step of the same lead books and qualifies inside this contact's window.
- `p_deal_30d`: the same with p_deal and the 30-day window (up to 3 later steps can contribute).
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from wholesaler_assets.domain.contracts import (
    CHANNELS, CONDITIONS, CONTRACTS, DISTRESS_TYPES, OUTCOME_TYPES, OWNER_TYPES, PROPERTY_TYPES,
    SALE_CONDITIONS, SOURCES, VIOLATION_TYPES)
from wholesaler_assets.domain.synthetic_dirt import write_landing

CONVERSION_FUNCTION_DOC: str = (__doc__ or "").partition("## Conversion function")[2].strip()

BOOKING_COEFFICIENTS: dict[str, float] = {
    "base": -4.6, "equity_above_35pct": 2.5, "underwater": 0.8,
    "tax_delinquent": 0.4, "tax_2y_plus": 0.8, "foreclosure_active": 1.0, "auction_within_45d": 1.6,
    "auction_46_90d": 0.7, "probate_active": 1.0, "vacant": 0.3, "vacant_x_absentee": 1.0,
    "open_violations": 0.3, "stacked_distress": 0.6, "distress_scale_below_35pct_equity": 0.0,
    "out_of_state": 0.2, "estate": 0.35, "trust": 0.1, "llc": -0.5, "owned_under_2y": -0.8,
    "owned_20y_plus": 0.45, "condition_poor": 0.25, "condition_distressed": 0.5,
    "cold_call": 0.2, "sms": -0.8, "direct_mail": -0.6, "door_knock": 1.4,
    "absentee_cold_call": 0.2, "absentee_sms": 0.8, "absentee_direct_mail": -0.1, "absentee_door_knock": -1.4,
    "step_2": 0.2, "step_3": 0.1, "step_4": -0.1, "step_5": -0.3, "step_6": -0.5, "latent_sd": 0.1}
QUALIFY_COEFFICIENTS: dict[str, float] = {
    "base": -1.6, "equity_40pct_plus": 1.4, "underwater": -1.0, "any_distress": 0.35,
    "auction_within_45d": 0.5, "estate": 0.3, "llc": -0.3}
GROUND_TRUTH_COLUMNS = ("p_booked_call_7d", "p_qualified_14d", "p_deal_30d")
DEAL_COEFFICIENTS: dict[str, float] = {
    "base": -1.8, "condition_poor_or_worse": -2.0, "spread": 4.0, "value_100k_to_350k": 2.5,
    "foreclosure_with_equity": 1.0, "estate": 0.5, "llc": -0.6}

# metro: (ZIP3, area code, median value at start_date, mean annual trend, UTC offset of local time)
_METROS: dict[str, tuple[str, str, float, float, int]] = {
    "Orlando": ("328", "407", 360_000, 0.05, 5), "Tampa": ("336", "813", 350_000, 0.04, 5),
    "Atlanta": ("303", "404", 375_000, 0.05, 5), "Phoenix": ("850", "602", 400_000, 0.03, 7),
    "Dallas": ("752", "214", 365_000, 0.04, 6), "Cleveland": ("441", "216", 120_000, 0.06, 5)}
_OTHER_STATE_AREA_CODES = ("212", "312", "310", "617", "718", "917", "201", "415", "703", "646")
_FIRST = tuple("Maria James Linda Robert Patricia John Barbara Michael Susan David Karen William Nancy "
               "Richard Betty Joseph Dorothy Thomas Sandra Charles Ashley Daniel Donna Carlos Emily "
               "Kevin Rosa Anthony Gloria Luis Tamika Andre".split())
_LAST = tuple("Lopez Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
              "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez "
              "Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores "
              "Green".split())
_STREETS = tuple("Oak Maple Pine Cedar Elm Washington Lake Hill Park Main Sunset Lincoln Jackson Magnolia "
                 "Willow Church Mill River Highland Dogwood Palm Orange Peachtree Mesa Cactus Bluebonnet "
                 "Euclid Lorain Juniper Hickory".split())
_SUFFIXES = tuple("St Ave Dr Ln Rd Ct Blvd Way Pl Cir".split())
_LLC_SUFFIXES = ("Holdings LLC", "Properties LLC", "Capital LLC", "Investments LLC")

_TYPE_P = np.array([0.70, 0.10, 0.09, 0.07, 0.04])  # PROPERTY_TYPES order
_BEDS_BASE, _BEDS_LAM = np.array([2, 1, 2, 4, 2]), np.array([1.1, 0.6, 0.8, 1.5, 0.4])
_TYPE_VALUE = np.array([1.0, 0.88, 0.93, 0.85, 0.45])
_LOT_MEDIAN = np.array([7_500, 0, 2_200, 8_500, 5_000])
_COND_VALUE = np.array([1.10, 1.0, 0.92, 0.78, 0.62])  # CONDITIONS order
_REPAIR_SHARE = np.array([0.0, 0.04, 0.10, 0.18, 0.30])
_OWNER_P = np.array([0.78, 0.12, 0.06, 0.04])  # OWNER_TYPES order
_TENURE_GAMMA = np.array([[1.3, 10.0], [1.2, 4.0], [2.5, 9.0], [3.0, 10.0]])
_OCCUPIED_P, _OOS_IF_ABSENT = np.array([0.80, 0.0, 0.6, 0.15]), np.array([0.25, 0.35, 0.3, 0.3])
_EVENT_TARGET = np.array([0.08, 0.03, 0.06, 0.025, 0.04])  # DISTRESS_TYPES order
_RESOLVE_P = np.array([0.55, 0.40, 0.60, 0.50, 0.35])
_LISTS = ("tax-list", "preforeclosure-list", "code-violation-list", "probate-list", "vacant-list",
          "absentee-list", "high-equity-list")  # the first five follow DISTRESS_TYPES
_LIST_CHANNELS = np.array([  # CHANNELS order: cold_call, sms, direct_mail, door_knock
    [0.40, 0.30, 0.25, 0.05], [0.35, 0.20, 0.20, 0.25], [0.30, 0.20, 0.40, 0.10],
    [0.25, 0.10, 0.55, 0.10], [0.20, 0.10, 0.50, 0.20], [0.30, 0.45, 0.25, 0.00],
    [0.25, 0.25, 0.50, 0.00]])
_CHANNEL_HOURS = np.array([[9, 19], [10, 20], [8, 16], [10, 18]])  # local hours a touch happens
_MAX_STEPS, _MIN = 6, 60
_BOOK_MAX_MIN, _QUAL_MIN, _DEAL_MIN = 7 * 1440, (1440, 6 * 1440), (2 * 1440, 12 * 1440)
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class DirtConfig:
    """How dirty the landing files are; rates are shares of rows (of cells for missing values)."""

    missing_rate: float = 0.02
    duplicate_rate: float = 0.005
    outlier_rate: float = 0.002
    malformed_rate: float = 0.002
    bad_files: int = 1

    @classmethod
    def clean(cls) -> DirtConfig:
        return cls(0.0, 0.0, 0.0, 0.0, 0)


@dataclass(frozen=True)
class MarketConfig:
    """The market to generate and how to land it; `end_date` is the data cutoff."""

    n_properties: int = 50_000
    seed: int = 7
    start_date: dt.date = dt.date(2024, 11, 1)
    end_date: dt.date = dt.date(2026, 10, 31)
    metros: tuple[str, ...] = ("Orlando", "Tampa", "Atlanta", "Phoenix", "Dallas", "Cleveland")
    zips_per_metro: int = 12
    file_format: str = "parquet"
    rows_per_file: int = 250_000
    dirt: DirtConfig = field(default_factory=DirtConfig)


@dataclass(frozen=True)
class SyntheticMarket:
    """The five clean source frames (contract columns and dtypes) and the per-contact ground truth."""

    properties: pl.DataFrame
    distress_events: pl.DataFrame
    contacts: pl.DataFrame
    outcomes: pl.DataFrame
    sales: pl.DataFrame
    ground_truth: pl.DataFrame

    def source(self, name: str) -> pl.DataFrame:
        if name not in SOURCES:
            raise KeyError(f"unknown source {name!r}; expected one of {SOURCES}")
        return getattr(self, name)


@dataclass(frozen=True)
class _Zips:
    metro: np.ndarray  # metro index of each ZIP
    code: list[str]
    ppsf: np.ndarray  # price per sqft of a good single-family house at start_date
    trend: np.ndarray
    weight: np.ndarray


def _days(d: dt.date) -> int:
    return (d - _EPOCH).days


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _metro_profile(name: str) -> tuple[str, str, float, float, int]:
    if name in _METROS:
        return _METROS[name]
    crc = zlib.crc32(name.encode())  # stable across runs, unlike hash()
    return (f"{100 + crc % 900:03d}", f"{200 + crc % 700:03d}", 250_000.0, 0.04, 6)


def _growth(trend: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Price index relative to start_date: the ZIP trend for 5 years, 3.5% a year before that."""
    recent, older = np.maximum(years, -5.0), np.minimum(years + 5.0, 0.0)
    return (1.0 + trend) ** recent * 1.035**older


def _draw_zips(cfg: MarketConfig, rng: np.random.Generator) -> _Zips:
    if not 1 <= cfg.zips_per_metro <= 100:
        raise ValueError("zips_per_metro must be between 1 and 100")
    metro, code, median, trend = [], [], [], []
    for m, name in enumerate(cfg.metros):
        zip3, _, med, tr, _ = _metro_profile(name)
        for suffix in np.sort(rng.choice(100, cfg.zips_per_metro, replace=False)):
            metro.append(m)
            code.append(f"{zip3}{suffix:02d}")
        median.append(med * rng.lognormal(0.0, 0.28, cfg.zips_per_metro))
        trend.append(np.clip(tr + rng.normal(0.0, 0.03, cfg.zips_per_metro), -0.04, 0.12))
    weight = rng.gamma(3.0, 1.0, len(code))
    return _Zips(np.array(metro), code, np.concatenate(median) / 1_450.0, np.concatenate(trend),
                 weight / weight.sum())


def _loan_balance(amount: np.ndarray, rate: np.ndarray, loan_day: np.ndarray,
                  day: np.ndarray) -> np.ndarray:
    """Balance of a 30-year fixed loan after the months paid between loan_day and day."""
    i = rate / 12.0
    paid = np.clip((day - loan_day) / 30.44, 0, 360)
    grow_n, grow_p = (1 + i) ** 360, (1 + i) ** paid
    return np.maximum(amount * (grow_n - grow_p) / (grow_n - 1), 0.0)


def _sale_terms(cond: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Kind of sale (SALE_CONDITIONS), condition after it and price relative to the as-is value."""
    n = len(cond)
    u = rng.random(n)
    kind = np.where(cond >= 3, np.where(u < 0.75, 2, 1), np.where(u < 0.42, 0, 1))
    new_cond = np.where(kind == 0, 0, cond)
    factor = np.select([kind == 0, kind == 2], [_COND_VALUE[0] / _COND_VALUE[cond]
                       * rng.uniform(1.0, 1.15, n), rng.uniform(0.75, 0.92, n)],
                       rng.uniform(0.92, 1.08, n))
    return kind, new_cond, factor


def _draw_owners(owner: np.ndarray, ptype: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    n = len(owner)
    occupied = rng.random(n) < _OCCUPIED_P[owner] * np.where(ptype == 3, 0.5, 1.0)
    oos = ~occupied & (rng.random(n) < _OOS_IF_ABSENT[owner])
    return occupied, oos, rng.integers(0, len(_FIRST), n), rng.integers(0, len(_LAST), n)


def _draw_properties(cfg: MarketConfig, zips: _Zips, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Initial state of every property, one entry per property (index = property number - 1)."""
    n, start = cfg.n_properties, _days(cfg.start_date)
    z = rng.choice(len(zips.code), n, p=zips.weight)
    ptype = rng.choice(5, n, p=_TYPE_P)
    age = np.clip(rng.gamma(2.2, 17.0, n), 0, 124)
    age = np.where(ptype == 4, np.clip(age, 15, 55), np.where(ptype == 1, np.minimum(age, 45), age))
    beds = np.clip(_BEDS_BASE[ptype] + rng.poisson(_BEDS_LAM[ptype]), 1, 12)
    sqft = np.clip(380 + 430 * beds - 3 * age + rng.normal(0, 260, n), 400, 9_000).round()
    baths = np.clip(np.round((0.55 * beds + 0.4 + 0.4 * (age < 30) + rng.normal(0, 0.35, n)) * 2) / 2, 1, 8)
    lot = (_LOT_MEDIAN[ptype] * rng.lognormal(0, 0.45, n)).round(-1)
    latent = -0.6 * (age - age.mean()) / max(age.std(), 1e-9) + 0.8 * rng.normal(0, 1, n)
    cond = 4 - np.searchsorted([-1.555, -0.842, 0.126, 1.2816], latent)  # 6/14/35/35/10 %
    value_index = zips.ppsf[z] * sqft * _TYPE_VALUE[ptype] * rng.lognormal(0, 0.15, n)
    owner = rng.choice(4, n, p=_OWNER_P)
    tenure = rng.gamma(_TENURE_GAMMA[owner, 0], _TENURE_GAMMA[owner, 1])
    tenure = np.where(rng.random(n) < 0.06, rng.uniform(0, 1.0, n), tenure)  # recent buyers
    tenure = np.clip(np.minimum(tenure, age + 0.5), 0.02, None)
    eff = start - rng.integers(1, 366, n)
    last_sale = eff - np.round(tenure * 365.25).astype(np.int64)
    sale_kind, sold_cond, factor = _sale_terms(cond, rng)
    recent = last_sale >= start - 365  # sales in the sales window set the condition at sale
    cond = np.where(recent, sold_cond, cond)
    years_at_sale = (last_sale - start) / 365.25
    sale_price = (value_index * _COND_VALUE[cond] * _growth(zips.trend[z], years_at_sale) * factor).round(-2)
    free = rng.random(n) < _sigmoid(-1.75 + 0.085 * tenure + 1.6 * (owner == 3) + 0.9 * (owner == 2)
                                    + 0.4 * (owner == 1))
    refi = tenure > 15
    loan_day = np.where(refi, eff - rng.integers(365, 12 * 365, n), last_sale)
    refi_value = value_index * _COND_VALUE[cond] * _growth(zips.trend[z], (loan_day - start) / 365.25)
    amount = np.where(refi, refi_value * rng.uniform(0.45, 0.8, n), sale_price * rng.uniform(0.75, 0.97, n))
    second_lien = np.where(rng.random(n) < 0.1, value_index * rng.uniform(0.05, 0.3, n), 0.0)
    occupied, oos, first, last = _draw_owners(owner, ptype, rng)
    return {
        "z": z, "ptype": ptype, "year_built": (cfg.start_date.year - age).astype(np.int64),
        "beds": beds.astype(np.int64), "baths": baths, "sqft": sqft.astype(np.int64),
        "lot": lot.astype(np.int64), "cond": cond, "value_index": value_index, "owner": owner,
        "occupied": occupied, "oos": oos, "first": first, "last": last, "eff": eff,
        "last_sale": last_sale, "sale_price": sale_price, "sale_kind": sale_kind,
        "loan": np.where(free, 0.0, amount), "rate": rng.uniform(0.03, 0.075, n),
        "loan_day": loan_day, "second_lien": np.where(free, 0.0, second_lien),
        "assess_ratio": rng.uniform(0.70, 0.95, n),
        "street_no": rng.integers(100, 10_000, n), "street": rng.integers(0, len(_STREETS), n),
        "suffix": rng.integers(0, len(_SUFFIXES), n),
    }


def _record(s: dict[str, np.ndarray], idx: np.ndarray, day: np.ndarray, zips: _Zips,
            start: int, rng: np.random.Generator) -> pl.DataFrame:
    """Internal property records of the properties `idx`, as known on `day`."""
    z, cond = s["z"][idx], s["cond"][idx]
    wobble = rng.lognormal(0, 0.03, len(idx))  # the valuation model's noise per record
    mv = (s["value_index"][idx] * _COND_VALUE[cond] * _growth(zips.trend[z], (day - start) / 365.25)
          * wobble).round(-2)
    mv = np.maximum(mv, 5_000.0)
    balance = (_loan_balance(s["loan"][idx], s["rate"][idx], s["loan_day"][idx], day)
               + s["second_lien"][idx]).round(0)
    cols = {k: s[k][idx] for k in ("z", "ptype", "beds", "baths", "sqft", "lot", "year_built", "cond",
                                   "owner", "occupied", "oos", "first", "last", "last_sale",
                                   "sale_price", "sale_kind")}
    return pl.DataFrame({"pidx": idx, "eff": day, **cols, "mv": mv,
                         "assessed": (mv * s["assess_ratio"][idx]).round(-2), "mortgage": balance,
                         "equity": mv - balance})


def _property_records(cfg: MarketConfig, s: dict[str, np.ndarray], zips: _Zips,
                      rng: np.random.Generator) -> pl.DataFrame:
    """Initial records plus 1-2 later full records for ~35% of properties."""
    n, start, end = cfg.n_properties, _days(cfg.start_date), _days(cfg.end_date)
    records = [_record(s, np.arange(n), s["eff"], zips, start, rng)]
    n_updates = (rng.random(n) < 0.35) * (1 + (rng.random(n) < 0.3))
    span = max(end - start, 60)
    first_day = start + rng.integers(0, span - 29, n)
    second_day = first_day + 1 + (rng.random(n) * (end - first_day)).astype(np.int64)
    s = dict(s)
    for u, day in ((1, first_day), (2, second_day)):
        idx = np.flatnonzero(n_updates >= u)
        kind = rng.choice(3, len(idx), p=[0.6, 0.25, 0.15])  # reassessment, sale, condition change
        s = {k: v.copy() for k, v in s.items()}
        sold, changed = idx[kind == 1], idx[kind == 2]
        s["assess_ratio"][idx] = rng.uniform(0.70, 0.95, len(idx))
        worse = rng.random(len(changed)) < 0.7
        s["cond"][changed] = np.where(worse, np.minimum(s["cond"][changed] + 1, 4), 1)
        owner = rng.choice(4, len(sold), p=[0.66, 0.30, 0.04, 0.0])
        s["owner"][sold] = owner
        occ, oos, first, last = _draw_owners(owner, s["ptype"][sold], rng)
        s["occupied"][sold], s["oos"][sold], s["first"][sold], s["last"][sold] = occ, oos, first, last
        sale_kind, new_cond, factor = _sale_terms(s["cond"][sold], rng)
        sold_day = day[sold]
        price = (s["value_index"][sold] * _COND_VALUE[new_cond] * factor
                 * _growth(zips.trend[s["z"][sold]], (sold_day - start) / 365.25)).round(-2)
        s["cond"][sold], s["sale_kind"][sold], s["sale_price"][sold] = new_cond, sale_kind, price
        s["last_sale"][sold] = sold_day
        cash = rng.random(len(sold)) < np.where(owner == 1, 0.55, 0.25)
        s["loan"][sold] = np.where(cash, 0.0, price * rng.uniform(0.75, 0.97, len(sold)))
        s["rate"][sold], s["loan_day"][sold] = rng.uniform(0.06, 0.075, len(sold)), sold_day
        s["second_lien"][sold] = 0.0
        records.append(_record(s, idx, day[idx], zips, start, rng))
    return pl.concat(records).sort("pidx", "eff")


def _distress_events(cfg: MarketConfig, rec0: pl.DataFrame, s: dict[str, np.ndarray],
                     rng: np.random.Generator) -> pl.DataFrame:
    """Events drawn from each property's initial state; internal codes, not yet contract rows."""
    start, end = _days(cfg.start_date), _days(cfg.end_date)
    mv, equity = rec0["mv"].to_numpy(), rec0["equity"].to_numpy()
    eq = np.clip(equity / mv, -0.5, 1.0)
    absent, owner, cond = ~s["occupied"], s["owner"], s["cond"]
    age, free = cfg.start_date.year - s["year_built"], rec0["mortgage"].to_numpy() <= 0
    tenure = (start - s["last_sale"]) / 365.25
    scores = np.stack([
        0.8 * absent + 0.5 * s["oos"] + 0.6 * (owner == 3) + 0.5 * free + 0.5 * (cond >= 3)
        - 0.4 * np.log(mv / np.median(mv)),
        np.where(free, -np.inf, 2.5 * (0.6 - eq) + 0.4 * (owner == 1) + 0.3 * absent),
        0.02 * age + 1.0 * (cond == 3) + 1.8 * (cond == 4) + 0.5 * absent,
        3.0 * (owner == 3) + 0.6 * (owner == 2) + 0.03 * tenure,
        1.0 * (cond == 3) + 2.0 * (cond == 4) + 1.5 * (owner == 3) + 0.7 * absent])
    weight = np.exp(scores - scores[np.isfinite(scores)].max())
    p = np.clip(_EVENT_TARGET[:, None] * weight / weight.mean(axis=1, keepdims=True), 0, 0.9)
    hit = rng.random(p.shape) < p
    count = hit * np.where(np.arange(5)[:, None] == 2, 1 + rng.poisson(0.5, p.shape), 1)
    etype, pidx = np.nonzero(count)
    reps = count[etype, pidx]
    etype, pidx = np.repeat(etype, reps), np.repeat(pidx, reps)
    m = len(pidx)
    day = rng.integers(start - 365, end + 1, m)
    resolved = day + rng.integers(14, 421, m)
    resolved = np.where((rng.random(m) < _RESOLVE_P[etype]) & (resolved <= end), resolved, -1)
    years = np.minimum(rng.geometric(0.5, m), 8)
    tax = etype == 0
    return pl.DataFrame({
        "pidx": pidx, "etype": etype, "day": day,
        "resolved": pl.Series(resolved).replace(-1, None),
        "tax_amount": np.where(tax, (years * 0.012 * mv[pidx] * rng.uniform(0.85, 1.15, m)).round(2), np.nan),
        "tax_years": np.where(tax, years, -1),
        "default_amount": np.where(etype == 1, (rec0["mortgage"].to_numpy()[pidx]
                                   * rng.uniform(0.03, 0.12, m) + 2_000).round(2), np.nan),
        "auction": np.where(etype == 1, day + rng.integers(60, 241, m), -1),
        "violation": np.where(etype == 2, rng.choice(5, m, p=[0.15, 0.2, 0.35, 0.18, 0.12]), -1),
    }).with_columns(pl.col("tax_amount", "default_amount").fill_nan(None),
                    pl.col("tax_years", "auction", "violation").replace(-1, None)
                    ).sort("day", "pidx", "etype", maintain_order=True)


def _draw_leads(cfg: MarketConfig, rec0: pl.DataFrame, s: dict[str, np.ndarray], events: pl.DataFrame,
                rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Which properties become leads, from which list and campaign, and when the work starts."""
    n, start, end = cfg.n_properties, _days(cfg.start_date), _days(cfg.end_date)
    first = events.group_by("pidx").agg(pl.col("day", "etype").sort_by("day", "etype").first())
    ev_day, ev_type = np.full(n, -1), np.full(n, -1)
    ev_day[first["pidx"].to_numpy()], ev_type[first["pidx"].to_numpy()] = first["day"], first["etype"]
    distressed = ev_type >= 0
    eq = rec0["equity"].to_numpy() / rec0["mv"].to_numpy()
    absent = ~s["occupied"]
    list_type = np.where(distressed, ev_type, np.where(absent, 5, 6))
    p_lead = np.where(distressed, 0.85, np.where(absent, 0.50, np.where(eq >= 0.5, 0.40, 0.12)))
    lead_day = np.where(distressed, np.maximum(ev_day, start) + rng.integers(3, 46, n),
                        rng.integers(start, end + 1, n))
    is_lead = (rng.random(n) < p_lead) & (lead_day <= end)
    pidx = np.flatnonzero(is_lead)
    order = np.lexsort((pidx, lead_day[pidx]))  # lead ids follow the start of the work
    pidx, day, lst = pidx[order], lead_day[pidx][order], list_type[pidx][order]
    month0 = cfg.start_date.year * 12 + cfg.start_date.month - 1
    d64 = (np.datetime64("1970-01-01") + day.astype("timedelta64[D]")).astype("datetime64[M]")
    month = d64.astype(np.int64) + 1970 * 12 - month0  # months since the start month
    launch = month - (month - lst) % 3  # each list is relaunched every quarter, staggered
    return {"pidx": pidx, "day": day, "list": lst, "launch": launch}


def _n_launches(cfg: MarketConfig) -> int:
    """Launch months from two months before the start month (lists are staggered) to the end month."""
    return (cfg.end_date.year - cfg.start_date.year) * 12 + cfg.end_date.month - cfg.start_date.month + 3


def _campaigns(cfg: MarketConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """Channel mix and sequence length of every (list, launch month) campaign."""
    n_launch = _n_launches(cfg)
    mix = np.concatenate([rng.dirichlet(30 * _LIST_CHANNELS[k] + 0.05, n_launch)  # near the list's prior
                          for k in range(len(_LISTS))])
    length = rng.integers(3, _MAX_STEPS + 1, len(mix))
    return mix, length, n_launch


def _schedule(cfg: MarketConfig, leads: dict[str, np.ndarray], zips: _Zips, s: dict[str, np.ndarray],
              rng: np.random.Generator) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    """Every scheduled step of every lead (booked or not, before or after the cutoff)."""
    mix, length, n_launch = _campaigns(cfg, rng)
    campaign = leads["list"] * n_launch + leads["launch"] + 2
    n_leads = len(campaign)
    seq_len = length[campaign]
    k = np.where(rng.random(n_leads) < 0.8, seq_len, rng.integers(1, seq_len + 1))
    gaps = np.concatenate([np.zeros((n_leads, 1), np.int64),
                           rng.integers(8, 22, (n_leads, _MAX_STEPS - 1))], axis=1)
    day = leads["day"][:, None] + np.cumsum(gaps, axis=1)
    cum_mix = np.cumsum(mix[campaign], axis=1)[:, None, :-1]
    channel = (rng.random((n_leads, _MAX_STEPS))[..., None] > cum_mix).sum(-1)  # a draw from the mix
    hours = _CHANNEL_HOURS[channel]
    local_min = rng.integers(hours[..., 0] * 60, hours[..., 1] * 60)
    offset = np.array([_metro_profile(m)[4] for m in cfg.metros])[zips.metro[s["z"][leads["pidx"]]]]
    t_sec = day * 86_400 + (local_min + offset[:, None] * 60) * _MIN
    step = np.broadcast_to(np.arange(1, _MAX_STEPS + 1), (n_leads, _MAX_STEPS))
    valid = step <= k[:, None]
    lead, col = np.nonzero(valid)
    cells = pl.DataFrame({"cell": lead * _MAX_STEPS + col, "lead": lead, "step": col + 1,
                          "pidx": leads["pidx"][lead], "day": t_sec[lead, col] // 86_400,  # UTC date
                          "t": t_sec[lead, col],
                          "channel": channel[lead, col], "campaign": campaign[lead]})
    return cells, {"valid": valid, "t": t_sec}


def _as_of_features(cells: pl.DataFrame, records: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Property record and open distress events as known on each step's date."""
    rec = records.select("pidx", "eff", "mv", "equity", "cond", "owner", "occupied", "oos", "last_sale")
    out = cells.sort("day").join_asof(rec.sort("eff"), left_on="day", right_on="eff", by="pidx",
                                      strategy="backward", check_sortedness=False).sort("cell")
    is_fc = (pl.col("etype") == 1) & (pl.col("auction") >= pl.col("day"))
    open_ev = (cells.select("cell", "pidx", "day").join(events, on="pidx", how="inner")
               .filter((pl.col("day_right") <= pl.col("day"))
                       & (pl.col("resolved").is_null() | (pl.col("resolved") > pl.col("day"))))
               .group_by("cell").agg(
                   *[(pl.col("etype") == i).sum().alias(name) for i, name in enumerate(DISTRESS_TYPES)],
                   pl.col("tax_years").filter(pl.col("etype") == 0).max().alias("tax_years"),
                   (pl.col("auction") - pl.col("day")).filter(is_fc).min().alias("days_to_auction"),
                   pl.col("etype").n_unique().alias("distress_types")))
    return out.join(open_ev, on="cell", how="left", maintain_order="left").with_columns(
        pl.col(*DISTRESS_TYPES, "tax_years", "distress_types").fill_null(0),
        pl.col("days_to_auction").fill_null(-1))


def _conversion_probabilities(f: pl.DataFrame, latent: np.ndarray) -> tuple[np.ndarray, ...]:
    """p_book, p_qual (given booked), p_deal (given qualified) of each step; see the module doc."""
    c, q, d = BOOKING_COEFFICIENTS, QUALIFY_COEFFICIENTS, DEAL_COEFFICIENTS
    col = {name: f[name].to_numpy().astype(np.float64) for name in (
        "mv", "equity", "cond", "owner", "occupied", "oos", "day", "last_sale", "channel", "step",
        *DISTRESS_TYPES, "tax_years", "days_to_auction", "distress_types")}
    eq = np.clip(col["equity"] / col["mv"], -0.5, 1.0)
    tax, fc, probate = col["tax_delinquency"] > 0, col["foreclosure"] > 0, col["probate"] > 0
    vacant, absent, owner, cond = col["vacancy"] > 0, col["occupied"] == 0, col["owner"], col["cond"]
    years = np.maximum(col["day"] - col["last_sale"], 0) / 365.25
    estate, llc = owner == 3, owner == 1
    auction = col["days_to_auction"]
    auction_soon, auction_later = (auction >= 0) & (auction <= 45), (auction > 45) & (auction <= 90)
    channel = col["channel"].astype(np.int64)
    channel_effect = np.where(absent, np.array([c[f"absentee_{ch}"] for ch in CHANNELS])[channel],
                              np.array([c[ch] for ch in CHANNELS])[channel])
    step_effect = np.array([0.0, *(c[f"step_{k}"] for k in range(2, _MAX_STEPS + 1))])[
        col["step"].astype(np.int64) - 1]
    distress = (c["tax_delinquent"] * tax + c["tax_2y_plus"] * (col["tax_years"] >= 2) + c["probate_active"] * probate
                + c["vacant"] * vacant + c["vacant_x_absentee"] * (vacant & absent)
                + c["open_violations"] * np.minimum(col["code_violation"], 3)
                + c["stacked_distress"] * (col["distress_types"] >= 2))
    equity_gate = np.where(eq >= 0.35, 1.0, c["distress_scale_below_35pct_equity"])
    logit = (c["base"] + c["equity_above_35pct"] * np.maximum(eq - 0.35, 0.0) + c["underwater"] * (eq < 0)
             + distress * equity_gate + c["foreclosure_active"] * fc + c["auction_within_45d"] * auction_soon
             + c["auction_46_90d"] * auction_later + c["owned_under_2y"] * (years < 2)
             + c["out_of_state"] * col["oos"] + c["estate"] * estate
             + c["trust"] * (owner == 2) + c["llc"] * llc + c["owned_20y_plus"] * (years >= 20)
             + c["condition_poor"] * (cond == 3) + c["condition_distressed"] * (cond == 4)
             + channel_effect + step_effect + latent)
    any_distress = tax | fc | probate | vacant | (col["code_violation"] > 0)
    q_logit = (q["base"] + q["equity_40pct_plus"] * (eq >= 0.4) + q["underwater"] * (eq < 0)
               + q["any_distress"] * any_distress + q["auction_within_45d"] * auction_soon
               + q["estate"] * estate + q["llc"] * llc + latent)
    d_logit = (d["base"] + d["condition_poor_or_worse"] * (cond >= 3)
               + d["spread"] * ((eq >= 0.5) & (cond >= 3))
               + d["value_100k_to_350k"] * ((col["mv"] >= 100_000) & (col["mv"] <= 350_000))
               + d["foreclosure_with_equity"] * (fc & (eq >= 0.35)) + d["estate"] * estate + d["llc"] * llc)
    return _sigmoid(logit), _sigmoid(q_logit), _sigmoid(d_logit)


def _delay_cdfs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Booking-delay pmf and the cdfs (in whole minutes) of booking+qualify and +deal delays."""
    book = np.exp(-np.arange(_BOOK_MAX_MIN) / 2_160.0)  # front-loaded: mean ~1.5 days
    book /= book.sum()
    qual, deal = (np.where(np.arange(hi + 1) >= lo, 1.0 / (hi - lo + 1), 0.0)
                  for lo, hi in (_QUAL_MIN, _DEAL_MIN))

    def convolve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        size = len(a) + len(b) - 1
        return np.clip(np.fft.irfft(np.fft.rfft(a, size) * np.fft.rfft(b, size), size), 0, None)

    bq = convolve(book, qual)
    cdf_bq, cdf_bqd = np.cumsum(bq), np.cumsum(convolve(bq, deal))
    return book, cdf_bq / cdf_bq[-1], cdf_bqd / cdf_bqd[-1]


def _window_probability(cdf: np.ndarray, gap_min: np.ndarray, window_days: int) -> np.ndarray:
    """P(gap + delay < window): delays are whole minutes and the booking adds 1-59 seconds."""
    slack = window_days * 1440 - gap_min - 1
    return np.where(slack < 0, 0.0, cdf[np.clip(slack, 0, len(cdf) - 1)])


def _ground_truth(p: np.ndarray, q: np.ndarray, r: np.ndarray, t: np.ndarray, cdf_bq: np.ndarray,
                  cdf_bqd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact P(qualified within 14 days) and P(deal within 30 days) of each (lead, step) cell;
    p is 0 for steps beyond a lead's sequence."""
    qual, deal = np.zeros_like(p), np.zeros_like(p)
    survive = np.ones_like(p)  # P(no booking at steps s..m-1)
    for offset in range(4):  # a chain starting 4 steps (>= 32 days) later cannot land in 30 days
        m = np.arange(_MAX_STEPS) + offset
        ok = m < _MAX_STEPS
        mm = np.minimum(m, _MAX_STEPS - 1)
        pm, qm, rm = p[:, mm] * ok, q[:, mm], r[:, mm]
        gap = (t[:, mm] - t) // _MIN
        qual += survive * pm * qm * _window_probability(cdf_bq, gap, 14)
        deal += survive * pm * qm * rm * _window_probability(cdf_bqd, gap, 30)
        survive = survive * (1.0 - pm)
    return qual, deal


def _id(prefix: str, index: pl.Expr | None = None) -> pl.Expr:
    """P00000001-style ids from a 0-based index column (row number by default)."""
    index = pl.int_range(pl.len()) if index is None else index
    return pl.format(prefix + "{}", (index + 1).cast(pl.String).str.zfill(8))


def _utc(seconds: pl.Expr) -> pl.Expr:
    return (seconds * 1_000_000).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def _decode(codes: str, values: tuple[str, ...] | list[str]) -> pl.Expr:
    return pl.lit(pl.Series(list(values))).gather(pl.col(codes))


def _owner_name() -> pl.Expr:
    first, last = _decode("first", _FIRST), _decode("last", _LAST)
    llc = pl.lit(pl.Series(list(_LLC_SUFFIXES))).gather(pl.col("first") % len(_LLC_SUFFIXES))
    return (pl.when(pl.col("owner") == 0).then(pl.concat_str(first, last, separator=" "))
            .when(pl.col("owner") == 1).then(pl.concat_str(last, llc, separator=" "))
            .when(pl.col("owner") == 2).then(pl.concat_str(last, pl.lit("Family Trust"), separator=" "))
            .otherwise(pl.concat_str(pl.lit("Estate of"), first, last, separator=" ")))


def _to_contract(df: pl.DataFrame, name: str) -> pl.DataFrame:
    contract = CONTRACTS[name]
    return df.select([pl.col(c).cast(t) for c, t in contract.polars_schema.items()])


def _properties_frame(records: pl.DataFrame, s: dict[str, np.ndarray], zips: _Zips,
                      cfg: MarketConfig) -> pl.DataFrame:
    pidx = records["pidx"].to_numpy()
    address = pl.DataFrame({"no": s["street_no"][pidx], "street": s["street"][pidx],
                            "sfx": s["suffix"][pidx]})
    address = address.select(pl.concat_str(pl.col("no").cast(pl.String), _decode("street", _STREETS),
                                           _decode("sfx", _SUFFIXES), separator=" ")).to_series()
    metro_of_zip = [cfg.metros[m] for m in zips.metro]
    out = records.with_columns(address=address).select(
        _id("P", pl.col("pidx")).alias("property_id"), pl.col("eff").cast(pl.Date).alias("effective_date"),
        _decode("z", metro_of_zip).alias("metro"), _decode("z", zips.code).alias("zip_code"),
        "address", _owner_name().alias("owner_name"), _decode("ptype", PROPERTY_TYPES).alias("property_type"),
        "beds", "baths", "sqft", pl.col("lot").alias("lot_sqft"), "year_built",
        _decode("cond", CONDITIONS).alias("condition"), pl.col("assessed").alias("assessed_value"),
        pl.col("mv").alias("market_value"), pl.col("last_sale").cast(pl.Date).alias("last_sale_date"),
        pl.col("sale_price").alias("last_sale_price"), pl.col("mortgage").alias("mortgage_balance"),
        pl.col("equity").alias("estimated_equity"), _decode("owner", OWNER_TYPES).alias("owner_type"),
        pl.col("occupied").alias("owner_occupied"), pl.col("oos").alias("out_of_state_owner"))
    return _to_contract(out.sort("effective_date", "property_id"), "properties")


def _sales_frame(records: pl.DataFrame, zips: _Zips, cfg: MarketConfig) -> pl.DataFrame:
    """Every recorded sale in [start - 365 days, end], once, with the facts of its first record."""
    window = _days(cfg.start_date) - 365
    sales = (records.filter(pl.col("last_sale") >= window)
             .unique(["pidx", "last_sale"], keep="first", maintain_order=True)
             .sort("last_sale", "pidx"))
    metro_of_zip = [cfg.metros[m] for m in zips.metro]
    out = sales.select(
        _id("S").alias("sale_id"), _id("P", pl.col("pidx")).alias("property_id"),
        _decode("z", metro_of_zip).alias("metro"), _decode("z", zips.code).alias("zip_code"),
        pl.col("last_sale").cast(pl.Date).alias("sale_date"), pl.col("sale_price"),
        _decode("ptype", PROPERTY_TYPES).alias("property_type"), "beds", "baths", "sqft", "year_built",
        _decode("sale_kind", SALE_CONDITIONS).alias("condition_at_sale"))
    return _to_contract(out, "sales")


def _events_frame(events: pl.DataFrame) -> pl.DataFrame:
    out = events.select(
        _id("E").alias("event_id"), _id("P", pl.col("pidx")).alias("property_id"),
        _decode("etype", DISTRESS_TYPES).alias("event_type"), pl.col("day").cast(pl.Date).alias("event_date"),
        pl.col("resolved").cast(pl.Date).alias("resolved_date"),
        pl.col("tax_amount").alias("tax_amount_owed"),
        pl.col("tax_years").alias("tax_years_delinquent"), "default_amount",
        pl.col("auction").cast(pl.Date).alias("auction_date"),
        _decode("violation", VIOLATION_TYPES).alias("violation_type"))  # null codes stay null
    return _to_contract(out, "distress_events")


def _outreach(cfg: MarketConfig, leads: dict[str, np.ndarray], feats: pl.DataFrame,
              sched: dict[str, np.ndarray], rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Draw bookings and their chains: the contacts made (with their ground truth) and outcome rows."""
    end_cut = (_days(cfg.end_date) + 1) * 86_400
    n_leads = len(leads["pidx"])
    latent = rng.normal(0, BOOKING_COEFFICIENTS["latent_sd"], n_leads)
    shape, flat = (n_leads, _MAX_STEPS), feats["cell"].to_numpy()
    p, q, r = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    p.flat[flat], q.flat[flat], r.flat[flat] = _conversion_probabilities(
        feats, latent[feats["lead"].to_numpy()])
    valid, t = sched["valid"], sched["t"]
    book_pmf, cdf_bq, cdf_bqd = _delay_cdfs()
    p_qual14, p_deal30 = _ground_truth(p, q, r, t, cdf_bq, cdf_bqd)
    booked = valid & (rng.random(shape) < p)
    booking_step = np.where(booked.any(axis=1), booked.argmax(axis=1), _MAX_STEPS)
    made = valid & (np.arange(_MAX_STEPS) <= booking_step[:, None]) & (t < end_cut)
    lead_b = np.flatnonzero(booked.any(axis=1) & made[np.arange(n_leads), np.minimum(booking_step, 5)])
    sb, nb = booking_step[lead_b], len(lead_b)
    # times in seconds: whole-minute delays plus 1-59 s, each outcome strictly inside its window
    t_book = t[lead_b, sb] + rng.choice(_BOOK_MAX_MIN, nb, p=book_pmf) * _MIN + rng.integers(1, _MIN, nb)
    t_qual = t_book + rng.integers(_QUAL_MIN[0], _QUAL_MIN[1] + 1, nb) * _MIN
    t_deal = t_qual + rng.integers(_DEAL_MIN[0], _DEAL_MIN[1] + 1, nb) * _MIN
    is_qual = rng.random(nb) < q[lead_b, sb]
    is_deal = is_qual & (rng.random(nb) < r[lead_b, sb])
    cell_row = np.searchsorted(flat, lead_b * _MAX_STEPS + sb)  # feats is sorted by cell
    mv, cond = feats["mv"].to_numpy()[cell_row], feats["cond"].to_numpy()[cell_row]
    arv = mv / _COND_VALUE[cond] * _COND_VALUE[0] * rng.uniform(1.0, 1.1, nb)  # after-repair value
    repairs = arv * _REPAIR_SHARE[cond] * rng.uniform(0.8, 1.2, nb)
    purchase = np.maximum(arv * rng.uniform(0.65, 0.75, nb) - repairs, 5_000).round(-2)
    fee = np.clip(arv * rng.uniform(0.03, 0.09, nb), 5_000, 40_000).round(-2)
    chains = pl.DataFrame({
        "lead": np.tile(lead_b, 3), "pidx": np.tile(leads["pidx"][lead_b], 3),
        "otype": np.repeat([0, 1, 2], nb), "t": np.concatenate([t_book, t_qual, t_deal]),
        "keep": np.concatenate([np.ones(nb, bool), is_qual, is_deal]),
        "purchase_price": np.concatenate([np.full(2 * nb, np.nan), purchase]),
        "assignment_fee": np.concatenate([np.full(2 * nb, np.nan), fee]),
    }).filter(pl.col("keep") & (pl.col("t") < end_cut)).sort("t", "lead", "otype")
    cells = feats.with_columns(p_booked_call_7d=p.flat[flat], p_qualified_14d=p_qual14.flat[flat],
                               p_deal_30d=p_deal30.flat[flat])
    return cells.filter(pl.Series(made.flat[flat])).sort("t", "lead"), chains


def _contacts_frame(cells: pl.DataFrame, cfg: MarketConfig, zips: _Zips, s: dict[str, np.ndarray],
                    rng: np.random.Generator) -> pl.DataFrame:
    out = cells.select(
        _id("C").alias("contact_id"), _id("L", pl.col("lead")).alias("lead_id"),
        _id("P", pl.col("pidx")).alias("property_id"),
        _utc(pl.col("t")).alias("contact_time"), _decode("channel", CHANNELS).alias("channel"),
        _decode("campaign", _campaign_names(cfg)).alias("campaign_id"), pl.col("step").alias("campaign_step"),
        pl.when(pl.col("channel") <= 1)  # only calls and texts dial a number
        .then(pl.lit(_phones(cfg, zips, s, rng)).gather(pl.col("pidx"))).alias("owner_phone"))
    return _to_contract(out, "contacts")


def _outcomes_frame(chains: pl.DataFrame) -> pl.DataFrame:
    out = chains.select(
        _id("O").alias("outcome_id"), _id("L", pl.col("lead")).alias("lead_id"),
        _id("P", pl.col("pidx")).alias("property_id"),
        _decode("otype", OUTCOME_TYPES).alias("outcome_type"), _utc(pl.col("t")).alias("outcome_time"),
        pl.col("purchase_price", "assignment_fee").fill_nan(None))
    return _to_contract(out, "outcomes")


def _phones(cfg: MarketConfig, zips: _Zips, s: dict[str, np.ndarray], rng: np.random.Generator) -> pl.Series:
    """One phone per owner: the metro's area code, another state's for out-of-state owners."""
    n = cfg.n_properties
    local = np.array([_metro_profile(m)[1] for m in cfg.metros])[zips.metro[s["z"]]]
    other = np.array(_OTHER_STATE_AREA_CODES)[rng.integers(0, len(_OTHER_STATE_AREA_CODES), n)]
    line = pl.Series(rng.integers(0, 10_000, n)).cast(pl.String).str.zfill(4)
    return pl.Series(np.where(s["oos"], other, local)) + "-555-" + line


def _campaign_names(cfg: MarketConfig) -> list[str]:
    """CMP-<launch year>-<launch month>-<list>, in the campaign index order of `_campaigns`."""
    month0 = cfg.start_date.year * 12 + cfg.start_date.month - 1
    return [f"CMP-{(month0 + launch - 2) // 12}-{(month0 + launch - 2) % 12 + 1:02d}-{lst}"
            for lst in _LISTS for launch in range(_n_launches(cfg))]


def generate_market(config: MarketConfig) -> SyntheticMarket:
    """Clean, contract-conforming frames (no dirt applied)."""
    if not 1 <= config.n_properties <= 5_000_000:
        raise ValueError("n_properties must be between 1 and 5,000,000")
    if config.end_date <= config.start_date + dt.timedelta(days=60):
        raise ValueError("end_date must be more than 60 days after start_date")
    rngs = [np.random.default_rng(c) for c in np.random.SeedSequence(config.seed).spawn(8)]
    zips = _draw_zips(config, rngs[0])
    s = _draw_properties(config, zips, rngs[1])
    records = _property_records(config, s, zips, rngs[2])
    rec0 = records.unique("pidx", keep="first", maintain_order=True).sort("pidx")
    events = _distress_events(config, rec0, s, rngs[3])
    leads = _draw_leads(config, rec0, s, events, rngs[4])
    cells, sched = _schedule(config, leads, zips, s, rngs[5])
    feats = _as_of_features(cells, records, events.rename({"day": "day_right"}))
    cells, chains = _outreach(config, leads, feats, sched, rngs[6])
    contacts = _contacts_frame(cells, config, zips, s, rngs[7])
    truth = cells.select(contacts["contact_id"], *GROUND_TRUTH_COLUMNS)
    return SyntheticMarket(
        properties=_properties_frame(records, s, zips, config), distress_events=_events_frame(events),
        contacts=contacts, outcomes=_outcomes_frame(chains), sales=_sales_frame(records, zips, config),
        ground_truth=truth)


def write_market(config: MarketConfig, landing_root: Path, ground_truth_dir: Path) -> dict[str, list[Path]]:
    """Generate, apply dirt, write landing_root/<source>/<source>-part-0001.<ext> files (sorted by the
    source's time column, then key), plus bad files, plus ground_truth_dir/contact_probabilities.parquet
    and ground_truth_dir/market_config.json. Returns the written landing files per source."""
    if config.file_format not in ("parquet", "csv"):
        raise ValueError(f"file_format must be 'parquet' or 'csv', not {config.file_format!r}")
    market = generate_market(config)
    written = write_landing(market, config, Path(landing_root))
    gt_dir = Path(ground_truth_dir)
    gt_dir.mkdir(parents=True, exist_ok=True)
    market.ground_truth.write_parquet(gt_dir / "contact_probabilities.parquet", compression="zstd",
                                      statistics=True)
    meta = {"config": _jsonable(asdict(config)),
            "row_counts": {name: market.source(name).height for name in SOURCES},
            "booking_coefficients": BOOKING_COEFFICIENTS, "qualify_coefficients": QUALIFY_COEFFICIENTS,
            "deal_coefficients": DEAL_COEFFICIENTS}
    (gt_dir / "market_config.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return written


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value
