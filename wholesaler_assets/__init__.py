"""wholesaler-leads: lead scoring for real-estate wholesalers on Dagster and MLflow.

`defs` is exported here so `dagster ... -m wholesaler_assets` finds the code location; the
definitions themselves live in `definitions.py`, and `domain/` never imports Dagster.
"""

from wholesaler_assets.definitions import defs

__all__ = ["defs"]
