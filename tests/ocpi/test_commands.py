"""Commands from an eMSP reach a simulated OCPP charger through the gateway bus; results return."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import redis
from ocpp.routing import on
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from sqlalchemy import func, select

from app.charging.models import ChargingSession
from app.core.clock import utcnow
from app.core.security import hash_secret
from app.extensions import db as _db
from app.gateway.bus import RedisBus, RedisKeys
from app.gateway.ports import OcppVersion
from app.gateway.server import GatewayConfig, run_gateway
from app.inventory.models import ChargeStation
from app.ocpi.models import OcpiCommand
from app.ocpi.tasks import run_commands
from tests.gateway.support import DEADLINE, Charger16, charger, seeded_port, serving
from tests.ocpi.conftest import token_header
from tests.ocpi.test_tokens_receiver import token_body

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/11")


class HomeCharger(Charger16):
    """A 1.6 charger that also takes reservations and unlocks."""

    @on("ReserveNow")
    def on_reserve_now(self, **payload: Any) -> result16.ReserveNow:
        self.received.append(("ReserveNow", payload))
        return result16.ReserveNow(status="Occupied")

    @on("CancelReservation")
    def on_cancel(self, **payload: Any) -> result16.CancelReservation:
        self.received.append(("CancelReservation", payload))
        return result16.CancelReservation(status="Accepted")

    @on("UnlockConnector")
    def on_unlock(self, **payload: Any) -> result16.UnlockConnector:
        self.received.append(("UnlockConnector", payload))
        return result16.UnlockConnector(status="Unlocked")


class LiveGateway:
    """The real gateway on its own event loop, and one connected 1.6 charger.

    Its bus is a LocalBus, or with `redis=(url, prefix)` a RedisBus on that key prefix.
    """

    def __init__(
        self, charger_class: type[Charger16] = HomeCharger, redis: tuple[str, str] | None = None
    ) -> None:
        self.charger_class = charger_class
        self.redis = redis
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.stack = contextlib.AsyncExitStack()

    def __enter__(self) -> LiveGateway:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(DEADLINE)
        return self

    async def _start(self) -> None:
        if self.redis is None:
            self.gateway = await self.stack.enter_async_context(serving(seeded_port()))
        else:
            url, prefix = self.redis
            bus = RedisBus(url, keys=RedisKeys(prefix))
            settings = GatewayConfig(host="127.0.0.1", port=0)
            self.gateway = await self.stack.enter_async_context(
                run_gateway(seeded_port(), bus, settings)
            )
        self.charger = await self.stack.enter_async_context(
            charger(self.gateway, "CP16", OcppVersion.V16, self.charger_class)
        )
        await self.charger.call(call16.BootNotification("PlugPool", "Home"))

    def __exit__(self, *exc: Any) -> None:
        asyncio.run_coroutine_threadsafe(self.stack.aclose(), self.loop).result(DEADLINE)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(DEADLINE)

    @property
    def bus(self) -> Any:
        return self.gateway.bus


@pytest.fixture
def station_location(make_location):
    location = make_location(evses=2)
    station = ChargeStation(station_id="CP16", password_hash=hash_secret("x" * 16))
    _db.session.add(station)
    _db.session.flush()
    for number, evse in enumerate(location.evses, start=1):
        evse.station_id = station.id
        evse.ocpp_evse_id = number
    _db.session.flush()
    return location


@pytest.fixture
def emsp(make_partner, peer):
    partner, token = make_partner(
        endpoints=(("commands", "SENDER", f"{peer.state.base}/emsp/2.2.1/commands"),)
    )
    peer.state.tokens_accepted.add(partner.token_out)
    return token


def _post(client, token, name, body):
    reply = client.post(f"/ocpi/cpo/2.2.1/commands/{name}", json=body, headers=token_header(token))
    assert reply.status_code == 200
    return reply.get_json()


def test_start_session_reaches_the_charger_and_the_result_is_posted(
    client, emsp, station_location, peer
):
    evse = station_location.evses[1]
    body = {
        "response_url": f"{peer.state.base}/emsp/2.2.1/commands/START_SESSION/42",
        "token": token_body(uid="RFID-9"),
        "location_id": station_location.ocpi_id,
        "evse_uid": evse.uid,
    }
    answer = _post(client, emsp, "START_SESSION", body)
    assert answer["status_code"] == 1000
    assert answer["data"] == {"result": "ACCEPTED", "timeout": 30}

    with LiveGateway() as gateway:
        assert run_commands(10, gateway.bus) == 1
        received = list(gateway.charger.received)
    assert received == [("RemoteStartTransaction", {"id_tag": "RFID-9", "connector_id": 2})]
    (result,) = peer.command_results()
    assert result.path == "/ocpi/emsp/2.2.1/commands/START_SESSION/42"
    assert result.body == {"result": "ACCEPTED"}
    assert result.headers["OCPI-to-party-id"] == "EMS" and result.headers["X-Request-ID"]
    record = _db.session.scalars(select(OcpiCommand)).one()
    assert record.result == "ACCEPTED" and record.result_sent_at is not None
    assert run_commands(10, None) == 0


def test_commands_reach_the_gateway_through_redis_on_the_configured_prefix(
    app, client, emsp, station_location, peer, monkeypatch
):
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    prefix = f"test:{uuid.uuid4().hex[:8]}:"
    for name, value in (("GATEWAY_BUS", "redis"), ("REDIS_URL", REDIS_URL)):
        monkeypatch.setitem(app.config, name, value)
    monkeypatch.setitem(app.config, "GATEWAY_REDIS_PREFIX", prefix)
    body = {
        "response_url": f"{peer.state.base}/emsp/2.2.1/commands/START_SESSION/5",
        "token": token_body(uid="RFID-9"),
        "location_id": station_location.ocpi_id,
        "evse_uid": station_location.evses[0].uid,
    }
    assert _post(client, emsp, "START_SESSION", body)["data"]["result"] == "ACCEPTED"

    with LiveGateway(redis=(REDIS_URL, prefix)) as gateway:
        assert run_commands(10) == 1  # the sender the settings give, as the Celery task runs it
        received = list(gateway.charger.received)
    assert received == [("RemoteStartTransaction", {"id_tag": "RFID-9", "connector_id": 1})]
    assert [r.body for r in peer.command_results()] == [{"result": "ACCEPTED"}]


def _session_at(location, evse, party, ended_ago=None):
    """A session at the EVSE's first connector on a token of `party`, running or ended."""
    now = utcnow()
    session = ChargingSession(
        country_code=location.country_code,
        party_id=location.party_id,
        ocpi_id=f"S-{party[1]}-{evse.uid}",
        station_id="CP16",
        ocpp_version="ocpp1.6",
        location_pk=location.id,
        evse_pk=evse.id,
        connector_pk=evse.connectors[0].id,
        start_date_time=now - timedelta(hours=2),
        end_date_time=now - ended_ago if ended_ago is not None else None,
        kwh=Decimal(0),
        status="ACTIVE" if ended_ago is None else "COMPLETED",
        token_uid=f"UID-{party[1]}",
        token_type="RFID",
        token_country_code=party[0],
        token_party_id=party[1],
        contract_id=f"{party[0]}-{party[1]}-C1",
        auth_method="WHITELIST",
    )
    _db.session.add(session)
    _db.session.flush()
    return session


def test_unlock_is_rejected_unless_the_emsps_driver_holds_the_connector(
    client, emsp, station_location, peer
):
    first, second = station_location.evses
    _session_at(station_location, first, ("NL", "OTH"))  # another eMSP's driver charges here
    _session_at(station_location, second, ("DE", "EMS"), ended_ago=timedelta(hours=1))
    base = f"{peer.state.base}/emsp/2.2.1/commands/UNLOCK_CONNECTOR"
    for n, evse in enumerate((first, second, first)):
        unlock = {
            "response_url": f"{base}/{n}",
            "location_id": station_location.ocpi_id,
            "evse_uid": evse.uid,
            "connector_id": "1" if n < 2 else "9",
        }
        answer = _post(client, emsp, "UNLOCK_CONNECTOR", unlock)
        assert answer["status_code"] == 1000
        assert answer["data"] == {"result": "REJECTED", "timeout": 0}
    assert _db.session.scalar(select(func.count()).select_from(OcpiCommand)) == 0
    with LiveGateway() as gateway:
        assert run_commands(10, gateway.bus) == 0
        assert gateway.charger.received == []


def test_reserve_cancel_and_unlock_map_ocpp_answers(client, emsp, station_location, peer):
    evse = station_location.evses[0]
    _session_at(station_location, evse, ("DE", "EMS"), ended_ago=timedelta(minutes=2))
    base = f"{peer.state.base}/emsp/2.2.1/commands"
    reserve = {
        "response_url": f"{base}/RESERVE_NOW/1",
        "token": token_body(uid="RFID-9"),
        "expiry_date": "2030-01-01T10:00:00Z",
        "reservation_id": "R-1",
        "location_id": station_location.ocpi_id,
        "evse_uid": evse.uid,
    }
    assert _post(client, emsp, "RESERVE_NOW", reserve)["data"]["result"] == "ACCEPTED"
    cancel = {"response_url": f"{base}/CANCEL_RESERVATION/2", "reservation_id": "R-1"}
    assert _post(client, emsp, "CANCEL_RESERVATION", cancel)["data"]["result"] == "ACCEPTED"
    unlock = {
        "response_url": f"{base}/UNLOCK_CONNECTOR/3",
        "location_id": station_location.ocpi_id,
        "evse_uid": evse.uid,
        "connector_id": "1",
    }
    assert _post(client, emsp, "UNLOCK_CONNECTOR", unlock)["data"]["result"] == "ACCEPTED"

    with LiveGateway() as gateway:
        assert run_commands(10, gateway.bus) == 3
        actions = [action for action, _ in gateway.charger.received]
    assert actions == ["ReserveNow", "CancelReservation", "UnlockConnector"]
    results = [r.body["result"] for r in peer.command_results()]
    assert results == ["EVSE_OCCUPIED", "CANCELED_RESERVATION", "ACCEPTED"]


def test_offline_station_gives_evse_inoperative(client, emsp, station_location, peer):
    body = {
        "response_url": f"{peer.state.base}/emsp/2.2.1/commands/START_SESSION/7",
        "token": token_body(uid="RFID-9"),
        "location_id": station_location.ocpi_id,
        "evse_uid": station_location.evses[0].uid,
    }
    _post(client, emsp, "START_SESSION", body)
    with LiveGateway() as gateway:
        gateway.gateway  # noqa: B018 -- the gateway runs, but CP99 is not connected
        record = _db.session.scalars(select(OcpiCommand)).one()
        record.request = {**record.request, "station_id": "CP99"}
        _db.session.flush()
        run_commands(10, gateway.bus)
    assert [r.body for r in peer.command_results()] == [{"result": "EVSE_INOPERATIVE"}]


def test_command_refusals(client, emsp, station_location, make_location, peer):
    url = f"{peer.state.base}/emsp/2.2.1/commands/X/1"
    unknown = {"response_url": url, "token": token_body(), "location_id": "NOPE"}
    reply = client.post(
        "/ocpi/cpo/2.2.1/commands/START_SESSION", json=unknown, headers=token_header(emsp)
    )
    assert reply.status_code == 404 and reply.get_json()["status_code"] == 2003
    foreign = {
        "response_url": url,
        "token": token_body(country_code="NL", party_id="OTH"),
        "location_id": station_location.ocpi_id,
    }
    assert _post_status(client, emsp, "START_SESSION", foreign) == 404
    no_station = make_location()
    unlinked = {"response_url": url, "token": token_body(), "location_id": no_station.ocpi_id}
    assert _post(client, emsp, "START_SESSION", unlinked)["data"]["result"] == "REJECTED"
    stop = {"response_url": url, "session_id": "S1"}
    assert _post(client, emsp, "STOP_SESSION", stop)["data"]["result"] == "UNKNOWN_SESSION"
    assert _post(client, emsp, "SELF_DESTRUCT", {})["data"]["result"] == "NOT_SUPPORTED"
    missing = {"response_url": url, "location_id": station_location.ocpi_id}
    assert _post(client, emsp, "START_SESSION", missing)["status_code"] == 2001
    assert _db.session.scalar(select(func.count()).select_from(OcpiCommand)) == 0


def _post_status(client, token, name, body) -> int:
    reply = client.post(f"/ocpi/cpo/2.2.1/commands/{name}", json=body, headers=token_header(token))
    return reply.status_code


def test_a_command_from_a_party_behind_a_hub_gets_its_result_addressed_to_that_party(
    client, make_partner, station_location, peer
):
    hub, token = make_partner(roles=(("HUB", "DE", "HUB"),))
    peer.state.tokens_accepted.add(hub.token_out)
    evse = station_location.evses[0]
    body = {
        "response_url": f"{peer.state.base}/emsp/2.2.1/commands/START_SESSION/7",
        "token": token_body(country_code="NL", party_id="EMP", uid="RFID-HUB"),
        "location_id": station_location.ocpi_id,
        "evse_uid": evse.uid,
    }
    headers = {
        **token_header(token),
        "OCPI-from-country-code": "NL",
        "OCPI-from-party-id": "EMP",
        "OCPI-to-country-code": "NL",
        "OCPI-to-party-id": "PLG",
    }
    reply = client.post("/ocpi/cpo/2.2.1/commands/START_SESSION", json=body, headers=headers)
    assert reply.get_json()["data"]["result"] == "ACCEPTED"
    assert reply.headers["OCPI-to-party-id"] == "EMP"

    with LiveGateway() as gateway:
        assert run_commands(10, gateway.bus) == 1
    (result,) = peer.command_results()
    assert (result.headers["OCPI-to-country-code"], result.headers["OCPI-to-party-id"]) == (
        "NL",
        "EMP",
    )
    assert result.headers["OCPI-from-party-id"] == "PLG"


def _hub_command(client, make_partner, station_location, peer):
    """A hub partner, NL*EMP CONNECTED behind it, and a START_SESSION accepted from it."""
    hub, token = make_partner(roles=(("HUB", "DE", "HUB"),))
    peer.state.tokens_accepted.add(hub.token_out)
    _client_info(client, token, "CONNECTED", 1)
    body = {
        "response_url": f"{peer.state.base}/emsp/2.2.1/commands/START_SESSION/8",
        "token": token_body(country_code="NL", party_id="EMP", uid="RFID-HUB"),
        "location_id": station_location.ocpi_id,
        "evse_uid": station_location.evses[0].uid,
    }
    headers = {**token_header(token), "OCPI-from-country-code": "NL", "OCPI-from-party-id": "EMP"}
    reply = client.post("/ocpi/cpo/2.2.1/commands/START_SESSION", json=body, headers=headers)
    assert reply.get_json()["data"]["result"] == "ACCEPTED"
    return token


def _client_info(client, token, status, day):
    body = {
        "party_id": "EMP",
        "country_code": "NL",
        "role": "EMSP",
        "status": status,
        "last_updated": f"2030-01-0{day}T00:00:00Z",
    }
    reply = client.put("/ocpi/2.2.1/hubclientinfo/NL/EMP", json=body, headers=token_header(token))
    assert reply.get_json()["status_code"] == 1000


def test_a_command_result_for_a_party_gone_offline_is_held_until_the_hub_reports_it_back(
    client, make_partner, station_location, peer
):
    token = _hub_command(client, make_partner, station_location, peer)
    _client_info(client, token, "OFFLINE", 2)
    with LiveGateway() as gateway:
        assert run_commands(10, gateway.bus) == 1
        record = _db.session.scalars(select(OcpiCommand)).one()
        assert record.result is not None and record.result_sent_at is None
        assert record.result_error == "held: NL*EMP OFFLINE"
        assert peer.command_results() == []
        run_commands(10, gateway.bus)  # still OFFLINE: still held
        assert peer.command_results() == []
        _client_info(client, token, "CONNECTED", 3)
        run_commands(10, gateway.bus)
    (result,) = peer.command_results()
    assert result.body == {"result": record.result}
    assert result.headers["OCPI-to-party-id"] == "EMP"
    _db.session.refresh(record)
    assert record.result_sent_at is not None and record.result_error is None


def test_a_command_result_for_a_suspended_party_is_not_delivered_and_says_so(
    client, make_partner, station_location, peer
):
    token = _hub_command(client, make_partner, station_location, peer)
    _client_info(client, token, "SUSPENDED", 2)
    with LiveGateway() as gateway:
        run_commands(10, gateway.bus)
        _client_info(client, token, "CONNECTED", 3)
        run_commands(10, gateway.bus)
    record = _db.session.scalars(select(OcpiCommand)).one()
    assert record.result_error == "not delivered: NL*EMP SUSPENDED"
    assert record.result_sent_at is None and peer.command_results() == []


def test_a_command_result_held_past_the_timeout_we_answered_is_given_up(
    app, client, make_partner, station_location, peer
):
    token = _hub_command(client, make_partner, station_location, peer)
    _client_info(client, token, "OFFLINE", 2)
    with LiveGateway() as gateway:
        run_commands(10, gateway.bus)
        record = _db.session.scalars(select(OcpiCommand)).one()
        assert record.result_error.startswith("held:")
        record.created_at = utcnow() - timedelta(seconds=app.config["OCPI_COMMAND_TIMEOUT"] + 1)
        _db.session.flush()
        run_commands(10, gateway.bus)
        _client_info(client, token, "CONNECTED", 3)
        run_commands(10, gateway.bus)
    assert record.result_error == "not delivered: NL*EMP OFFLINE"
    assert peer.command_results() == []
