"""Benchmark: score 1M leads end to end (three probabilities, ARV, buy-box, tiers, reasons) into DuckDB.

Setup (not timed): a synthetic market, its active lead records on the cutoff day replicated to
`--leads` rows (each copy a distinct lead), three 300-tree depth-5 XGBoost models with isotonic
calibration, and the ARV model of its sales.
Timed, each run writing its scored leads to a DuckDB file:
- without reasons: features, calibrated probabilities, ARV, buy-box, expected value, tiers;
- with reasons: the same, plus the top three reasons and narrative of every lead (exact for the
  top of the queue and tier A, approximate for the rest);
- a day where 5% of leads changed: reasons re-used for the 95% whose features did not change.
Baseline in the same run: bare `inplace_predict` of the same model matrices by the same boosters
(the three conversion models and the ARV model). The last line is one JSON object of the figures.

    .venv/bin/python benchmarks/bench_scoring.py [--leads 1000000] [--chunk-rows 200000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
import xgboost as xgb
from _support import peak_rss_mb, publish  # benchmarks/_support.py, beside this script

from wholesaler_assets.domain.features.feature_space import FeatureSpace
from wholesaler_assets.domain.features.lead_features import record_features
from wholesaler_assets.domain.features.warehouse_records import records_as_of
from wholesaler_assets.domain.features.zip_market import zip_market_levels
from wholesaler_assets.domain.scoring.batch import score_batch
from wholesaler_assets.domain.scoring.scorer import Scorer, TargetModel
from wholesaler_assets.domain.snapshots.lead_tables import comparable_sales_from_source, lead_outcomes_from_source
from wholesaler_assets.domain.snapshots.properties import build_property_snapshot
from wholesaler_assets.domain.synthetic.config import DirtConfig, MarketConfig
from wholesaler_assets.domain.synthetic.market import generate_market
from wholesaler_assets.domain.training.calibration import fit_calibrator
from wholesaler_assets.domain.valuation.arv import (
    ARV_FEATURES,
    RENOVATED,
    _with_market,
    fit_arv_model,
    renovated_medians,
    sale_features,
)
from wholesaler_assets.io.warehouse import DuckDBWarehouse

FEATURES = {
    "metro": "categorical", "property_type": "categorical", "condition": "categorical", "owner_type": "categorical",
    "channel": "categorical", "beds": "numeric", "baths": "numeric", "sqft": "numeric", "building_age": "numeric",
    "market_value": "numeric", "equity_share": "numeric", "years_owned": "numeric", "absentee_owner": "boolean",
    "out_of_state_owner": "boolean", "tax_delinquent": "boolean", "tax_years_delinquent": "numeric",
    "tax_owed_share": "numeric", "in_foreclosure": "boolean", "days_to_auction": "numeric", "in_probate": "boolean",
    "vacant": "boolean", "open_code_violations": "numeric", "distress_signal_count": "numeric",
    "distress_events_365d": "numeric", "days_since_latest_event": "numeric", "campaign_step": "numeric",
    "prior_contacts": "numeric", "days_since_previous_contact": "numeric", "zip_price_trend": "numeric",
}
TARGETS = ("booked_call_7d", "qualified_14d", "deal_30d")
PARAMS = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 5, "eta": 0.05, "seed": 7,
          "nthread": 2}


def build_scorer(records: pl.DataFrame, levels: pl.DataFrame, sales: pl.DataFrame) -> Scorer:
    """Three conversion models and calibrators on the records' features (labels drawn from a known logit)."""
    features = record_features(records, levels, {})
    space = FeatureSpace.fit(features, list(FEATURES), FEATURES)
    matrix = space.to_pandas(features)
    rng = np.random.default_rng(5)
    signal = (1.5 * features["equity_share"].fill_null(0).to_numpy() + 0.8 * features["tax_delinquent"].to_numpy()
              + 0.8 * features["in_foreclosure"].to_numpy() - 0.2 * features["campaign_step"].to_numpy())
    models = []
    for i, target in enumerate(TARGETS):
        y = (rng.random(len(signal)) < 1 / (1 + np.exp(-(signal - 3.0 - i)))).astype(float)
        booster = xgb.train(PARAMS, xgb.DMatrix(matrix, label=y, enable_categorical=True), num_boost_round=300)
        calibrator, _ = fit_calibrator(booster.inplace_predict(matrix), y, None)
        models.append(TargetModel(target, "xgboost", booster, space, calibrator))
    arv = fit_arv_model(sale_features(sales), levels)
    metros = sales.select("zip_code", "metro").unique("zip_code").sort("zip_code")
    return Scorer(models, arv, renovated_medians(sales), levels, dict(metros.iter_rows()), model_version="bench")


def market_and_scorer(properties: int) -> tuple[pl.DataFrame, Scorer]:
    """The active lead records of a clean synthetic market on its cutoff day, and a scorer trained on them."""
    config = MarketConfig(n_properties=properties, dirt=DirtConfig.clean())
    market = generate_market(config)
    day = config.end_date
    snapshot = build_property_snapshot(market.properties, market.distress_events, day)
    sales = comparable_sales_from_source(market.sales)
    base = records_as_of(day, snapshot, market.contacts.drop("owner_phone"), lead_outcomes_from_source(market.outcomes))
    return base, build_scorer(base, zip_market_levels(sales), sales)


def replicate(records: pl.DataFrame, n: int) -> pl.DataFrame:
    copies = -(-n // records.height)
    return pl.concat([records.with_columns(pl.col("lead_id") + f"-{k}") for k in range(copies)]).head(n)


def bare_predict_seconds(scorer: Scorer, records: pl.DataFrame, chunk_rows: int) -> float:
    """The same boosters on the same model matrices, matrices built outside the clock."""
    seconds = 0.0
    for start in range(0, records.height, chunk_rows):
        chunk = records.slice(start, chunk_rows)
        features = scorer.features(chunk)
        matrices = [m.space.to_matrix(features) for m in scorer.models]
        day = chunk["scoring_date"][0]
        arv_frame = _with_market(chunk.with_columns(condition_at_sale=pl.lit(RENOVATED),
                                                    building_age=(pl.lit(day.year) - pl.col("year_built")).cast(
                                                        pl.Float64)), scorer.levels, pl.lit(day))
        arv_matrix = scorer.arv.space.to_matrix(arv_frame.select(list(ARV_FEATURES)))
        began = time.perf_counter()
        for model, matrix in zip(scorer.models, matrices, strict=True):
            model.model.inplace_predict(matrix)
        scorer.arv.booster.inplace_predict(arv_matrix)
        seconds += time.perf_counter() - began
    return seconds


def timed_scoring(scorer: Scorer, records: pl.DataFrame, folder: Path, name: str,
                  **kwargs) -> tuple[float, pl.DataFrame]:
    began = time.perf_counter()
    scored, stats = score_batch(scorer, records, **kwargs)
    DuckDBWarehouse(folder / f"{name}.duckdb").replace_table("scored_leads", scored)
    seconds = time.perf_counter() - began
    print(f"{name}: {records.height / seconds:,.0f} leads/s ({seconds:.1f} s; reasons re-used "
          f"{stats.reasons_reused:,}, exact {stats.reasons_exact:,}, approximate {stats.reasons_approximate:,})",
          flush=True)
    return seconds, scored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--properties", type=int, default=60_000)
    parser.add_argument("--chunk-rows", type=int, default=200_000)
    args = parser.parse_args()

    started = time.perf_counter()
    base, scorer = market_and_scorer(args.properties)
    records = replicate(base, args.leads)
    print(f"setup: {base.height:,} active leads replicated to {records.height:,}; models trained in "
          f"{time.perf_counter() - started:.0f} s", flush=True)

    bare = bare_predict_seconds(scorer, records, args.chunk_rows)
    bare_rate = records.height / bare
    print(f"bare inplace_predict (3 conversion models + ARV): {bare_rate:,.0f} leads/s ({bare:.1f} s)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plain, _ = timed_scoring(scorer, records, folder, "without_reasons", chunk_rows=args.chunk_rows,
                                 reasons=False)
        explained, scored = timed_scoring(scorer, records, folder, "with_reasons", chunk_rows=args.chunk_rows)
        previous = scored.select("lead_id", "feature_hash", "top_reasons", "narrative", "reasons_method",
                                 "reasons_as_of")
        del scored
        changed = records.with_columns(
            pl.when(pl.int_range(pl.len()) % 20 == 0).then(pl.col("prior_contacts") + 1)
            .otherwise(pl.col("prior_contacts")).alias("prior_contacts"))
        daily, _ = timed_scoring(scorer, changed, folder, "5pct_changed", chunk_rows=args.chunk_rows,
                                 previous=previous)
    figures = {
        "leads": records.height,
        "bare_predict_leads_per_s": round(bare_rate),
        "leads_per_s": round(records.height / plain),
        "leads_per_s_with_reasons": round(records.height / explained),
        "leads_per_s_5pct_changed": round(records.height / daily),
        "peak_rss_mb": round(peak_rss_mb()),
        "ratio_vs_bare_predict": round((records.height / plain) / bare_rate, 3),
    }
    aims = {"ratio_vs_bare_predict >= 0.5": figures["ratio_vs_bare_predict"] >= 0.5,
            "peak_rss_mb < 3072": figures["peak_rss_mb"] < 3072}
    print("aims: " + ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in aims.items()))
    publish("bench_scoring", figures)


if __name__ == "__main__":
    main()
