"""Taxes per component and version, and the min_price/max_price clamp."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from app.tariffs.engine import PeriodState, SessionPeriod, TaxAmount, parse_tariff, price_session
from app.tariffs.engine.model import Tariff

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 6, 1, 10, tzinfo=UTC)


def energy_tariff(version: str = "2.3.0", vat: float | None = 20, **extra: Any) -> Tariff:
    """0.30/kWh (and FLAT 1.00 at 10% VAT) with the given tax settings."""
    components = [
        {"type": "ENERGY", "price": 0.30, "step_size": 1}
        | ({"vat": vat} if vat is not None else {}),
        {"type": "FLAT", "price": 1.00, "step_size": 1, "vat": 10},
    ]
    data = {"country_code": "DE", "party_id": "PPL", "id": "tx", "currency": "EUR"}
    data |= {"elements": [{"price_components": components}]} | extra
    return parse_tariff(data, version)


def ten_kwh(tariff: Tariff) -> tuple[Decimal, Decimal]:
    period = SessionPeriod(START, START + timedelta(hours=1), Decimal(10), PeriodState.CHARGING)
    result = price_session(tariff, [period], BERLIN)
    return result.total_excl_tax, result.total_incl_tax


def test_prices_exclude_vat_when_tax_is_not_included() -> None:
    # 3.00 + 20% and 1.00 + 10%: 4.00 before, 3.60 + 1.10 = 4.70 after taxes.
    assert ten_kwh(energy_tariff(tax_included="NO")) == (Decimal("4.00"), Decimal("4.70"))
    assert ten_kwh(energy_tariff("2.2.1")) == (Decimal("4.00"), Decimal("4.70"))


def test_prices_include_vat_when_tax_is_included() -> None:
    # 3.00 incl. 20% is 2.50 before taxes; 1.00 incl. 10% is 0.9090...
    excl, incl = ten_kwh(energy_tariff(tax_included="YES"))
    assert incl == Decimal("4.00")
    assert excl.quantize(Decimal("0.0001")) == Decimal("3.4091")


def test_no_taxes_apply_when_tax_included_is_not_applicable() -> None:
    assert ten_kwh(energy_tariff(tax_included="N/A")) == (Decimal("4.00"), Decimal("4.00"))


def test_a_missing_vat_means_no_vat_but_zero_vat_is_itemised() -> None:
    no_vat = price_session(
        energy_tariff(vat=None, tax_included="NO"),
        [SessionPeriod(START, START + timedelta(hours=1), Decimal(10))],
        BERLIN,
    )
    assert no_vat.total_energy_cost.taxes == ()
    assert no_vat.total_energy_cost.incl_tax == Decimal("3.00")
    zero = price_session(
        energy_tariff(vat=0, tax_included="NO"),
        [SessionPeriod(START, START + timedelta(hours=1), Decimal(10))],
        BERLIN,
    )
    assert zero.total_energy_cost.taxes == (TaxAmount("VAT", Decimal(0), Decimal(0)),)


def test_a_clamped_total_keeps_the_sessions_tax_ratio() -> None:
    # 4.00 / 4.70 capped at 2.00 before taxes: after taxes 2.00 * 4.70 / 4.00 = 2.35.
    capped = energy_tariff(tax_included="NO", max_price={"before_taxes": 2})
    assert ten_kwh(capped) == (Decimal("2"), Decimal("2.35"))
    # Raised to 5.00 before taxes: 5.875 after, already above the 4.00 minimum.
    floored = energy_tariff(tax_included="NO", min_price={"before_taxes": 5, "after_taxes": 4})
    assert ten_kwh(floored) == (Decimal("5"), Decimal("5.875"))


def test_after_taxes_limit_binds_on_its_own() -> None:
    # After taxes 4.70 is above the 4.50 cap while 4.00 is below the 4.20 one.
    capped = energy_tariff(tax_included="NO", max_price={"before_taxes": 4.2, "after_taxes": 4.5})
    assert ten_kwh(capped) == (Decimal("4.00"), Decimal("4.5"))


def test_min_price_on_a_free_session_is_the_minimum() -> None:
    data = {"country_code": "DE", "party_id": "PPL", "id": "tx", "currency": "EUR"}
    component = {"type": "ENERGY", "price": 0.30, "step_size": 1, "vat": 20}
    data |= {"elements": [{"price_components": [component]}], "min_price": {"excl_vat": 1}}
    period = SessionPeriod(START, START, Decimal(0), PeriodState.PARKING)
    result = price_session(parse_tariff(data), [period], BERLIN)
    assert (result.total_excl_tax, result.total_incl_tax) == (Decimal(1), Decimal(1))
