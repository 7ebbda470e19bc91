"""OCPP 2.0.1 against the gateway on the DB-backed port: TransactionEvents to a priced CDR."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask
from ocpp.v201 import call

from app.charging.enums import SessionStatus
from app.charging.models import MeterValue, TransactionEventSeen
from app.gateway.ports import OcppVersion
from tests.charging.support import Site, cdrs, count, db_gateway, sessions
from tests.gateway.support import charger, run

V201 = OcppVersion.V201


def boot() -> call.BootNotification:
    """Return a power-up BootNotification."""
    return call.BootNotification(
        charging_station={"vendor_name": "PlugPool", "model": "Home"}, reason="PowerUp"
    )


def event(kind: str, seq_no: int, wh: int, at: str, **info: Any) -> call.TransactionEvent:
    """Return a TransactionEvent of transaction "tx-1" with one energy register sample (Wh)."""
    context = {"Started": "Transaction.Begin", "Ended": "Transaction.End"}.get(kind)
    sample: dict[str, Any] = {"value": wh, "measurand": "Energy.Active.Import.Register"}
    if context:
        sample["context"] = context
    return call.TransactionEvent(
        event_type=kind,
        timestamp=at,
        trigger_reason="MeterValuePeriodic" if kind == "Updated" else "Authorized",
        seq_no=seq_no,
        transaction_info={"transaction_id": "tx-1", **info},
        evse={"id": 1, "connector_id": 1},
        meter_value=[{"timestamp": at, "sampled_value": [sample]}],
    )


def session_events(token: str) -> list[call.TransactionEvent]:
    """Return Started, two Updated and Ended events of one 3 kWh session over an hour."""
    started = event("Started", 0, 1000, "2026-11-21T10:00:00Z", charging_state="Charging")
    started.id_token = {"id_token": token, "type": "Central"}
    return [
        started,
        event("Updated", 1, 2500, "2026-11-21T10:20:00Z"),
        event("Updated", 2, 4000, "2026-11-21T10:40:00Z"),
        event("Ended", 3, 4000, "2026-11-21T11:00:00Z", stopped_reason="EVDisconnected"),
    ]


def test_full_201_session_ends_in_a_priced_cdr(app: Flask, site: Site) -> None:
    async def scenario() -> None:
        async with db_gateway(app) as gateway, charger(gateway, site.station_id, V201) as cp:
            assert (await cp.call(boot())).status == "Accepted"
            await cp.call(call.StatusNotification("2026-11-21T09:59:00Z", "Occupied", 1, 1))
            auth = await cp.call(
                call.Authorize(id_token={"id_token": site.driver_token, "type": "Central"})
            )
            assert auth.id_token_info["status"] == "Accepted"
            answers = [await cp.call(e) for e in session_events(site.driver_token)]
            assert answers[0].id_token_info["status"] == "Accepted"
            assert all(a.id_token_info is None for a in answers[1:])

    run(scenario)
    [session] = sessions(app, site.station_id)
    assert session.transaction_id == "tx-1" and session.ocpp_version == "ocpp2.0.1"
    assert session.status == SessionStatus.COMPLETED
    assert session.kwh == Decimal("3")
    assert session.token_type == "APP_USER" and session.stop_reason == "EVDisconnected"
    [cdr] = cdrs(app)
    assert cdr.total_cost_minor == 90
    assert [p["dimensions"][0]["type"] for p in cdr.charging_periods] == ["ENERGY", "PARKING_TIME"]
    assert count(app, TransactionEventSeen, station_id=site.station_id) == 4


def test_201_events_resent_after_reconnect_count_once(app: Flask, site: Site) -> None:
    async def scenario() -> list[Any]:
        async with db_gateway(app) as gateway:
            async with charger(gateway, site.station_id, V201) as cp:
                await cp.call(boot())
                first = [await cp.call(e) for e in session_events(site.driver_token)[:2]]
            async with charger(gateway, site.station_id, V201) as cp:
                await cp.call(boot())
                again = [await cp.call(e) for e in session_events(site.driver_token)]
                again.append(await cp.call(session_events(site.driver_token)[-1]))
            return [first, again]

    first, again = run(scenario)
    assert again[0].id_token_info == first[0].id_token_info  # the same answer as the first time
    [session] = sessions(app, site.station_id)
    assert session.kwh == Decimal("3")
    assert len(cdrs(app)) == 1
    assert count(app, MeterValue, station_id=site.station_id) == 4
    assert count(app, TransactionEventSeen, station_id=site.station_id) == 4


def test_201_token_refused_makes_the_session_invalid(app: Flask, site: Site) -> None:
    async def scenario() -> None:
        async with db_gateway(app) as gateway, charger(gateway, site.station_id, V201) as cp:
            await cp.call(boot())
            events = session_events("STRANGER")
            answer = await cp.call(events[0])
            assert answer.id_token_info["status"] == "Invalid"
            await cp.call(events[-1])

    run(scenario)
    [session] = sessions(app, site.station_id)
    assert session.status == SessionStatus.INVALID
    assert cdrs(app) == []


def test_signed_meter_values_reach_the_cdr(app: Flask, site: Site) -> None:
    events = session_events(site.driver_token)
    for index, blob in ((0, "U0lHTkVEQkVHSU4="), (3, "U0lHTkVERU5E")):
        sample = events[index].meter_value[0]["sampled_value"][0]
        sample["signed_meter_value"] = {
            "signed_meter_data": blob,
            "signing_method": "ECDSA-secp256r1-SHA256",
            "encoding_method": "OCMF",
            "public_key": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
        }

    async def scenario() -> None:
        async with db_gateway(app) as gateway, charger(gateway, site.station_id, V201) as cp:
            await cp.call(boot())
            for e in events:
                await cp.call(e)

    run(scenario)
    [cdr] = cdrs(app)
    assert cdr.signed_data is not None
    assert cdr.signed_data["encoding_method"] == "OCMF"
    assert cdr.signed_data["public_key"] == "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"
    assert [
        (v["nature"], v["plain_data"], v["signed_data"]) for v in cdr.signed_data["signed_values"]
    ] == [
        ("Transaction.Begin", "1000.0000", "U0lHTkVEQkVHSU4="),
        ("Transaction.End", "4000.0000", "U0lHTkVERU5E"),
    ]
