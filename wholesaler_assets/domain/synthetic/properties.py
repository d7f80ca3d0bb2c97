"""Properties, owners and loans of the synthetic market: the initial state of every property and its
later records (reassessments, sales, condition changes), as internal codes."""

from __future__ import annotations

import numpy as np
import polars as pl

from wholesaler_assets.domain.synthetic.config import MarketConfig, epoch_day
from wholesaler_assets.domain.synthetic.conversion import sigmoid
from wholesaler_assets.domain.synthetic.geography import Zips, metro_profile, price_growth

FIRST_NAMES = tuple("Maria James Linda Robert Patricia John Barbara Michael Susan David Karen William Nancy "
               "Richard Betty Joseph Dorothy Thomas Sandra Charles Ashley Daniel Donna Carlos Emily "
               "Kevin Rosa Anthony Gloria Luis Tamika Andre".split())
LAST_NAMES = tuple("Lopez Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
              "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez "
              "Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores "
              "Green".split())
STREETS = tuple("Oak Maple Pine Cedar Elm Washington Lake Hill Park Main Sunset Lincoln Jackson Magnolia "
                 "Willow Church Mill River Highland Dogwood Palm Orange Peachtree Mesa Cactus Bluebonnet "
                 "Euclid Lorain Juniper Hickory".split())
STREET_SUFFIXES = tuple("St Ave Dr Ln Rd Ct Blvd Way Pl Cir".split())
LLC_SUFFIXES = ("Holdings LLC", "Properties LLC", "Capital LLC", "Investments LLC")
_OTHER_STATE_AREA_CODES = ("212", "312", "310", "617", "718", "917", "201", "415", "703", "646")

_TYPE_P = np.array([0.70, 0.10, 0.09, 0.07, 0.04])  # PROPERTY_TYPES order
_BEDS_BASE, _BEDS_LAM = np.array([2, 1, 2, 4, 2]), np.array([1.1, 0.6, 0.8, 1.5, 0.4])
_TYPE_VALUE = np.array([1.0, 0.88, 0.93, 0.85, 0.45])
_LOT_MEDIAN = np.array([7_500, 0, 2_200, 8_500, 5_000])
CONDITION_VALUE = np.array([1.10, 1.0, 0.92, 0.78, 0.62])  # CONDITIONS order
_OWNER_P = np.array([0.78, 0.12, 0.06, 0.04])  # OWNER_TYPES order
_TENURE_GAMMA = np.array([[1.3, 10.0], [1.2, 4.0], [2.5, 9.0], [3.0, 10.0]])
_OCCUPIED_P, _OOS_IF_ABSENT = np.array([0.80, 0.0, 0.6, 0.15]), np.array([0.25, 0.35, 0.3, 0.3])


def _loan_balance(amount: np.ndarray, rate: np.ndarray, loan_day: np.ndarray,
                  day: np.ndarray) -> np.ndarray:
    """Balance of a 30-year fixed loan after the months paid between loan_day and day."""
    i = rate / 12.0
    paid = np.clip((day - loan_day) / 30.44, 0, 360)
    grow_n, grow_p = (1 + i) ** 360, (1 + i) ** paid
    return np.maximum(amount * (grow_n - grow_p) / (grow_n - 1), 0.0)


def renovated_value(value_index: np.ndarray, growth: np.ndarray) -> np.ndarray:
    """The true after-repair value: the house in excellent condition, at the ZIP's prices of the day
    (the ground truth ARV is judged against, `ground_truth/renovated_values.parquet`)."""
    return value_index * CONDITION_VALUE[0] * growth


def _sale_terms(cond: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Kind of sale (SALE_CONDITIONS), condition after it and price as a share of the value index.

    A renovated sale is priced around the renovated value (condition excellent, +/-5%); an average
    sale around the as-is value; a distressed sale 8-25% under it. (The renovated price once also
    carried the old condition's factor, pricing renovated sales 20-30% over the renovated value, and
    ARV with them.)"""
    n = len(cond)
    u = rng.random(n)
    kind = np.where(cond >= 3, np.where(u < 0.75, 2, 1), np.where(u < 0.42, 0, 1))
    new_cond = np.where(kind == 0, 0, cond)
    share = np.select([kind == 0, kind == 2], [CONDITION_VALUE[0] * rng.uniform(0.95, 1.05, n),
                      CONDITION_VALUE[cond] * rng.uniform(0.75, 0.92, n)],
                      CONDITION_VALUE[cond] * rng.uniform(0.92, 1.08, n))
    return kind, new_cond, share


def _draw_owners(owner: np.ndarray, ptype: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    n = len(owner)
    occupied = rng.random(n) < _OCCUPIED_P[owner] * np.where(ptype == 3, 0.5, 1.0)
    oos = ~occupied & (rng.random(n) < _OOS_IF_ABSENT[owner])
    return occupied, oos, rng.integers(0, len(FIRST_NAMES), n), rng.integers(0, len(LAST_NAMES), n)


def draw_properties(cfg: MarketConfig, zips: Zips, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Initial state of every property, one entry per property (index = property number - 1)."""
    n, start = cfg.n_properties, epoch_day(cfg.start_date)
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
    sale_kind, sold_cond, price_share = _sale_terms(cond, rng)
    recent = last_sale >= start - 365  # sales in the sales window set the condition at sale
    cond = np.where(recent, sold_cond, cond)
    years_at_sale = (last_sale - start) / 365.25
    sale_price = (value_index * price_share * price_growth(zips.trend[z], years_at_sale)).round(-2)
    free = rng.random(n) < sigmoid(-1.75 + 0.085 * tenure + 1.6 * (owner == 3) + 0.9 * (owner == 2)
                                    + 0.4 * (owner == 1))
    refi = tenure > 15
    loan_day = np.where(refi, eff - rng.integers(365, 12 * 365, n), last_sale)
    refi_value = value_index * CONDITION_VALUE[cond] * price_growth(zips.trend[z], (loan_day - start) / 365.25)
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
        "street_no": rng.integers(100, 10_000, n), "street": rng.integers(0, len(STREETS), n),
        "suffix": rng.integers(0, len(STREET_SUFFIXES), n),
    }


def _record(s: dict[str, np.ndarray], idx: np.ndarray, day: np.ndarray, zips: Zips,
            start: int, rng: np.random.Generator) -> pl.DataFrame:
    """Internal property records of the properties `idx`, as known on `day`."""
    z, cond = s["z"][idx], s["cond"][idx]
    wobble = rng.lognormal(0, 0.03, len(idx))  # the valuation model's noise per record
    growth = price_growth(zips.trend[z], (day - start) / 365.25)
    mv = (s["value_index"][idx] * CONDITION_VALUE[cond] * growth * wobble).round(-2)
    mv = np.maximum(mv, 5_000.0)
    balance = (_loan_balance(s["loan"][idx], s["rate"][idx], s["loan_day"][idx], day)
               + s["second_lien"][idx]).round(0)
    cols = {k: s[k][idx] for k in ("z", "ptype", "beds", "baths", "sqft", "lot", "year_built", "cond",
                                   "owner", "occupied", "oos", "first", "last", "last_sale",
                                   "sale_price", "sale_kind")}
    return pl.DataFrame({"pidx": idx, "eff": day, **cols, "mv": mv,
                         "assessed": (mv * s["assess_ratio"][idx]).round(-2), "mortgage": balance,
                         "equity": mv - balance, "renovated": renovated_value(s["value_index"][idx], growth),
                         "zip_trend": zips.trend[z]})


def property_records(cfg: MarketConfig, s: dict[str, np.ndarray], zips: Zips,
                      rng: np.random.Generator) -> pl.DataFrame:
    """Initial records plus 1-2 later full records for ~35% of properties."""
    n, start, end = cfg.n_properties, epoch_day(cfg.start_date), epoch_day(cfg.end_date)
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
        sale_kind, new_cond, price_share = _sale_terms(s["cond"][sold], rng)
        sold_day = day[sold]
        price = (s["value_index"][sold] * price_share
                 * price_growth(zips.trend[s["z"][sold]], (sold_day - start) / 365.25)).round(-2)
        s["cond"][sold], s["sale_kind"][sold], s["sale_price"][sold] = new_cond, sale_kind, price
        s["last_sale"][sold] = sold_day
        cash = rng.random(len(sold)) < np.where(owner == 1, 0.55, 0.25)
        s["loan"][sold] = np.where(cash, 0.0, price * rng.uniform(0.75, 0.97, len(sold)))
        s["rate"][sold], s["loan_day"][sold] = rng.uniform(0.06, 0.075, len(sold)), sold_day
        s["second_lien"][sold] = 0.0
        records.append(_record(s, idx, day[idx], zips, start, rng))
    return pl.concat(records).sort("pidx", "eff")


def draw_phones(cfg: MarketConfig, zips: Zips, s: dict[str, np.ndarray], rng: np.random.Generator) -> pl.Series:
    """One phone per owner: the metro's area code, another state's for out-of-state owners."""
    n = cfg.n_properties
    local = np.array([metro_profile(m)[1] for m in cfg.metros])[zips.metro[s["z"]]]
    other = np.array(_OTHER_STATE_AREA_CODES)[rng.integers(0, len(_OTHER_STATE_AREA_CODES), n)]
    line = pl.Series(rng.integers(0, 10_000, n)).cast(pl.String).str.zfill(4)
    return pl.Series(np.where(s["oos"], other, local)) + "-555-" + line
