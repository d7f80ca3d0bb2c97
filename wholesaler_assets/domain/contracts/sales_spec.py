"""Bring your own sales: a small YAML spec maps a county's or an MLS's closed sales to comparable sales.

The spec names the columns the ARV model and its ZIP-median comparator need (sale date, price,
living area, the area the medians are taken by) and, where the file has them, the property facts
the model knows (beds, baths, year built, property type, condition at sale). A fact the spec
leaves out is read from a column of that very name, else it is absent: nothing is invented, and
the model learns without it. Every other column becomes an extra ARV feature with its kind
inferred as for lead files (numeric, boolean, categorical): grade, view, waterfront, lot size,
latitude and longitude, renovation year, whatever the file carries. Ids, PII, dates and free text
never do. Rows without a usable date, price or area are set aside with the reason.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wholesaler_assets.domain.contracts.dataset_spec import _is_boolean_text, _is_date_text, _is_numeric_text

# Canonical column -> its type in comparable_sales; the first five are required.
REQUIRED = ("sale_date", "sale_price", "sqft", "zip_code")
OPTIONAL_FACTS = {"beds": pl.Float64, "baths": pl.Float64, "year_built": pl.Float64,
                  "property_type": pl.String, "condition_at_sale": pl.String}
# Columns the ARV stage derives; a file column of the same name would be overwritten.
DERIVED = ("price_per_sqft", "building_age", "zip_median_ppsf", "zip_price_trend", "sale_id", "metro")


class SalesSpec(BaseModel):
    """The YAML a user writes to bring their own closed sales."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    path: Path
    sale_date: str
    sale_price: str
    sqft: str  # living area
    zip_code: str  # the ZIP, or any area label the comparator's medians are taken by (a neighbourhood)
    sale_id: str | None = None  # default: the row number in the file
    metro: str | None = None  # default: every sale in one metro named after the spec
    beds: str | None = None
    baths: str | None = None
    year_built: str | None = None
    property_type: str | None = None
    condition_at_sale: str | None = None  # renovated | average | distressed: ARV prices the house renovated
    categorical_columns: list[str] = []
    id_columns: list[str] = []
    pii_columns: list[str] = []
    drop: list[str] = []
    max_categories: int = 50
    max_bad_row_share: float = Field(default=0.2, ge=0, le=1)

    def mapping(self, columns: list[str]) -> dict[str, str]:
        """Canonical column -> the file's column, for every fact the file has."""
        named = {c: getattr(self, c) for c in (*REQUIRED, "sale_id", "metro", *OPTIONAL_FACTS)}
        return {canonical: column or canonical for canonical, column in named.items()
                if column is not None or canonical in columns and canonical in OPTIONAL_FACTS}


class SalesSpecError(ValueError):
    """The sales spec or its file cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class SalesFile:
    """The file's sales as comparable sales, the extra ARV features, and what was set aside."""

    sales: pl.DataFrame  # canonical columns, the extra features, price_per_sqft; ordered by date
    extra_features: dict[str, str]  # column -> numeric | boolean | categorical
    excluded_columns: dict[str, str]  # column -> why it is not a feature
    bad_rows: pl.DataFrame  # the file's rows set aside, with `_reason`
    facts: list[str]  # the optional property facts the file has


def parse_sales_spec(text: str, origin: str) -> SalesSpec:
    """Check a sales spec's YAML text; `origin` names it in the errors."""
    try:
        return SalesSpec.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise SalesSpecError(f"sales spec {origin} is not valid YAML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'spec'}: {e['msg']}" for e in exc.errors())
        raise SalesSpecError(f"sales spec {origin}: {problems}") from None


def read_sales(spec: SalesSpec, data: bytes) -> SalesFile:
    """The spec's sales file (CSV or Parquet bytes) as comparable sales with its extra features."""
    raw = _read(data, spec.path.name)
    mapping = spec.mapping(raw.columns)
    named = {*mapping.values(), *spec.categorical_columns, *spec.id_columns, *spec.pii_columns, *spec.drop}
    missing = sorted(c for c in named if c not in raw.columns)
    if missing:
        raise SalesSpecError(f"sales file {spec.path.name} lacks column(s) named in the spec: {', '.join(missing)}"
                             f" (it has {', '.join(raw.columns)})")
    features, excluded = _extra_columns(raw, spec, set(mapping.values()))
    clashes = sorted(c for c in features if c in DERIVED or c in mapping)
    if clashes:
        raise SalesSpecError(f"sales file {spec.path.name}: column(s) {', '.join(clashes)} clash with what the "
                             "ARV stage derives; rename them or list them under drop")
    canonical = raw.with_row_index("_row", offset=1).select(
        pl.col("_row"),
        (pl.col(mapping["sale_id"]).cast(pl.String) if "sale_id" in mapping
         else pl.format("{}-{}", pl.lit(spec.name), pl.col("_row"))).alias("sale_id"),
        (pl.col(mapping["metro"]).cast(pl.String) if "metro" in mapping else pl.lit(spec.name)).alias("metro"),
        pl.col(mapping["zip_code"]).cast(pl.String).alias("zip_code"),
        _as_date(pl.col(mapping["sale_date"])).alias("sale_date"),
        pl.col(mapping["sale_price"]).cast(pl.Float64, strict=False).alias("sale_price"),
        pl.col(mapping["sqft"]).cast(pl.Float64, strict=False).alias("sqft"),
        *[(pl.col(mapping[c]).cast(dtype, strict=False) if c in mapping else pl.lit(None, dtype)).alias(c)
          for c, dtype in OPTIONAL_FACTS.items()],
        *[_typed(pl.col(c), kind).alias(c) for c, kind in features.items()],
    )
    reason = (pl.when(pl.col("sale_date").is_null()).then(pl.lit(f"{mapping['sale_date']}: not a date"))
              .when(~(pl.col("sale_price") > 0)).then(pl.lit(f"{mapping['sale_price']}: not a positive price"))
              .when(~(pl.col("sqft") > 0)).then(pl.lit(f"{mapping['sqft']}: not a positive area"))
              .when(pl.col("zip_code").is_null()).then(pl.lit(f"{mapping['zip_code']}: empty")))
    checked = canonical.with_columns(_reason=reason)
    bad = checked.filter(pl.col("_reason").is_not_null())
    if bad.height > spec.max_bad_row_share * max(raw.height, 1):
        raise SalesSpecError(f"sales file {spec.path.name}: {bad.height} of {raw.height} rows unusable (more than "
                             f"{spec.max_bad_row_share:.0%}); first: row {bad['_row'][0]}, {bad['_reason'][0]}")
    sales = (checked.filter(pl.col("_reason").is_null()).drop("_row", "_reason")
             .with_columns(price_per_sqft=pl.col("sale_price") / pl.col("sqft"))
             .sort("sale_date", "sale_id"))
    if sales["sale_id"].n_unique() != sales.height:
        raise SalesSpecError(f"sales file {spec.path.name}: sale ids in {mapping.get('sale_id')} are not unique")
    facts = [c for c in OPTIONAL_FACTS if c in mapping]
    return SalesFile(sales, features, excluded, bad.select("_row", "_reason"), facts)


def _read(data: bytes, file_name: str) -> pl.DataFrame:
    if not data:
        raise SalesSpecError(f"sales file {file_name} is empty")
    try:
        if file_name.lower().endswith(".csv"):
            return pl.read_csv(io.BytesIO(data), infer_schema=False)
        return pl.read_parquet(io.BytesIO(data))
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise SalesSpecError(f"sales file {file_name} cannot be read: {exc}") from None


def _extra_columns(raw: pl.DataFrame, spec: SalesSpec, mapped: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    """The file's other columns: features with kinds, or excluded with the reason."""
    features: dict[str, str] = {}
    excluded: dict[str, str] = {}
    for column in raw.columns:
        series = raw.get_column(column)
        if column in mapped:
            continue
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


def _typed(column: pl.Expr, kind: str) -> pl.Expr:
    if kind == "numeric":
        return column.cast(pl.Float64, strict=False)
    if kind == "boolean":
        return column.cast(pl.String).str.to_lowercase().replace_strict(
            {"true": True, "false": False}, default=None, return_dtype=pl.Boolean)
    return column.cast(pl.String)


def _as_date(column: pl.Expr) -> pl.Expr:
    """ISO dates or timestamps (a Parquet date or datetime as it is); anything else is null."""
    text = column.cast(pl.String)
    return pl.coalesce(text.str.to_date("%Y-%m-%d", strict=False),
                       text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False))
