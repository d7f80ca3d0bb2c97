"""What shadow scoring keeps in the warehouse: each day's comparison and the challenger's contact scores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import polars as pl

from wholesaler_assets.domain.retraining.shadow import ShadowDay
from wholesaler_assets.io.inputs import CONTACT_SCORES_TABLE
from wholesaler_assets.io.warehouse import WarehouseBackend

SHADOW_TABLE = "shadow_comparison"
SHADOW_CONTACTS_TABLE = "shadow_contact_scores"


@dataclass(frozen=True)
class ShadowEvidence:
    """All a challenger's shadow days, and both models' scores of the contacts since its first day."""

    history: list[ShadowDay]
    champion_contacts: pl.DataFrame
    challenger_contacts: pl.DataFrame
    outcomes: pl.DataFrame


def record_shadow_day(wh: WarehouseBackend, challenger_version: str, champion_version: str,
                      today: Sequence[ShadowDay], contacts: pl.DataFrame) -> None:
    """Keep the day's comparison (one row per target) and the challenger's scores of the contacts so far."""
    wh.replace_rows(SHADOW_TABLE, pl.DataFrame([{"challenger_version": challenger_version,
                                                 "champion_version": champion_version, **asdict(d)} for d in today]),
                    ("challenger_version", "day", "target"))
    if contacts.height:
        labelled = contacts.with_columns(pl.lit(challenger_version).alias("model_version"))
        wh.replace_rows(SHADOW_CONTACTS_TABLE, labelled, ("model_version", "contact_id"))


def shadow_evidence(wh: WarehouseBackend, challenger_version: str) -> ShadowEvidence:
    """What the promotion verdict reads: the challenger's shadow days and the contacts both models scored."""
    rows = wh.read(SHADOW_TABLE, "challenger_version = ?", [challenger_version])
    history = [ShadowDay(r["day"], r["target"], r["n"], r["rank_correlation"], r["top_decile_overlap"],
                         r["tier_a_overlap"], r["score_psi"]) for r in rows.iter_rows(named=True)]
    first: dt.date = min(d.day for d in history)
    challenger_contacts = wh.read(SHADOW_CONTACTS_TABLE, "model_version = ?", [challenger_version]) \
        if wh.table_exists(SHADOW_CONTACTS_TABLE) else pl.DataFrame()
    champion_contacts = wh.read(CONTACT_SCORES_TABLE, "scoring_date >= ?", [first]) \
        if wh.table_exists(CONTACT_SCORES_TABLE) else challenger_contacts.clear()
    return ShadowEvidence(history, champion_contacts, challenger_contacts, wh.read("lead_outcomes"))
