"""Metros and ZIP codes of the synthetic market: price levels, trends and time zones."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from wholesaler_assets.domain.synthetic.config import MarketConfig

_METROS: dict[str, tuple[str, str, float, float, int]] = {
    "Orlando": ("328", "407", 360_000, 0.05, 5), "Tampa": ("336", "813", 350_000, 0.04, 5),
    "Atlanta": ("303", "404", 375_000, 0.05, 5), "Phoenix": ("850", "602", 400_000, 0.03, 7),
    "Dallas": ("752", "214", 365_000, 0.04, 6), "Cleveland": ("441", "216", 120_000, 0.06, 5)}


@dataclass(frozen=True)
class Zips:
    metro: np.ndarray  # metro index of each ZIP
    code: list[str]
    ppsf: np.ndarray  # price per sqft of a good single-family house at start_date
    trend: np.ndarray
    weight: np.ndarray


def metro_profile(name: str) -> tuple[str, str, float, float, int]:
    if name in _METROS:
        return _METROS[name]
    crc = zlib.crc32(name.encode())  # stable across runs, unlike hash()
    return (f"{100 + crc % 900:03d}", f"{200 + crc % 700:03d}", 250_000.0, 0.04, 6)


def price_growth(trend: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Price index relative to start_date: the ZIP trend for 5 years, 3.5% a year before that."""
    recent, older = np.maximum(years, -5.0), np.minimum(years + 5.0, 0.0)
    return (1.0 + trend) ** recent * 1.035**older


def draw_zips(cfg: MarketConfig, rng: np.random.Generator) -> Zips:
    if not 1 <= cfg.zips_per_metro <= 100:
        raise ValueError("zips_per_metro must be between 1 and 100")
    metro, code, median, trend = [], [], [], []
    for m, name in enumerate(cfg.metros):
        zip3, _, med, tr, _ = metro_profile(name)
        for suffix in np.sort(rng.choice(100, cfg.zips_per_metro, replace=False)):
            metro.append(m)
            code.append(f"{zip3}{suffix:02d}")
        median.append(med * rng.lognormal(0.0, 0.28, cfg.zips_per_metro))
        trend.append(np.clip(tr + rng.normal(0.0, 0.03, cfg.zips_per_metro), -0.04, 0.12))
    weight = rng.gamma(3.0, 1.0, len(code))
    return Zips(np.array(metro), code, np.concatenate(median) / 1_450.0, np.concatenate(trend),
                 weight / weight.sum())
