"""Distress events of the synthetic market: tax delinquency, foreclosure, code violations, probate
and vacancy, drawn from each property's initial state."""

from __future__ import annotations

import numpy as np
import polars as pl

from wholesaler_assets.domain.synthetic.config import MarketConfig, epoch_day

_EVENT_TARGET = np.array([0.08, 0.03, 0.06, 0.025, 0.04])  # DISTRESS_TYPES order
_RESOLVE_P = np.array([0.55, 0.40, 0.60, 0.50, 0.35])


def draw_distress_events(cfg: MarketConfig, rec0: pl.DataFrame, s: dict[str, np.ndarray],
                     rng: np.random.Generator) -> pl.DataFrame:
    """Events drawn from each property's initial state; internal codes, not yet contract rows."""
    start, end = epoch_day(cfg.start_date), epoch_day(cfg.end_date)
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
