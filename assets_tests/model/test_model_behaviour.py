"""Behaviour of a trained scorer: directions the market's ground truth guarantees, and invariances.

On the small champion market (`champion_market`: booked_call_7d and deal_30d trained, registered
and loaded back as the Scorer), real lead records of the scoring day are changed one field at a
time, all else equal. The generator's conversion function (`domain/synthetic/market.py`) makes
each probability non-decreasing in:
- equity share from 0 to 1 (the equity hinge above 35%, the distress gate at 35%, and for deals
  the 40% qualification step and the 50% spread): not below 0, where an underwater owner books
  MORE often (+0.8), so equity is not monotone over its whole range and is not tested there;
- a nearer auction of an open foreclosure (0-45 days +1.6, 46-90 days +0.7 to booking, 0-45
  days +0.5 to qualification; nothing for the deal itself);
- more years of unpaid taxes (+0.8 from two years on, gated by 35% equity; flat otherwise);
- more distress stacked on a lead (a vacant house, probate, code violations, recent events: each
  adds to the distress sum, and 2+ types add the stacking term);
- a longer ownership (-0.8 under two years, +0.45 from twenty).
These are `MONOTONE_FEATURES`' promises; a path never passes from a missing feature to a present one
(an absent auction or tax record is missing, not low, and no constraint orders missing values).
No id or PII enters a score: renaming the ids changes nothing, and a PII field is refused.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from wholesaler_assets.domain.contracts.sources import CONTACTS, PROPERTIES
from wholesaler_assets.domain.features.record_schema import REQUIRED_FIELDS
from wholesaler_assets.domain.features.record_validation import InvalidRecords
from wholesaler_assets.domain.features.warehouse_records import records_as_of
from wholesaler_assets.io.scoring_inputs import load_scorer

LEADS = 200
TOLERANCE = 1e-12  # float noise of the baseline's sums; trees and calibrators are step functions

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scorer_and_records(champion_market, tmp_path_factory):
    resources = champion_market.resources(tmp_path_factory.mktemp("behaviour") / "data")
    scorer, _ = load_scorer(resources["mlflow_tracking"], "champion")
    wh = resources["warehouse"].open()
    day = champion_market.scoring_day
    records = records_as_of(day, wh.read("property_snapshots", "snapshot_date = ?", [day]), wh.read("lead_contacts"),
                            wh.read("lead_outcomes"))
    complete = records.filter(pl.all_horizontal(pl.col(REQUIRED_FIELDS).is_not_null()) & (pl.col("market_value") > 0))
    return scorer, complete.gather_every(max(complete.height // LEADS, 1)).head(LEADS)


def probabilities_along(scorer, records: pl.DataFrame, changes: list[list[pl.Expr]]) -> dict[str, np.ndarray]:
    """Per target, the probabilities of every record (rows) at each change (columns, in order)."""
    scored = [scorer.numbers(changed, scorer.features(changed))
              for changed in (records.with_columns(*change) for change in changes)]
    return {m.target: np.column_stack([s[f"p_{m.target}"].to_numpy() for s in scored]) for m in scorer.models}


def assert_never_lower(curves: dict[str, np.ndarray], what: str) -> None:
    for target, curve in curves.items():
        drops = np.diff(curve, axis=1)
        worst = np.unravel_index(np.argmin(drops), drops.shape)
        assert drops.min() >= -TOLERANCE, (f"{target}: {what} lowered the probability of lead row {worst[0]} "
                                           f"by {-drops.min():.5f} at step {worst[1]}: {curve[worst[0]]}")


def test_more_equity_never_lowers_a_probability(scorer_and_records):
    scorer, records = scorer_and_records
    shares = np.linspace(0.0, 1.0, 11)
    changes = [[(pl.col("market_value") * (1 - share)).alias("mortgage_balance")] for share in shares]
    assert_never_lower(probabilities_along(scorer, records, changes), "more equity")


def test_a_nearer_auction_never_lowers_a_probability(scorer_and_records):
    scorer, records = scorer_and_records
    days = [240, 180, 120, 91, 90, 60, 46, 45, 30, 10, 0]  # ever nearer
    changes = [[pl.lit(True).alias("in_foreclosure"),
                (pl.col("scoring_date") + dt.timedelta(days=d)).alias("auction_date")] for d in days]
    assert_never_lower(probabilities_along(scorer, records, changes), "a nearer auction")


def test_more_years_of_unpaid_taxes_never_lower_a_probability(scorer_and_records):
    scorer, records = scorer_and_records
    changes = [[pl.lit(True).alias("tax_delinquent"), (pl.col("market_value") * 0.02).alias("tax_amount_owed"),
                pl.lit(years, pl.Int64).alias("tax_years_delinquent")] for years in range(1, 7)]
    assert_never_lower(probabilities_along(scorer, records, changes), "more years of unpaid taxes")


def test_more_distress_never_lowers_a_probability(scorer_and_records):
    scorer, records = scorer_and_records
    calm = [pl.lit(False).alias("vacant"), pl.lit(False).alias("in_probate"), pl.lit(0, pl.Int64).alias(
        "open_code_violations"), pl.lit(0, pl.Int64).alias("distress_events_90d"),
        pl.lit(0, pl.Int64).alias("distress_events_365d")]
    steps = [[], [pl.lit(True).alias("vacant")], [pl.lit(True).alias("in_probate")],
             *[[pl.lit(n, pl.Int64).alias("open_code_violations")] for n in (1, 2, 3)],
             [pl.lit(2, pl.Int64).alias("distress_events_90d"), pl.lit(2, pl.Int64).alias("distress_events_365d")]]
    changes, stacked = [], list(calm)
    for step in steps:  # each change keeps the ones before it
        names = {e.meta.output_name() for e in step}
        stacked = [e for e in stacked if e.meta.output_name() not in names] + step
        changes.append(list(stacked))
    assert_never_lower(probabilities_along(scorer, records, changes), "more distress")


def test_a_longer_ownership_never_lowers_a_probability(scorer_and_records):
    scorer, records = scorer_and_records
    changes = [[pl.lit(years, pl.Float64).alias("years_owned")] for years in (0.5, 1.5, 2.5, 5, 10, 19.5, 20.5, 35)]
    assert_never_lower(probabilities_along(scorer, records, changes), "a longer ownership")


def test_ids_change_no_feature_and_no_score(scorer_and_records):
    scorer, records = scorer_and_records
    renamed = records.with_columns((pl.lit("other-") + pl.col("lead_id")).alias("lead_id"),
                                   (pl.lit("other-") + pl.col("property_id")).alias("property_id"))
    assert scorer.features(renamed).drop("lead_id").equals(scorer.features(records).drop("lead_id"), null_equal=True)
    ids = ["lead_id", "property_id"]
    assert scorer.score(renamed).drop(ids).equals(scorer.score(records).drop(ids), null_equal=True)


@pytest.mark.parametrize("pii", [*PROPERTIES.pii_columns, *CONTACTS.pii_columns])
def test_a_pii_field_never_reaches_a_score(scorer_and_records, pii):
    scorer, records = scorer_and_records
    payload = records.head(2).with_columns(pl.col(pl.Date).cast(pl.String), pl.lit("Jane Doe").alias(pii)).to_dicts()
    with pytest.raises(InvalidRecords, match=f"unknown field.*{pii}"):
        scorer.validate(payload, dt.datetime.now(dt.UTC).date())
