"""The data folder: landing inboxes, processed archive, quarantine, and file ingestion into raw tables.

Files arrive in `landing/<source>/`. Ingesting a source validates each pending file against its
contract, upserts the good rows into `raw_<source>`, writes bad rows and rejected files to
`quarantine/<source>/` with a reason file, and records every file's content hash in
`ingest_manifest`, so a file seen before (same bytes, any name) is a no-op.

The upsert is column by column: a column the file does not have, or an empty cell of a column
whose contract says empty means "not reported", keeps the value the warehouse holds for that key.
Files are upserted one after another, so a later file of the same run corrects an earlier one.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from filelock import FileLock

from wholesaler_assets.domain.contracts.sources import CONTRACTS, SOURCES
from wholesaler_assets.domain.ingestion.arrival import DONE_SUFFIX, FileLook
from wholesaler_assets.domain.ingestion.cells import preview_frame
from wholesaler_assets.domain.ingestion.validation import SUPPORTED_SUFFIXES, FileRejected, sha256_of, validate_file
from wholesaler_assets.domain.synthetic.config import MarketConfig
from wholesaler_assets.io.csv_export import write_csv
from wholesaler_assets.io.synthetic_files import write_market
from wholesaler_assets.io.warehouse import WarehouseBackend

MANIFEST_TABLE = "ingest_manifest"


@dataclass(frozen=True)
class DataLayout:
    """Where the project keeps its files; everything lives under one root."""

    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def processed(self) -> Path:
        return self.root / "processed"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def ground_truth(self) -> Path:
        return self.root / "ground_truth"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def inbox(self, source: str) -> Path:
        return self.landing / source

    def pending_files(self, source: str) -> list[Path]:
        """Files waiting in a source's inbox, oldest name first; hidden and partial files are skipped."""
        inbox = self.inbox(source)
        if not inbox.is_dir():
            return []
        return sorted(
            p for p in inbox.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in SUPPORTED_SUFFIXES
        )

    def looks(self, source: str) -> list[FileLook]:
        """Size, modification time and `.done` marker of each pending file of a source."""
        looks = []
        for path in self.pending_files(source):
            stat = path.stat()
            done = path.with_name(path.name + DONE_SUFFIX).exists()
            looks.append(FileLook(source, path.name, stat.st_size, stat.st_mtime_ns, done))
        return looks

    def ensure(self) -> None:
        for source in SOURCES:
            self.inbox(source).mkdir(parents=True, exist_ok=True)


def ensure_synthetic_market(layout: DataLayout, config: MarketConfig) -> bool:
    """Write a synthetic market into the landing folders once per (seed, size, format).

    Several ingestion steps may ask at the same moment; a file lock makes one of them write it.
    Returns True when this call wrote the files.
    """
    layout.landing.mkdir(parents=True, exist_ok=True)
    marker = layout.landing / f".synthetic-market-seed{config.seed}-n{config.n_properties}-{config.file_format}.done"
    with FileLock(str(layout.landing / ".synthetic-market.lock")):
        if marker.exists():
            return False
        written = write_market(config, layout.landing, layout.ground_truth)
        marker.write_text(json.dumps({s: [p.name for p in files] for s, files in written.items()}, indent=2))
        return True


@dataclass
class FileRecord:
    """One file's line in the manifest."""

    source: str
    file_name: str
    sha256: str
    status: str  # loaded | rejected | already_ingested
    reason: str | None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    duplicates_dropped: int = 0
    quarantine_path: str | None = None
    warnings: list[str] = field(default_factory=list)
    reason_counts: dict[str, int] = field(default_factory=dict)


@dataclass
class SourceIngestReport:
    """What one ingestion of one source did."""

    source: str
    files: list[FileRecord]
    rows_upserted: int
    rows_replaced: int
    table_rows: int
    left_waiting: list[str] = field(default_factory=list)  # changed since the sensor's look: next time

    @property
    def rejected(self) -> list[FileRecord]:
        return [f for f in self.files if f.status == "rejected"]

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    def reason_counts(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for f in self.files:
            for reason, n in f.reason_counts.items():
                totals[reason] = totals.get(reason, 0) + n
        return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


def ingest_source(
    source: str,
    layout: DataLayout,
    warehouse: WarehouseBackend,
    now: dt.datetime,
    max_bad_row_share: float = 0.2,
    expected: list[FileLook] | None = None,
) -> SourceIngestReport:
    """Validate and load the pending files of one source; bad files and rows go to quarantine.

    With `expected` (the sensor's stable look), only those files are taken, and only while their
    size and modification time are still the ones the sensor saw; without it, every pending file.
    """
    contract = CONTRACTS[source]
    seen = _known_hashes(warehouse, source)
    records: list[FileRecord] = []
    loaded_paths: list[Path] = []
    rows_upserted = rows_replaced = 0
    pending, left_waiting = _files_to_take(layout, source, expected)
    for path in pending:
        data = path.read_bytes()
        digest = sha256_of(data)
        if digest in seen:
            records.append(FileRecord(source, path.name, digest, "already_ingested",
                                      f"same content as {seen[digest]}, ingested before"))
            loaded_paths.append(path)
            continue
        try:
            verdict = validate_file(data, path.name, contract, now, max_bad_row_share)
        except FileRejected as exc:
            target = _quarantine_file(layout, source, path, digest, str(exc), now)
            records.append(FileRecord(source, path.name, digest, "rejected", str(exc), quarantine_path=str(target)))
            seen[digest] = path.name
            continue
        record = FileRecord(
            source, path.name, digest, "loaded", None,
            rows_read=verdict.rows_read, rows_loaded=verdict.good_rows.height,
            rows_quarantined=verdict.bad_rows.height, duplicates_dropped=verdict.duplicates_dropped,
            warnings=verdict.warnings, reason_counts=verdict.reason_counts,
        )
        if verdict.bad_rows.height:
            record.quarantine_path = str(quarantine_rows(layout, source, path.name, verdict.bad_rows))
        if verdict.good_rows.height:
            keep = sorted({*verdict.absent_columns, *contract.kept_when_empty()})
            rows_replaced += warehouse.replace_rows(f"raw_{source}", verdict.good_rows.with_columns(
                source_file=pl.lit(path.name)), contract.key, keep_when_null=keep)
            rows_upserted += verdict.good_rows.height
        records.append(record)
        loaded_paths.append(path)
        seen[digest] = path.name

    new_records = [r for r in records if r.status != "already_ingested"]
    if new_records:
        warehouse.append(MANIFEST_TABLE, _manifest_frame(new_records, now))
    for path in loaded_paths:  # only after the warehouse holds the rows: a crash leaves them pending
        _move(path, layout.processed / source)
    return SourceIngestReport(
        source=source,
        files=records,
        rows_upserted=rows_upserted,
        rows_replaced=rows_replaced,
        table_rows=warehouse.row_count(f"raw_{source}"),
        left_waiting=left_waiting,
    )


def _files_to_take(layout: DataLayout, source: str, expected: list[FileLook] | None) -> tuple[list[Path], list[str]]:
    pending = layout.pending_files(source)
    if expected is None:
        return pending, []
    seen = {look.name: look.state for look in expected}
    take, waiting = [], []
    for path in pending:
        stat = path.stat()
        if seen.get(path.name) == (stat.st_size, stat.st_mtime_ns):
            take.append(path)
        elif path.name in seen:
            waiting.append(path.name)
    return take, waiting


def _known_hashes(warehouse: WarehouseBackend, source: str) -> dict[str, str]:
    if not warehouse.table_exists(MANIFEST_TABLE):
        return {}
    rows = warehouse.read(MANIFEST_TABLE, "source = ?", [source])
    return dict(zip(rows["sha256"].to_list(), rows["file_name"].to_list(), strict=True))


def _manifest_frame(records: list[FileRecord], now: dt.datetime) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source": [r.source for r in records],
            "file_name": [r.file_name for r in records],
            "sha256": [r.sha256 for r in records],
            "status": [r.status for r in records],
            "reason": [r.reason for r in records],
            "rows_read": [r.rows_read for r in records],
            "rows_loaded": [r.rows_loaded for r in records],
            "rows_quarantined": [r.rows_quarantined for r in records],
            "duplicates_dropped": [r.duplicates_dropped for r in records],
            "quarantine_path": [r.quarantine_path for r in records],
            "ingested_at": [now] * len(records),
        },
        schema_overrides={"reason": pl.String, "quarantine_path": pl.String,
                          "ingested_at": pl.Datetime("us", "UTC")},
    )


def record_rejected_spec(layout: DataLayout, dataset_name: str, lead_file: Path, reason: str) -> Path:
    """Note why a dataset spec's lead file was refused; the user's own file is left where it is."""
    folder = layout.quarantine / "dataset_spec"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{dataset_name}.reason.json"
    target.write_text(json.dumps({"dataset": dataset_name, "file": str(lead_file), "reason": reason}, indent=2) + "\n")
    return target


def _quarantine_file(layout: DataLayout, source: str, path: Path, digest: str, reason: str,
                     now: dt.datetime) -> Path:
    target = _move(path, layout.quarantine / source)
    reason_file = target.with_name(target.name + ".reason.json")
    reason_file.write_text(json.dumps(
        {"source": source, "file": path.name, "sha256": digest, "reason": reason,
         "rejected_at": now.isoformat()}, indent=2) + "\n")
    return target


def quarantine_rows(layout: DataLayout, source: str, file_name: str, bad_rows: pl.DataFrame) -> Path:
    """Write a file's bad rows, every cell as text (huge cells as cut previews), with row numbers and reasons."""
    folder = layout.quarantine / source / "rows"
    folder.mkdir(parents=True, exist_ok=True)
    return write_csv(preview_frame(bad_rows.select(pl.all().cast(pl.String))), folder / f"{file_name}.bad_rows.csv")


def _move(path: Path, folder: Path) -> Path:
    """Move a file (and its `.done` marker) into a folder without overwriting an earlier file of the same name."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    counter = 1
    while target.exists():
        target = folder / f"{path.stem}.{counter}{path.suffix}"
        counter += 1
    shutil.move(str(path), target)
    marker = path.with_name(path.name + DONE_SUFFIX)
    if marker.exists():
        shutil.move(str(marker), target.with_name(target.name + DONE_SUFFIX))
    return target
