"""The closed sets of names the platform passes around, each defined once.

They are `Literal` types, so a Dagster `Config` field, a pydantic model and a type checker all
refuse a name outside the set; the tuples list the members for messages and loops.
"""

from __future__ import annotations

from typing import Literal, get_args

ModelKind = Literal["xgboost", "baseline"]
"""A candidate model per target: the XGBoost search, or the logistic-regression baseline."""
MODEL_KINDS: tuple[ModelKind, ...] = get_args(ModelKind)

Winner = Literal["xgboost", "baseline", "none"]
"""Which candidate the promotion gates let through for a target ("none": neither)."""
WINNERS: tuple[Winner, ...] = get_args(Winner)

RowSelection = Literal["all", "holdout", "training"]
"""Which scored rows the `lead_scores` sink writes: all, or only one split of the value target."""
ROW_SELECTIONS: tuple[RowSelection, ...] = get_args(RowSelection)

ReasonsMethod = Literal["exact", "approximate", "auto"]
"""How a lead's top reasons are computed; auto: exact up to a request size, else approximate."""
REASONS_METHODS: tuple[ReasonsMethod, ...] = get_args(ReasonsMethod)
