"""Landing-file validation: each kind of bad input is rejected or quarantined with a clear reason."""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
import pytest

from wholesaler_assets.domain.contracts.sources import CONTRACTS
from wholesaler_assets.domain.ingestion.validation import FileRejected, validate_file

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
HEADER = ("property_id,effective_date,metro,zip_code,address,owner_name,property_type,beds,baths,sqft,lot_sqft,"
          "year_built,condition,assessed_value,market_value,last_sale_date,last_sale_price,mortgage_balance,"
          "estimated_equity,owner_type,owner_occupied,out_of_state_owner")


def _row(pid: str = "P00000001", eff: str = "2025-01-01", market_value: str = "250000", sqft: str = "1500",
         property_type: str = "single_family") -> str:
    return (f"{pid},{eff},Orlando,32801,1 Oak St,Ann Lee,{property_type},3,2.0,{sqft},6000,1978,fair,200000,"
            f"{market_value},2010-05-01,150000,90000,160000,individual,true,false")


def _csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def _validate(data: bytes, name: str = "p.csv", share: float = 0.9):
    return validate_file(data, name, CONTRACTS["properties"], NOW, max_bad_row_share=share)


def test_good_rows_are_typed_to_the_contract():
    verdict = _validate(_csv(_row(), _row(pid="P00000002")))
    assert verdict.good_rows.height == 2
    assert verdict.bad_rows.is_empty()
    assert verdict.good_rows.schema == pl.Schema(CONTRACTS["properties"].polars_schema)


@pytest.mark.parametrize(
    ("bad_row", "reason_part"),
    [
        (_row(pid="P00000009", sqft="abc"), "sqft: 'abc' is not a valid Int64"),
        (_row(pid="P00000009", market_value="-5"), "market_value: >=(1000)"),
        (_row(pid="P00000009", eff="2027-03-01"), "effective_date: not after ingestion time"),
        (_row(pid="P00000009", property_type="castle"), "property_type: isin"),
        (_row(pid="BAD"), "property_id: str_matches"),
    ],
    ids=["wrong-type", "negative-price", "future-date", "unknown-category", "malformed-id"],
)
def test_bad_row_is_quarantined_with_reason_and_good_rows_go_on(bad_row, reason_part):
    verdict = _validate(_csv(_row(), bad_row, _row(pid="P00000002")))
    assert verdict.good_rows["property_id"].to_list() == ["P00000001", "P00000002"]
    assert verdict.bad_rows.height == 1
    assert verdict.bad_rows["_row_number"].to_list() == [1]
    assert reason_part in verdict.bad_rows["_reasons"][0]


def test_conflicting_duplicate_key_quarantines_both_rows():
    verdict = _validate(_csv(_row(), _row(market_value="300000"), _row(pid="P00000002")))
    assert verdict.good_rows["property_id"].to_list() == ["P00000002"]
    assert verdict.bad_rows.height == 2
    assert all("duplicate key (property_id, effective_date)" in r for r in verdict.bad_rows["_reasons"])


def test_exact_duplicate_rows_are_dropped_not_quarantined():
    verdict = _validate(_csv(_row(), _row(), _row(pid="P00000002")))
    assert verdict.good_rows.height == 2
    assert verdict.duplicates_dropped == 1
    assert verdict.bad_rows.is_empty()


@pytest.mark.parametrize(
    ("data", "name", "reason_part"),
    [
        (b"", "p.csv", "empty file"),
        ((HEADER + "\n").encode(), "p.csv", "no data rows"),
        ((HEADER.replace(",metro", "") + "\n" + _row().replace(",Orlando", "") + "\n").encode(), "p.csv",
         "missing required column"),
        ("property_id,metro\nP00000001,S\xe3o Paulo\n".encode("latin-1"), "p.csv", "not valid UTF-8"),
        (b"PAR1 not really parquet", "p.parquet", "unreadable Parquet"),
        (b"a,b\n1,2\n", "p.xlsx", "unsupported file type"),
    ],
    ids=["empty", "header-only", "missing-column", "non-utf8", "corrupt-parquet", "wrong-suffix"],
)
def test_unusable_file_is_rejected_whole_with_reason(data, name, reason_part):
    with pytest.raises(FileRejected, match=reason_part):
        _validate(data, name)


def test_missing_column_rejection_names_the_column():
    data = (HEADER.replace(",zip_code", "") + "\n" + _row().replace(",32801", "") + "\n").encode()
    with pytest.raises(FileRejected, match="missing required column\\(s\\): zip_code"):
        _validate(data)


def test_truncated_parquet_is_rejected():
    good = _validate(_csv(_row(), _row(pid="P00000002"))).good_rows
    buffer = io.BytesIO()
    good.write_parquet(buffer)
    data = buffer.getvalue()
    assert _validate(data, "p.parquet").good_rows.height == 2
    with pytest.raises(FileRejected, match="truncated or corrupt"):
        _validate(data[: len(data) // 2], "p.parquet")


def test_file_mostly_broken_is_rejected_whole():
    rows = [_row(pid=f"P{i:08d}", sqft="abc") for i in range(8)] + [_row(pid="P00000100")]
    with pytest.raises(FileRejected, match=r"8 of 9 rows \(89%\) break the contract"):
        _validate(_csv(*rows), share=0.2)


def test_timestamps_in_several_iso_forms_become_utc():
    csv = (
        b"contact_id,lead_id,property_id,contact_time,channel,campaign_id,campaign_step\n"
        b"C00000001,L00000001,P00000001,2025-01-01T10:00:00Z,sms,CMP,1\n"
        b"C00000002,L00000001,P00000001,2025-01-01T12:00:00+02:00,sms,CMP,2\n"
        b"C00000003,L00000001,P00000001,2025-01-01 10:00:00,sms,CMP,3\n"
    )
    verdict = validate_file(csv, "c.csv", CONTRACTS["contacts"], NOW)
    times = verdict.good_rows["contact_time"].to_list()
    assert all(t == dt.datetime(2025, 1, 1, 10, tzinfo=dt.UTC) for t in times)
    assert "optional column(s) absent, earlier values kept: owner_phone" in verdict.warnings


def test_incomplete_rows_are_quarantined_or_reject_the_file_as_the_contract_says():
    from dataclasses import replace

    data = _csv(_row(), _row(pid="P00000002")) + _row(pid="P00000003")[:40].encode()
    verdict = _validate(data)
    assert verdict.good_rows["property_id"].to_list() == ["P00000001", "P00000002"]
    assert "last line ends without a line break" in verdict.bad_rows["_reasons"][0]
    strict = replace(CONTRACTS["properties"], incomplete_rows="reject")
    with pytest.raises(FileRejected, match="1 incomplete row"):
        validate_file(data, "p.csv", strict, NOW, max_bad_row_share=0.9)


def test_a_parquet_file_without_its_footer_is_rejected():
    good = _validate(_csv(_row())).good_rows
    buffer = io.BytesIO()
    good.write_parquet(buffer)
    with pytest.raises(FileRejected, match="no complete footer"):
        _validate(buffer.getvalue()[:-1], "p.parquet")


def test_a_file_without_a_column_whose_empty_cell_is_a_value_is_rejected():
    csv = b"event_id,property_id,event_type,event_date\nE00000001,P00000001,vacancy,2025-01-01\n"
    with pytest.raises(FileRejected, match="absent that every file must have: resolved_date"):
        validate_file(csv, "e.csv", CONTRACTS["distress_events"], NOW)
