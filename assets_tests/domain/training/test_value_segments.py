"""Value segments: left-closed bands labelled from their edges, unknown for a missing value."""

from __future__ import annotations

import numpy as np
import pytest

from wholesaler_assets.domain.training import value_segments as vs


def test_value_segments_labels_and_unknown():
    values = np.array([0, 149_999.99, 150_000, 399_999, 400_000, 2e6, None, np.nan, -5], dtype=object)
    assert vs.value_segments(values).tolist() == [
        "under_150k", "under_150k", "150k_400k", "150k_400k", "over_400k", "over_400k",
        "unknown", "unknown", "under_150k",
    ]
    assert vs.value_segments(np.array([1.0, np.nan])).tolist() == ["under_150k", "unknown"]
    assert vs.value_segment_labels((100_000, 500_000, 1_500_000)) == [
        "under_100k", "100k_500k", "500k_1.5m", "over_1.5m"]
    assert vs.value_segments([750_000.0], edges=(100_000, 500_000, 1_500_000)).tolist() == ["500k_1.5m"]
    with pytest.raises(ValueError):
        vs.value_segments([1.0], edges=(400_000, 150_000))
