"""Keepalive: ping the stations that have gone quiet; close those that do not answer.

`websockets` pings every connection every interval from a task of its own, silent or not.
Stations that connected in one storm (after a restart) then get their pings in the same
waves, thousands a second, and a busy gateway's replies queue behind them. A station that
sent anything within the interval is plainly there, so one sweep a tick pings only the
quiet ones, at most about twice the even rate per tick, the rest on the next ticks.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable
from typing import Any

from websockets.frames import CloseCode
from websockets.protocol import State

from app.gateway.connection import StationConnection

log = logging.getLogger(__name__)


class Keepalive:
    """One sweep per tick over the open connections."""

    def __init__(self, interval: float, timeout: float | None, ticks: int = 10) -> None:
        self.interval = interval
        self.timeout = timeout
        self.tick = interval / ticks
        self._pinged: dict[StationConnection, float] = {}  # connection -> when it was pinged
        self._closing: set[asyncio.Task[Any]] = set()

    async def run(self, connections: Any) -> None:
        """Sweep every tick; `connections()` returns the open connections."""
        while True:
            await asyncio.sleep(self.tick)
            self.sweep(connections())

    def sweep(self, connections: Iterable[StationConnection]) -> None:
        """Ping quiet connections (a bounded number), close those past the pong timeout."""
        now = asyncio.get_running_loop().time()
        pinged = self._pinged
        for connection, sent in list(pinged.items()):
            if connection.last_heard > sent or connection.protocol.state is not State.OPEN:
                del pinged[connection]  # answered (anything counts), or gone
            elif self.timeout is not None and now - sent > self.timeout:
                del pinged[connection]
                self._close(connection)
        quiet_since = now - self.interval
        connections = list(connections)
        budget = max(1, int(2 * len(connections) * self.tick / self.interval))
        for connection in connections:
            if budget == 0:
                break
            quiet = connection.last_heard <= quiet_since and connection not in pinged
            if quiet and connection.send_ping(os.urandom(4)):
                pinged[connection] = now
                budget -= 1

    def _close(self, connection: StationConnection) -> None:
        log.info("%s: no answer to a keepalive ping; closing", connection.remote_address)
        task = asyncio.ensure_future(
            connection.close(CloseCode.INTERNAL_ERROR, "keepalive ping timeout")
        )
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
