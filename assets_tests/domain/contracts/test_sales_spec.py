"""Bring-your-own sales, pure: a sales spec maps a sales file to comparable sales, its extra columns
become ARV features, facts it lacks stay absent, and bad input is refused with a message."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from wholesaler_assets.domain.contracts.sales_spec import SalesSpecError, parse_sales_spec, read_sales
from wholesaler_assets.domain.valuation.arv import arv_features

SPEC = ("name: county\npath: sales.csv\nsale_date: date\nsale_price: price\nsqft: sqft_living\n"
        "zip_code: zipcode\npii_columns: [seller]\n")


def county_sales(n: int = 1_200, seed: int = 5) -> pl.DataFrame:
    """A county's sales as an export gives them: no property type, no condition, a grade and a view."""
    rng = np.random.default_rng(seed)
    sqft = rng.integers(700, 4_000, n)
    grade = rng.integers(4, 12, n)
    view = rng.choice(["none", "fair", "good", "excellent"], n)
    zipcode = rng.choice(["98001", "98004", "98103", "98118"], n)
    zip_level = {"98001": 180.0, "98004": 420.0, "98103": 330.0, "98118": 250.0}
    view_bonus = {"none": 1.0, "fair": 1.05, "good": 1.12, "excellent": 1.3}
    price = (np.array([zip_level[z] for z in zipcode]) * sqft * (1 + 0.12 * (grade - 7))
             * np.array([view_bonus[v] for v in view]) * rng.lognormal(0, 0.08, n))
    days = np.sort(rng.integers(0, 720, n))
    return pl.DataFrame({
        "id": [f"K{i:06d}" for i in range(n)],
        "date": [str(np.datetime64("2014-05-01") + int(d)) for d in days],
        "price": price.round(0), "sqft_living": sqft, "bedrooms": rng.integers(1, 6, n),
        "grade": grade, "view": view, "lat": 47.3 + rng.random(n) * 0.5, "waterfront": rng.random(n) < 0.02,
        "zipcode": zipcode, "seller": [f"Owner {i}" for i in range(n)],
    })


def _csv(frame: pl.DataFrame) -> bytes:
    return frame.write_csv().encode()


def test_extra_columns_become_arv_features_and_absent_facts_stay_absent():
    spec = parse_sales_spec(SPEC + "sale_id: id\nbeds: bedrooms\n", "county.yaml")
    sales_file = read_sales(spec, _csv(county_sales()))
    assert sales_file.extra_features == {"grade": "numeric", "view": "categorical", "lat": "numeric",
                                         "waterfront": "boolean"}
    assert sales_file.excluded_columns == {"seller": "PII"}
    assert sales_file.facts == ["beds"]
    sales = sales_file.sales
    assert sales["property_type"].null_count() == sales.height  # not invented
    assert sales["metro"].unique().to_list() == ["county"]
    assert sales["price_per_sqft"].min() > 0
    features = arv_features(sales, sales_file.extra_features)
    assert {"grade", "view", "lat", "waterfront", "sqft", "beds", "zip_median_ppsf"} <= set(features)
    assert not {"property_type", "condition_at_sale", "baths", "building_age"} & set(features)


def test_a_fact_named_like_the_canonical_column_is_taken_without_mapping():
    frame = county_sales().rename({"bedrooms": "beds"})
    sales_file = read_sales(parse_sales_spec(SPEC, "county.yaml"), _csv(frame))
    assert sales_file.facts == ["beds"] and "beds" not in sales_file.extra_features
    assert sales_file.sales["sale_id"][0].startswith("county-")  # no id column: the row number


def test_unusable_rows_are_set_aside_with_the_reason():
    frame = county_sales().with_columns(
        price=pl.when(pl.int_range(pl.len()) == 3).then(-5.0).otherwise(pl.col("price")),
        date=pl.when(pl.int_range(pl.len()) == 7).then(pl.lit("soon")).otherwise(pl.col("date")))
    sales_file = read_sales(parse_sales_spec(SPEC, "county.yaml"), _csv(frame))
    assert dict(sales_file.bad_rows.iter_rows()) == {4: "price: not a positive price", 8: "date: not a date"}
    assert sales_file.sales.height == frame.height - 2


@pytest.mark.parametrize(
    ("spec_text", "frame_change", "message"),
    [
        (SPEC.replace("sqft_living", "living_area"), None,
         "lacks column\\(s\\) named in the spec: living_area \\(it has id, date"),
        (SPEC + "drop: [notes]\n", None, "lacks column\\(s\\) named in the spec: notes"),
        (SPEC, "bad_prices", "rows unusable \\(more than 20%\\); first: row 1, price: not a positive price"),
        (SPEC + "sale_id: zipcode\n", None, "sale ids in zipcode are not unique"),
        (SPEC, "derived_clash", "column\\(s\\) price_per_sqft clash with what the ARV stage derives"),
    ],
    ids=["unknown-column", "unknown-drop", "too-many-bad-rows", "duplicate-ids", "derived-clash"],
)
def test_bad_sales_input_is_refused_with_a_message(spec_text, frame_change, message):
    frame = county_sales(200)
    if frame_change == "bad_prices":
        frame = frame.with_columns(price=pl.lit(0.0))
    elif frame_change == "derived_clash":
        frame = frame.with_columns(price_per_sqft=pl.lit(1.0))
    with pytest.raises(SalesSpecError, match=message):
        read_sales(parse_sales_spec(spec_text, "county.yaml"), _csv(frame))


@pytest.mark.parametrize(
    ("spec_text", "message"),
    [("name: county\npath: s.csv\nsale_date: d\nsale_price: p\nzip_code: z\n", "sqft: Field required"),
     (SPEC + "garage: cars\n", "garage: Extra inputs are not permitted"),
     ("name: [x\n", "not valid YAML")],
    ids=["missing-sqft", "typo-key", "bad-yaml"],
)
def test_a_bad_sales_spec_is_refused_naming_the_field(spec_text, message):
    with pytest.raises(SalesSpecError, match=f"sales spec county.yaml.*{message}"):
        parse_sales_spec(spec_text, "county.yaml")


def test_an_empty_sales_file_is_refused():
    with pytest.raises(SalesSpecError, match="sales file sales.csv is empty"):
        read_sales(parse_sales_spec(SPEC, "county.yaml"), b"")
