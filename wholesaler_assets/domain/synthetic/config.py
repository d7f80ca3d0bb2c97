"""What to generate: the synthetic market's size, seed, dates and landing format, and its dirt."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wholesaler_assets.domain.synthetic.shifts import MarketShift

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
    shift: MarketShift | None = None  # a planted shift (shifts.py); None: a stationary market


def epoch_day(d: dt.date) -> int:
    """The generator counts days since 1970-01-01."""
    return (d - _EPOCH).days
