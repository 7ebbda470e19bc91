import copy
import json
from datetime import UTC, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.tariffs.engine import (
    DayOfWeek,
    Dimension,
    PriceLimit,
    ReservationRestriction,
    TariffError,
    TariffType,
    TaxIncluded,
    parse_tariff,
)
from tests.support.ocpi_examples import OCPI_EXAMPLES

EXAMPLES = OCPI_EXAMPLES
TARIFF_FILES = sorted(
    (version, path)
    for version in ("2.2.1", "2.3.0")
    for path in (EXAMPLES / version).glob("tariff*.json")
)


def load(version: str, name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / version / f"{name}.json").read_text())


def test_the_spec_examples_are_there() -> None:
    names = {path.name for _, path in TARIFF_FILES}
    assert len(TARIFF_FILES) >= 40
    assert "tariff_4_complex.json" in names
    assert "tariff_20_simple_north_american_inclusive.json" in names


@pytest.mark.parametrize(
    ("version", "path"), TARIFF_FILES, ids=[f"{v}/{p.stem}" for v, p in TARIFF_FILES]
)
def test_every_spec_tariff_example_parses(version: str, path: Path) -> None:
    data = json.loads(path.read_text())
    tariff = parse_tariff(data, version)
    assert tariff.id == data["id"]
    assert tariff.currency == data["currency"]
    assert len(tariff.elements) == len(data["elements"])
    assert tariff.version == version


def test_complex_tariff_parses_into_typed_fields() -> None:
    tariff = parse_tariff(load("2.2.1", "tariff_4_complex"))
    flat, low, weekday, weekend, parking, saturday = tariff.elements
    assert tariff.type is TariffType.REGULAR
    assert tariff.last_updated == datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC)
    assert flat.price_components[0].type is Dimension.FLAT
    assert flat.price_components[0].price == Decimal("2.5")
    assert flat.price_components[0].vat == Decimal("15.0")
    assert low.restrictions.max_current == Decimal("32.00")
    assert weekday.price_components[0].step_size == 600
    assert weekend.restrictions.day_of_week == {DayOfWeek.SATURDAY, DayOfWeek.SUNDAY}
    assert parking.restrictions.start_time == time(9, 0)
    assert saturday.restrictions.end_time == time(17, 0)


def test_json_floats_become_exact_decimals() -> None:
    data = load("2.2.1", "tariff_8_simple_025kwh")
    data["elements"][0]["price_components"][0]["price"] = 0.1
    component = parse_tariff(data).elements[0].price_components[0]
    assert component.price == Decimal("0.1")
    assert isinstance(component.price, Decimal)


def test_price_limits_use_each_versions_field_names() -> None:
    old = parse_tariff(load("2.2.1", "tariff_6_025kwh_start_max_price"), "2.2.1")
    new = parse_tariff(load("2.3.0", "tariff_6_025kwh_start_max_price"), "2.3.0")
    assert old.max_price == new.max_price == PriceLimit(Decimal("10.00"), Decimal("11.00"))
    assert old.end_date_time == datetime(2019, 6, 30, 23, 59, 59, tzinfo=UTC)


def test_tax_included_is_read_in_230_and_implied_in_221() -> None:
    assert (
        parse_tariff(
            load("2.3.0", "tariff_20_simple_north_american_inclusive"), "2.3.0"
        ).tax_included
        is TaxIncluded.YES
    )
    assert parse_tariff(load("2.2.1", "tariff_1_simple_2hour")).tax_included is TaxIncluded.NO
    data = load("2.3.0", "tariff_1_simple_2hour") | {"tax_included": "N/A"}
    assert parse_tariff(data, "2.3.0").tax_included is TaxIncluded.NOT_APPLICABLE


def test_reservation_restrictions_parse() -> None:
    tariff = parse_tariff(load("2.2.1", "tariff_17_reservation_with_expire_fee"))
    kinds = [element.restrictions.reservation for element in tariff.elements]
    assert kinds == [
        ReservationRestriction.RESERVATION_EXPIRES,
        ReservationRestriction.RESERVATION,
        None,
    ]


def test_min_max_duration_and_kwh_restrictions_parse() -> None:
    tariff = parse_tariff(load("2.2.1", "tariff_7_first_hour_kwh_free"))
    assert tariff.elements[0].restrictions.max_duration == 3600
    assert tariff.elements[3].restrictions.max_kwh == Decimal("1.0")


def test_alt_text_and_url_parse() -> None:
    tariff = parse_tariff(load("2.2.1", "tariff_2_alt_text"))
    assert tariff.tariff_alt_text[0].language == "en"
    assert parse_tariff(load("2.2.1", "tariff_3_alt_url")).tariff_alt_url


def test_is_active_at_honours_the_end_date_time() -> None:
    tariff = parse_tariff(load("2.2.1", "tariff_6_025kwh_start_max_price"))
    assert tariff.is_active_at(datetime(2019, 6, 30, 23, 59, 59, tzinfo=UTC))
    assert not tariff.is_active_at(datetime(2019, 7, 1, tzinfo=UTC))


def mutated(path: str, value: Any, *, version: str = "2.2.1") -> dict[str, Any]:
    """Return tariff_4 with the field at a dotted path set (or deleted for ...)."""
    data = copy.deepcopy(load(version, "tariff_4_complex"))
    *parents, last = path.split(".")
    node: Any = data
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    key_or_index = int(last) if last.isdigit() else last
    if value is ...:
        del node[key_or_index]
    else:
        node[key_or_index] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "elements.1.price_components.0.price",
            -1.0,
            r"elements\[1\]\.price_components\[0\]\.price: must not be negative",
        ),
        (
            "elements.1.price_components.0.type",
            "KWH",
            r"price_components\[0\]\.type: unknown value 'KWH'",
        ),
        (
            "elements.4.restrictions.start_time",
            "9:00",
            r"restrictions\.start_time: expected a time as HH:MM",
        ),
        ("elements.4.restrictions.end_time", "24:00", r"restrictions\.end_time"),
        ("currency", ..., r"currency: required field is missing"),
        ("currency", "EURO", r"currency: not an ISO 4217"),
        ("elements", [], r"elements: must contain at least one item"),
        ("elements", ..., r"elements: required field is missing"),
        ("elements.0.price_components", [], r"elements\[0\]\.price_components: must contain"),
        ("elements.0.price_components.0.step_size", 1.5, r"step_size: expected an integer"),
        ("elements.0.price_components.0.step_size", ..., r"step_size: required field is missing"),
        ("elements.0.price_components.0.vat", -5, r"vat: must not be negative"),
        ("elements.0.price_components.0.price", "2.50", r"price: expected a number"),
        ("elements.0.price_components.0.price", True, r"price: expected a number"),
        ("elements.0.price_components.0.price", float("nan"), r"price: expected a finite number"),
        ("elements.2.restrictions.day_of_week", ["MON"], r"day_of_week\[0\]: unknown value"),
        ("elements.2.restrictions.min_current", -1, r"min_current: must not be negative"),
        (
            "elements.4.restrictions",
            {"start_date": "2024-02-30"},
            r"start_date: not a calendar date",
        ),
        ("elements.4.restrictions", {"end_date": "24-02-03"}, r"end_date: expected a date"),
        ("elements.4.restrictions", {"max_duration": -60}, r"max_duration: must not be negative"),
        ("elements.4.restrictions", {"reservation": "YES"}, r"reservation: unknown value"),
        ("type", "CHEAP", r"type: unknown value 'CHEAP'"),
        ("last_updated", "yesterday", r"last_updated: not an RFC 3339"),
        ("id", "", r"id: expected a non-empty string"),
        ("party_id", ..., r"party_id: required field is missing"),
    ],
)
def test_bad_tariffs_raise_tariff_error_naming_the_field(
    path: str, value: Any, message: str
) -> None:
    with pytest.raises(TariffError, match=message):
        parse_tariff(mutated(path, value))


def test_tariff_error_is_a_value_error() -> None:
    assert issubclass(TariffError, ValueError)


def test_230_requires_tax_included() -> None:
    with pytest.raises(TariffError, match="tax_included: required"):
        parse_tariff(mutated("tax_included", ..., version="2.3.0"), "2.3.0")


def test_230_limits_need_before_taxes() -> None:
    data = load("2.3.0", "tariff_12_025kwh_min_price")
    data["min_price"] = {"excl_vat": 0.5}
    with pytest.raises(TariffError, match=r"min_price\.before_taxes: required"):
        parse_tariff(data, "2.3.0")


def test_unsupported_version_is_refused() -> None:
    with pytest.raises(TariffError, match="version"):
        parse_tariff(load("2.2.1", "tariff_1_simple_2hour"), "2.1.1")


def test_non_object_tariff_is_refused() -> None:
    with pytest.raises(TariffError, match="expected a JSON object"):
        parse_tariff([])  # type: ignore[arg-type]


def test_unknown_fields_are_ignored() -> None:
    data = load("2.3.0", "tariff_1_simple_2hour") | {"x_custom": {"a": 1}}
    assert parse_tariff(data, "2.3.0").id == data["id"]


def test_parsed_tariffs_are_immutable() -> None:
    tariff = parse_tariff(load("2.2.1", "tariff_1_simple_2hour"))
    with pytest.raises(AttributeError):
        tariff.currency = "USD"  # type: ignore[misc]


def test_230_cdr_example_tariff_needs_a_default_for_its_missing_tax_included() -> None:
    embedded = load("2.3.0", "cdr_example")["tariffs"][0]
    with pytest.raises(TariffError, match="tax_included"):
        parse_tariff(embedded, "2.3.0")
    lenient = parse_tariff(embedded, "2.3.0", default_tax_included=TaxIncluded.NO)
    assert lenient.tax_included is TaxIncluded.NO
