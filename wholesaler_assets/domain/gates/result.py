"""The one verdict type of every gate: data quality, valuation, scoring and model promotion.

A gate passes or fails and says why in `summary`. Gates that compare one figure with a limit
carry both as `value` and `threshold` (a figure that could not be computed is NaN, and the gate
then fails unless its rule says otherwise); everything else the gate found goes in `details`.
The asset layer turns a `GateResult` into a Dagster asset-check result in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True, kw_only=True)
class GateResult:
    """The verdict of one gate and the figures behind it."""

    name: str = ""  # the check's name; a generic data-quality gate gets it from the asset that applies it
    passed: bool
    summary: str
    value: float | None = None
    threshold: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def named(self, name: str) -> GateResult:
        """The same verdict under the name of the check that applies it."""
        return replace(self, name=name)

