"""Hubject starts and stops charging at a PlugPool charger; the CDR goes back with signed meter
values. PlugPool serves /api/oicp over mutual TLS; the stand-in calls it with Hubject's client
certificate; the gateway runs with the simulated OCPP 2.0.1 charger."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from app.accounts.models import User
from app.charging.commands import use_local_bus
from app.charging.models import Cdr, ChargingSession
from app.extensions import db
from app.gateway.ports import OcppVersion
from app.gateway.simulator import SimulatorConfig, connected
from app.inventory.models import ChargeStation
from app.oicp.models import OicpSession
from app.oicp.schemas.charging import ChargeDetailRecord
from app.oicp.server import serving
from app.oicp.services import delivery
from app.tariffs.models import Tariff
from tests.charging.support import (
    _evse,
    _location,
    _own_party,
    _station,
    db_gateway,
    eventually,
    read,
    seed_site,
)
from tests.gateway.support import PASSWORD, run
from tests.support.hubject_standin import StandIn
from tests.support.hubject_standin.certs import Pki

EVSE_ID = "NL*PLG*EHB*1"
EVCO = "DE-EMP-C12345678-9"
START = "/api/oicp/charging/v21/providers/DE-EMP/authorize-remote/start"
STOP = "/api/oicp/charging/v21/providers/DE-EMP/authorize-remote/stop"


def _start_body(evse_id: str = EVSE_ID, **extra: Any) -> dict[str, Any]:
    return {
        "SessionID": str(uuid.uuid4()),
        "EMPPartnerSessionID": "emp-42",
        "ProviderID": "DE-EMP",
        "EvseID": evse_id,
        "Identification": {"RemoteIdentification": {"EvcoID": EVCO}},
        **extra,
    }


def _connected(app: Flask, station_id: str) -> bool:
    query = select(ChargeStation.connected).where(ChargeStation.station_id == station_id)
    return bool(read(app, lambda: db.session.scalars(query).first()))


def _open_session(app: Flask, station_id: str) -> ChargingSession | None:
    def query() -> ChargingSession | None:
        row = db.session.scalars(
            select(ChargingSession).where(
                ChargingSession.station_id == station_id, ChargingSession.end_date_time.is_(None)
            )
        ).first()
        db.session.expunge_all()
        return row

    return read(app, query)


def _cdrs(app: Flask) -> int:
    return read(app, lambda: db.session.scalar(select(func.count(Cdr.id))))


@pytest.mark.slow
def test_remote_start_reaches_the_charger_and_the_cdr_returns_with_signed_meter_values(
    bridge: Flask, standin: StandIn, pki: Pki, committed_db: Any
) -> None:
    site = seed_site(bridge, prefix="HB")
    start = _start_body()

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], ChargingSession]:
        async with db_gateway(bridge) as gateway:
            use_local_bus(gateway.bus)
            config = SimulatorConfig(
                station_id=site.station_id,
                password=PASSWORD,
                url=f"ws://127.0.0.1:{gateway.bound_port}/ocpp",
                protocol=OcppVersion.V201,
                meter_interval=0.2,
                power_w=11_000,
                signed_meter_values=True,
            )
            try:
                async with connected(config):
                    await eventually(lambda: _connected(bridge, site.station_id))
                    started = await asyncio.to_thread(standin.drive, START, start)
                    session = await eventually(lambda: _open_session(bridge, site.station_id))
                    await asyncio.sleep(0.8)  # a few signed meter values
                    stop = {k: start[k] for k in ("SessionID", "ProviderID", "EvseID")}
                    stopped = await asyncio.to_thread(standin.drive, STOP, stop)
                    await eventually(lambda: _cdrs(bridge) == 1)
            finally:
                use_local_bus(None)
        return started, stopped, session

    with serving(bridge, pki.plugpool_server.cert, pki.plugpool_server.key, pki.ca) as server:
        standin.configure(plugpool_base=f"https://127.0.0.1:{server.port}")
        started, stopped, session = run(scenario, timeout=60)
    assert started["body"]["Result"] is True, started
    assert started["body"]["StatusCode"]["Code"] == "000"
    assert started["body"]["SessionID"] == start["SessionID"]
    assert started["elapsed_ms"] < 10_000
    assert stopped["body"]["Result"] is True, stopped
    assert session.token_uid == EVCO
    assert (session.token_country_code, session.token_party_id) == ("DE", "EMP")
    assert session.auth_method == "COMMAND"

    with bridge.app_context():
        delivery.deliver()
    state = standin.state()
    assert state["errors"] == []
    [cdr] = state["cdrs"]
    ChargeDetailRecord().load(cdr)
    assert cdr["SessionID"] == start["SessionID"]
    assert cdr["EvseID"] == EVSE_ID
    assert cdr["Identification"] == start["Identification"]
    signed = cdr["SignedMeteringValues"]
    assert len(signed) >= 2
    assert signed[0]["MeteringStatus"] == "Start" and signed[-1]["MeteringStatus"] == "End"
    assert all(v["SignedMeteringValue"] for v in signed)
    assert cdr["CalibrationLawVerificationInfo"]["MeteringSignatureEncodingFormat"] == "OCMF"
    assert cdr["ConsumedEnergy"] > 0
    kinds = [n["Type"] for n in state["notifications"]]
    assert kinds == ["Start", "End"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (_start_body("DE*ABC*E1"), "018"),  # another operator's EVSE
        (_start_body("NL*PLG*ENOPE"), "603"),  # ours, but no such EVSE
        (
            _start_body(Identification={"RFIDMifareFamilyIdentification": {"UID": "AB12CD34"}}),
            "022",
        ),
        ({"ProviderID": "DE-EMP", "EvseID": EVSE_ID}, "022"),  # no Identification
        ({**_start_body(), "ProviderID": "DE-XYZ"}, "022"),  # path and body disagree
    ],
)
def test_bad_remote_start_gets_its_status_code_and_writes_nothing(
    bridge: Flask, client: Any, body: dict[str, Any], code: str
) -> None:
    reply = client.post(START, json=body)
    assert reply.status_code == 200
    assert reply.json["Result"] is False
    assert reply.json["StatusCode"]["Code"] == code
    assert reply.json["StatusCode"]["Description"]
    assert db.session.scalar(select(func.count(OicpSession.id))) == 0


def test_offline_charger_is_answered_501_and_nothing_is_started(
    bridge: Flask, client: Any, db: Any
) -> None:
    _offline_site(bridge)
    reply = client.post(START, json=_start_body())
    assert reply.json["Result"] is False
    assert reply.json["StatusCode"]["Code"] == "501"
    assert db_session_statuses() == []


def db_session_statuses() -> list[str]:
    return list(db.session.scalars(select(OicpSession.status)))


def _offline_site(app: Flask) -> None:
    """A published own EVSE whose charger is not connected (inside the test's transaction)."""
    party = _own_party(app)
    owner = User(email="hb-owner@example.test", password_hash="x", name="Owner")
    tariff = Tariff(
        country_code=party.country_code, party_id=party.party_id, ocpi_id="HB-T1", currency="EUR"
    )
    db.session.add_all([owner, tariff])
    db.session.flush()
    location = _location(party, owner, "HB")
    station = _station("HB-1", location)
    db.session.add_all([location, station, _evse(location, station, tariff, "HB", ["RESERVABLE"])])
    db.session.flush()


def test_client_without_hubjects_certificate_is_refused(
    bridge: Flask, pki: Pki, committed_db: Any
) -> None:
    with serving(bridge, pki.plugpool_server.cert, pki.plugpool_server.key, pki.ca) as server:
        url = f"https://127.0.0.1:{server.port}{START}"
        for cert in (None, (pki.stranger_client.cert, pki.stranger_client.key)):
            with pytest.raises(requests.exceptions.RequestException):
                requests.post(url, json=_start_body(), cert=cert, verify=pki.ca, timeout=5)
        ok = requests.post(
            url,
            json={},
            cert=(pki.hubject_client.cert, pki.hubject_client.key),
            verify=pki.ca,
            timeout=5,
        )
    assert ok.status_code == 200 and ok.json()["StatusCode"]["Code"] == "022"
