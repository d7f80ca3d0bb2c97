"""Every CSV the platform writes goes through io.csv_export.write_csv, which defuses formula cells."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from wholesaler_assets.domain.ingestion.cells import preview, preview_frame
from wholesaler_assets.io.csv_export import neutralized, write_csv

PACKAGE = Path(__file__).parents[2] / "wholesaler_assets"


def test_formula_like_text_is_prefixed_and_plain_numbers_are_not():
    frame = pl.DataFrame({"text": ["=1+1", "+1 407 555 0101", "-x", "@SUM(A1)", "\tcmd", "Ann", "-12.5", "+3", None],
                          "number": [-1.0] * 9})
    out = neutralized(frame)
    assert out["text"].to_list() == ["'=1+1", "'+1 407 555 0101", "'-x", "'@SUM(A1)", "'\tcmd", "Ann", "-12.5", "+3",
                                      None]
    assert out["number"].to_list() == [-1.0] * 9


def test_write_csv_writes_the_neutralized_frame(tmp_path):
    path = write_csv(pl.DataFrame({"owner_phone": ['=HYPERLINK("http://x","y")']}), tmp_path / "q.csv")
    assert pl.read_csv(path)["owner_phone"][0] == "'=HYPERLINK(\"http://x\",\"y\")"


def test_no_csv_is_written_around_write_csv():
    # The synthetic market writes landing files (input, not an export); everything else uses write_csv.
    allowed = {PACKAGE / "io" / "csv_export.py", PACKAGE / "io" / "synthetic_files.py"}
    offenders = [str(p) for p in PACKAGE.rglob("*.py")
                 if p not in allowed and re.search(r"\.(write_csv|sink_csv|to_csv)\(", p.read_text())]
    assert offenders == []


def test_previews_cut_huge_cells_and_name_their_length():
    assert preview("short") == "short"
    cut = preview("x" * 5_000_000)
    assert cut == "x" * 200 + "… (5,000,000 characters)"
    frame = preview_frame(pl.DataFrame({"a": ["y" * 1_234, "ok", None], "n": [1, 2, 3]}))
    assert frame["a"].to_list() == ["y" * 200 + "… (1,234 characters)", "ok", None]
    assert frame["n"].to_list() == [1, 2, 3]
