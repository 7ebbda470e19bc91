"""OCPP 2.0.1 flows with the `ocpp` library's ChargePoint as the station."""

from __future__ import annotations

import asyncio
from typing import Any

from ocpp.v201 import call

from app.gateway.memory import MemoryStationPort
from app.gateway.ports import EvseStatus, OcppVersion
from tests.gateway.support import ACCEPTED_TOKEN, charger, run, serving

V201 = OcppVersion.V201


def boot() -> call.BootNotification:
    """Return a power-up BootNotification."""
    return call.BootNotification(
        charging_station={"vendor_name": "PlugPool", "model": "Home"}, reason="PowerUp"
    )


def event(kind: str, seq_no: int, wh: int, at: str, **extra: Any) -> call.TransactionEvent:
    """Return a TransactionEvent of transaction "tx-1" with one energy register sample."""
    sample = {"value": wh, "measurand": "Energy.Active.Import.Register"}
    return call.TransactionEvent(
        event_type=kind,
        timestamp=at,
        trigger_reason="MeterValuePeriodic" if kind == "Updated" else "Authorized",
        seq_no=seq_no,
        transaction_info={"transaction_id": "tx-1", **extra},
        evse={"id": 1, "connector_id": 1},
        meter_value=[{"timestamp": at, "sampled_value": [sample]}],
    )


def session_events() -> list[call.TransactionEvent]:
    """Return Started, Updated and Ended events of one 3 kWh session."""
    token = {"id_token": ACCEPTED_TOKEN, "type": "ISO14443"}
    started = event("Started", 0, 1000, "2026-11-21T10:00:00Z")
    started.id_token = token
    return [
        started,
        event("Updated", 1, 2500, "2026-11-21T10:30:00Z", charging_state="Charging"),
        event("Ended", 2, 4000, "2026-11-21T11:00:00Z", stopped_reason="Local"),
    ]


def test_full_201_session_is_recorded(port: MemoryStationPort) -> None:
    async def scenario() -> None:
        async with serving(port) as gateway, charger(gateway, "CP201", V201) as cp:
            assert (await cp.call(boot())).status == "Accepted"
            assert (await cp.call(call.Heartbeat())).current_time
            status = call.StatusNotification("2026-11-21T09:59:00Z", "Occupied", 1, 1)
            await cp.call(status)
            token = {"id_token": ACCEPTED_TOKEN, "type": "ISO14443"}
            auth = await cp.call(call.Authorize(id_token=token))
            assert auth.id_token_info["status"] == "Accepted"
            answers = [await cp.call(e) for e in session_events()]
            assert answers[0].id_token_info["status"] == "Accepted"

    run(scenario)
    assert port.sessions[("CP201", "tx-1")].events == [0, 1, 2]
    assert port.sessions[("CP201", "tx-1")].stopped_at is not None
    assert port.energy_wh("CP201", "tx-1") == 3000
    assert port.statuses[("CP201", 1, 1)].status is EvseStatus.CHARGING


def test_events_resent_after_reconnect_apply_once(port: MemoryStationPort) -> None:
    async def scenario() -> None:
        async with serving(port) as gateway:
            async with charger(gateway, "CP201", V201) as cp:
                await cp.call(boot())
                for e in session_events()[:2]:
                    await cp.call(e)
            await asyncio.sleep(0.05)
            async with charger(gateway, "CP201", V201) as cp:
                await cp.call(boot())
                for e in session_events():  # the queue is resent from seqNo 0
                    await cp.call(e)

    run(scenario)
    assert port.sessions[("CP201", "tx-1")].events == [0, 1, 2]
    assert len(port.samples) == 3
    assert port.energy_wh("CP201", "tx-1") == 3000


def test_pending_201_station_gets_security_error_until_accepted(
    port: MemoryStationPort,
) -> None:
    async def scenario() -> None:
        async with serving(port) as gateway, charger(gateway, "PENDING", V201) as cp:
            assert (await cp.call(boot())).status == "Pending"
            assert await cp.call(call.Heartbeat()) is None  # CallError, suppressed
            status = call.StatusNotification("2026-11-21T09:59:00Z", "Available", 1, 1)
            assert await cp.call(status) is None

    run(scenario)
    assert port.heartbeats["PENDING"] == 0
    assert port.statuses == {}
