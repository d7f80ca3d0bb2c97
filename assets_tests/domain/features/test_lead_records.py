"""Lead records: strict validation with named problems, features equal to the training features."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from wholesaler_assets.domain.features.lead_features import record_features
from wholesaler_assets.domain.features.record_schema import spec_record_fields
from wholesaler_assets.domain.features.record_validation import InvalidRecords, validate_records
from wholesaler_assets.domain.features.warehouse_records import records_as_of
from wholesaler_assets.domain.features.zip_market import levels_known_on

TODAY = dt.date(2025, 6, 30)


def good_record(**changes) -> dict:
    record = {
        "lead_id": "L0000001", "property_id": "P0000001", "scoring_date": "2025-06-30", "zip_code": "32801",
        "metro": "Orlando", "property_type": "single_family", "beds": 3, "baths": 2.0, "sqft": 1500.0,
        "year_built": 1978, "condition": "poor", "market_value": 250_000.0, "mortgage_balance": 100_000.0,
        "years_owned": 12.5, "owner_type": "individual", "absentee_owner": True, "out_of_state_owner": False,
        "tax_delinquent": True, "tax_amount_owed": 5_000.0, "tax_years_delinquent": 2, "in_foreclosure": True,
        "auction_date": "2025-07-20", "open_code_violations": 1, "in_probate": False, "vacant": False,
        "latest_event_date": "2025-05-01", "distress_events_90d": 2, "distress_events_365d": 3,
        "channel": "cold_call", "campaign_step": 3, "prior_contacts": 2, "prior_cold_call": 1, "prior_sms": 1,
        "last_contact_date": "2025-06-16",
    }
    record.update(changes)
    return record


def problems_of(*records: dict) -> list[str]:
    with pytest.raises(InvalidRecords) as caught:
        validate_records(list(records), TODAY)
    return caught.value.problems


def test_a_good_record_is_typed():
    frame = validate_records([good_record()], TODAY)
    assert frame["sqft"].dtype == pl.Float64 and frame["auction_date"][0] == dt.date(2025, 7, 20)
    assert frame["prior_door_knock"][0] is None  # optional and absent


@pytest.mark.parametrize(("changes", "expected"), [
    ({"sqft": -10.0}, "row 0: field 'sqft' must be greater than 0, got -10.0"),
    ({"sqft": "big"}, "row 0: field 'sqft' must be a number, got text 'big'"),
    ({"condition": "shiny"}, "field 'condition' must be one of"),
    ({"absentee_owner": "yes"}, "field 'absentee_owner' must be true or false"),
    ({"scoring_date": "2025-07-01"}, "field 'scoring_date' 2025-07-01 is in the future"),
    ({"last_contact_date": "2025-07-01"}, "field 'last_contact_date' 2025-07-01 is after the scoring date"),
    ({"year_built": 2030}, "field 'year_built' 2030 is after the scoring year"),
    ({"campaign_step": 1.5}, "field 'campaign_step' must be a whole number"),
    ({"auction_date": "soon"}, "field 'auction_date' must be a date YYYY-MM-DD"),
    ({"prior_sms": 5}, "field 'prior_contacts' 2 is less than the sum of the prior_<channel> counts"),
    ({"sqft_living": 1500}, "unknown field(s) ['sqft_living']"),
    ({"market_value": float("nan"), "channel": None}, "row 0: field 'market_value' is required but missing or null"),
    ({"beds": True}, "field 'beds' must be a number, got bool True"),
])
def test_each_bad_value_is_named(changes, expected):
    assert any(expected in p for p in problems_of(good_record(**changes))), problems_of(good_record(**changes))


def test_every_way_of_sending_a_valid_request_gives_the_same_records():
    """Numbers checked as one block, per field (a nullable pandas integer column), dates as text,
    date objects or timestamps, and the field-by-field path of a request with one bad row: the
    good rows come out the same."""
    import pandas as pd

    records = [good_record(), good_record(lead_id="L0000002", beds=None, auction_date=None)]
    expected = validate_records(records, TODAY)
    frame = pd.DataFrame(records)
    frame["beds"] = frame["beds"].astype("Int64")  # pandas' NA: not a float block
    assert validate_records(frame, TODAY).equals(expected)
    frame["auction_date"] = [dt.date(2025, 7, 20), None]
    frame["latest_event_date"] = pd.to_datetime(["2025-05-01 09:30", "2025-05-01 00:00"])
    assert validate_records(frame, TODAY).equals(expected)
    assert expected["beds"].to_list() == [3, None] and expected["beds"].dtype == pl.Int64
    assert expected["auction_date"].to_list() == [dt.date(2025, 7, 20), None]
    assert expected["scoring_date"].dtype == pl.Date
    with pytest.raises(InvalidRecords, match="row 2: field 'sqft' must be greater than 0"):
        validate_records([*records, good_record(lead_id="L0000003", sqft=-1.0)], TODAY)


def test_a_text_number_is_never_read_as_a_number():
    assert problems_of(good_record(sqft="1500")) == ["row 0: field 'sqft' must be a number, got text '1500'"]
    without_date = {k: v for k, v in good_record().items() if k != "scoring_date"}
    assert validate_records([without_date], TODAY)["scoring_date"].to_list() == [TODAY]


def test_a_csv_file_read_without_types_gives_the_same_records():
    """pandas.read_csv (what `mlflow models serve` does with a text/csv body) reads ZIP codes and
    numeric ids as numbers, a blank cell as NaN and true/false as booleans: the records are the
    JSON request's, a ZIP code's leading zero included."""
    import io

    import pandas as pd

    records = [good_record(zip_code="02134", lead_id="1001"), good_record(lead_id="1002", beds=None, metro=None)]
    expected = validate_records(records, TODAY)
    read = pd.read_csv(io.StringIO(pd.DataFrame(records).to_csv(index=False)))
    assert pd.api.types.is_integer_dtype(read["zip_code"]) and read["zip_code"][0] == 2134
    assert validate_records(read, TODAY).equals(expected)
    assert expected["zip_code"].to_list() == ["02134", "32801"]
    with_blank_zip = pd.read_csv(io.StringIO(pd.DataFrame([*records, good_record(zip_code=None)]).to_csv(index=False)))
    assert problems_of(*with_blank_zip.to_dict("records")) == [
        "row 2: field 'zip_code' is required but missing or null"]
    assert any("field 'zip_code' must be text, got float 321.5" in p for p in problems_of(good_record(zip_code=321.5)))
    assert any("field 'metro' must be text, got int 7" in p for p in problems_of(good_record(metro=7)))


def test_a_missing_required_field_and_every_problem_of_every_row_are_reported():
    record = good_record()
    del record["zip_code"]
    problems = problems_of(good_record(), record, good_record(sqft=0.0), good_record(sqft=-1.0))
    assert problems == ["row 1: field 'zip_code' is required but missing or null",
                        "rows 2, 3: field 'sqft' must be greater than 0, got 0.0"]
    only = {k: v for k, v in good_record().items() if k != "channel"}
    assert problems_of(only) == ["field 'channel' is required but missing"]


def test_an_empty_payload_is_refused():
    with pytest.raises(InvalidRecords, match="no lead records"):
        validate_records([], TODAY)


def _hand_made_market() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """One lead contacted twice: a snapshot on June 1 (no tax event, an auction on June 11, one
    code violation), a text on June 2 at 21:00 and a call on June 16 at 08:00 (after the auction);
    monthly sales of its ZIP for the price trend."""
    utc = dt.UTC
    contacts = pl.DataFrame({
        "contact_id": ["C1", "C2"], "lead_id": ["L1", "L1"], "property_id": ["P1", "P1"],
        "contact_time": [dt.datetime(2025, 6, 2, 21, tzinfo=utc), dt.datetime(2025, 6, 16, 8, tzinfo=utc)],
        "channel": ["sms", "cold_call"], "campaign_step": [1, 2], "campaign_id": ["CMP", "CMP"]})
    snapshots = pl.DataFrame({
        "snapshot_date": [dt.date(2025, 6, 1)], "property_id": ["P1"], "record_effective_date": [dt.date(2025, 1, 5)],
        "latest_event_date": [dt.date(2025, 5, 1)], "metro": ["Orlando"], "zip_code": ["32801"],
        "property_type": ["single_family"], "beds": [3], "baths": [2.0], "sqft": [1500.0], "year_built": [1978],
        "condition": ["poor"], "market_value": [250_000.0], "estimated_equity": [150_000.0], "years_owned": [12.0],
        "owner_type": ["individual"], "absentee_owner": [True], "out_of_state_owner": [False],
        "tax_delinquent": [False], "tax_amount_owed": [None], "tax_years_delinquent": [None],
        "in_foreclosure": [True], "days_to_auction": [10], "open_code_violations": [1], "in_probate": [False],
        "vacant": [False], "distress_signal_count": [2], "distress_events_90d": [2], "distress_events_365d": [3],
    }, schema_overrides={"tax_amount_owed": pl.Float64, "tax_years_delinquent": pl.Int64})
    months = pl.date_range(dt.date(2024, 3, 1), dt.date(2025, 6, 1), "1mo", eager=True)
    sales = pl.DataFrame({"zip_code": "32801", "metro": "Orlando", "sale_date": months,
                          "price_per_sqft": [200.0 + 2 * i for i in range(len(months))]})
    return contacts, snapshots, sales


def test_features_match_what_training_computes():
    """The training code path (contact -> record as of it -> features) on a hand-made case gives,
    for the second contact, exactly what the endpoint gives for the record a CRM would send then."""
    from wholesaler_assets.domain.features.contact_features import source_contact_features
    from wholesaler_assets.domain.features.zip_market import zip_market_levels

    contacts, snapshots, sales = _hand_made_market()
    training = source_contact_features(contacts, snapshots, sales).filter(pl.col("contact_id") == "C2")
    sent = good_record(scoring_date="2025-06-16", condition="poor", tax_delinquent=False, tax_amount_owed=None,
                       tax_years_delinquent=None, auction_date="2025-06-11", latest_event_date="2025-05-01",
                       years_owned=12.0 + 15 / 365.25, prior_contacts=1, prior_cold_call=0, prior_sms=1,
                       last_contact_date="2025-06-02", campaign_step=2, lead_id="L1", property_id="P1")
    served = record_features(validate_records([sent], TODAY), zip_market_levels(sales), {})
    features = [c for c in served.columns if c != "lead_id"]
    assert training.select(features).equals(served.select(features), null_equal=True), (
        training.select(features).to_dicts(), served.select(features).to_dicts())
    row = served.row(0, named=True)
    assert row["tax_owed_share"] == 0.0  # not on a delinquency list: nothing owed
    assert row["days_to_auction"] is None  # the auction passed on June 11
    assert row["days_since_previous_contact"] == 14.0  # whole days between the dates, not 13.5
    assert row["equity_share"] == pytest.approx(0.6) and row["building_age"] == 47
    assert row["distress_signal_count"] == 2 and row["days_since_latest_event"] == 46
    assert row["prior_door_knock"] == 0 and row["zip_price_trend"] is not None


def test_the_once_a_day_trend_lookup_gives_the_as_of_join():
    frame = validate_records([good_record()], TODAY)
    levels = pl.DataFrame({"zip_code": ["32801", "32801"], "known_from": [dt.date(2025, 5, 1), dt.date(2025, 7, 1)],
                           "zip_median_ppsf": [200.0, 210.0], "zip_price_trend": [0.04, 0.05]})
    features = record_features(frame, levels, {})
    assert features["zip_price_trend"].to_list() == [0.04]  # the July figure is not known on June 30
    assert features["days_to_auction"].to_list() == [20] and features["tax_owed_share"].to_list() == [0.02]
    known = levels_known_on(levels, TODAY, "zip_price_trend")  # the scorer's once-a-day lookup
    assert record_features(frame, levels, {}, known).equals(features)


def test_a_delinquent_property_without_an_amount_has_an_unknown_owed_share():
    frame = validate_records([good_record(tax_amount_owed=None), good_record(tax_delinquent=False)], TODAY)
    assert record_features(frame, pl.DataFrame(schema={"zip_code": pl.String, "known_from": pl.Date,
                                                       "zip_price_trend": pl.Float64}), {}
                           )["tax_owed_share"].to_list() == [None, 0.0]


def test_a_lead_file_has_its_own_fields():
    fields = spec_record_fields({"equity_pct": "numeric", "list_source": "categorical"})
    frame = validate_records([{"lead_id": "A1", "equity_pct": 0.5, "list_source": "probate"}], TODAY, fields)
    assert frame.columns == ["lead_id", "scoring_date", "equity_pct", "list_source"]
    with pytest.raises(InvalidRecords, match="unknown field"):
        validate_records([{"lead_id": "A1", "sqft": 3}], TODAY, fields)


def test_batch_records_are_the_active_leads_on_the_day():
    day = dt.date(2025, 6, 30)
    utc = dt.UTC
    contacts = pl.DataFrame({
        "contact_id": ["C1", "C2", "C3", "C4"], "lead_id": ["L1", "L1", "L2", "L3"],
        "property_id": ["P1", "P1", "P2", "P3"],
        "contact_time": [dt.datetime(2025, 6, 1, tzinfo=utc), dt.datetime(2025, 6, 20, tzinfo=utc),
                         dt.datetime(2025, 6, 2, tzinfo=utc), dt.datetime(2025, 7, 2, tzinfo=utc)],
        "channel": ["sms", "cold_call", "sms", "sms"], "campaign_step": [1, 2, 1, 1]})
    outcomes = pl.DataFrame({"lead_id": ["L2"], "contract_signed_at": [dt.datetime(2025, 6, 25, tzinfo=utc)]})
    snapshot = pl.DataFrame({
        "property_id": ["P1", "P2", "P3", "P4", "P5"], "snapshot_date": [dt.date(2025, 6, 28)] * 5,
        "zip_code": ["32801"] * 5, "metro": ["Orlando"] * 5, "property_type": ["single_family"] * 5,
        "beds": [3] * 5, "baths": [2.0] * 5, "sqft": [1500.0] * 5, "year_built": [1980] * 5,
        "condition": ["fair"] * 5, "market_value": [200_000.0] * 5, "estimated_equity": [150_000.0] * 5,
        "years_owned": [10.0] * 5, "owner_type": ["individual"] * 5, "absentee_owner": [False] * 5,
        "out_of_state_owner": [False] * 5, "tax_delinquent": [False, False, False, True, False],
        "tax_amount_owed": [0.0] * 5, "tax_years_delinquent": [None] * 5, "in_foreclosure": [True] + [False] * 4,
        "days_to_auction": [30, None, None, None, None], "open_code_violations": [0] * 5,
        "in_probate": [False] * 5, "vacant": [False] * 5, "latest_event_date": [None] * 5,
        "distress_events_90d": [0] * 5, "distress_events_365d": [0] * 5,
        "distress_signal_count": [1, 0, 0, 1, 0]})
    records = records_as_of(day, snapshot, contacts, outcomes)
    # L2 closed, L3 first contacted after the day (so P3 is not yet worked, but not distressed), P4 is new
    assert records["lead_id"].to_list() == ["L1", "new-P4"]
    l1 = records.row(0, named=True)
    assert (l1["prior_contacts"], l1["prior_sms"], l1["prior_cold_call"], l1["campaign_step"]) == (2, 1, 1, 3)
    assert l1["channel"] == "cold_call" and l1["last_contact_date"] == dt.date(2025, 6, 20)
    assert l1["auction_date"] == dt.date(2025, 7, 28) and l1["mortgage_balance"] == 50_000.0
    assert l1["years_owned"] == pytest.approx(10 + 2 / 365.25)
    new = records.row(1, named=True)
    assert (new["prior_contacts"], new["campaign_step"], new["channel"]) == (0, 1, "cold_call")


def test_a_zip_code_outside_the_market_is_named():
    from wholesaler_assets.domain.features.record_validation import unknown_zip_problems

    frame = validate_records([good_record(), good_record(zip_code="99999")], TODAY)
    assert unknown_zip_problems(frame, ["32801"]) == [
        "row 1: field 'zip_code' '99999' is not a ZIP code of the market the scorer knows (1 ZIP codes with "
        "comparable sales)"]
    assert unknown_zip_problems(frame, ["32801", "99999"]) == []
