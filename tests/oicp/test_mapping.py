"""OICP <-> OCPI translations (app/oicp/mapping.py) and the schemas' stricter-than-Hubject rules."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from types import SimpleNamespace

import pytest
from marshmallow import ValidationError

from app.oicp import mapping
from app.oicp.schemas.charging import notification_schema
from app.oicp.schemas.common import EVCO_ID
from app.oicp.schemas.evse import Address, EvseDataRecord
from app.oicp.services.pricing import NotExpressible, elements_of_product, products_of_tariff


@pytest.mark.parametrize(
    ("geo", "expected"),
    [
        (
            {"DecimalDegree": {"Latitude": "52.370216", "Longitude": "4.895168"}},
            ("52.370216", "4.895168"),
        ),
        ({"Google": {"Coordinates": "52.370216 4.895168"}}, ("52.370216", "4.895168")),
        ({"Google": {"Coordinates": "52.370216, 4.895168"}}, ("52.370216", "4.895168")),
        (
            {"DegreeMinuteSeconds": {"Latitude": "52°22'12.78''", "Longitude": "-4°53'42.60''"}},
            ("52.370217", "-4.895167"),
        ),
    ],
)
def test_every_coordinates_format_reads_as_decimal_degrees(geo, expected) -> None:
    lat, lon = mapping.coordinates(geo)
    assert (lat, lon) == (Decimal(expected[0]), Decimal(expected[1]))


def test_opening_times_round_trip_through_weekly_windows() -> None:
    windows = [
        SimpleNamespace(weekday=1, start_time=time(8), end_time=time(12)),
        SimpleNamespace(weekday=1, start_time=time(18), end_time=time(0)),
        SimpleNamespace(weekday=6, start_time=time(9, 30), end_time=time(17)),
    ]
    opening = mapping.opening_times(windows)
    assert opening[0] == {
        "Period": [{"begin": "08:00", "end": "12:00"}, {"begin": "18:00", "end": "24:00"}],
        "on": "Monday",
    }
    back = mapping.windows_of(opening)
    assert back == [(1, time(8), time(12)), (1, time(18), time(0)), (6, time(9, 30), time(17))]
    assert (
        len(
            mapping.windows_of([{"Period": [{"begin": "07:00", "end": "19:00"}], "on": "Workdays"}])
        )
        == 5
    )


def test_own_contract_ids_become_valid_evco_ids() -> None:
    evco = mapping.evco_id("NL-PLG-C00000012")
    assert EVCO_ID.fullmatch(evco)
    assert mapping.contract_of(evco) == "NL-PLG-C00000012"
    assert mapping.evco_id(evco) == evco


def test_identifiers_are_normalised_and_checked_against_their_operator() -> None:
    assert mapping.operator_id("nlplg") == "NL*PLG"
    assert mapping.provider_id("NL*PLG") == "NL-PLG"
    assert mapping.party_of("DE*ABC") == ("DE", "ABC")
    assert mapping.evse_belongs("NL*PLG*E123", "NLPLG")
    assert not mapping.evse_belongs("NL*PLX*E123", "NL*PLG")


def test_plugs_without_an_oicp_type_are_left_out_and_two_phase_becomes_one_phase() -> None:
    connector = SimpleNamespace(standard="NEMA_14_50", format="SOCKET")
    assert mapping._plug(connector) is None
    assert mapping.POWER_OUT["AC_2_PHASE"] == "AC_1_PHASE"
    assert mapping.PLUGS_IN["Type 2 Outlet"] == ("IEC_62196_T2", "SOCKET")


def test_lengths_are_real_lengths_and_patterns_match_in_full() -> None:
    address = {
        "Country": "NLD",
        "City": "A",
        "Street": "Damrak",
        "PostalCode": "1",
        "HouseNum": "1",
    }
    Address().load(address)
    with pytest.raises(ValidationError):
        Address().load({**address, "Country": "NL"})
    with pytest.raises(ValidationError):
        Address().load({**address, "TimeZone": "UTC,01:00"})  # Hubject's [+,-] lets a comma in
    with pytest.raises(ValidationError):
        EvseDataRecord().load({"EvseID": "xNL*PLG*E1"})


def test_notifications_are_told_apart_by_their_type() -> None:
    body = {
        "Type": "End",
        "SessionID": "b2688855-7f00-0002-6d8e-48d883f6abb6",
        "EvseID": "DE*ABC*E1",
        "OperatorID": "DE*ABC",
        "ChargingEnd": "2026-12-01T10:00:00Z",
    }
    assert type(notification_schema(body)).__name__ == "EndNotification"
    notification_schema(body).load(body)
    with pytest.raises(ValidationError):
        notification_schema({**body, "Type": "Later"})


def _tariff(elements, **extra):
    return SimpleNamespace(
        ocpi_id="T1", currency="EUR", elements=elements, min_price=None, max_price=None, **extra
    )


def test_energy_tariff_becomes_a_pricing_product_and_back() -> None:
    tariff = _tariff(
        [
            {
                "price_components": [
                    {"type": "ENERGY", "price": "0.35", "step_size": 1},
                    {"type": "FLAT", "price": "0.50", "step_size": 1},
                ],
                "restrictions": {
                    "day_of_week": ["SATURDAY"],
                    "start_time": "08:00",
                    "end_time": "20:00",
                },
            }
        ]
    )
    [product] = products_of_tariff(tariff, Decimal(11))
    assert product["ReferenceUnit"] == "KILOWATT_HOUR"
    assert product["PricePerReferenceUnit"] == Decimal("0.35")
    assert product["AdditionalReferences"][0]["AdditionalReference"] == "START FEE"
    assert product["ProductAvailabilityTimes"] == [
        {"Periods": [{"begin": "08:00", "end": "20:00"}], "on": "Saturday"}
    ]
    [element] = elements_of_product(product)
    assert element["price_components"][0] == {
        "type": "ENERGY",
        "price": Decimal("0.35"),
        "step_size": 1,
    }
    assert element["restrictions"]["day_of_week"] == ["SATURDAY"]


@pytest.mark.parametrize(
    "element",
    [
        {
            "price_components": [
                {"type": "ENERGY", "price": 1, "step_size": 1},
                {"type": "TIME", "price": 1, "step_size": 1},
            ]
        },
        {
            "price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}],
            "restrictions": {"max_kwh": 10},
        },
    ],
)
def test_tariffs_oicp_cannot_express_are_refused(element) -> None:
    with pytest.raises(NotExpressible):
        products_of_tariff(_tariff([element]), Decimal(11))
