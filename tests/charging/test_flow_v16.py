"""OCPP 1.6J against the gateway on the DB-backed port: sessions, meter values, priced CDRs."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask
from ocpp.v16 import call

from app.charging.enums import NoticeKind, SessionStatus
from app.charging.models import MeterValue, Notice
from app.charging.queries import flagged_session_rows
from app.gateway.ports import OcppVersion
from app.ocpi.push import EVSE_STATUS_CHANGED
from tests.charging.support import Site, cdrs, count, db_gateway, outbox_topics, read, sessions
from tests.gateway.support import charger, run

V16 = OcppVersion.V16
STARTED_AT = "2026-11-21T10:00:00Z"


def meter(tx: int, wh: int, at: str) -> call.MeterValues:
    """Return a MeterValues call with one energy register sample."""
    sample = {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
    return call.MeterValues(
        connector_id=1,
        transaction_id=tx,
        meter_value=[{"timestamp": at, "sampled_value": [sample]}],
    )


def test_full_16_session_ends_in_a_priced_cdr(app: Flask, site: Site) -> None:
    async def scenario() -> int:
        async with db_gateway(app) as gateway, charger(gateway, site.station_id, V16) as cp:
            boot = await cp.call(call.BootNotification("PlugPool", "Home", firmware_version="1.2"))
            assert boot.status == "Accepted"
            await cp.call(call.StatusNotification(1, "NoError", "Preparing", timestamp=STARTED_AT))
            auth = await cp.call(call.Authorize(id_tag=site.driver_token))
            assert auth.id_tag_info["status"] == "Accepted"
            start = await cp.call(call.StartTransaction(1, site.driver_token, 1000, STARTED_AT))
            assert start.id_tag_info["status"] == "Accepted"
            tx = start.transaction_id
            await cp.call(meter(tx, 2500, "2026-11-21T10:20:00Z"))
            await cp.call(meter(tx, 4000, "2026-11-21T10:40:00Z"))
            await cp.call(
                call.StopTransaction(4000, "2026-11-21T11:00:00Z", tx, reason="EVDisconnected")
            )
            return tx

    tx = run(scenario)
    [session] = sessions(app, site.station_id)
    assert session.transaction_id == str(tx)
    assert session.status == SessionStatus.COMPLETED
    assert session.kwh == Decimal("3")
    assert (session.meter_start_wh, session.meter_stop_wh) == (1000, 4000)
    assert session.token_uid == site.driver_token and session.auth_method == "WHITELIST"
    [cdr] = cdrs(app)
    assert cdr.session_pk == session.id
    assert cdr.total_cost_minor == 90  # 3 kWh at 0.30 EUR
    assert cdr.total_cost_excl == Decimal("0.9") and cdr.currency == "EUR"
    assert cdr.total_energy == Decimal("3") and cdr.total_time == Decimal(1)
    assert cdr.cdr_location["evse_uid"] == "CS-EVSE-1"
    assert cdr.tariffs[0]["id"] == site.tariff_id
    # Energy flowed in two stretches, then the meter stood still: parking.
    assert [p["dimensions"][0]["type"] for p in cdr.charging_periods] == ["ENERGY", "PARKING_TIME"]
    assert count(app, MeterValue, station_id=site.station_id) == 2
    topics = outbox_topics(app)
    assert EVSE_STATUS_CHANGED in topics and topics[-1] == "session.changed"
    assert "cdr.created" in topics


def test_unknown_token_opens_an_invalid_session_without_cdr(app: Flask, site: Site) -> None:
    async def scenario() -> None:
        async with db_gateway(app) as gateway, charger(gateway, site.station_id, V16) as cp:
            await cp.call(call.BootNotification("PlugPool", "Home"))
            auth = await cp.call(call.Authorize(id_tag="STRANGER"))
            assert auth.id_tag_info["status"] == "Invalid"
            start = await cp.call(call.StartTransaction(1, "STRANGER", 0, STARTED_AT))
            assert start.id_tag_info["status"] == "Invalid"
            await cp.call(call.StopTransaction(10, "2026-11-21T10:01:00Z", start.transaction_id))

    run(scenario)
    [session] = sessions(app, site.station_id)
    assert session.status == SessionStatus.INVALID
    assert session.end_date_time is not None
    assert cdrs(app) == []


def test_meter_stop_below_meter_start_is_not_billed(app: Flask, site: Site) -> None:
    async def scenario() -> None:
        async with db_gateway(app) as gateway, charger(gateway, site.station_id, V16) as cp:
            await cp.call(call.BootNotification("PlugPool", "Home"))
            start = await cp.call(call.StartTransaction(1, site.driver_token, 5000, STARTED_AT))
            await cp.call(call.StopTransaction(4000, "2026-11-21T11:00:00Z", start.transaction_id))

    run(scenario)
    [session] = sessions(app, site.station_id)
    assert session.status == SessionStatus.INVALID
    assert "below meter start" in (session.invalid_reason or "")
    assert cdrs(app) == []


def test_more_energy_than_the_connector_can_deliver_is_not_billed(app: Flask, site: Site) -> None:
    async def scenario() -> None:
        async with db_gateway(app) as gateway, charger(gateway, site.station_id, V16) as cp:
            await cp.call(call.BootNotification("PlugPool", "Home"))
            start = await cp.call(call.StartTransaction(1, site.driver_token, 0, STARTED_AT))
            # 50 kWh in ten minutes from an 11 kW socket.
            await cp.call(call.StopTransaction(50000, "2026-11-21T10:10:00Z", start.transaction_id))

    run(scenario)
    [session] = sessions(app, site.station_id)
    assert session.status == SessionStatus.INVALID
    assert cdrs(app) == []
    # Held for review, not silently dropped: flagged, and the owner is told.
    assert session.flagged_at is not None
    assert "more than the connector can deliver" in (session.invalid_reason or "")
    assert count(app, Notice, user_id=site.owner_id, kind=NoticeKind.SESSION_FLAGGED.value) == 1
    flagged = read(app, lambda: [row.session.id for row in flagged_session_rows(site.owner_id)])
    assert flagged == [session.id]


def test_an_unknown_token_is_not_flagged_for_review(app: Flask, site: Site) -> None:
    async def scenario() -> None:
        async with db_gateway(app) as gateway, charger(gateway, site.station_id, V16) as cp:
            await cp.call(call.BootNotification("PlugPool", "Home"))
            start = await cp.call(call.StartTransaction(1, "STRANGER", 0, STARTED_AT))
            await cp.call(call.StopTransaction(10, "2026-11-21T10:01:00Z", start.transaction_id))

    run(scenario)
    [session] = sessions(app, site.station_id)
    assert session.status == SessionStatus.INVALID and session.flagged_at is None


def test_16_messages_resent_after_reconnect_count_once(app: Flask, site: Site) -> None:
    start_call = call.StartTransaction(1, site.driver_token, 1000, STARTED_AT)

    async def scenario() -> tuple[int, int]:
        async with db_gateway(app) as gateway:
            async with charger(gateway, site.station_id, V16) as cp:
                await cp.call(call.BootNotification("Home", "PlugPool"))
                first = await cp.call(start_call)
                await cp.call(meter(first.transaction_id, 2500, "2026-11-21T10:30:00Z"))
            async with charger(gateway, site.station_id, V16) as cp:
                await cp.call(call.BootNotification("Home", "PlugPool"))
                again = await cp.call(start_call)  # the queue is resent with new message ids
                await cp.call(meter(again.transaction_id, 2500, "2026-11-21T10:30:00Z"))
                stop = call.StopTransaction(4000, "2026-11-21T11:00:00Z", again.transaction_id)
                await cp.call(stop)
                await cp.call(stop)
            return first.transaction_id, again.transaction_id

    first, again = run(scenario)
    assert first == again
    [session] = sessions(app, site.station_id)
    assert session.kwh == Decimal("3")
    assert count(app, MeterValue, station_id=site.station_id) == 1
    [cdr] = cdrs(app)
    assert cdr.total_cost_minor == 90
