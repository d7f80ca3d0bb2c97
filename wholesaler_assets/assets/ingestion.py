"""Ingestion assets: one `raw_<source>` table per landing source, loaded from validated files."""


import dagster as dg

from wholesaler_assets.assets.metadata import OWNERS, STORAGE_RETRY, counts_table, preview
from wholesaler_assets.domain.contracts.sources import CONTRACTS, SOURCES, contract_markdown
from wholesaler_assets.domain.ingestion.arrival import FileLook
from wholesaler_assets.domain.synthetic.config import MarketConfig
from wholesaler_assets.io.landing import SourceIngestReport, ensure_synthetic_market, ingest_source
from wholesaler_assets.io.synthetic_files import is_planted_file
from wholesaler_assets.resources import ClockResource, DataFolderResource, WarehouseResource

GROUP = "ingestion"


class StableFile(dg.Config):
    """A landing file as the sensor saw it twice unchanged (or with its .done marker)."""

    name: str
    size: int
    mtime_ns: int


class IngestConfig(dg.Config):
    """How to ingest a landing source, and whether to first fill the landing folders with a synthetic market."""

    max_bad_row_share: float = 0.2
    # Set by the landing sensor: take only these files, and only while unchanged. Empty: every pending file.
    files: list[StableFile] = []
    generate_synthetic_market: bool = False
    synthetic_properties: int = 50_000
    synthetic_seed: int = 7
    synthetic_file_format: str = "parquet"


def _files_accepted_check(report: SourceIngestReport) -> dg.AssetCheckResult:
    rejected = report.rejected
    return dg.AssetCheckResult(
        check_name="no_rejected_files",
        passed=not rejected,
        severity=dg.AssetCheckSeverity.WARN,
        description=(f"{len(rejected)} file(s) quarantined: "
                     + "; ".join(f"{f.file_name}: {f.reason}" + (" (planted on purpose by the synthetic market)"
                                                                 if is_planted_file(f.file_name) else "")
                                 for f in rejected))
        if rejected else "every new file met the contract",
        metadata={
            "rejected_files": len(rejected),
            "reasons": dg.MetadataValue.json({f.file_name: f.reason for f in rejected}),
        },
    )


def _report_metadata(report: SourceIngestReport, warehouse: WarehouseResource) -> dict:
    loaded = [f for f in report.files if f.status == "loaded"]
    return {
        "files_loaded": len(loaded),
        "files_rejected": len(report.rejected),
        "files_already_ingested": sum(f.status == "already_ingested" for f in report.files),
        "files_left_waiting": dg.MetadataValue.json(report.left_waiting),
        "rows_read": sum(f.rows_read for f in loaded),
        "rows_upserted": report.rows_upserted,
        "rows_replacing_earlier_versions": report.rows_replaced,
        "rows_quarantined": report.rows_quarantined,
        "duplicates_dropped": sum(f.duplicates_dropped for f in loaded),
        "dagster/row_count": report.table_rows,
        "quarantine_reasons": counts_table(report.reason_counts(), "reason"),
        "rejected_files": dg.MetadataValue.md(
            "\n".join(["| file | reason | quarantined to |", "|---|---|---|"]
                      + [f"| {f.file_name} | {f.reason} | {f.quarantine_path} |" for f in report.rejected])
            if report.rejected else "_none_"),
        "warnings": dg.MetadataValue.json(sorted({w for f in report.files for w in f.warnings})),
        "warehouse": warehouse.describe(),
    }


def _raw_asset(source: str) -> dg.AssetsDefinition:
    contract = CONTRACTS[source]

    @dg.asset(retry_policy=STORAGE_RETRY,
        name=f"raw_{source}",
        group_name=GROUP,
        kinds={"polars", "pandera"},
        owners=OWNERS,
        code_version="1",
        description=f"Validated {source} from landing/{source}/: good rows upserted, bad rows and files quarantined.",
        metadata={"contract": dg.MetadataValue.md(contract_markdown(contract))},
        check_specs=[dg.AssetCheckSpec("no_rejected_files", asset=f"raw_{source}",
                                       description=f"No {source} file was rejected whole in this ingestion.")],
    )
    def raw_source(context: dg.AssetExecutionContext, config: IngestConfig, warehouse: WarehouseResource,
                   data_folder: DataFolderResource, clock: ClockResource) -> dg.MaterializeResult:
        layout = data_folder.layout()
        layout.ensure()
        if config.generate_synthetic_market:
            market = MarketConfig(n_properties=config.synthetic_properties, seed=config.synthetic_seed,
                                  file_format=config.synthetic_file_format)
            if ensure_synthetic_market(layout, market):
                context.log.info(f"wrote a synthetic market of {market.n_properties} properties to {layout.landing}")
        expected = [FileLook(source, f.name, f.size, f.mtime_ns) for f in config.files] if config.files else None
        report = ingest_source(source, layout, warehouse.open(), clock.now(), config.max_bad_row_share,
                               expected)
        for name in report.left_waiting:
            context.log.info(f"{name} changed since the sensor's look; left for the next one")
        for f in report.rejected:
            context.log.warning(f"quarantined {f.file_name}: {f.reason}")
        recent = warehouse.open().query(
            f"select * from raw_{source} order by {contract.time_column} desc limit 5"
        ) if report.table_rows else None
        metadata = _report_metadata(report, warehouse)
        if recent is not None:
            metadata["latest_rows"] = preview(recent, hide=tuple(contract.pii_columns))
        return dg.MaterializeResult(metadata=metadata, check_results=[_files_accepted_check(report)])

    return raw_source


raw_assets = [_raw_asset(source) for source in SOURCES]
