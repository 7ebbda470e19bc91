"""Security profile 3 on the database port: a client certificate stands for the password."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import websockets
from flask import Flask
from websockets.exceptions import InvalidStatus

from tests.charging.support import Site, db_gateway, read
from tests.gateway.support import DEADLINE, exchange, run
from tests.support.certificates import Authority, client_context

BOOT = {"reason": "PowerUp", "chargingStation": {"vendorName": "PlugPool", "model": "Home"}}


def test_certified_station_connects_without_password_unknown_one_is_404(
    app: Flask, site: Site, tmp_path: Path
) -> None:
    operator = Authority(tmp_path, "operator")
    server = operator.issue("gateway", server=True)
    settings = {
        "tls_cert": str(server.cert),
        "tls_key": str(server.key),
        "tls_client_ca": str(operator.path),
    }

    async def connect(gateway: Any, station_id: str) -> Any:
        context = client_context(operator.path, operator.issue(station_id))
        return await websockets.connect(
            f"wss://127.0.0.1:{gateway.bound_port}/ocpp/{station_id}",
            subprotocols=["ocpp2.0.1"],  # type: ignore[list-item]
            ssl=context,
            open_timeout=DEADLINE,
        )

    async def scenario() -> tuple[str, int]:
        async with db_gateway(app, **settings) as gateway:
            socket = await connect(gateway, site.station_id)
            try:
                reply = await exchange(socket, [2, "b", "BootNotification", BOOT])
            finally:
                await socket.close()
            with pytest.raises(InvalidStatus) as unknown:
                await connect(gateway, "NOT-A-STATION")
            return reply[2]["status"], unknown.value.response.status_code

    assert run(scenario) == ("Accepted", 404)

    def vendor() -> str | None:
        from app.charging import queries

        return queries.station(site.station_id).vendor

    assert read(app, vendor) == "PlugPool"
