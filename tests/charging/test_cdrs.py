"""CDRs are final once created."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from app.charging.cdrs import create_cdr
from app.charging.models import ChargingSession, ImmutableCdr
from app.charging.serialise import cdr_to_ocpi, session_to_ocpi
from app.extensions import db as database
from app.inventory.models import Location
from app.tariffs.engine import SessionPeriod

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def test_a_cdr_is_priced_by_the_connectors_tariff_and_cannot_change(
    db: Any, make_location: Callable[..., Location], make_tariff: Callable[..., Any]
) -> None:
    tariff = make_tariff(
        elements=[
            {"price_components": [{"type": "ENERGY", "price": Decimal("0.25"), "step_size": 1}]},
        ]
    )
    location = make_location(connector={"tariff_ids": ["missing", tariff.ocpi_id]})
    evse = location.evses[0]
    session = ChargingSession(
        country_code=location.country_code,
        party_id=location.party_id,
        ocpi_id="S-1",
        station_id="ANY",
        ocpp_version="ocpp1.6",
        transaction_id="1",
        location_pk=location.id,
        evse_pk=evse.id,
        connector_pk=evse.connectors[0].id,
        start_date_time=T0,
        end_date_time=T0 + timedelta(hours=1),
        kwh=Decimal(4),
        status="COMPLETED",
        token_uid="U1",
        token_type="RFID",
        auth_method="WHITELIST",
    )
    ext = database.session
    ext.add(session)
    ext.flush()
    cdr = create_cdr(session, [SessionPeriod(T0, T0 + timedelta(hours=1), Decimal(4))])
    assert cdr.total_cost_minor == 100  # 4 kWh at 0.25
    assert cdr.tariffs[0]["id"] == tariff.ocpi_id
    assert cdr.cdr_token["uid"] == "U1"
    cdr.total_cost_minor = 1
    with pytest.raises(ImmutableCdr):
        ext.flush()
    ext.rollback()


def test_a_cdr_and_its_session_serialise_as_ocpi_objects(
    db: Any, make_location: Callable[..., Location], make_tariff: Callable[..., Any]
) -> None:
    tariff = make_tariff()
    location = make_location(connector={"tariff_ids": [tariff.ocpi_id]})
    evse = location.evses[0]
    session = ChargingSession(
        country_code=location.country_code, party_id=location.party_id, ocpi_id="S-2",
        station_id="ANY", ocpp_version="ocpp2.0.1", transaction_id="t", location_pk=location.id,
        evse_pk=evse.id, connector_pk=evse.connectors[0].id, start_date_time=T0,
        end_date_time=T0 + timedelta(hours=1), kwh=Decimal(2), status="COMPLETED",
        token_uid="U2", token_type="RFID", token_country_code="DE", token_party_id="EMS",
        contract_id="DE-EMS-C1", auth_method="AUTH_REQUEST", currency="EUR",
    )  # fmt: skip
    database.session.add(session)
    database.session.flush()
    cdr = create_cdr(session, [SessionPeriod(T0, T0 + timedelta(hours=1), Decimal(2))])

    data = cdr_to_ocpi(cdr)
    assert data["total_cost"] == {"excl_vat": Decimal("0.6"), "incl_vat": Decimal("0.6")}
    assert data["total_energy_cost"] == data["total_cost"]
    assert data["cdr_location"]["evse_uid"] == evse.uid
    assert data["cdr_token"]["contract_id"] == "DE-EMS-C1"
    assert data["start_date_time"] == "2026-11-21T10:00:00Z"
    assert session_to_ocpi(session, cdr)["status"] == "COMPLETED"
    assert session_to_ocpi(session, cdr)["location_id"] == location.ocpi_id
