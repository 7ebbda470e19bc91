"""OCPP 1.6J flows with the `ocpp` library's ChargePoint as the charger."""

from __future__ import annotations

import asyncio

from ocpp.v16 import call

from app.gateway.memory import MemoryStationPort
from app.gateway.ports import EvseStatus, OcppVersion
from tests.gateway.support import ACCEPTED_TOKEN, charger, run, serving

V16 = OcppVersion.V16
STARTED_AT = "2026-11-21T10:00:00Z"


def meter(wh: int, at: str) -> call.MeterValues:
    """Return a MeterValues call for transaction 1 with one energy register sample."""
    sample = {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
    return call.MeterValues(
        connector_id=1,
        transaction_id=1,
        meter_value=[{"timestamp": at, "sampled_value": [sample]}],
    )


def test_full_16_session_is_recorded(port: MemoryStationPort) -> None:
    async def scenario() -> None:
        async with serving(port) as gateway, charger(gateway, "CP16", V16) as cp:
            boot = await cp.call(call.BootNotification("PlugPool", "Home"))
            assert boot.status == "Accepted"
            assert (await cp.call(call.Heartbeat())).current_time
            await cp.call(call.StatusNotification(1, "NoError", "Preparing", timestamp=STARTED_AT))
            auth = await cp.call(call.Authorize(id_tag=ACCEPTED_TOKEN))
            assert auth.id_tag_info["status"] == "Accepted"
            start = await cp.call(call.StartTransaction(1, ACCEPTED_TOKEN, 1000, STARTED_AT))
            assert start.id_tag_info["status"] == "Accepted"
            await cp.call(meter(1500, "2026-11-21T10:15:00Z"))
            stop = call.StopTransaction(4000, "2026-11-21T11:00:00Z", start.transaction_id)
            await cp.call(stop)

        tx = str(start.transaction_id)
        assert port.energy_wh("CP16", tx) == 3000
        assert port.heartbeats["CP16"] == 1
        assert port.statuses[("CP16", 1, 1)].status is EvseStatus.CHARGING
        assert "CP16" not in port.online  # went offline when the socket closed

    run(scenario)


def test_unknown_token_is_answered_invalid(port: MemoryStationPort) -> None:
    async def scenario() -> None:
        async with serving(port) as gateway, charger(gateway, "CP16", V16) as cp:
            await cp.call(call.BootNotification("PlugPool", "Home"))
            auth = await cp.call(call.Authorize(id_tag="STRANGER"))
            assert auth.id_tag_info["status"] == "Invalid"

    run(scenario)


def test_messages_resent_after_reconnect_count_once(port: MemoryStationPort) -> None:
    async def session() -> tuple[int, int]:
        async with serving(port) as gateway:
            ids = []
            for _ in range(2):  # the second connection resends the queued messages
                async with charger(gateway, "CP16", V16) as cp:
                    await cp.call(call.BootNotification("PlugPool", "Home"))
                    start = await cp.call(
                        call.StartTransaction(1, ACCEPTED_TOKEN, 1000, STARTED_AT)
                    )
                    await cp.call(meter(1500, "2026-11-21T10:15:00Z"))
                    stop = call.StopTransaction(4000, "2026-11-21T11:00:00Z", start.transaction_id)
                    await cp.call(stop)
                    ids.append(start.transaction_id)
                await asyncio.sleep(0.05)
            return ids[0], ids[1]

    first, second = run(session)
    assert first == second
    assert len(port.sessions) == 1
    assert len(port.samples) == 1
    assert port.energy_wh("CP16", str(first)) == 3000


def test_security_event_is_kept(port: MemoryStationPort) -> None:
    async def scenario() -> None:
        async with serving(port) as gateway, charger(gateway, "CP16", V16) as cp:
            await cp.call(call.BootNotification("PlugPool", "Home"))
            event = call.SecurityEventNotification("TamperDetectionActivated", STARTED_AT, "lid")
            await cp.call(event)

    run(scenario)
    assert port.security_events[0][1].type == "TamperDetectionActivated"


def test_pending_station_is_refused_other_messages_until_accepted(
    port: MemoryStationPort,
) -> None:
    async def scenario() -> None:
        async with serving(port) as gateway, charger(gateway, "PENDING", V16) as cp:
            boot = await cp.call(call.BootNotification("PlugPool", "Home"))
            assert boot.status == "Pending"
            assert await cp.call(call.Heartbeat()) is None  # suppressed CallError
            port.approve("PENDING")
            assert (await cp.call(call.BootNotification("PlugPool", "Home"))).status == "Accepted"
            assert (await cp.call(call.Heartbeat())).current_time

    run(scenario)
    assert port.heartbeats["PENDING"] == 1
