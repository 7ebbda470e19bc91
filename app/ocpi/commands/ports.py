"""The one thing commands need from the OCPP gateway: a synchronous `send_command`.

`app.gateway.bus.LocalBus` (same process) and `RedisCommandClient` (other processes) both
implement it. The app uses the instance in `app.extensions["ocpi.command_sender"]` when one
is installed (the embedded setup, tests), else a Redis client on REDIS_URL.
"""

from __future__ import annotations

from typing import Protocol

from flask import current_app

from app.gateway.commands import Command, CommandResult

EXTENSION_KEY = "ocpi.command_sender"


class CommandSender(Protocol):
    """Sends a command to a connected station and blocks until its answer."""

    def send_command(
        self, station_id: str, command: Command, timeout: float = ...
    ) -> CommandResult:
        """Raise the gateway's errors (StationOffline, CommandTimeout, ...) on failure."""
        ...


def command_sender() -> CommandSender:
    """The configured sender."""
    installed = current_app.extensions.get(EXTENSION_KEY)
    if installed is not None:
        return installed  # type: ignore[no-any-return]
    from app.gateway.bus import RedisCommandClient

    return RedisCommandClient(current_app.config["REDIS_URL"])
