"""After-repair value (ARV): an XGBoost model of comparable sales, with a heuristic fallback.

The model learns log sale price from the house's facts, its condition at sale and the ZIP's price
level and trend as known before the sale (months that had ended). ARV is the model's price for
the same house sold renovated. Where the model is missing or a house lacks the inputs it needs,
the fallback is the ZIP's median price per sqft of renovated sales times sqft, then the metro's;
every estimate says which method produced it.

A user's sales file (`contracts/sales_spec.py`) may lack some facts and carry others: the model
learns from the base facts its sales have (`arv_features`) plus the file's extra columns (grade,
view, lot size, latitude and longitude, ...), and keeps that list in its `FeatureSpace`. A house
to value that lacks an extra column is priced with it missing, as XGBoost learned to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
import xgboost as xgb

from wholesaler_assets.domain.features.feature_space import FeatureSpace
from wholesaler_assets.domain.features.lookups import mapped
from wholesaler_assets.domain.features.zip_market import ZipFigures, zip_figure_columns, zip_market_levels

ARV_FEATURES: dict[str, str] = {
    "sqft": "numeric", "beds": "numeric", "baths": "numeric", "building_age": "numeric",
    "property_type": "categorical", "condition_at_sale": "categorical", "metro": "categorical",
    "zip_median_ppsf": "numeric", "zip_price_trend": "numeric",
}
# The column each base feature is derived from, to tell whether the sales have it at all.
BASE_INPUTS = {"building_age": "year_built"}
RENOVATED = "renovated"
MODEL, ZIP_MEDIAN, METRO_MEDIAN, UNAVAILABLE = "model", "zip_median", "metro_median", "unavailable"
MIN_COMPS = 3
ARV_PARAMS = {"objective": "reg:squarederror", "tree_method": "hist", "max_depth": 4, "eta": 0.05,
              "subsample": 0.8, "colsample_bytree": 0.8, "min_child_weight": 5, "seed": 7, "nthread": 2}
ARV_ROUNDS = 400


def _with_market(frame: pl.DataFrame, levels: pl.DataFrame, day: pl.Expr) -> pl.DataFrame:
    """The ZIP level and trend known on `day` (as-of join on the month the figures became known);
    rows stay in their order."""
    return (
        frame.with_columns(_as_of=day).with_row_index("_row").sort("_as_of", "_row")
        .join_asof(levels, left_on="_as_of", right_on="known_from", by="zip_code", strategy="backward",
                   check_sortedness=False)
        .sort("_row")
        .drop("_as_of", "known_from", "_row")
    )


def sale_features(sales: pl.DataFrame) -> pl.DataFrame:
    """Comparable sales with the features the ARV model learns from, each as known before the sale."""
    levels = zip_market_levels(sales)
    return _with_market(sales, levels, pl.col("sale_date")).with_columns(
        building_age=(pl.col("sale_date").dt.year() - pl.col("year_built")).cast(pl.Float64),
    ).sort("sale_date", "sale_id")


@dataclass(frozen=True)
class ArvModel:
    """The fitted model, its feature space and the fallback medians, as of its training data."""

    booster: xgb.Booster
    space: FeatureSpace
    zip_renovated_ppsf: dict[str, float]
    metro_renovated_ppsf: dict[str, float]
    levels: pl.DataFrame  # zip_code, known_from, zip_median_ppsf, zip_price_trend


def renovated_medians(sales: pl.DataFrame) -> tuple[dict[str, float], dict[str, float]]:
    """Median price per sqft of renovated sales by ZIP (with enough comps) and by metro."""
    renovated = sales.filter((pl.col("condition_at_sale") == RENOVATED) & pl.col("price_per_sqft").is_not_null())
    by_zip = renovated.group_by("zip_code").agg(pl.col("price_per_sqft").median(), pl.len()).filter(
        pl.col("len") >= MIN_COMPS)
    by_metro = renovated.group_by("metro").agg(pl.col("price_per_sqft").median())
    return (dict(zip(by_zip["zip_code"], by_zip["price_per_sqft"], strict=True)),
            dict(zip(by_metro["metro"], by_metro["price_per_sqft"], strict=True)))


def arv_features(sales: pl.DataFrame, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The base features the sales have (a fact no sale reports is left out) and the file's extras."""
    present = {f: k for f, k in ARV_FEATURES.items()
               if (column := BASE_INPUTS.get(f, f)) not in sales.columns  # derived later from what is there
               or sales.get_column(column).null_count() < sales.height}
    return {**present, **(extra or {})}


def fit_arv_model(train: pl.DataFrame, levels: pl.DataFrame, features: dict[str, str] | None = None) -> ArvModel:
    """Fit log price on the training sales (features from `sale_features`; default `ARV_FEATURES`)."""
    features = features or ARV_FEATURES
    space = FeatureSpace.fit(train, list(features), features)
    matrix = xgb.DMatrix(space.to_pandas(train), label=np.log(train["sale_price"].to_numpy()),
                         enable_categorical=True, nthread=2)
    booster = xgb.train(ARV_PARAMS, matrix, num_boost_round=ARV_ROUNDS)
    by_zip, by_metro = renovated_medians(train)
    return ArvModel(booster, space, by_zip, by_metro, levels)


def predict_sale_price(model: ArvModel, frame: pl.DataFrame) -> np.ndarray:
    return np.exp(model.booster.inplace_predict(model.space.to_matrix(frame)))


def zip_median_baseline(train: pl.DataFrame, frame: pl.DataFrame) -> np.ndarray:
    """The comparator: the ZIP's median price per sqft of all training sales times sqft (metro if no ZIP)."""
    by_zip = train.group_by("zip_code").agg(pl.col("price_per_sqft").median().alias("_zip"))
    by_metro = train.group_by("metro").agg(pl.col("price_per_sqft").median().alias("_metro"))
    joined = frame.join(by_zip, on="zip_code", how="left", maintain_order="left").join(
        by_metro, on="metro", how="left", maintain_order="left")
    return joined.select((pl.coalesce("_zip", "_metro") * pl.col("sqft")).alias("estimate"))["estimate"].to_numpy()


@dataclass(frozen=True)
class ArvEvaluation:
    """Holdout figures of the model against the ZIP-median comparator."""

    model_mdape: float
    model_mae: float
    baseline_mdape: float
    baseline_mae: float
    holdout_rows: int

    @property
    def mae_improvement(self) -> float:
        return 1 - self.model_mae / self.baseline_mae if self.baseline_mae else float("nan")


def evaluate_arv(model: ArvModel, train: pl.DataFrame, holdout: pl.DataFrame) -> ArvEvaluation:
    actual = holdout["sale_price"].to_numpy()
    predicted = predict_sale_price(model, holdout)
    baseline = zip_median_baseline(train, holdout)
    ok = ~np.isnan(baseline)
    return ArvEvaluation(
        model_mdape=float(np.median(np.abs(predicted - actual) / actual)),
        model_mae=float(np.mean(np.abs(predicted - actual))),
        baseline_mdape=float(np.median(np.abs(baseline[ok] - actual[ok]) / actual[ok])),
        baseline_mae=float(np.mean(np.abs(baseline[ok] - actual[ok]))),
        holdout_rows=holdout.height,
    )


HOLDOUT_SHARE = 0.2  # the latest fifth of comparable sales judges the model


def temporal_split(features: pl.DataFrame, holdout_share: float = HOLDOUT_SHARE
                   ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Earlier sales to learn from, the latest `holdout_share` to judge on."""
    cut = int(features.height * (1 - holdout_share))
    return features.head(cut), features.slice(cut)


def estimate_arv(model: ArvModel | None, properties: pl.DataFrame, as_of: dt.date,
                 fallback: tuple[dict[str, float], dict[str, float]] | None = None,
                 market_on_day: ZipFigures | None = None) -> pl.DataFrame:
    """ARV of each property (columns of a snapshot) with the method that produced it, in the rows' order.

    The model prices the house as sold renovated on `as_of`; without a model (or without sqft and
    ZIP) the renovated-comps medians step in; a house with no sqft gets no estimate.
    `market_on_day` may carry the model's ZIP levels known on `as_of`
    (`features.levels_known_on(model.levels, as_of)`, computed once a day by the scorer).
    """
    zip_medians, metro_medians = fallback or ((model.zip_renovated_ppsf, model.metro_renovated_ppsf) if model
                                              else ({}, {}))
    sqft = properties.get_column("sqft").cast(pl.Float64).to_numpy()
    with np.errstate(invalid="ignore"):
        has_sqft = sqft > 0  # NaN (missing) compares false
    model_price = np.full(properties.height, np.nan)
    if model is not None:
        sold_renovated = (pl.lit(RENOVATED).alias("condition_at_sale"),
                          (pl.lit(as_of.year) - pl.col("year_built")).cast(pl.Float64).alias("building_age"))
        frame = (_with_market(properties.with_columns(sold_renovated), model.levels, pl.lit(as_of))
                 if market_on_day is None else properties.with_columns(
                     *sold_renovated, *zip_figure_columns(properties.get_column("zip_code"), market_on_day)))
        model_price = np.where(frame.get_column("zip_code").is_not_null().to_numpy(),
                               predict_sale_price(model, frame), np.nan)
    # Numpy on the few columns involved: a polars pass over the frame would dominate a one-lead request.
    zip_price = mapped(properties.get_column("zip_code"), zip_medians, pl.Float64).to_numpy() * sqft
    metro_price = mapped(properties.get_column("metro"), metro_medians, pl.Float64).to_numpy() * sqft
    by_model = has_sqft & ~np.isnan(model_price)
    by_zip = has_sqft & ~by_model & ~np.isnan(zip_price)
    by_metro = has_sqft & ~by_model & ~by_zip & ~np.isnan(metro_price)
    arv = np.select([by_model, by_zip, by_metro], [model_price, zip_price, metro_price], np.nan)
    method = np.select([by_model, by_zip, by_metro], [MODEL, ZIP_MEDIAN, METRO_MEDIAN], UNAVAILABLE)
    return pl.DataFrame([properties.get_column("property_id"), pl.Series("arv", arv, nan_to_null=True),
                         pl.Series("arv_method", method, pl.String)])
