"""Outreach of the synthetic market: which properties become leads, the campaigns that work them,
every scheduled step, the property state as of each step, and the bookings and their chains."""

from __future__ import annotations

import numpy as np
import polars as pl

from wholesaler_assets.domain.contracts.sources import DISTRESS_TYPES
from wholesaler_assets.domain.synthetic.config import MarketConfig, epoch_day
from wholesaler_assets.domain.synthetic.conversion import (
    BOOKING_COEFFICIENTS,
    BOOKING_DELAY_MAX_MINUTES,
    DEAL_DELAY_MINUTES,
    MAX_STEPS,
    MINUTE,
    QUALIFY_DELAY_MINUTES,
    conversion_probabilities,
    delay_cdfs,
    ground_truth_probabilities,
)
from wholesaler_assets.domain.synthetic.geography import Zips, metro_profile
from wholesaler_assets.domain.synthetic.properties import CONDITION_VALUE
from wholesaler_assets.domain.synthetic.shifts import conversion_shift

_REPAIR_SHARE = np.array([0.0, 0.04, 0.10, 0.18, 0.30])
_LISTS = ("tax-list", "preforeclosure-list", "code-violation-list", "probate-list", "vacant-list",
          "absentee-list", "high-equity-list")  # the first five follow DISTRESS_TYPES
_LIST_CHANNELS = np.array([  # CHANNELS order: cold_call, sms, direct_mail, door_knock
    [0.40, 0.30, 0.25, 0.05], [0.35, 0.20, 0.20, 0.25], [0.30, 0.20, 0.40, 0.10],
    [0.25, 0.10, 0.55, 0.10], [0.20, 0.10, 0.50, 0.20], [0.30, 0.45, 0.25, 0.00],
    [0.25, 0.25, 0.50, 0.00]])
_CHANNEL_HOURS = np.array([[9, 19], [10, 20], [8, 16], [10, 18]])  # local hours a touch happens


def draw_leads(cfg: MarketConfig, rec0: pl.DataFrame, s: dict[str, np.ndarray], events: pl.DataFrame,
                rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Which properties become leads, from which list and campaign, and when the work starts."""
    n, start, end = cfg.n_properties, epoch_day(cfg.start_date), epoch_day(cfg.end_date)
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
    length = rng.integers(3, MAX_STEPS + 1, len(mix))
    return mix, length, n_launch


def campaign_names(cfg: MarketConfig) -> list[str]:
    """CMP-<launch year>-<launch month>-<list>, in the campaign index order of `_campaigns`."""
    month0 = cfg.start_date.year * 12 + cfg.start_date.month - 1
    return [f"CMP-{(month0 + launch - 2) // 12}-{(month0 + launch - 2) % 12 + 1:02d}-{lst}"
            for lst in _LISTS for launch in range(_n_launches(cfg))]


def schedule_steps(cfg: MarketConfig, leads: dict[str, np.ndarray], zips: Zips, s: dict[str, np.ndarray],
              rng: np.random.Generator) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    """Every scheduled step of every lead (booked or not, before or after the cutoff)."""
    mix, length, n_launch = _campaigns(cfg, rng)
    campaign = leads["list"] * n_launch + leads["launch"] + 2
    n_leads = len(campaign)
    seq_len = length[campaign]
    k = np.where(rng.random(n_leads) < 0.8, seq_len, rng.integers(1, seq_len + 1))
    gaps = np.concatenate([np.zeros((n_leads, 1), np.int64),
                           rng.integers(8, 22, (n_leads, MAX_STEPS - 1))], axis=1)
    day = leads["day"][:, None] + np.cumsum(gaps, axis=1)
    cum_mix = np.cumsum(mix[campaign], axis=1)[:, None, :-1]
    channel = (rng.random((n_leads, MAX_STEPS))[..., None] > cum_mix).sum(-1)  # a draw from the mix
    hours = _CHANNEL_HOURS[channel]
    local_min = rng.integers(hours[..., 0] * 60, hours[..., 1] * 60)
    offset = np.array([metro_profile(m)[4] for m in cfg.metros])[zips.metro[s["z"][leads["pidx"]]]]
    t_sec = day * 86_400 + (local_min + offset[:, None] * 60) * MINUTE
    step = np.broadcast_to(np.arange(1, MAX_STEPS + 1), (n_leads, MAX_STEPS))
    valid = step <= k[:, None]
    lead, col = np.nonzero(valid)
    cells = pl.DataFrame({"cell": lead * MAX_STEPS + col, "lead": lead, "step": col + 1,
                          "pidx": leads["pidx"][lead], "day": t_sec[lead, col] // 86_400,  # UTC date
                          "t": t_sec[lead, col],
                          "channel": channel[lead, col], "campaign": campaign[lead]})
    return cells, {"valid": valid, "t": t_sec}


def as_of_features(cells: pl.DataFrame, records: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
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


def draw_bookings(cfg: MarketConfig, leads: dict[str, np.ndarray], feats: pl.DataFrame,
              sched: dict[str, np.ndarray], rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Draw bookings and their chains: the contacts made (with their ground truth) and outcome rows."""
    end_cut = (epoch_day(cfg.end_date) + 1) * 86_400
    n_leads = len(leads["pidx"])
    latent = rng.normal(0, BOOKING_COEFFICIENTS["latent_sd"], n_leads)
    shape, flat = (n_leads, MAX_STEPS), feats["cell"].to_numpy()
    p, q, r = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    shift = conversion_shift(cfg.shift, feats["day"].to_numpy(), feats["channel"].to_numpy())
    p.flat[flat], q.flat[flat], r.flat[flat] = conversion_probabilities(
        feats, latent[feats["lead"].to_numpy()], shift.booking_scale, shift.deal_equity_points)
    valid, t = sched["valid"], sched["t"]
    book_pmf, cdf_bq, cdf_bqd = delay_cdfs()
    p_qual14, p_deal30 = ground_truth_probabilities(p, q, r, t, cdf_bq, cdf_bqd)
    booked = valid & (rng.random(shape) < p)
    booking_step = np.where(booked.any(axis=1), booked.argmax(axis=1), MAX_STEPS)
    made = valid & (np.arange(MAX_STEPS) <= booking_step[:, None]) & (t < end_cut)
    lead_b = np.flatnonzero(booked.any(axis=1) & made[np.arange(n_leads), np.minimum(booking_step, 5)])
    sb, nb = booking_step[lead_b], len(lead_b)
    # times in seconds: whole-minute delays plus 1-59 s, each outcome strictly inside its window
    t_book = (t[lead_b, sb] + rng.choice(BOOKING_DELAY_MAX_MINUTES, nb, p=book_pmf) * MINUTE
              + rng.integers(1, MINUTE, nb))
    t_qual = t_book + rng.integers(QUALIFY_DELAY_MINUTES[0], QUALIFY_DELAY_MINUTES[1] + 1, nb) * MINUTE
    t_deal = t_qual + rng.integers(DEAL_DELAY_MINUTES[0], DEAL_DELAY_MINUTES[1] + 1, nb) * MINUTE
    is_qual = rng.random(nb) < q[lead_b, sb]
    is_deal = is_qual & (rng.random(nb) < r[lead_b, sb])
    cell_row = np.searchsorted(flat, lead_b * MAX_STEPS + sb)  # feats is sorted by cell
    mv, cond = feats["mv"].to_numpy()[cell_row], feats["cond"].to_numpy()[cell_row]
    arv = mv / CONDITION_VALUE[cond] * CONDITION_VALUE[0] * rng.uniform(1.0, 1.1, nb)  # after-repair value
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
