"""Benchmark: train all three targets (search, folds, calibration, evaluation) on ~200k contacts.

Setup (not timed): a synthetic market sized for about 200k contacts, monthly snapshots, the three
training tables and their per-fold feature selections. Timed: per target, the baseline and the
XGBoost search on the saved folds, calibration of both, and the holdout evaluation with its gates.
Baseline figure in the same run: one plain `xgboost.train` of the same matrix with the chosen
configuration's rounds. The last line is one JSON object of the figures.

    .venv/bin/python benchmarks/bench_training.py [--contacts 200000] [--search-configs 4]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import polars as pl
import xgboost as xgb
from _support import market_for_contacts, peak_rss_mb, publish  # benchmarks/_support.py, beside this script

from wholesaler_assets.domain.contracts.targets import TARGETS
from wholesaler_assets.domain.evaluation.gates import GateThresholds
from wholesaler_assets.domain.evaluation.verdict import calibrate, holdout_scores, judge
from wholesaler_assets.domain.features.contact_features import source_contact_features
from wholesaler_assets.domain.features.contract import source_feature_contract
from wholesaler_assets.domain.features.feature_space import FeatureSpace
from wholesaler_assets.domain.snapshots.lead_tables import (
    comparable_sales_from_source,
    lead_outcomes_from_source,
)
from wholesaler_assets.domain.training.search import LABEL, train_baseline, train_xgboost
from wholesaler_assets.domain.training.selection import FINAL_FOLD, select_per_fold
from wholesaler_assets.domain.training.table import build_training_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--search-configs", type=int, default=4)
    args = parser.parse_args()

    started = time.perf_counter()
    bench = market_for_contacts(args.contacts)
    config, market = bench.config, bench.market
    features = source_contact_features(market.contacts.drop("owner_phone"), bench.snapshots,
                                       comparable_sales_from_source(market.sales))
    outcomes = lead_outcomes_from_source(market.outcomes)
    cutoff = dt.datetime.combine(config.end_date + dt.timedelta(days=1), dt.time(), dt.UTC)
    contract = source_feature_contract()
    prepared = {}
    for name, target in TARGETS.items():
        built = build_training_table(features, outcomes, target, "outcome_time", cutoff, contract)
        train = built.table.filter(pl.col("split") == "train")
        kinds = {f: k for f, k in contract.kinds.items() if f in train.columns}
        selections = select_per_fold(train, built.folds, kinds, LABEL)
        prepared[name] = (built, train, kinds, selections)
    print(f"setup: {features.height:,} contacts, three tables and selections in "
          f"{time.perf_counter() - started:.1f} s", flush=True)

    started = time.perf_counter()
    one_fit_s = 0.0
    for name, (built, train, kinds, selections) in prepared.items():
        t0 = time.perf_counter()
        per_fold = {k: v.selected for k, v in selections.items() if k != FINAL_FOLD}
        final = selections[FINAL_FOLD].selected
        candidates = {
            "baseline": train_baseline(train, built.folds, per_fold, final, kinds),
            "xgboost": train_xgboost(train, built.folds, per_fold, final, kinds, n_configs=args.search_configs,
                                     max_cv_cov=GateThresholds().max_cv_pr_auc_cov),
        }
        holdout = built.table.filter(pl.col("split") == "holdout")
        scores = {k: holdout_scores(c, calibrate(c, train)[0], holdout) for k, c in candidates.items()}
        verdict = judge(scores["xgboost"], scores["baseline"], GateThresholds())
        print(f"  {name}: {train.height:,} training rows, winner {verdict.winner}, "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        if name == "booked_call_7d":  # the baseline figure: one plain fit of the same matrix
            chosen = candidates["xgboost"]
            space = FeatureSpace.fit(train, final, kinds)
            matrix = xgb.DMatrix(space.to_pandas(train), label=train[LABEL].to_numpy(), enable_categorical=True)
            t1 = time.perf_counter()
            xgb.train(chosen.config.params(float(train[LABEL].mean()), space.features), matrix,
                      num_boost_round=chosen.config.num_rounds)
            one_fit_s = time.perf_counter() - t1
    seconds = time.perf_counter() - started
    figures = {
        "contacts": features.height,
        "search_configs": args.search_configs,
        "seconds": round(seconds, 1),
        "one_fit_s": round(one_fit_s, 2),
        "peak_rss_mb": round(peak_rss_mb()),
        "ratio_vs_one_fit": round(seconds / one_fit_s, 1),
    }
    print(f"three targets trained and judged in {seconds:.0f} s (aim: under 600 s), "
          f"{figures['ratio_vs_one_fit']}x one plain fit of {one_fit_s:.1f} s; peak RSS {figures['peak_rss_mb']} MB")
    publish("bench_training", figures)


if __name__ == "__main__":
    main()
