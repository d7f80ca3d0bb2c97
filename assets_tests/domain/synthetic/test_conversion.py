"""Tests of the documented conversion function: the documentation states the coefficients in use."""

from __future__ import annotations

from wholesaler_assets.domain.contracts.sources import CHANNELS
from wholesaler_assets.domain.synthetic.conversion import (
    BOOKING_COEFFICIENTS,
    CONVERSION_FUNCTION_DOC,
    DEAL_COEFFICIENTS,
    QUALIFY_COEFFICIENTS,
)


def test_conversion_doc_states_the_coefficients() -> None:
    assert "## Conversion function" not in CONVERSION_FUNCTION_DOC
    assert "p_book = sigmoid(logit)" in CONVERSION_FUNCTION_DOC
    for key in ("base", "equity_above_35pct", "underwater", "tax_delinquent", "tax_2y_plus", "probate_active",
                "vacant_x_absentee", "stacked_distress", "distress_scale_below_35pct_equity", "latent_sd"):
        assert f"| {BOOKING_COEFFICIENTS[key]} |" in CONVERSION_FUNCTION_DOC, key
    c = BOOKING_COEFFICIENTS
    for row in ([c["auction_within_45d"], c["auction_46_90d"]], [c["estate"], c["trust"], c["llc"]],
                [c["owned_under_2y"], c["owned_20y_plus"]], [c[ch] for ch in CHANNELS],
                [c[f"absentee_{ch}"] for ch in CHANNELS], [c[f"step_{k}"] for k in range(2, 7)]):
        assert "| " + " / ".join(str(v) for v in row) + " |" in CONVERSION_FUNCTION_DOC, row
    assert f"sigmoid({QUALIFY_COEFFICIENTS['base']} +" in CONVERSION_FUNCTION_DOC
    assert f"sigmoid({DEAL_COEFFICIENTS['base']} +" in CONVERSION_FUNCTION_DOC
