"""Two OCPI parties over real HTTP: a partner's driver charges at a simulated PlugPool charger.

PlugPool runs as CPO on a real port, the eMSP peer on another; the OCPP gateway runs with the
DB-backed port and the simulated 1.6 charger from app/gateway/simulator.py. The eMSP starts
and stops sessions by OCPI commands, receives the CommandResults, the Sessions and the CDRs
by push, and pulls them page by page.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select, update

from app.accounts.models import User
from app.bookings import services as bookings
from app.bookings.errors import SlotTaken
from app.bookings.models import Booking
from app.charging.models import Cdr, ChargingSession
from app.extensions import db
from app.gateway.ports import OcppVersion
from app.gateway.simulator import SimulatorConfig, connected
from app.inventory.models import ChargeStation
from app.ocpi.models import OcpiCommand
from app.ocpi.schemas.sessions import CDR, SESSION
from app.ocpi.tasks import deliver_outbox, run_commands
from tests.charging.support import db_gateway, eventually, read, seed_site
from tests.charging.test_flow_v201 import V201, boot, event, session_events
from tests.gateway.support import PASSWORD, charger, run
from tests.ocpi.conformance import assert_exact
from tests.ocpi.test_tokens_receiver import token_body

UID = "RFID-ROAM-1"


def in_app(app: Flask, work: Any) -> Any:
    with app.app_context():
        return work()


def _register(plugpool: Any, peer: Any) -> str:
    """Run the credentials handshake (peer-initiated) and push the driver's token."""
    added = plugpool.app.test_cli_runner().invoke(args=["ocpi", "partner-add", "emsp"]).output
    token_a = added.split("TOKEN_A: ")[1].strip()
    token_c = peer.register_with(plugpool.versions_url, token_a)["data"]["token"]
    body = token_body(uid=UID, whitelist="ALLOWED")
    reply = peer.call("PUT", plugpool.url(f"cpo/2.2.1/tokens/DE/EMS/{UID}"), token_c, json=body)
    assert reply.status_code == 201
    return token_c


def _command(peer: Any, plugpool: Any, token: str, name: str, body: dict[str, Any]) -> str:
    url = plugpool.url(f"cpo/2.2.1/commands/{name}")
    reply = peer.call("POST", url, token, json=body)
    assert reply.status_code == 200, reply.text
    return reply.json()["data"]["result"]


def _open_session(app: Flask, station_id: str, known: int) -> ChargingSession | None:
    def query() -> ChargingSession | None:
        rows = db.session.scalars(
            select(ChargingSession)
            .where(ChargingSession.station_id == station_id)
            .order_by(ChargingSession.id)
        ).all()
        db.session.expunge_all()
        return rows[known] if len(rows) > known and rows[known].is_open else None

    return read(app, query)


def _cdr_count(app: Flask) -> int:
    return len(read(app, lambda: db.session.scalars(select(Cdr.id)).all()))


def _connected(app: Flask, station_id: str) -> bool:
    return bool(
        read(
            app,
            lambda: db.session.scalars(
                select(ChargeStation.connected).where(ChargeStation.station_id == station_id)
            ).first(),
        )
    )


def _charge_twice(plugpool: Any, peer: Any, token: str, site: Any) -> list[str]:
    """Start and stop two sessions by OCPI commands; return the session ids."""
    app = plugpool.app
    results = f"{peer.state.base}/emsp/2.2.1/commands"

    async def scenario() -> list[str]:
        ids = []
        async with db_gateway(app) as gateway:
            config = SimulatorConfig(
                station_id=site.station_id,
                password=PASSWORD,
                url=f"ws://127.0.0.1:{gateway.bound_port}/ocpp",
                protocol=OcppVersion.V16,
                meter_interval=0.2,
                power_w=150_000,
            )
            async with connected(config):
                await eventually(lambda: _connected(app, site.station_id))
                for n in range(2):
                    start = {
                        "response_url": f"{results}/START_SESSION/{n}",
                        "token": token_body(uid=UID, whitelist="ALLOWED"),
                        "location_id": "RO-LOC",
                        "evse_uid": "RO-EVSE-1",
                        "authorization_reference": f"AUTH-{n}",
                    }
                    answer = await asyncio.to_thread(
                        _command, peer, plugpool, token, "START_SESSION", start
                    )
                    assert answer == "ACCEPTED"
                    await asyncio.to_thread(in_app, app, lambda: run_commands(10, gateway.bus))
                    session = await eventually(lambda n=n: _open_session(app, site.station_id, n))
                    ids.append(session.ocpi_id)
                    # The delivery job runs while the session charges: the eMSP gets it ACTIVE.
                    await asyncio.to_thread(in_app, app, lambda: deliver_outbox(50))
                    await asyncio.sleep(0.5)  # a few meter values
                    stop = {
                        "response_url": f"{results}/STOP_SESSION/{n}",
                        "session_id": session.ocpi_id,
                    }
                    answer = await asyncio.to_thread(
                        _command, peer, plugpool, token, "STOP_SESSION", stop
                    )
                    assert answer == "ACCEPTED"
                    await asyncio.to_thread(in_app, app, lambda: run_commands(10, gateway.bus))
                    await eventually(lambda n=n: _cdr_count(app) == n + 1)
        return ids

    return run(scenario, timeout=60)


def _pull(peer: Any, url: str, token: str) -> list[dict[str, Any]]:
    items = []
    while url:
        reply = peer.call("GET", url, token)
        assert reply.status_code == 200, reply.text
        assert reply.headers["X-Total-Count"] == "2"
        items += reply.json()["data"]
        link = reply.headers.get("Link")
        url = link.split(";")[0].strip("<>") if link else None
        if url:
            assert parse_qs(urlsplit(url).query)["limit"] == ["1"]
    return items


def test_a_roaming_driver_charges_and_the_emsp_gets_sessions_and_cdrs(plugpool, peer):
    site = seed_site(plugpool.app, prefix="RO")
    token = _register(plugpool, peer)
    ids = _charge_twice(plugpool, peer, token, site)

    # The charger ran both commands; their CommandResults reached the eMSP.
    results = {r.path.split("/commands/")[1]: r.body for r in peer.command_results()}
    assert results == {
        "START_SESSION/0": {"result": "ACCEPTED"},
        "STOP_SESSION/0": {"result": "ACCEPTED"},
        "START_SESSION/1": {"result": "ACCEPTED"},
        "STOP_SESSION/1": {"result": "ACCEPTED"},
    }

    # Sessions and CDRs are pushed to the eMSP whose token charged, with its OCPI-to party.
    with plugpool.app.app_context():
        while deliver_outbox(50):
            pass
    puts = peer.received("sessions")
    for session_id in ids:
        pushed = [p for p in puts if p.path.endswith(f"/NL/PLG/{session_id}")]
        # Opened: the whole Session by PUT; then its progress by PATCH, ending COMPLETED.
        assert [p.method for p in pushed] == ["PUT", "PATCH"]
        assert_exact(SESSION["2.2.1"](), pushed[0].body)
        assert pushed[0].body["status"] == "ACTIVE"
        assert pushed[0].body["cdr_token"]["uid"] == UID
        # Started by START_SESSION: auth_method COMMAND, with the command's reference.
        n = ids.index(session_id)
        assert (pushed[0].body["auth_method"], pushed[0].body["authorization_reference"]) == (
            "COMMAND",
            f"AUTH-{n}",
        )
        assert pushed[1].body["status"] == "COMPLETED" and pushed[1].body["last_updated"]
        assert pushed[1].body["kwh"] > 0 and pushed[1].body["total_cost"]["excl_vat"] > 0
    posts = peer.received("cdrs", "POST")
    assert [p.body["id"] for p in posts] == [f"CDR-{i}"[:39] for i in ids]
    for request in (*puts, *posts):
        assert (request.headers["OCPI-to-country-code"], request.headers["OCPI-to-party-id"]) == (
            "DE",
            "EMS",
        )
    for n, post in enumerate(posts):
        assert_exact(CDR["2.2.1"](), post.body)
        assert post.body["session_id"] == ids[n]
        assert (post.body["auth_method"], post.body["authorization_reference"]) == (
            "COMMAND",
            f"AUTH-{n}",
        )
        assert (
            post.body["total_energy"] > 0 and post.body["cdr_location"]["evse_uid"] == "RO-EVSE-1"
        )

    # The eMSP pulls the same sessions and CDRs page by page.
    sessions = _pull(peer, plugpool.url("cpo/2.2.1/sessions?limit=1"), token)
    assert [item["id"] for item in sessions] == ids
    cdrs = _pull(peer, plugpool.url("cpo/2.3.0/cdrs?limit=1"), token)
    assert [item["id"] for item in cdrs] == [p.body["id"] for p in posts]
    for item in cdrs:
        assert_exact(CDR["2.3.0"](), item)


def test_a_partner_books_a_home_charger_over_http(plugpool, peer):
    site = seed_site(plugpool.app, prefix="BK")
    _seen(plugpool.app, site.station_id)  # a charger that never connected cannot be booked
    token = _register(plugpool, peer)
    start = (datetime.now(UTC) + timedelta(hours=4)).replace(minute=0, second=0, microsecond=0)

    def request(request_id: str, begin: datetime) -> dict[str, Any]:
        stamp = {
            "start_date_time": begin.isoformat().replace("+00:00", "Z"),
            "end_date_time": (begin + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
        }
        body = {
            "country_code": "DE",
            "party_id": "EMS",
            "request_id": request_id,
            "location_id": "BK-LOC",
            "tokens": [
                {
                    "country_code": "DE",
                    "party_id": "EMS",
                    "uid": UID,
                    "type": "RFID",
                    "contract_id": "DE-EMS-C1",
                }
            ],
            "period": stamp,
            "authorization_reference": f"REF-{request_id}",
        }
        reply = peer.call("POST", plugpool.url("cpo/2.3.0/bookings"), token, json=body)
        assert reply.status_code == 200, reply.text
        return reply.json()

    made = request("R1", start)["data"]
    assert made["reservation_status"] == "RESERVED"
    refused = request("R2", start + timedelta(minutes=30))
    assert refused["data"]["reservation_status"] == "REJECTED"
    assert "booked" in refused["status_message"]

    with plugpool.app.app_context():
        (booking,) = db.session.scalars(select(Booking)).all()
        assert (booking.id, booking.status, booking.evse_id) == (
            int(made["id"]),
            "confirmed",
            site.evse_pk,
        )
        driver = db.session.get(User, site.driver_id)
        with pytest.raises(SlotTaken):
            bookings.hold_slot(driver, site.evse_pk, start, start + timedelta(hours=1))
        db.session.rollback()


def test_a_start_session_authorises_its_token_for_the_whole_201_session(plugpool, peer):
    """The eMSP never pushed this token: its START_SESSION is the authorisation, also when
    the charger names the token again after the command's 15 minutes."""
    site = seed_site(plugpool.app, prefix="CM")
    added = plugpool.app.test_cli_runner().invoke(args=["ocpi", "partner-add", "emsp"]).output
    token = peer.register_with(plugpool.versions_url, added.split("TOKEN_A: ")[1].strip())
    token = token["data"]["token"]
    app = plugpool.app
    start = {
        "response_url": f"{peer.state.base}/emsp/2.2.1/commands/START_SESSION/1",
        "token": token_body(uid="RFID-UNPUSHED", contract_id="DE-EMS-C77"),
        "location_id": "CM-LOC",
        "evse_uid": "CM-EVSE-1",
        "authorization_reference": "AUTH-77",
    }
    assert _command(peer, plugpool, token, "START_SESSION", start) == "ACCEPTED"
    id_token = {"id_token": "RFID-UNPUSHED", "type": "ISO14443"}

    async def scenario() -> list[Any]:
        async with db_gateway(app) as gateway, charger(gateway, site.station_id, V201) as cp:
            assert (await cp.call(boot())).status == "Accepted"
            await asyncio.to_thread(in_app, app, lambda: run_commands(10, gateway.bus))
            assert [name for name, _ in cp.received] == ["RequestStartTransaction"]
            events = session_events("RFID-UNPUSHED")
            events[0].id_token = id_token
            answers = [await cp.call(e) for e in events[:3]]
            await asyncio.to_thread(in_app, app, lambda: _date_commands(minutes=20))
            events[3].id_token = id_token  # stopped by the same card, 20 minutes on
            answers.append(await cp.call(events[3]))
            # The command started its session: the card's next transaction is not its.
            await asyncio.to_thread(in_app, app, lambda: _date_commands(minutes=1))
            again = event("Started", 0, 5000, "2026-11-21T11:10:00Z", charging_state="Charging")
            again.transaction_info = {**again.transaction_info, "transaction_id": "tx-2"}
            again.id_token = id_token
            answers.append(await cp.call(again))
            return answers

    answers = run(scenario, timeout=30)
    assert answers[0].id_token_info["status"] == "Accepted"
    assert answers[3].id_token_info["status"] == "Accepted"
    assert answers[4].id_token_info["status"] == "Invalid"

    def stored() -> tuple[Any, ...]:
        session = db.session.scalars(select(ChargingSession).order_by(ChargingSession.id)).first()
        cdr = db.session.scalars(select(Cdr)).one()
        return (
            session.status,
            session.auth_method,
            session.authorization_reference,
            (session.token_country_code, session.token_party_id, session.contract_id),
            (cdr.auth_method, cdr.authorization_reference, cdr.session_id == session.ocpi_id),
        )

    assert read(app, stored) == (
        "COMPLETED",
        "COMMAND",
        "AUTH-77",
        ("DE", "EMS", "DE-EMS-C77"),
        ("COMMAND", "AUTH-77", True),
    )


def _date_commands(minutes: int) -> None:
    """Move the commands' time back, as if they were sent `minutes` ago."""
    db.session.execute(
        update(OcpiCommand).values(created_at=datetime.now(UTC) - timedelta(minutes=minutes))
    )
    db.session.commit()


def _seen(app: Flask, station_id: str) -> None:
    """Record that the station has connected to PlugPool once."""
    with app.app_context():
        query = update(ChargeStation).where(ChargeStation.station_id == station_id)
        db.session.execute(query.values(last_seen_at=datetime.now(UTC)))
        db.session.commit()
