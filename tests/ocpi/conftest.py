"""OCPI fixtures: registered partners in the rolled-back DB, and real servers on real ports."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app import create_app
from app.core.security import digest_token, new_token
from app.extensions import db as _db
from app.ocpi.models import OcpiPartner, PartnerEndpoint, PartnerRole, PartnerStatus
from tests.ocpi.peer import EmspPeer


def token_header(token: str) -> dict[str, str]:
    """Authorization header for a token, Base64 as OCPI 2.2+ requires."""
    return {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}


@pytest.fixture
def make_partner(db: Any) -> Callable[..., tuple[OcpiPartner, str]]:
    """A registered partner (default: eMSP DE*EMS) and the token it uses with us."""

    def make(
        name: str | None = None,
        roles: tuple[tuple[str, str, str], ...] = (("EMSP", "DE", "EMS"),),
        endpoints: tuple[tuple[str, str, str], ...] = (),
        raw_tokens: bool = False,
        version: str = "2.2.1",
    ) -> tuple[OcpiPartner, str]:
        token = new_token()
        partner = OcpiPartner(
            name=name or f"partner-{token[:8]}",
            status=PartnerStatus.REGISTERED.value,
            token_in_digest=digest_token(token),
            token_out="token-they-gave-us",
            version=version,
            raw_tokens=raw_tokens,
        )
        for role, country_code, party_id in roles:
            partner.roles.append(
                PartnerRole(
                    role=role,
                    country_code=country_code,
                    party_id=party_id,
                    business_details={"name": party_id},
                )
            )
        for identifier, role, url in endpoints:
            partner.endpoints.append(
                PartnerEndpoint(version=version, identifier=identifier, role=role, url=url)
            )
        _db.session.add(partner)
        _db.session.flush()
        return partner, token

    return make


class LiveServer:
    """PlugPool served by werkzeug in a thread, on the test database, with real commits."""

    def __init__(self, database_url: str) -> None:
        self.app: Flask = create_app("testing", {"DATABASE_URL": database_url})
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.app.config["PUBLIC_BASE_URL"] = self.base
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def versions_url(self) -> str:
        return f"{self.base}/ocpi/versions"

    def url(self, path: str) -> str:
        return f"{self.base}/ocpi/{path.lstrip('/')}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        with self.app.app_context():
            _db.session.remove()
            _db.engine.dispose()


@pytest.fixture
def plugpool(database_url: str, committed_db: None) -> Iterator[LiveServer]:
    """PlugPool as CPO on a real port."""
    server = LiveServer(database_url)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def peer() -> Iterator[EmspPeer]:
    """A small eMSP peer on a real port."""
    with EmspPeer() as emsp:
        yield emsp


@pytest.fixture
def make_session(make_location: Any, make_tariff: Any) -> Callable[..., Any]:
    """A session at an own listing for a token of (country_code, party_id); with a CDR if ended."""
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from app.charging.cdrs import create_cdr
    from app.charging.models import ChargingSession, MeterValue
    from app.tariffs.engine import SessionPeriod

    tariff = make_tariff()
    location = make_location(connector={"tariff_ids": [tariff.ocpi_id]})
    counter = iter(range(1, 1000))

    def make(
        token_party: tuple[str, str] = ("DE", "EMS"),
        ended: bool = True,
        signed: bool = False,
        start: datetime | None = None,
    ) -> Any:
        n = next(counter)
        begin = start or datetime(2026, 3, 1, 10, tzinfo=UTC) + timedelta(hours=n)
        evse = location.evses[0]
        session = ChargingSession(
            country_code=location.country_code,
            party_id=location.party_id,
            ocpi_id=f"S-{token_party[1]}-{n}",
            station_id="CP-TEST",
            ocpp_version="ocpp1.6",
            transaction_id=str(n),
            location_pk=location.id,
            evse_pk=evse.id,
            connector_pk=evse.connectors[0].id,
            ocpp_evse_id=1,
            start_date_time=begin,
            kwh=Decimal(0),
            status="ACTIVE",
            token_uid=f"UID-{n}",
            token_type="RFID",
            token_country_code=token_party[0],
            token_party_id=token_party[1],
            contract_id=f"{token_party[0]}-{token_party[1]}-C{n}",
            auth_method="WHITELIST",
        )
        _db.session.add(session)
        _db.session.flush()
        if signed:
            _db.session.add(
                MeterValue(
                    station_id="CP-TEST",
                    owner=f"tx:{n}",
                    session_pk=session.id,
                    timestamp=begin + timedelta(minutes=30),
                    measurand="Energy.Active.Import.Register",
                    context="Sample.Periodic",
                    value=Decimal(4000),
                    unit="Wh",
                    signed_data='{"signed_meter_data": "SIGNED-BLOB", "encoding_method": "OCMF"}',
                )
            )
        if ended:
            end = begin + timedelta(hours=1)
            session.end_date_time, session.kwh, session.status = end, Decimal(4), "COMPLETED"
            create_cdr(session, [SessionPeriod(begin, end, Decimal(4))])
        _db.session.flush()
        return session

    return make
