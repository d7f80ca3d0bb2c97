"""What a scoring run reads: the champion scorer from the MLflow registry and the day's leads."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import mlflow
import polars as pl
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from wholesaler_assets.domain.features.warehouse_records import records_as_of
from wholesaler_assets.domain.scoring.lead_file import open_leads
from wholesaler_assets.domain.scoring.ranking import latest_splits
from wholesaler_assets.domain.scoring.scorer import Scorer
from wholesaler_assets.domain.snapshots.lead_tables import DatasetCatalog
from wholesaler_assets.io.inputs import SCORED_TABLE, load_catalog
from wholesaler_assets.io.warehouse import WarehouseBackend
from wholesaler_assets.resources import MlflowResource


def load_scorer(mlflow_tracking: MlflowResource, alias: str) -> tuple[Scorer, str]:
    """The scorer behind the alias, with its registered version."""
    mlflow_tracking.start()
    name = mlflow_tracking.registered_model
    try:
        version = MlflowClient().get_model_version_by_alias(name, alias)
    except MlflowException:
        raise dg.Failure(f"no {name}@{alias} in the MLflow registry: the gates have not promoted a scorer yet "
                         "(see model_evaluation and registered_scorer)", allow_retries=False) from None
    model = mlflow.pyfunc.load_model(f"models:/{name}@{alias}").unwrap_python_model()
    scorer = getattr(model, "scorer", None)
    if not isinstance(scorer, Scorer):
        raise dg.Failure(f"{name} v{version.version} predates lead-record scoring: register a new scorer",
                         allow_retries=False)
    return scorer, str(version.version)


def latest_snapshot(wh: WarehouseBackend, day: dt.date, max_age_days: int = 7) -> pl.DataFrame:
    """The latest property snapshot on or before `day`; fails when none is `max_age_days` old at most."""
    snapshot_day = wh.query("select max(snapshot_date) as d from property_snapshots where snapshot_date <= ?",
                            [day])["d"][0] if wh.table_exists("property_snapshots") else None
    if snapshot_day is None or (day - snapshot_day).days > max_age_days:
        raise dg.Failure(f"no property snapshot within {max_age_days} days before {day} "
                         f"(latest: {snapshot_day}): materialize property_snapshots for {day} first",
                         allow_retries=False)
    return wh.read("property_snapshots", "snapshot_date = ?", [snapshot_day])


def active_records(wh: WarehouseBackend, scorer: Scorer, day: dt.date, max_snapshot_age_days: int,
                   next_channel: str, include_uncontacted_distressed: bool) -> pl.DataFrame:
    """Lead records of every active lead on `day` (a lead file: its open leads at the end of the day)."""
    if scorer.spec_features is not None:
        return open_lead_records(wh, scorer, load_catalog(wh), dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC))
    snapshot_day = wh.query("select max(snapshot_date) as d from property_snapshots where snapshot_date <= ?",
                            [day])["d"][0] if wh.table_exists("property_snapshots") else None
    if snapshot_day is None or (day - snapshot_day).days > max_snapshot_age_days:
        raise dg.Failure(f"no property snapshot within {max_snapshot_age_days} days before {day} "
                         f"(latest: {snapshot_day}): materialize property_snapshots for {day} first",
                         allow_retries=False)
    return records_as_of(day, wh.read("property_snapshots", "snapshot_date = ?", [snapshot_day]),
                         wh.read("lead_contacts"), wh.read("lead_outcomes"), next_channel,
                         include_uncontacted_distressed)


def open_lead_records(wh: WarehouseBackend, scorer: Scorer, catalog: DatasetCatalog, cutoff: dt.datetime
                      ) -> pl.DataFrame:
    """Lead records of a lead file's open leads at its cutoff (`domain.scoring.lead_file.open_leads`)."""
    training = (wh.query("select distinct contact_id from training_table")["contact_id"]
                if wh.table_exists("training_table") else None)
    try:
        latest = open_leads(wh.read("lead_contacts"), wh.read("lead_outcomes"), catalog.targets, cutoff,
                            catalog.open_rule, training)
    except ValueError as error:
        raise dg.Failure(str(error), allow_retries=False) from None
    return latest.select("lead_id", pl.lit(cutoff.date()).alias("scoring_date"),
                         *[pl.col(c) for c in scorer.spec_features or {} if c in latest.columns])


def lead_splits(wh: WarehouseBackend, target: str) -> pl.DataFrame:
    """Each lead's split in the value target's training table (see `domain.scoring.latest_splits`)."""
    if not wh.table_exists("training_table"):
        return latest_splits(pl.DataFrame(schema={"lead_id": pl.String, "split": pl.String,
                                                  "contact_time": pl.Datetime("us", "UTC")}))
    return latest_splits(wh.query("select lead_id, split, contact_time from training_table where target = ?",
                                  [target]))


def previous_reasons(wh: WarehouseBackend, day: dt.date) -> pl.DataFrame | None:
    """The reasons of the last scoring day before `day`, re-used where a lead's features did not change."""
    if not wh.table_exists(SCORED_TABLE):
        return None
    last = wh.query(f"select max(scoring_date) as d from {SCORED_TABLE} where scoring_date < ?", [day])["d"][0]
    if last is None:
        return None
    return wh.query(f"select lead_id, feature_hash, top_reasons, narrative, reasons_method, reasons_as_of "
                    f"from {SCORED_TABLE} where scoring_date = ?", [last])


REFERENCE_ROWS = 20_000  # the training window's contacts a lead file's months are compared with (seeded sample)


def scored_lead_file(wh: WarehouseBackend, scorer: Scorer, cutoff: dt.datetime
                     ) -> tuple[pl.DataFrame, pl.DataFrame, dt.datetime]:
    """A lead file's contacts scored by `scorer`: those before `cutoff` (a sample: the drift reference),
    those at or after it, and the last instant the file knows of (its latest contact or outcome)."""
    contacts = wh.read("lead_contacts")
    outcomes = wh.read("lead_outcomes")
    times = [contacts["contact_time"].max(), *[outcomes[c].max() for c in outcomes.columns if c.endswith("_at")]]
    known_until = max(t for t in times if isinstance(t, dt.datetime))

    def scored(frame: pl.DataFrame) -> pl.DataFrame:
        features = scorer.features(frame)
        return pl.DataFrame([*[frame.get_column(c) for c in ("contact_id", "lead_id", "contact_time")],
                             *[features.get_column(c) for c in features.columns if c != "lead_id"],
                             *scorer.probabilities(features)])

    before = contacts.filter(pl.col("contact_time") < cutoff)
    if before.height > REFERENCE_ROWS:
        before = before.sample(REFERENCE_ROWS, seed=0).sort("contact_time", "contact_id")
    return scored(before), scored(contacts.filter(pl.col("contact_time") >= cutoff)), known_until
