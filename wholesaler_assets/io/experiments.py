"""Where the experiments' side effects live: report files and the approval record of recommendations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from matplotlib.figure import Figure

from wholesaler_assets.domain.experiments.campaigns import DECISIONS
from wholesaler_assets.io.warehouse import WarehouseBackend

RECOMMENDATIONS_TABLE = "campaign_recommendations"
APPROVALS_TABLE = "recommendation_approvals"


def write_report(folder: Path, name: str, markdown: str, chart: Figure | None = None) -> Path:
    """`folder/name.md` (and `folder/name.png` when a chart is given); returns the markdown's path."""
    folder.mkdir(parents=True, exist_ok=True)
    if chart is not None:
        chart.savefig(folder / f"{name}.png", dpi=110, bbox_inches="tight")
    path = folder / f"{name}.md"
    path.write_text(markdown)
    return path


class UnknownRecommendation(LookupError):
    """The id is not among the stored recommendations."""


def record_decision(wh: WarehouseBackend, recommendation_id: str, decided_by: str, decision: str,
                    note: str | None = None, now: dt.datetime | None = None) -> pl.DataFrame:
    """Append who decided what, and when, on a stored recommendation; the campaigns themselves are untouched."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, got {decision!r}")
    if not decided_by.strip():
        raise ValueError("--by must name the person deciding")
    if not wh.table_exists(RECOMMENDATIONS_TABLE) or not wh.row_count(
            RECOMMENDATIONS_TABLE, "recommendation_id = ?", [recommendation_id]):
        raise UnknownRecommendation(f"no recommendation {recommendation_id!r} in {RECOMMENDATIONS_TABLE}: "
                                    "materialize campaign_recommendations and use an id from its report")
    row = pl.DataFrame({"recommendation_id": [recommendation_id], "decision": [decision],
                        "decided_by": [decided_by.strip()], "decided_at": [now or dt.datetime.now(dt.UTC)],
                        "note": [note]}, schema={"recommendation_id": pl.String, "decision": pl.String,
                                                  "decided_by": pl.String, "decided_at": pl.Datetime("us", "UTC"),
                                                  "note": pl.String})
    wh.append(APPROVALS_TABLE, row)
    return row
