"""Planted market shifts: what changes from a day on, so monitoring can be shown to notice it.

- `price_shock` (a data shift): in two metros market values and sale prices fall by `depth`
  (15%) linearly over `ramp_days` (two weeks) and stay down; the county's valuation feed
  re-values every property there weekly while prices move, so the platform's snapshots see it;
  and foreclosures are filed more often there (`extra_foreclosure_share` of mortgaged homes).
- `conversion` (a concept shift, inputs unchanged): booking probabilities of door knocks and cold
  calls are halved, and a deal needs 10 points more equity (the spread and the
  foreclosure-with-equity thresholds of the deal function move up by `deal_equity_points`).
- `base_rate` (a prior shift, inputs unchanged): every contact's booking probability doubles
  (capped at 1), as in a campaign season; the ranking holds, the calibration does not.
Nothing before `starts_on` is touched by the probability shifts; the price shock only adds rows
dated on or after it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import polars as pl

from wholesaler_assets.domain.contracts.sources import CHANNELS
from wholesaler_assets.domain.synthetic.config import epoch_day

ShiftKind = Literal["price_shock", "conversion", "base_rate"]
SHIFT_KINDS: tuple[ShiftKind, ...] = get_args(ShiftKind)
_HALVED_CHANNELS = ("door_knock", "cold_call")


@dataclass(frozen=True)
class MarketShift:
    """One planted shift: its kind, first day and size."""

    kind: ShiftKind
    starts_on: dt.date
    depth: float = 0.15  # price_shock: the fall of values and prices
    ramp_days: int = 14  # price_shock: days over which the fall happens
    shocked_metros: tuple[int, ...] = (0, 1)  # price_shock: indices into MarketConfig.metros
    extra_foreclosure_share: float = 0.03  # price_shock: more mortgaged homes in foreclosure after the day
    booking_scale_channels: float = 0.5  # conversion: door knocks and cold calls book half as often
    deal_equity_points: float = 0.10  # conversion: a deal needs this much more equity share
    booking_scale_all: float = 2.0  # base_rate: every booking probability times this

    def __post_init__(self) -> None:
        if self.kind not in SHIFT_KINDS:
            raise ValueError(f"unknown shift kind {self.kind!r}; expected one of {SHIFT_KINDS}")

    @property
    def start_day(self) -> int:
        return epoch_day(self.starts_on)

    def price_factor(self, day: np.ndarray) -> np.ndarray:
        """1 before the shock, falling linearly to 1 - depth over the ramp, then staying there."""
        progress = np.clip((np.asarray(day, dtype=np.float64) - self.start_day) / max(self.ramp_days, 1), 0, 1)
        return np.where(np.asarray(day) >= self.start_day, 1 - self.depth * progress, 1.0)


def check_shift(shift: MarketShift | None, start: dt.date, end: dt.date) -> None:
    if shift is not None and not start < shift.starts_on <= end:
        raise ValueError(f"shift date {shift.starts_on} must lie after the market's start {start} and by its end {end}")


@dataclass(frozen=True)
class ConversionShift:
    """Per-contact changes to the conversion function (neutral values leave it exactly as it is)."""

    booking_scale: np.ndarray | float = 1.0
    deal_equity_points: np.ndarray | float = 0.0


def conversion_shift(shift: MarketShift | None, day: np.ndarray, channel: np.ndarray) -> ConversionShift:
    """The changes for contacts made on `day` (epoch days) by `channel` (codes into CHANNELS)."""
    if shift is None or shift.kind == "price_shock":
        return ConversionShift()
    after = np.asarray(day) >= shift.start_day
    if shift.kind == "base_rate":
        return ConversionShift(booking_scale=np.where(after, shift.booking_scale_all, 1.0))
    halved = np.isin(np.asarray(channel, dtype=np.int64), [CHANNELS.index(c) for c in _HALVED_CHANNELS])
    return ConversionShift(booking_scale=np.where(after & halved, shift.booking_scale_channels, 1.0),
                           deal_equity_points=np.where(after, shift.deal_equity_points, 0.0))


def shocked_records(records: pl.DataFrame, zip_metro: np.ndarray, shift: MarketShift | None,
                    end_day: int) -> pl.DataFrame:
    """Property records with the price shock: weekly revaluations in the shocked metros while prices
    fall, and every value and sale price there from the first day on scaled by `price_factor`."""
    if shift is None or shift.kind != "price_shock":
        return records
    shocked = pl.col("z").is_in(np.flatnonzero(np.isin(zip_metro, shift.shocked_metros)).tolist())
    days = [d for d in range(shift.start_day, shift.start_day + shift.ramp_days + 1, 7) if d <= end_day]
    revalued = []
    for day in days:
        latest = records.filter(shocked & (pl.col("eff") <= day)).sort("eff").unique("pidx", keep="last")
        revalued.append(latest.with_columns(pl.lit(day, records.schema["eff"]).alias("eff")))
    grown = pl.concat([records, *revalued]).unique(["pidx", "eff"], keep="first", maintain_order=True)
    eff, sale = grown["eff"].to_numpy(), grown["last_sale"].to_numpy()
    in_metro = grown.select(shocked).to_series().to_numpy()
    value_factor = np.where(in_metro, shift.price_factor(eff), 1.0)
    sale_factor = np.where(in_metro, shift.price_factor(sale), 1.0)
    mv = np.maximum((grown["mv"].to_numpy() * value_factor).round(-2), 5_000.0)
    return grown.with_columns(
        pl.Series("mv", mv), pl.Series("assessed", (grown["assessed"].to_numpy() * value_factor).round(-2)),
        pl.Series("equity", mv - grown["mortgage"].to_numpy()),
        pl.Series("sale_price", (grown["sale_price"].to_numpy() * sale_factor).round(-2)),
        pl.Series("renovated", grown["renovated"].to_numpy() * value_factor),
    ).sort("pidx", "eff")


def extra_foreclosures(events: pl.DataFrame, rec0: pl.DataFrame, zip_metro: np.ndarray, shift: MarketShift | None,
                       end_day: int, seed: int) -> pl.DataFrame:
    """The price shock's foreclosures: mortgaged homes of the shocked metros filed on after its day."""
    if shift is None or shift.kind != "price_shock" or shift.start_day > end_day:
        return events
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5EED]))  # its own stream: nothing else moves
    candidates = rec0.filter(pl.col("z").is_in(np.flatnonzero(np.isin(zip_metro, shift.shocked_metros)).tolist())
                             & (pl.col("mortgage") > 0))
    chosen = candidates.filter(pl.Series(rng.random(candidates.height) < shift.extra_foreclosure_share))
    m = chosen.height
    day = rng.integers(shift.start_day, end_day + 1, m)
    extra = pl.DataFrame({
        "pidx": chosen["pidx"], "etype": np.ones(m, dtype=np.int64),
        "day": day, "resolved": pl.Series([None] * m, dtype=events.schema["resolved"]),
        "tax_amount": pl.Series([None] * m, dtype=pl.Float64), "tax_years": pl.Series([None] * m, dtype=pl.Int64),
        "default_amount": (chosen["mortgage"].to_numpy() * rng.uniform(0.03, 0.12, m) + 2_000).round(2),
        "auction": day + rng.integers(60, 241, m), "violation": pl.Series([None] * m, dtype=pl.Int64),
    }).cast(dict(events.schema))  # type: ignore[arg-type]
    return pl.concat([events, extra.select(events.columns)]).sort("day", "pidx", "etype", maintain_order=True)
