from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.money import (
    ISO4217_EXPONENTS,
    Money,
    currency_exponent,
    from_minor_units,
    is_iso4217,
    to_minor_units,
)


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [
        ("12.345", "EUR", 1235),  # half-up, not banker's rounding
        ("12.335", "EUR", 1234),
        ("0.005", "EUR", 1),
        ("0.0049", "EUR", 0),
        ("1234.5", "JPY", 1235),
        ("99", "KRW", 99),
        ("1.2345", "KWD", 1235),
        ("1.2345", "BHD", 1235),
        ("1.2345", "JOD", 1235),
        ("1.2345", "OMR", 1235),
        ("1.2345", "TND", 1235),
        ("12.375", "EUR", 1238),
        ("13.975", "EUR", 1398),
        ("5.25", "CAD", 525),
    ],
)
def test_to_minor_units_rounds_half_up_at_the_currency_exponent(
    amount: str, currency: str, units: int
) -> None:
    assert to_minor_units(Decimal(amount), currency) == units


def test_from_minor_units_uses_the_currency_exponent() -> None:
    assert from_minor_units(1234, "EUR") == Decimal("12.34")
    assert from_minor_units(1234, "JPY") == Decimal("1234")
    assert from_minor_units(1234, "KWD") == Decimal("1.234")


@pytest.mark.parametrize("code", ["EUR", "USD", "GBP", "JPY", "CAD", "CHF", "SLE", "ZWG", "XCG"])
def test_active_codes_are_iso4217(code: str) -> None:
    assert is_iso4217(code)


@pytest.mark.parametrize("code", ["eur", "EURO", "", "ABC", "HRK", "SLL", "ZWL", "DEM", "XYZ"])
def test_unknown_lower_case_and_withdrawn_codes_are_not_iso4217(code: str) -> None:
    assert not is_iso4217(code)


def test_is_iso4217_refuses_non_strings() -> None:
    assert not is_iso4217(None)  # type: ignore[arg-type]


def test_the_table_holds_every_active_currency() -> None:
    assert len(ISO4217_EXPONENTS) > 170
    assert currency_exponent("CLF") == 4


def test_currencies_without_minor_unit_cannot_be_converted() -> None:
    with pytest.raises(ValueError, match="no minor unit"):
        to_minor_units(Decimal(1), "XAU")


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(ValueError, match="not ISO 4217"):
        to_minor_units(Decimal(1), "ABC")


def test_float_amounts_are_refused() -> None:
    with pytest.raises(TypeError):
        to_minor_units(1.5, "EUR")  # type: ignore[arg-type]


@given(
    units=st.integers(min_value=-(10**15), max_value=10**15),
    currency=st.sampled_from(["EUR", "JPY", "KWD", "CLF", "USD"]),
)
def test_minor_units_round_trip(units: int, currency: str) -> None:
    assert to_minor_units(from_minor_units(units, currency), currency) == units


@given(amount=st.decimals(min_value=0, max_value=10**9, places=6))
def test_rounding_is_never_off_by_more_than_half_a_cent(amount: Decimal) -> None:
    cents = to_minor_units(amount, "EUR")
    assert abs(from_minor_units(cents, "EUR") - amount) <= Decimal("0.005")


def test_money_adds_only_the_same_currency() -> None:
    total = Money(Decimal("1.10"), "EUR") + Money.from_minor(90, "EUR")
    assert total == Money(Decimal("2.00"), "EUR")
    assert total.minor_units == 200
    with pytest.raises(ValueError, match="cannot add"):
        _ = total + Money(Decimal(1), "USD")


def test_money_refuses_bad_currency_and_float() -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(Decimal(1), "EURO")
    with pytest.raises(TypeError):
        Money(1.0, "EUR")  # type: ignore[arg-type]
