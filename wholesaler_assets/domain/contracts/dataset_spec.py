"""Bring your own leads: a small YAML spec points the platform at a user's lead history.

The file has one row per lead: an id, the contact time, and for each target either the time the
outcome happened or a ready 0/1 label; any other column is an attribute. Attributes become
features with their kind inferred (numeric, boolean, categorical); columns declared as ids or
PII, dates and free text never do. Targets the file does not have are skipped, not faked.
Reading the spec and the lead file from disk is `io/dataset_spec_files.py`.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Literal

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from wholesaler_assets.domain.contracts.sources import UTC_DATETIME, ColumnSpec, SourceContract
from wholesaler_assets.domain.contracts.targets import TARGETS
from wholesaler_assets.domain.gates.data_quality import QualityThresholds
from wholesaler_assets.domain.ingestion.validation import FileVerdict, read_raw, validate_file
from wholesaler_assets.domain.scalars import as_float
from wholesaler_assets.domain.snapshots.lead_tables import DatasetCatalog

TargetName = Literal["booked_call_7d", "qualified_14d", "deal_30d"]
LABEL_PREFIX = "label_"
OPEN_COLUMN = "lead_open"  # in lead_contacts: the spec's open_column as a boolean (domain.scoring.lead_file)


class TargetSource(BaseModel):
    """Where one target's truth is in the file: an outcome timestamp or a ready 0/1 label."""

    model_config = ConfigDict(extra="forbid")
    outcome_time: str | None = None
    label: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> TargetSource:
        if (self.outcome_time is None) == (self.label is None):
            raise ValueError("give exactly one of outcome_time or label")
        return self


class DatasetSpec(BaseModel):
    """The YAML a user writes to bring their own lead file."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    path: Path
    lead_id: str
    contact_time: str
    targets: dict[TargetName, TargetSource] = Field(min_length=1)
    id_columns: list[str] = []
    pii_columns: list[str] = []
    categorical_columns: list[str] = []
    data_cutoff: dt.datetime | None = None
    positive_share_band: dict[TargetName, tuple[float, float]] = {}
    max_categories: int = 50
    # Feature selection's controls (docs/bring-your-own-data.md): features always kept, columns that
    # are never features, numeric values that are sentinels (an IV bin of their own), and on/off.
    keep: list[str] = []
    drop: list[str] = []
    sentinel_values: dict[str, list[float]] = {}
    selection: bool = True  # YAML `selection: off` reads as false: every feature is kept

    @model_validator(mode="after")
    def _keep_and_drop_apart(self) -> DatasetSpec:
        both = sorted(set(self.keep) & set(self.drop))
        if both:
            raise ValueError(f"column(s) both in keep and drop: {', '.join(both)}")
        return self

    def selection_controls(self) -> dict[str, object]:
        """The catalog's `feature_selection` entry (`SelectionControls.from_dict` reads it)."""
        return {"enabled": self.selection, "keep": list(self.keep), "sentinel_values": dict(self.sentinel_values)}
    # Which leads are open (scored) at the cutoff: rows whose `open_column` holds one of `open_values`;
    # without it, the leads contacted within the longest target window before the cutoff with no outcome.
    open_column: str | None = None
    open_values: list[str] = ["true", "1", "yes", "open"]
    # Tiers of a scored batch by its probability quantiles: the top share in A, down to C (cumulative).
    tier_shares: tuple[float, float, float] = (0.1, 0.3, 0.6)
    # Calibration and ECE segments: the values of this (categorical) feature column; none: one segment.
    segment_column: str | None = None

    @model_validator(mode="after")
    def _tier_shares_rise(self) -> DatasetSpec:
        a, b, c = self.tier_shares
        if not 0 < a <= b <= c <= 1:
            raise ValueError(f"tier_shares must rise within (0, 1] (A <= B <= C), got {list(self.tier_shares)}")
        return self

    @property
    def declared_columns(self) -> set[str]:
        truth = {c for t in self.targets.values() for c in (t.outcome_time, t.label) if c}
        return {self.lead_id, self.contact_time, *truth, *([self.open_column] if self.open_column else [])}


class DatasetSpecError(ValueError):
    """The spec or its file cannot be used; the message says what to fix."""


def parse_dataset_spec(text: str, origin: str) -> DatasetSpec:
    """Check a spec's YAML text; `origin` names it in the errors. `path` stays as written."""
    try:
        return DatasetSpec.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise DatasetSpecError(f"dataset spec {origin} is not valid YAML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'spec'}: {e['msg']}" for e in exc.errors())
        raise DatasetSpecError(f"dataset spec {origin}: {problems}") from None


def infer_attribute_kinds(frame: pl.DataFrame, spec: DatasetSpec) -> tuple[dict[str, str], dict[str, str]]:
    """Split the file's other columns into features (with kinds) and excluded columns (with why)."""
    features: dict[str, str] = {}
    excluded: dict[str, str] = {spec.lead_id: "id", spec.contact_time: "time of the contact"}
    for name, target in spec.targets.items():
        excluded[target.outcome_time or target.label or ""] = f"truth of target {name}"
    if spec.open_column:
        excluded[spec.open_column] = "says which leads are open (open_column)"
    for column in frame.columns:
        if column in excluded:
            continue
        series = frame.get_column(column)
        if column in spec.pii_columns:
            excluded[column] = "PII"
        elif column in spec.id_columns:
            excluded[column] = "id"
        elif column in spec.drop:
            excluded[column] = "dropped by the spec (drop)"
        elif column in spec.categorical_columns:
            features[column] = "categorical"
        elif series.dtype == pl.Boolean or _is_boolean_text(series):
            features[column] = "boolean"
        elif series.dtype.is_numeric() or _is_numeric_text(series):
            features[column] = "numeric"
        elif series.dtype.is_temporal() or _is_date_text(series):
            excluded[column] = "a date: needs a point-in-time rule before it can be a feature"
        elif series.drop_nulls().n_unique() <= spec.max_categories:
            features[column] = "categorical"
        else:
            excluded[column] = f"text with more than {spec.max_categories} distinct values (id-like)"
    return features, excluded


def validate_lead_data(spec: DatasetSpec, data: bytes, now: dt.datetime,
                       max_bad_row_share: float = QualityThresholds.max_bad_row_share
                       ) -> tuple[FileVerdict, DatasetCatalog]:
    """Check the bytes of the user's file against the contract the spec implies; bad rows come back
    with reasons."""
    sample = _typed_sample(data, spec.path.name)
    missing = sorted(spec.declared_columns - set(sample.columns))
    if missing:
        raise DatasetSpecError(f"lead file {spec.path.name} lacks column(s) named in the spec: {', '.join(missing)}")
    features, excluded = infer_attribute_kinds(sample, spec)
    _check_selection_columns(spec, sample.columns, features, excluded)
    if spec.segment_column and features.get(spec.segment_column) not in ("categorical", "boolean"):
        why = excluded.get(spec.segment_column, features.get(spec.segment_column, "not in the file"))
        raise DatasetSpecError(f"segment_column {spec.segment_column} must be a categorical feature column "
                               f"of {spec.path.name} ({why})")
    contract = _implied_contract(spec, features, list(excluded))
    verdict = validate_file(data, spec.path.name, contract, now, max_bad_row_share)
    cutoff = spec.data_cutoff or _latest_time(verdict.good_rows, spec)
    catalog = DatasetCatalog(
        name=spec.name,
        origin="dataset_spec",
        targets={name: ("outcome_time" if t.outcome_time else "provided_label") for name, t in spec.targets.items()},
        feature_columns=features,
        excluded_columns=excluded,
        data_cutoff=cutoff.astimezone(dt.UTC).isoformat(),
        positive_share_bands={k: list(v) for k, v in spec.positive_share_band.items()},
        censor_provided_labels=spec.data_cutoff is not None,
        feature_selection=spec.selection_controls(),
        open_rule="column" if spec.open_column else "window",
        segment_column=spec.segment_column,
        tier_shares=list(spec.tier_shares),
    )
    return verdict, catalog


def _check_selection_columns(spec: DatasetSpec, columns: list[str], features: dict[str, str],
                             excluded: dict[str, str]) -> None:
    """keep, drop and sentinel_values must name columns of the file; keep and sentinels, features."""
    named = {"keep": spec.keep, "drop": spec.drop, "sentinel_values": list(spec.sentinel_values)}
    problems = [f"{field} names {c!r}, which the lead file does not have"
                for field, names in named.items() for c in names if c not in columns]
    problems += [f"{field} names {c!r}, which is not a feature ({excluded[c]})"
                 for field in ("keep", "sentinel_values") for c in named[field] if c in excluded]
    problems += [f"sentinel_values names {c!r}, a {features[c]} feature: only numeric values can be sentinels"
                 for c in spec.sentinel_values if features.get(c) not in (None, "numeric")]
    if problems:
        raise DatasetSpecError(f"dataset spec {spec.name}: " + "; ".join(problems))


def lead_tables_from_spec(spec: DatasetSpec, good_rows: pl.DataFrame, features: dict[str, str]
                          ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The canonical lead_contacts and lead_outcomes of a user's file (one contact per lead)."""
    contacts = good_rows.select(
        pl.col(spec.lead_id).alias("contact_id"),
        pl.col(spec.lead_id).alias("lead_id"),
        pl.col(spec.contact_time).alias("contact_time"),
        *[pl.col(c) for c in features],
        *([pl.col(spec.open_column).cast(pl.String).str.to_lowercase()
           .is_in([v.lower() for v in spec.open_values]).alias(OPEN_COLUMN)] if spec.open_column else []),
    ).sort("contact_time", "contact_id")
    truth = []
    for name, target in spec.targets.items():
        if target.outcome_time:
            truth.append(pl.col(target.outcome_time).alias(TARGETS[name].outcome_time_column))
        else:
            truth.append(pl.col(target.label or "").cast(pl.Int8).alias(f"{LABEL_PREFIX}{name}"))
    outcomes = good_rows.select(pl.col(spec.lead_id).alias("lead_id"), *truth).sort("lead_id")
    return contacts, outcomes


def _implied_contract(spec: DatasetSpec, features: dict[str, str], excluded: list[str]) -> SourceContract:
    columns = [
        ColumnSpec(spec.lead_id, pl.String, nullable=False),
        ColumnSpec(spec.contact_time, UTC_DATETIME, nullable=False, not_after_ingestion=True),
    ]
    for target in spec.targets.values():
        if target.outcome_time:
            columns.append(ColumnSpec(target.outcome_time, UTC_DATETIME, not_after_ingestion=True))
        else:
            columns.append(ColumnSpec(target.label or "", pl.Int64, min_value=0, max_value=1))
    kind_to_dtype = {"numeric": pl.Float64, "boolean": pl.Boolean, "categorical": pl.String}
    columns += [ColumnSpec(c, kind_to_dtype[k]) for c, k in features.items()]
    columns += [ColumnSpec(c, pl.String, pii=True) for c in spec.pii_columns if c not in {x.name for x in columns}]
    if spec.open_column:
        columns.append(ColumnSpec(spec.open_column, pl.String))
    return SourceContract(name=spec.name, columns=tuple(columns), key=(spec.lead_id,),
                          description=f"lead file of dataset spec {spec.name}", time_column=spec.contact_time)


def _typed_sample(data: bytes, file_name: str) -> pl.DataFrame:
    """The file as read (CSV cells as text, Parquet natively typed), to infer attribute kinds."""
    probe = SourceContract(name="probe", columns=(), key=(), description="", time_column="")
    read_raw(data, file_name, probe)  # rejects empty, non-UTF-8 and damaged files with a reason
    if file_name.lower().endswith(".csv"):
        return pl.read_csv(io.BytesIO(data), infer_schema=False)
    return pl.read_parquet(io.BytesIO(data))


# A column is numeric (or boolean) when most of its cells parse: the few that do not are bad rows
# to quarantine, not a sign the column is text. The bar mirrors the default bad-row limit (20%),
# past which the whole file is refused anyway.
_PARSE_SHARE = 0.8


def _is_numeric_text(series: pl.Series) -> bool:
    if series.dtype != pl.String:
        return False
    values = series.drop_nulls()
    return values.len() > 0 and as_float(values.cast(pl.Float64, strict=False).is_not_null().mean()) >= _PARSE_SHARE


def _is_boolean_text(series: pl.Series) -> bool:
    values = series.drop_nulls()
    return (series.dtype == pl.String and values.len() > 0
            and as_float(values.str.to_lowercase().is_in(["true", "false"]).mean()) >= _PARSE_SHARE)


def _is_date_text(series: pl.Series) -> bool:
    values = series.drop_nulls()
    if series.dtype != pl.String or values.len() == 0:
        return False
    return values.str.to_date("%Y-%m-%d", strict=False).null_count() == 0 or values.str.to_datetime(
        strict=False, time_zone="UTC").null_count() == 0


def _latest_time(frame: pl.DataFrame, spec: DatasetSpec) -> dt.datetime:
    columns = [spec.contact_time, *[t.outcome_time for t in spec.targets.values() if t.outcome_time]]
    return frame.select(pl.max_horizontal(pl.col(c).max() for c in columns)).item()
