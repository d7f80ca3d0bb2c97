"""The MLflow pyfunc `mlflow models serve` runs: raw lead records in, scored leads out.

The only MLflow edge of scoring; it imports neither Dagster nor the asset modules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import polars as pl
import xgboost as xgb
from mlflow.pyfunc import PythonModel

from wholesaler_assets.domain.features.record_validation import InvalidRecords
from wholesaler_assets.domain.scoring.scorer import APPROXIMATE, EXACT, Scorer
from wholesaler_assets.io.scorer_artifacts import load_scorer


def to_response(scored: pl.DataFrame) -> list[dict[str, Any]]:
    """Scored leads as JSON-ready records, the endpoint's `predictions`: dates as ISO text, missing
    values as None (JSON null, never NaN).

    Records rather than a pandas frame: MLflow serialises a frame through `DataFrame.to_dict`,
    which cost about 1 ms on a one-lead request and 10 ms on a 1,000-lead one.
    """
    return response_frame(scored).with_columns(pl.col(pl.Date).cast(pl.String)).to_dicts()


def response_frame(scored: pl.DataFrame) -> pl.DataFrame:
    """Scored leads as the endpoint answers them, as a frame (`wholesaler score` writes it): missing
    numbers as null, never NaN."""
    return scored.with_columns(pl.col(pl.Float32, pl.Float64).fill_nan(None))


# XGBoost threads per request. With its default (every core) each tiny prediction wakes an OpenMP
# team, which on a busy machine costs more than the prediction itself (benchmarks/results/
# bench_serving.json). The numbers do not depend on it.
SERVING_XGBOOST_THREADS = 1

# Leads a request may carry: a bigger batch belongs to the daily scoring job. It bounds a request's
# time well inside MLflow's request timeout, and its JSON fits the proxy's body limit
# (deploy/production/nginx/scoring.conf).
MAX_LEADS_PER_REQUEST = 10_000


class LeadScorer(PythonModel):  # not mlflow.pyfunc.PythonModel: mypy sees mlflow's lazy loader
    """The pyfunc MLflow serves: raw lead records in, scored leads out (see the README's serving schema).

    `predict` returns one JSON-ready record per lead, exactly the endpoint's `predictions`
    (`pandas.DataFrame(records)` gives the `scored_leads` columns). Bad records raise
    `MlflowException(INVALID_PARAMETER_VALUE)` naming each field and row, which
    `mlflow models serve` answers with HTTP 400. `params={"reasons": "exact" | "approximate" |
    "auto"}` chooses how reasons are computed (auto: exact up to 100 leads a request).
    """

    def __init__(self) -> None:
        self.scorer: Scorer | None = None

    def load_context(self, context: Any) -> None:
        config = context.model_config or {}
        self.scorer = load_scorer(context.artifacts, str(config.get("model_version", "unregistered")),
                                  str(config.get("model_run_id", "")))

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
                ) -> list[dict[str, Any]]:
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

        assert self.scorer is not None, "load_context has not run"
        reasons = (params or {}).get("reasons", "auto")
        if reasons not in ("auto", EXACT, APPROXIMATE):
            raise MlflowException(f"param 'reasons' must be auto, exact or approximate, got {reasons!r}",
                                  error_code=INVALID_PARAMETER_VALUE)
        frame = _as_pandas(model_input)
        if len(frame) > MAX_LEADS_PER_REQUEST:
            raise MlflowException(f"{len(frame):,} lead records in one request: send at most "
                                  f"{MAX_LEADS_PER_REQUEST:,} a request", error_code=INVALID_PARAMETER_VALUE)
        try:
            records = self.scorer.validate(frame, dt.datetime.now(dt.UTC).date())
        except InvalidRecords as exc:
            raise MlflowException(str(exc), error_code=INVALID_PARAMETER_VALUE) from None
        with xgb.config_context(nthread=SERVING_XGBOOST_THREADS):  # thread-local: concurrent requests keep theirs
            return to_response(self.scorer.score(records, reasons))


def _as_pandas(model_input: Any) -> pd.DataFrame:
    """What MLflow hands `predict` (a pandas frame from JSON, or a frame, dict or records in-process).

    `instances` or `inputs` requests arrive as arrays that need not make a table; they are refused
    with the request shapes the endpoint takes rather than MLflow's message that names nothing.
    """
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

    if isinstance(model_input, pd.DataFrame):
        return model_input
    if isinstance(model_input, pl.DataFrame):
        return model_input.to_pandas()
    try:
        return pd.DataFrame(model_input)
    except (ValueError, TypeError) as exc:
        raise MlflowException(f"lead records must be a table, e.g. {{\"dataframe_records\": [{{...}}, ...]}} "
                              f"or dataframe_split; got {type(model_input).__name__} ({exc})",
                              error_code=INVALID_PARAMETER_VALUE) from None
