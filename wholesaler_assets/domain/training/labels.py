"""Labels from real outcomes, with right-censoring.

A contact's label for a target is 1 when the lead's outcome happened after the contact and within
the target's window (`contact_time < outcome_time <= contact_time + window`). A contact whose
window has not closed by the data cutoff is right-censored: we cannot know it is a negative yet,
so it is left out (and counted), never labelled 0. A ready 0/1 label from a dataset spec is taken
as given; it is censored the same way only when the dataset declares a cutoff (`censor=True`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from wholesaler_assets.domain.contracts.dataset_spec import LABEL_PREFIX
from wholesaler_assets.domain.contracts.targets import Target

LABEL = "label"
OUTCOME_TIME = "outcome_time"


@dataclass(frozen=True)
class LabelledContacts:
    """Contacts with a label, and how many were left out as censored."""

    frame: pl.DataFrame
    censored: int


def label_contacts(
    features: pl.DataFrame, outcomes: pl.DataFrame, target: Target, label_source: str, data_cutoff: dt.datetime,
    censor: bool = True,
) -> LabelledContacts:
    """Attach the target's label (and the outcome time it came from) to every uncensored contact."""
    window = dt.timedelta(days=target.window_days)
    closed = (pl.col("contact_time") + window <= data_cutoff) if censor else pl.lit(True)
    if label_source == "provided_label":
        truth = outcomes.select("lead_id", pl.col(f"{LABEL_PREFIX}{target.name}").cast(pl.Int8).alias(LABEL),
                                pl.lit(None, pl.Datetime("us", "UTC")).alias(OUTCOME_TIME))
        joined = features.join(truth, on="lead_id", how="left").filter(pl.col(LABEL).is_not_null())
    else:
        truth = outcomes.select("lead_id", pl.col(target.outcome_time_column).alias(OUTCOME_TIME))
        joined = features.join(truth, on="lead_id", how="left").with_columns(
            ((pl.col(OUTCOME_TIME) > pl.col("contact_time"))
             & (pl.col(OUTCOME_TIME) <= pl.col("contact_time") + window))
            .fill_null(False).cast(pl.Int8).alias(LABEL)
        )
    kept = joined.filter(closed)
    return LabelledContacts(frame=kept.sort("contact_time", "contact_id"), censored=joined.height - kept.height)
