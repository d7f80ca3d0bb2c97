"""Bring your own sales, from disk: read a sales spec (YAML) and the sales file it points to.

The checks themselves are `domain/contracts/sales_spec.py`; this module only reads files and says
plainly which one is missing.
"""

from __future__ import annotations

from pathlib import Path

from wholesaler_assets.domain.contracts.sales_spec import (
    SalesFile,
    SalesSpec,
    SalesSpecError,
    parse_sales_spec,
    read_sales,
)


def load_sales_spec(spec_path: str | Path) -> SalesSpec:
    """Read and check a sales spec; a relative `path` is taken from the spec's own folder."""
    spec_path = Path(spec_path)
    try:
        text = spec_path.read_text()
    except FileNotFoundError:
        raise SalesSpecError(f"sales spec not found: {spec_path}") from None
    spec = parse_sales_spec(text, str(spec_path))
    if not spec.path.is_absolute():
        spec = spec.model_copy(update={"path": (spec_path.parent / spec.path).resolve()})
    return spec


def read_sales_file(spec: SalesSpec) -> SalesFile:
    """The spec's sales file as comparable sales (`read_sales`)."""
    try:
        data = spec.path.read_bytes()
    except FileNotFoundError:
        raise SalesSpecError(f"sales file not found: {spec.path}") from None
    return read_sales(spec, data)
