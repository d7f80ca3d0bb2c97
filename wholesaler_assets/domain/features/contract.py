"""The feature contract: a versioned, declared schema of a training table's features.

For each feature: dtype, nullability, expected range, whether it is temporal (its value depends on
when the contact happened) and whether it is mutable (the property's value can change over time).
It is written as JSON beside the table and enforced with pandera; a table that breaks it blocks
training, naming the offending columns.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import pandera.polars as pa
import polars as pl

from wholesaler_assets.domain.contracts.sources import CHANNELS, CONDITIONS, OWNER_TYPES, PROPERTY_TYPES, value_checks

_DTYPES: dict[str, pl.DataType] = {"numeric": pl.Float64(), "boolean": pl.Boolean(), "categorical": pl.String()}


@dataclass(frozen=True)
class FeatureSpec:
    """One feature's declared shape."""

    name: str
    kind: str  # numeric | boolean | categorical
    nullable: bool = True
    min_value: float | None = None
    max_value: float | None = None
    allowed: tuple[str, ...] | None = None
    is_temporal: bool = False
    is_mutable: bool = True


@dataclass(frozen=True)
class FeatureContract:
    """The declared features of one dataset, in order."""

    dataset: str
    features: tuple[FeatureSpec, ...]

    @property
    def version(self) -> str:
        """A content hash: any change to a feature's declaration gives a new version."""
        body = json.dumps([asdict(f) for f in self.features], sort_keys=True)
        return "fc-" + hashlib.sha256(body.encode()).hexdigest()[:12]

    @property
    def kinds(self) -> dict[str, str]:
        return {f.name: f.kind for f in self.features}

    def to_json(self) -> str:
        return json.dumps({"dataset": self.dataset, "version": self.version,
                           "features": [asdict(f) for f in self.features]}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> FeatureContract:
        data = json.loads(text)
        specs = tuple(FeatureSpec(**{**f, "allowed": tuple(f["allowed"]) if f["allowed"] else None})
                      for f in data["features"])
        return cls(dataset=data["dataset"], features=specs)

    def pandera_schema(self) -> pa.DataFrameSchema:
        columns = {f.name: pa.Column(_DTYPES[f.kind], checks=value_checks(f.min_value, f.max_value, f.allowed),
                                     nullable=f.nullable) for f in self.features}
        return pa.DataFrameSchema(columns, strict=False, coerce=False, name=f"features of {self.dataset}")


MONOTONE_FEATURES: dict[str, int] = {
    "equity_share": 1, "years_owned": 1, "days_to_auction": -1,
    **dict.fromkeys(("tax_delinquent", "tax_years_delinquent", "tax_owed_share", "in_foreclosure", "in_probate",
                     "vacant", "open_code_violations", "distress_signal_count", "distress_events_90d",
                     "distress_events_365d"), 1)}
"""Directions a conversion probability may take in a feature, all else equal (+1 never lower as it
grows, -1 never higher), held by the XGBoost models as monotone constraints. More equity, a longer
ownership, more distress of any kind (unpaid taxes, an open foreclosure, probate, a vacant house,
code violations, recent distress events) and a nearer auction never make an owner less likely to
sell at a discount; a model free to learn noise would rank two leads differing only in one of them
the wrong way round. The promises also cut the variance a few thousand bookings leave in the
trees (docs/training.md has the measured gain). (The synthetic market's owners under water book a
little more often than those at 0% equity; the constraint gives up that rare bump for a ranking a
wholesaler can trust.)"""


def cast_features(table: pl.DataFrame, contract: FeatureContract) -> pl.DataFrame:
    """Cast feature columns to the contract's dtypes (integers to float, for one numeric type)."""
    return table.with_columns(pl.col(f.name).cast(_DTYPES[f.kind]) for f in contract.features
                              if f.name in table.columns and f.kind == "numeric")


def contract_violations(table: pl.DataFrame, contract: FeatureContract) -> dict[str, str]:
    """Offending column -> what is wrong with it; empty when the table meets the contract."""
    missing = {f.name: "missing from the table" for f in contract.features if f.name not in table.columns}
    try:
        contract.pandera_schema().validate(table.select(f.name for f in contract.features if f.name in table.columns),
                                           lazy=True)
        return missing
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.rechunk()
    problems = (
        cases.group_by("column", "check")
        .agg(pl.len().alias("rows"), pl.col("failure_case").head(3).str.join(", ").alias("examples"))
        .sort("column", "check")
    )
    found: dict[str, str] = dict(missing)
    for r in problems.iter_rows(named=True):
        rows = "" if r["check"].startswith("dtype") else f" in {r['rows']} rows"
        text = f"{r['check']}{rows} (e.g. {r['examples']})"
        found[r["column"]] = f"{found[r['column']]}; {text}" if r["column"] in found else text
    return found


def source_feature_contract() -> FeatureContract:
    """The declared contract of the landing-source dataset's features."""
    n, b, c = "numeric", "boolean", "categorical"
    specs = [
        FeatureSpec("metro", c, is_mutable=False),  # null only for a contact no snapshot matched
        FeatureSpec("property_type", c, allowed=PROPERTY_TYPES, is_mutable=False),
        FeatureSpec("condition", c, allowed=CONDITIONS),
        FeatureSpec("owner_type", c, allowed=OWNER_TYPES),
        FeatureSpec("beds", n, min_value=0, max_value=30, is_mutable=False),
        FeatureSpec("baths", n, min_value=0, max_value=30, is_mutable=False),
        FeatureSpec("sqft", n, min_value=100, max_value=100_000, is_mutable=False),
        FeatureSpec("building_age", n, min_value=-5, max_value=400, is_temporal=True, is_mutable=False),
        FeatureSpec("market_value", n, min_value=1_000, max_value=100_000_000),
        # Above 1 only when value and debt come from records of different dates (a field not reported).
        FeatureSpec("equity_share", n, min_value=-100, max_value=2),
        FeatureSpec("years_owned", n, min_value=0, max_value=200, is_temporal=True),
        FeatureSpec("absentee_owner", b),
        FeatureSpec("out_of_state_owner", b),
        FeatureSpec("tax_delinquent", b),
        FeatureSpec("tax_years_delinquent", n, min_value=1, max_value=50),
        FeatureSpec("tax_owed_share", n, min_value=0, max_value=10),
        FeatureSpec("in_foreclosure", b),
        FeatureSpec("days_to_auction", n, min_value=-400, max_value=1_000, is_temporal=True),
        FeatureSpec("in_probate", b),
        FeatureSpec("vacant", b),
        FeatureSpec("open_code_violations", n, min_value=0, max_value=100),
        FeatureSpec("distress_signal_count", n, min_value=0, max_value=5),
        FeatureSpec("distress_events_90d", n, min_value=0, max_value=100, is_temporal=True),
        FeatureSpec("distress_events_365d", n, min_value=0, max_value=200, is_temporal=True),
        FeatureSpec("days_since_latest_event", n, min_value=0, max_value=50_000, is_temporal=True),
        FeatureSpec("channel", c, nullable=False, allowed=CHANNELS, is_mutable=False),
        FeatureSpec("campaign_step", n, nullable=False, min_value=1, max_value=50, is_mutable=False),
        FeatureSpec("prior_contacts", n, nullable=False, min_value=0, max_value=500, is_temporal=True),
        *[FeatureSpec(f"prior_{ch}", n, nullable=False, min_value=0, max_value=500, is_temporal=True)
          for ch in CHANNELS],
        FeatureSpec("days_since_previous_contact", n, min_value=0, max_value=5_000, is_temporal=True),
        FeatureSpec("zip_price_trend", n, min_value=-0.9, max_value=5, is_temporal=True),
    ]
    return FeatureContract(dataset="synthetic_market", features=tuple(specs))


def spec_feature_contract(dataset: str, feature_columns: dict[str, str]) -> FeatureContract:
    """The contract of a user's lead file: the kinds inferred at ingestion, no ranges declared."""
    return FeatureContract(dataset=dataset, features=tuple(FeatureSpec(name, kind) for name, kind in
                                                           feature_columns.items()))
