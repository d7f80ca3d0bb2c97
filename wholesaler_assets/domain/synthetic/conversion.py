"""The synthetic market's conversion function: how a contact books a call, qualifies and signs a
contract, and the exact probability of each label (the ground truth).

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

import numpy as np
import polars as pl

from wholesaler_assets.domain.contracts.sources import CHANNELS, DISTRESS_TYPES

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
MAX_STEPS = 6  # steps of a campaign's sequence
MINUTE = 60  # seconds: the generator's times are in seconds
BOOKING_DELAY_MAX_MINUTES = 7 * 1440  # a booking comes 0-7 days after its contact
QUALIFY_DELAY_MINUTES, DEAL_DELAY_MINUTES = (1440, 6 * 1440), (2 * 1440, 12 * 1440)  # (min, max)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function (written out: the market's bytes depend on its exact rounding)."""
    return 1.0 / (1.0 + np.exp(-x))


def conversion_probabilities(f: pl.DataFrame, latent: np.ndarray, booking_scale: np.ndarray | float = 1.0,
                             deal_equity_points: np.ndarray | float = 0.0
                             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p_book, p_qual (given booked), p_deal (given qualified) of each step; see the module doc.

    `booking_scale` and `deal_equity_points` are a planted shift's changes (`shifts.py`); their
    defaults leave the function exactly as documented."""
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
    step_effect = np.array([0.0, *(c[f"step_{k}"] for k in range(2, MAX_STEPS + 1))])[
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
               + d["spread"] * ((eq >= 0.5 + deal_equity_points) & (cond >= 3))
               + d["value_100k_to_350k"] * ((col["mv"] >= 100_000) & (col["mv"] <= 350_000))
               + d["foreclosure_with_equity"] * (fc & (eq >= 0.35 + deal_equity_points)) + d["estate"] * estate
               + d["llc"] * llc)
    p_book = sigmoid(logit) if np.ndim(booking_scale) == 0 and booking_scale == 1.0 \
        else np.minimum(sigmoid(logit) * booking_scale, 1.0)
    return p_book, sigmoid(q_logit), sigmoid(d_logit)


def delay_cdfs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Booking-delay pmf and the cdfs (in whole minutes) of booking+qualify and +deal delays."""
    book = np.exp(-np.arange(BOOKING_DELAY_MAX_MINUTES) / 2_160.0)  # front-loaded: mean ~1.5 days
    book /= book.sum()
    qual, deal = (np.where(np.arange(hi + 1) >= lo, 1.0 / (hi - lo + 1), 0.0)
                  for lo, hi in (QUALIFY_DELAY_MINUTES, DEAL_DELAY_MINUTES))

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


def ground_truth_probabilities(p: np.ndarray, q: np.ndarray, r: np.ndarray, t: np.ndarray, cdf_bq: np.ndarray,
                  cdf_bqd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact P(qualified within 14 days) and P(deal within 30 days) of each (lead, step) cell;
    p is 0 for steps beyond a lead's sequence."""
    qual, deal = np.zeros_like(p), np.zeros_like(p)
    survive = np.ones_like(p)  # P(no booking at steps s..m-1)
    for offset in range(4):  # a chain starting 4 steps (>= 32 days) later cannot land in 30 days
        m = np.arange(MAX_STEPS) + offset
        ok = m < MAX_STEPS
        mm = np.minimum(m, MAX_STEPS - 1)
        pm, qm, rm = p[:, mm] * ok, q[:, mm], r[:, mm]
        gap = (t[:, mm] - t) // MINUTE
        qual += survive * pm * qm * _window_probability(cdf_bq, gap, 14)
        deal += survive * pm * qm * rm * _window_probability(cdf_bqd, gap, 30)
        survive = survive * (1.0 - pm)
    return qual, deal
