"""Monitoring files are real: the drift report's HTML and JSON, our summary, and the performance PNG."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl
import pytest

from wholesaler_assets.domain.monitoring.drift import drift_report
from wholesaler_assets.domain.monitoring.estimation import estimate_performance, estimated_table, performance_over_time
from wholesaler_assets.domain.monitoring.performance import MetricSet, RealizedPerformance, realized_table
from wholesaler_assets.io.drift_reports import save_drift_report, save_performance_plot

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_a_drift_report_is_written_as_html_evidently_json_and_our_summary(tmp_path):
    rng = np.random.default_rng(0)
    ref = pl.DataFrame({"price": rng.lognormal(12, 0.4, 400), "channel": rng.choice(["sms", "mail"], 400),
                        "p_deal_30d": rng.beta(1, 30, 400)})
    cur = ref.with_columns(pl.col("price") * 0.7, pl.lit(None, pl.Float64).alias("p_deal_30d"))
    summary = drift_report(ref, cur, ["price"], ["channel"], ["p_deal_30d"])
    paths = save_drift_report(summary, tmp_path / "drift" / "2025-03-10")
    assert set(paths) == {"html", "json", "summary"}
    assert paths["html"].stat().st_size > 1_000 and b"<html" in paths["html"].read_bytes()[:5_000].lower()
    assert "metrics" in json.loads(paths["json"].read_text())
    ours = json.loads(paths["summary"].read_text())
    assert ours["columns"]["price"]["drifted"] is True and ours["skipped"] == {"p_deal_30d": "all null in current"}


def test_the_performance_plot_is_a_png_of_the_last_90_days(tmp_path):
    day0 = dt.date(2025, 1, 1)
    rng = np.random.default_rng(1)
    days = [day0 + dt.timedelta(days=i) for i in range(0, 120, 10)]
    estimated = estimated_table([estimate_performance(rng.beta(1, 15, 300), t, d, n_draws=20)
                                 for t in ("booked_call_7d", "deal_30d") for d in days])
    realized = realized_table([RealizedPerformance(t, d, MetricSet(300, 20, 0.07, 0.2, 2.5, 0.06, 0.02))
                               for t in ("booked_call_7d", "deal_30d") for d in days[:-3]])
    path = save_performance_plot(performance_over_time(realized, estimated), tmp_path / "plots" / "performance.png")
    assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 5_000
    with pytest.raises(ValueError, match="no performance rows"):
        save_performance_plot(performance_over_time(realized, estimated).head(0), tmp_path / "empty.png")
