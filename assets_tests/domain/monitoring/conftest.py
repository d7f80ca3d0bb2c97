"""A small synthetic scored market for the monitoring tests: six metros, value columns and probabilities."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
import pytest

METRO_MEDIANS = np.array([310e3, 290e3, 330e3, 380e3, 300e3, 160e3])
NUMERICAL = ["market_value", "arv", "sqft", "year_built", "distress_signal_count", "mortgage_balance",
             "conservative_profit", "expected_value"]
CATEGORICAL = ["channel", "condition", "metro"]
PROBABILITIES = ["p_booked_call_7d", "p_qualified_14d", "p_deal_30d"]
VALUE_COLUMNS = ["market_value", "arv", "conservative_profit", "expected_value"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def scored_market(n: int, seed: int, price_drop: float = 0.0, dropped_metros: int = 2) -> pl.DataFrame:
    """One day's scored leads; `price_drop` lowers prices by that share in the first `dropped_metros` metros."""
    rng = np.random.default_rng(seed)
    metro = rng.integers(0, METRO_MEDIANS.size, n)
    market_value = METRO_MEDIANS[metro] * rng.lognormal(0.0, 0.35, n)
    market_value = np.where(metro < dropped_metros, market_value * (1.0 - price_drop), market_value)
    arv = market_value * rng.normal(1.1, 0.04, n)
    distress = rng.poisson(1.2, n)
    logit = -3.2 + 0.45 * distress + rng.normal(0.0, 0.6, n)
    profit = 0.7 * arv - 0.55 * market_value - 15_000.0
    p_deal = _sigmoid(logit - 1.8)
    return pl.DataFrame({
        "lead_id": [f"L{i}" for i in range(n)],
        "market_value": market_value, "arv": arv, "sqft": rng.normal(1_600.0, 350.0, n),
        "year_built": rng.integers(1940, 2015, n), "distress_signal_count": distress,
        "mortgage_balance": rng.lognormal(11.5, 0.6, n), "conservative_profit": profit,
        "expected_value": p_deal * profit,
        "channel": rng.choice(["cold_call", "sms", "direct_mail"], n, p=[0.5, 0.3, 0.2]),
        "condition": rng.choice(["good", "fair", "poor"], n, p=[0.5, 0.35, 0.15]),
        "metro": np.array(["Orlando", "Tampa", "Atlanta", "Phoenix", "Dallas", "Cleveland"])[metro],
        "p_booked_call_7d": _sigmoid(logit), "p_qualified_14d": _sigmoid(logit - 0.9), "p_deal_30d": p_deal,
    })


@dataclass(frozen=True)
class Market:
    """The generator and its column lists, for tests (conftest modules are not importable)."""

    frame: Callable[..., pl.DataFrame] = scored_market
    numerical: tuple[str, ...] = tuple(NUMERICAL)
    categorical: tuple[str, ...] = tuple(CATEGORICAL)
    probabilities: tuple[str, ...] = tuple(PROBABILITIES)
    value_columns: tuple[str, ...] = tuple(VALUE_COLUMNS)


@pytest.fixture
def market() -> Market:
    return Market()
