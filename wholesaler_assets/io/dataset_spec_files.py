"""Bring your own leads, from disk: read a dataset spec (YAML) and the lead file it points to.

The checks themselves are `domain/contracts/dataset_spec.py`; this module only reads files and
says plainly which one is missing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from wholesaler_assets.domain.contracts.dataset_spec import (
    DatasetSpec,
    DatasetSpecError,
    parse_dataset_spec,
    validate_lead_data,
)
from wholesaler_assets.domain.gates.data_quality import QualityThresholds
from wholesaler_assets.domain.ingestion.validation import FileVerdict
from wholesaler_assets.domain.snapshots.lead_tables import DatasetCatalog


def load_dataset_spec(spec_path: str | Path) -> DatasetSpec:
    """Read and check a spec; a relative `path` is taken from the spec's own folder."""
    spec_path = Path(spec_path)
    try:
        text = spec_path.read_text()
    except FileNotFoundError:
        raise DatasetSpecError(f"dataset spec not found: {spec_path}") from None
    spec = parse_dataset_spec(text, str(spec_path))
    if not spec.path.is_absolute():
        spec = spec.model_copy(update={"path": (spec_path.parent / spec.path).resolve()})
    return spec


def validate_lead_file(spec: DatasetSpec, now: dt.datetime,
                       max_bad_row_share: float = QualityThresholds.max_bad_row_share
                       ) -> tuple[FileVerdict, DatasetCatalog]:
    """Read the spec's lead file and check it (`validate_lead_data`); bad rows come back with reasons."""
    try:
        data = spec.path.read_bytes()
    except FileNotFoundError:
        raise DatasetSpecError(f"lead file not found: {spec.path}") from None
    return validate_lead_data(spec, data, now, max_bad_row_share)


def spec_with_cutoff(spec_path: str | Path, cutoff: dt.datetime, folder: Path) -> Path:
    """A copy of the spec in `folder` whose lead file path is absolute and whose `data_cutoff` is
    `cutoff`: training stops there, and what follows can be replayed against the champion."""
    import yaml

    spec = load_dataset_spec(spec_path)  # checked (and its path resolved) before anything is written
    raw = yaml.safe_load(Path(spec_path).read_text())
    raw |= {"path": str(spec.path), "data_cutoff": cutoff.astimezone(dt.UTC).isoformat()}
    folder.mkdir(parents=True, exist_ok=True)
    written = folder / f"{spec.name}.replay.yaml"
    written.write_text(yaml.safe_dump(raw, sort_keys=False))
    return written
