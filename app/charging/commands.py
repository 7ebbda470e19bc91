"""How charging reaches a station: the gateway's command bus, chosen from the settings.

GATEWAY_BUS=redis: a RedisCommandClient finds the node holding the station (web, jobs,
any process). Otherwise the in-process LocalBus of a gateway running in this process
(the gateway process itself, where the booking job runs, and tests).
"""

from __future__ import annotations

from typing import Protocol

from flask import current_app

from app.gateway.bus import DEFAULT_TIMEOUT, RedisCommandClient, RedisKeys
from app.gateway.commands import Command, CommandResult
from app.gateway.errors import StationOffline


class CommandSender(Protocol):
    """The sync command facade both buses offer."""

    def send_command(
        self, station_id: str, command: Command, timeout: float = DEFAULT_TIMEOUT
    ) -> CommandResult:
        """Send a command and block until the station answers or the timeout."""
        ...


class NoGateway:
    """Sender for a process that can reach no gateway: every station is offline."""

    def send_command(
        self, station_id: str, command: Command, timeout: float = DEFAULT_TIMEOUT
    ) -> CommandResult:
        """Refuse: no gateway is reachable from this process."""
        raise StationOffline("no gateway reachable from this process (set GATEWAY_BUS=redis)")


_local: CommandSender | None = None


def use_local_bus(bus: CommandSender | None) -> None:
    """Register (or with None, forget) the LocalBus of a gateway running in this process."""
    global _local
    _local = bus


def command_sender() -> CommandSender:
    """Return the sender the settings ask for."""
    config = current_app.config
    if config.get("GATEWAY_BUS", "local") == "redis":
        keys = RedisKeys(config.get("GATEWAY_REDIS_PREFIX", "plugpool:gw:"))
        return RedisCommandClient(config["REDIS_URL"], keys=keys)
    return _local or NoGateway()
