"""Evaluation plots as matplotlib figures (object API only: no global pyplot state, no backend)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve


def pr_curves(y: np.ndarray, probabilities: Mapping[str, np.ndarray], title: str) -> Figure:
    fig = Figure(figsize=(5, 4))
    ax = fig.subplots()
    for name, prob in probabilities.items():
        precision, recall, _ = precision_recall_curve(y, prob)
        ax.plot(recall, precision, label=name)
    ax.axhline(float(np.mean(y)), color="grey", linestyle=":", label="base rate")
    ax.set(xlabel="recall", ylabel="precision", title=title)
    ax.legend()
    return fig


def calibration_curves(y: np.ndarray, prob: np.ndarray, segments: np.ndarray, title: str, bins: int = 10) -> Figure:
    fig = Figure(figsize=(5, 4))
    ax = fig.subplots()
    groups = {"all": np.ones(len(y), dtype=bool), **{str(s): segments == s for s in np.unique(segments)}}
    for name, mask in groups.items():
        if mask.sum() < bins * 10 or y[mask].sum() == 0:
            continue
        observed, predicted = calibration_curve(y[mask], prob[mask], n_bins=bins, strategy="quantile")
        ax.plot(predicted, observed, marker="o", label=name)
    top = float(max(prob.max(), 0.01))
    ax.plot([0, top], [0, top], color="grey", linestyle=":")
    ax.set(xlabel="predicted probability", ylabel="observed rate", title=title)
    ax.legend()
    return fig


def lift_chart(y: np.ndarray, prob: np.ndarray, title: str, deciles: int = 10) -> Figure:
    order = np.argsort(-prob, kind="stable")
    rates = [float(chunk.mean()) for chunk in np.array_split(y[order], deciles)]
    base = float(np.mean(y)) or 1.0
    fig = Figure(figsize=(5, 4))
    ax = fig.subplots()
    ax.bar(range(1, deciles + 1), [r / base for r in rates])
    ax.axhline(1.0, color="grey", linestyle=":")
    ax.set(xlabel="decile by score (1 = highest)", ylabel="lift over base rate", title=title)
    return fig


def importance_chart(importance: pl.DataFrame, title: str, top: int = 15) -> Figure:
    rows = importance.sort("rank").head(top)
    fig = Figure(figsize=(6, 5))
    ax = fig.subplots()
    ax.barh(rows["feature"].to_list()[::-1], rows["mean_abs_contribution"].to_list()[::-1])
    ax.set(xlabel="mean |SHAP contribution| (log-odds)", title=title)
    fig.tight_layout()
    return fig
