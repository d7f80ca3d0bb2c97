"""Training features see nothing after their contact, no outcome, no id and no PII.

On a small clean synthetic market: every value dated after a cutoff (each snapshot column, later
contacts, sales of months not yet ended) is perturbed, and the features of every contact made up
to the cutoff stay exactly the same; outcomes change labels, never features; renaming the ids or
changing the PII columns changes no feature.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
import pytest

from wholesaler_assets.domain.contracts.sources import CONTACTS, PROPERTIES
from wholesaler_assets.domain.contracts.targets import TARGETS
from wholesaler_assets.domain.features.contact_features import AUDIT_COLUMNS, source_contact_features
from wholesaler_assets.domain.features.contract import source_feature_contract
from wholesaler_assets.domain.features.warehouse_records import SNAPSHOT_COLUMNS
from wholesaler_assets.domain.snapshots.lead_tables import comparable_sales_from_source, lead_outcomes_from_source
from wholesaler_assets.domain.snapshots.properties import build_property_snapshot
from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig
from wholesaler_assets.domain.synthetic.market import generate_market
from wholesaler_assets.domain.training.table import build_training_table

FEATURES = [f.name for f in source_feature_contract().features]
KEYS = ("property_id", "snapshot_date")


@dataclass(frozen=True)
class Market:
    properties: pl.DataFrame
    events: pl.DataFrame
    contacts: pl.DataFrame  # raw contacts: PII included
    snapshots: pl.DataFrame
    sales: pl.DataFrame
    outcomes: pl.DataFrame
    cutoff: dt.datetime  # the median contact time
    end: dt.date


@pytest.fixture(scope="module")
def market() -> Market:
    config = MarketConfig(n_properties=1_500, seed=11, dirt=DirtConfig.clean())
    generated = generate_market(config)
    days = [config.start_date + dt.timedelta(days=d) for d in range(0, (config.end_date - config.start_date).days, 14)]
    snapshots = pl.concat([build_property_snapshot(generated.properties, generated.distress_events, day)
                           .select(SNAPSHOT_COLUMNS) for day in days])
    contacts = generated.contacts
    cutoff = contacts["contact_time"].sort()[contacts.height // 2]
    return Market(generated.properties, generated.distress_events, contacts, snapshots,
                  comparable_sales_from_source(generated.sales), lead_outcomes_from_source(generated.outcomes),
                  cutoff, config.end_date)


def features_until_cutoff(market: Market, contacts: pl.DataFrame | None = None, snapshots: pl.DataFrame | None = None,
                          sales: pl.DataFrame | None = None) -> pl.DataFrame:
    features = source_contact_features(market.contacts if contacts is None else contacts,
                                       market.snapshots if snapshots is None else snapshots,
                                       market.sales if sales is None else sales)
    return features.filter(pl.col("contact_time") <= market.cutoff).select("contact_id", *FEATURES)


def perturbed(column: pl.Series, where: pl.Series) -> pl.Series:
    """Other values where `where` holds: numbers doubled plus one, flags flipped, text and dates moved."""
    dtype = column.dtype
    if dtype == pl.Boolean:
        changed = ~column
    elif dtype.is_numeric():
        changed = column * 2 + 1
    elif dtype == pl.Date:
        changed = column - dt.timedelta(days=3)
    else:
        changed = column.shift(1)  # another row's value
    return pl.select(pl.when(where).then(changed).otherwise(column).alias(column.name)).to_series()


@pytest.mark.parametrize("column", [c for c in SNAPSHOT_COLUMNS if c not in KEYS])
def test_a_snapshot_after_the_contact_changes_no_feature(market, column):
    later = market.snapshots["snapshot_date"] > market.cutoff.date()
    assert later.any() and not later.all()
    snapshots = market.snapshots.with_columns(perturbed(market.snapshots[column], later))
    assert not snapshots.equals(market.snapshots)
    assert features_until_cutoff(market, snapshots=snapshots).equals(features_until_cutoff(market), null_equal=True)


@pytest.mark.parametrize("column", ["channel", "campaign_step", "contact_time"])
def test_a_later_contact_changes_no_earlier_feature(market, column):
    later = market.contacts["contact_time"] > market.cutoff
    values = market.contacts[column]
    changed = (values + dt.timedelta(days=2)).alias(column) if column == "contact_time" else perturbed(values, later)
    contacts = market.contacts.with_columns(pl.select(pl.when(later).then(changed).otherwise(values)).to_series())
    assert not contacts.equals(market.contacts)
    assert features_until_cutoff(market, contacts=contacts).equals(features_until_cutoff(market), null_equal=True)


def test_sales_of_a_month_not_yet_ended_change_no_feature(market):
    month_start = market.cutoff.date().replace(day=1)
    unfinished = market.sales["sale_date"] >= month_start
    sales = market.sales.with_columns(pl.when(unfinished).then(pl.col("price_per_sqft") * 3)
                                      .otherwise(pl.col("price_per_sqft")).alias("price_per_sqft"))
    baseline = features_until_cutoff(market)
    assert baseline["zip_price_trend"].is_not_null().any()
    assert features_until_cutoff(market, sales=sales).equals(baseline, null_equal=True)


def test_outcomes_change_labels_never_features(market):
    features = source_contact_features(market.contacts, market.snapshots, market.sales)
    cutoff = dt.datetime.combine(market.end + dt.timedelta(days=1), dt.time(), dt.UTC)
    target, contract = TARGETS["booked_call_7d"], source_feature_contract()
    reversed_outcomes = market.outcomes.with_columns(  # every booking moved to another lead
        pl.col("call_booked_at").shift(7), pl.col("qualified_at").shift(7), pl.col("contract_signed_at").shift(7))
    tables = [build_training_table(features, outcomes, target, "outcome_time", cutoff, contract).table
              for outcomes in (market.outcomes, reversed_outcomes)]
    both = tables[0].join(tables[1], on="contact_id", suffix="_other")
    assert both.height > 1_000
    assert (both["label"] != both["label_other"]).any()
    for feature in FEATURES:
        assert both[feature].equals(both[f"{feature}_other"].alias(feature), null_equal=True), feature


def test_ids_and_pii_change_no_feature(market):
    baseline = features_until_cutoff(market)
    assert set(CONTACTS.pii_columns) <= set(market.contacts.columns)
    renamed = {"lead_id": (pl.lit("X-") + pl.col("lead_id")).alias("lead_id"),
               "property_id": (pl.lit("Y-") + pl.col("property_id")).alias("property_id")}
    contacts = market.contacts.with_columns(
        *renamed.values(), *[pl.lit("555-0100").alias(c) for c in CONTACTS.pii_columns])
    assert contacts["property_id"][0].startswith("Y-")
    snapshots = market.snapshots.with_columns(renamed["property_id"])
    assert features_until_cutoff(market, contacts=contacts, snapshots=snapshots).drop("contact_id").equals(
        baseline.drop("contact_id"), null_equal=True)
    # PII of the property records never reaches a snapshot, so never a feature
    properties = market.properties.with_columns(pl.lit("someone else").alias(c) for c in PROPERTIES.pii_columns)
    day = market.cutoff.date()
    assert build_property_snapshot(properties, market.events, day).equals(
        build_property_snapshot(market.properties, market.events, day), null_equal=True)
    assert not set(CONTACTS.pii_columns) & set(AUDIT_COLUMNS + tuple(FEATURES))
