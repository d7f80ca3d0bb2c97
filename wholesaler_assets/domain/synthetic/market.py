"""A synthetic wholesaler market: properties, distress, outreach, outcomes and comparable sales.

The generator makes the five sources of `contracts/sources.py` (`io/synthetic_files.py` lands them
as dirty files) for a market of metros and ZIP codes
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
  days after that (purchase price ~65-75% of ARV minus repairs). Nothing after `end_date` is made.
- sales: every recorded sale in [start_date - 365 days, end_date] (~5-7% of properties a year),
  renovated (~35%, priced around the renovated value: the excellent-condition value +/-5%), average
  (around the as-is value) or distressed (8-25% under it), with the property facts at the sale.
- renovated values (ground truth of ARV): each property record's value in excellent condition at
  the ZIP's prices of its effective date (a distressed house's is ~1.8x its as-is value).

How a contact converts, and the exact probabilities of its labels (the ground truth), is the
conversion function documented in `conversion.py`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from wholesaler_assets.domain.contracts.sources import SOURCES
from wholesaler_assets.domain.synthetic.config import MarketConfig, epoch_day
from wholesaler_assets.domain.synthetic.conversion import GROUND_TRUTH_COLUMNS
from wholesaler_assets.domain.synthetic.distress import draw_distress_events
from wholesaler_assets.domain.synthetic.frames import (
    contacts_frame,
    events_frame,
    outcomes_frame,
    properties_frame,
    renovated_values_frame,
    sales_frame,
)
from wholesaler_assets.domain.synthetic.geography import draw_zips
from wholesaler_assets.domain.synthetic.outreach import as_of_features, draw_bookings, draw_leads, schedule_steps
from wholesaler_assets.domain.synthetic.properties import draw_phones, draw_properties, property_records
from wholesaler_assets.domain.synthetic.shifts import check_shift, extra_foreclosures, shocked_records


@dataclass(frozen=True)
class SyntheticMarket:
    """The five clean source frames (contract columns and dtypes) and the ground truth: per contact
    (the label probabilities) and per property record (the true renovated value, ARV's target)."""

    properties: pl.DataFrame
    distress_events: pl.DataFrame
    contacts: pl.DataFrame
    outcomes: pl.DataFrame
    sales: pl.DataFrame
    ground_truth: pl.DataFrame
    renovated_values: pl.DataFrame

    def source(self, name: str) -> pl.DataFrame:
        if name not in SOURCES:
            raise KeyError(f"unknown source {name!r}; expected one of {SOURCES}")
        return getattr(self, name)


def generate_market(config: MarketConfig) -> SyntheticMarket:
    """Clean, contract-conforming frames (no dirt applied)."""
    if not 1 <= config.n_properties <= 5_000_000:
        raise ValueError("n_properties must be between 1 and 5,000,000")
    if config.end_date <= config.start_date + dt.timedelta(days=60):
        raise ValueError("end_date must be more than 60 days after start_date")
    rngs = _rngs(config)
    zips = draw_zips(config, rngs[0])
    s = draw_properties(config, zips, rngs[1])
    check_shift(config.shift, config.start_date, config.end_date)
    end_day = epoch_day(config.end_date)
    records = shocked_records(property_records(config, s, zips, rngs[2]), zips.metro, config.shift, end_day)
    rec0 = records.unique("pidx", keep="first", maintain_order=True).sort("pidx")
    events = extra_foreclosures(draw_distress_events(config, rec0, s, rngs[3]), rec0, zips.metro, config.shift,
                                end_day, config.seed)
    leads = draw_leads(config, rec0, s, events, rngs[4])
    cells, sched = schedule_steps(config, leads, zips, s, rngs[5])
    feats = as_of_features(cells, records, events.rename({"day": "day_right"}))
    cells, chains = draw_bookings(config, leads, feats, sched, rngs[6])
    contacts = contacts_frame(cells, config, draw_phones(config, zips, s, rngs[7]))
    truth = cells.select(contacts["contact_id"], *GROUND_TRUTH_COLUMNS)
    return SyntheticMarket(
        properties=properties_frame(records, s, zips, config), distress_events=events_frame(events),
        contacts=contacts, outcomes=outcomes_frame(chains), sales=sales_frame(records, zips, config),
        ground_truth=truth, renovated_values=renovated_values_frame(records))


def market_zip_codes(config: MarketConfig) -> list[tuple[str, str]]:
    """The market's (ZIP code, metro) pairs, the ZIP drawing the most properties first; the ZIPs
    depend on the seed, metros and ZIPs per metro only, not on the number of properties."""
    zips = draw_zips(config, _rngs(config)[0])
    return [(zips.code[i], config.metros[zips.metro[i]]) for i in np.argsort(-zips.weight, kind="stable")]


def _rngs(config: MarketConfig) -> list[np.random.Generator]:
    """One generator per stage of the market, all from the seed."""
    return [np.random.default_rng(c) for c in np.random.SeedSequence(config.seed).spawn(8)]
