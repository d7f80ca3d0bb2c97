"""The comparable renovated sales behind an ARV, and the conservative ARV the buy-box uses.

A wholesaler checks an ARV against the renovated sales next to the house. For each lead:

    comparables  = renovated sales of the same ZIP, sqft within +/- sqft_tolerance of the house,
                   sold in the `lookback_days` before the scoring day (the house itself excluded);
                   if fewer than `min_comparables`, the wider second search (`wide_lookback_days`,
                   `wide_sqft_tolerance`); the `max_comparables` closest in size, then most recent
    comps ARV    = median price per sqft of the comparables x the house's sqft
                   (null with fewer than `min_comparables`)
    used ARV     = min(model ARV, comps ARV) when |model / comps - 1| > band, else the model ARV
    flags        = far_from_comparables (beyond the band), far_above_as_is
                   (used ARV > max_arv_to_value[condition] x as-is market value), few_comparables

Pure functions of polars frames and an :class:`ArvCheckConfig`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import Any

import polars as pl

from wholesaler_assets.domain.valuation.buy_box_config import BuyBoxConfig
from wholesaler_assets.domain.valuation.buy_box_frame import evaluate_deals

RENOVATED = "renovated"
MODEL, COMPARABLES = "model", "comparables"
FAR_FROM_COMPARABLES, FAR_ABOVE_AS_IS, FEW_COMPARABLES = "far_from_comparables", "far_above_as_is", "few_comparables"
DEFAULT_MAX_ARV_TO_VALUE: Mapping[str, float] = MappingProxyType(
    {"excellent": 1.3, "good": 1.4, "fair": 1.55, "poor": 1.8, "distressed": 2.2})
COMPARABLE_COLUMNS = ("sale_id", "sale_date", "sale_price", "sqft", "price_per_sqft", "beds", "baths", "property_id")


@dataclass(frozen=True)
class ArvCheckConfig:
    """How comparables are found and when they overrule the model (defaults: docs/valuation.md)."""

    lookback_days: int = 365
    sqft_tolerance: float = 0.20
    wide_lookback_days: int = 730
    wide_sqft_tolerance: float = 0.35
    min_comparables: int = 3
    max_comparables: int = 5
    band: float = 0.15  # model and comparables disagree beyond this share: the lower one is used
    # flag an ARV above this multiple of the as-is value, by the house's condition (a renovation lifts
    # a distressed house's value about 1.8x, a good one's about 1.1x); unknown conditions: the default
    max_arv_to_value: Mapping[str, float] = field(default_factory=lambda: DEFAULT_MAX_ARV_TO_VALUE)
    default_max_arv_to_value: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.lookback_days <= self.wide_lookback_days:
            raise ValueError("need 0 < lookback_days <= wide_lookback_days, got "
                             f"{self.lookback_days}, {self.wide_lookback_days}")
        if not 0 < self.sqft_tolerance <= self.wide_sqft_tolerance < 1:
            raise ValueError("need 0 < sqft_tolerance <= wide_sqft_tolerance < 1, got "
                             f"{self.sqft_tolerance}, {self.wide_sqft_tolerance}")
        if not 1 <= self.min_comparables <= self.max_comparables:
            raise ValueError(f"need 1 <= min_comparables <= max_comparables, got {self.min_comparables}, "
                             f"{self.max_comparables}")
        limits = {"default": self.default_max_arv_to_value, **self.max_arv_to_value}
        if self.band < 0 or min(limits.values()) <= 1:
            raise ValueError(f"band must be >= 0 and every max_arv_to_value > 1, got {self.band}, {limits}")
        object.__setattr__(self, "max_arv_to_value", MappingProxyType(
            {k.strip().lower(): float(v) for k, v in self.max_arv_to_value.items()}))

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "max_arv_to_value": dict(self.max_arv_to_value)}

    def arv_limit(self) -> pl.Expr:
        """The multiple of the as-is value above which an ARV is flagged, per row's `condition`."""
        keys = list(self.max_arv_to_value)
        condition = pl.col("condition").cast(pl.String).str.strip_chars().str.to_lowercase()
        return condition.replace_strict(keys, [self.max_arv_to_value[k] for k in keys],
                                        default=self.default_max_arv_to_value, return_dtype=pl.Float64
                                        ).fill_null(self.default_max_arv_to_value)


def _search(leads: pl.DataFrame, renovated: pl.DataFrame, lookback_days: int, tolerance: float) -> pl.DataFrame:
    """Every (lead, sale) pair within the window and size tolerance, ranked closest size then newest."""
    return (
        leads.join(renovated, on="zip_code", how="inner", suffix="_sale")
        .filter((pl.col("sale_date") <= pl.col("as_of"))
                & (pl.col("sale_date") > pl.col("as_of") - pl.duration(days=lookback_days))
                & ((pl.col("sqft_sale") / pl.col("sqft") - 1).abs() <= tolerance)
                & (pl.col("property_id_sale") != pl.col("property_id")))
        .with_columns(size_gap=(pl.col("sqft_sale") / pl.col("sqft") - 1).abs())
    )


def find_comparables(leads: pl.DataFrame, sales: pl.DataFrame, as_of: dt.date,
                     config: ArvCheckConfig = ArvCheckConfig()) -> pl.DataFrame:
    """The comparable renovated sales of each lead (`lead_id`, `property_id`, `zip_code`, `sqft`), one row
    per (lead, sale): lead_id, comparable_rank, search (narrow | wide) and `COMPARABLE_COLUMNS`."""
    renovated = sales.filter((pl.col("condition_at_sale") == RENOVATED) & (pl.col("sqft") > 0)).select(
        "zip_code", *COMPARABLE_COLUMNS).rename({"beds": "beds_sale", "baths": "baths_sale"})
    base = leads.select("lead_id", "property_id", "zip_code", pl.col("sqft").cast(pl.Float64)).filter(
        pl.col("sqft") > 0).with_columns(as_of=pl.lit(as_of, pl.Date))
    narrow = _search(base, renovated, config.lookback_days, config.sqft_tolerance)
    enough = narrow.group_by("lead_id").len().filter(pl.col("len") >= config.min_comparables)["lead_id"]
    wide = _search(base.filter(~pl.col("lead_id").is_in(enough.implode())), renovated,
                   config.wide_lookback_days, config.wide_sqft_tolerance)
    found = pl.concat([narrow.filter(pl.col("lead_id").is_in(enough.implode())).with_columns(search=pl.lit("narrow")),
                       wide.with_columns(search=pl.lit("wide"))])
    return (
        found.sort("lead_id", "size_gap", "sale_date", "sale_id", descending=[False, False, True, False])
        .with_columns(comparable_rank=pl.int_range(1, pl.len() + 1).over("lead_id"))
        .filter(pl.col("comparable_rank") <= config.max_comparables)
        .select("lead_id", "comparable_rank", "search", "sale_id", "sale_date", "sale_price",
                pl.col("sqft_sale").alias("sqft"), "price_per_sqft", "beds_sale", "baths_sale",
                pl.col("property_id_sale").alias("property_id"))
        .rename({"beds_sale": "beds", "baths_sale": "baths"})
    )


def checked_arv(leads: pl.DataFrame, comparables: pl.DataFrame,
                config: ArvCheckConfig = ArvCheckConfig()) -> pl.DataFrame:
    """Per lead (`lead_id`, `arv`, `sqft`, `market_value`): model_arv, comparables_arv, comparables count,
    the ARV used (`arv`), its source (`arv_source`), and `arv_flags` (comma-separated, null when none)."""
    comps = comparables.group_by("lead_id").agg(pl.col("price_per_sqft").median().alias("_ppsf"),
                                                 pl.len().alias("comparables"))
    joined = leads.join(comps, on="lead_id", how="left", maintain_order="left").with_columns(
        pl.col("comparables").fill_null(0).cast(pl.Int64))
    comps_arv = pl.when(pl.col("comparables") >= config.min_comparables).then(
        pl.col("_ppsf") * pl.col("sqft").cast(pl.Float64))
    model = pl.col("arv")
    disagree = ((model / pl.col("comparables_arv") - 1).abs() > config.band).fill_null(False)
    lower = disagree & (pl.col("comparables_arv") < model)
    out = joined.with_columns(model.alias("model_arv"), comps_arv.alias("comparables_arv")).with_columns(
        pl.when(lower).then(pl.col("comparables_arv")).otherwise(model).alias("arv"),
        pl.when(lower).then(pl.lit(COMPARABLES)).otherwise(pl.lit(MODEL)).alias("arv_source"),
        disagree.alias("_far"),
    )
    flags = pl.concat_list(
        pl.when(pl.col("_far")).then(pl.lit(FAR_FROM_COMPARABLES)),
        pl.when((pl.col("arv") > config.arv_limit() * pl.col("market_value")).fill_null(False))
        .then(pl.lit(FAR_ABOVE_AS_IS)),
        pl.when(pl.col("comparables") < config.min_comparables).then(pl.lit(FEW_COMPARABLES)),
    ).list.drop_nulls().list.join(", ")
    return out.with_columns(pl.when(flags != "").then(flags).alias("arv_flags")).drop("_ppsf", "_far")


def arv_choice(lead: dict[str, Any], config: ArvCheckConfig) -> dict[str, Any]:
    """What the buy-box audit records about the ARV it used (one checked lead as a dict)."""
    condition = str(lead.get("condition") or "").strip().lower()
    return {"used": lead["arv_source"], "arv": lead["arv"], "model_arv": lead["model_arv"],
            "comparables_arv": lead["comparables_arv"], "comparables": lead["comparables"], "band": config.band,
            "max_arv_to_value": config.max_arv_to_value.get(condition, config.default_max_arv_to_value),
            "flags": lead["arv_flags"].split(", ") if lead["arv_flags"] else [],
            "rule": "the lower of model and comparables when they differ by more than the band, else the model"}


def checked_deals(leads: pl.DataFrame, sales: pl.DataFrame, as_of: dt.date, buy_box: BuyBoxConfig,
                  config: ArvCheckConfig = ArvCheckConfig()) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The buy-box re-run on the checked ARV of each lead (the columns `evaluate_deals` needs plus
    lead_id and property_id): the leads with the checked ARV columns, the new figures and an audit
    that says which ARV it used (`arv_choice`), and the comparables found."""
    comparables = find_comparables(leads, sales, as_of, config)
    checked = checked_arv(leads, comparables, config)
    audited = evaluate_deals(checked, buy_box, audit=True)
    audits = [json.dumps({**json.loads(audit), "arv_choice": arv_choice(lead, config)})
              for audit, lead in zip(audited["buy_box_audit"], audited.to_dicts(), strict=True)]
    return audited.with_columns(pl.Series("buy_box_audit", audits, pl.String)), comparables
