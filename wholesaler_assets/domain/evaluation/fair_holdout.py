"""The rows on which a challenger and the champion can be compared fairly.

A retraining's holdout is the newest matured part of its window, and the champion was trained on
everything up to its own data cutoff, so part of that holdout may be rows the champion learned
from: compared there it looks better than it is, and every retrained challenger loses. Only
contacts after the champion's training data count; a target left with too few positives is not
compared on the holdout at all (the shadow days, on leads neither model has seen, decide).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from wholesaler_assets.domain.training.labels import LABEL

MIN_UNSEEN_POSITIVES = 10


def unseen_holdouts(holdouts: dict[str, pl.DataFrame], champion_trained_through: dt.date | None,
                    min_positives: int = MIN_UNSEEN_POSITIVES) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    """Per target, the holdout rows contacted after the champion's last training day, and why a target
    is left out of the comparison. Without the champion's day (a version registered before it was
    recorded) every row counts."""
    if champion_trained_through is None:
        return holdouts, {}
    kept, left_out = {}, {}
    for target, rows in holdouts.items():
        unseen = rows.filter(pl.col("contact_time").dt.date() > champion_trained_through)
        positives = int(unseen[LABEL].sum()) if unseen.height else 0
        if positives >= min_positives:
            kept[target] = unseen
        else:
            left_out[target] = (f"{positives} positive(s) among {unseen.height} holdout contacts after the champion's "
                                f"training data (through {champion_trained_through}); needs {min_positives}")
    return kept, left_out


def worse_than_champion(challenger: dict[str, float], champion: dict[str, float]) -> dict[str, str]:
    """Targets whose retrained model ranks worse than the champion's own on the rows both are compared on,
    with why. A retraining's challenger keeps the champion's model there: a one-year window can hold
    less than the champion learned from, and a repair must not make any target worse."""
    return {target: f"its retrained model ranked worse on unseen holdout contacts (PR-AUC {challenger[target]:.4f} "
                    f"< {champion[target]:.4f})"
            for target in champion if target in challenger and challenger[target] < champion[target]}
