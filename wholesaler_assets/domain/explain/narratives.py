"""One plain-English sentence per lead: what raises and what lowers its chance, from its top drivers
(`contributions.top_drivers`) described with its own feature values (`phrases.describe_feature`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from wholesaler_assets.domain.explain.contributions import top_drivers
from wholesaler_assets.domain.explain.phrases import describe_feature

NO_DRIVER_SENTENCE = "No single factor stands out."


def _join(phrases: Sequence[str]) -> str:
    """'a' / 'a and b' / 'a, b and c'."""
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def narrative(drivers: Sequence[tuple[str, float]], values: Mapping[str, object]) -> str:
    """One sentence naming what raises and what lowers the chance, raisers first.

    e.g. "62% equity and two years of unpaid taxes raise the chance; owner lives in the house
    lowers it." Only lowerers: "... lowers the chance." No non-zero drivers: "No single factor
    stands out." Drivers keep their given order within each side; a feature missing from
    `values` is described as unknown.
    """
    raisers = [describe_feature(name, values.get(name)) for name, c in drivers if c > 0]
    lowerers = [describe_feature(name, values.get(name)) for name, c in drivers if c < 0]
    parts = []
    if raisers:
        parts.append(f"{_join(raisers)} {'raises' if len(raisers) == 1 else 'raise'} the chance")
    if lowerers:
        verb = "lowers" if len(lowerers) == 1 else "lower"
        parts.append(f"{_join(lowerers)} {verb} {'it' if raisers else 'the chance'}")
    if not parts:
        return NO_DRIVER_SENTENCE
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def narratives(contributions: np.ndarray, feature_names: list[str],
               rows: Sequence[Mapping[str, object]] | pl.DataFrame, k: int = 3) -> list[str]:
    """One narrative per row: `top_drivers` (k per row) described with that row's feature values.

    `rows` is one mapping of feature values per contribution row, in the same order (a polars
    DataFrame is accepted too and read with `to_dicts()`).
    """
    if isinstance(rows, pl.DataFrame):
        rows = rows.to_dicts()
    drivers = top_drivers(contributions, feature_names, k)
    if len(rows) != len(drivers):
        raise ValueError(f"{len(drivers)} contribution rows but {len(rows)} value rows")
    return [narrative(d, r) for d, r in zip(drivers, rows, strict=True)]
