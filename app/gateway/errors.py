"""Errors the command bus raises to callers, and OCPP-J CallError codes per version."""

from __future__ import annotations

from ocpp.exceptions import OCPPError

from app.gateway.ports import OcppVersion


class GatewayError(Exception):
    """Base of every error a command caller can see."""


class StationOffline(GatewayError):
    """No gateway node holds a connection to this station right now."""


class CommandTimeout(GatewayError):
    """The station (or the node holding it) did not answer in time."""


class CommandFailed(GatewayError):
    """The station answered the command with a CallError."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


class UnsupportedCommand(GatewayError):
    """The command has no equivalent in the station's OCPP version."""


class InvalidCommand(GatewayError):
    """The command's arguments cannot be sent (e.g. a password of the wrong length)."""


ERROR_TYPES: dict[str, type[GatewayError]] = {
    cls.__name__: cls
    for cls in (StationOffline, CommandTimeout, UnsupportedCommand, InvalidCommand, GatewayError)
}


class Violation(OCPPError):
    """A CallError the gateway answers with; `code` is chosen per OCPP version."""

    # The library maps received CallErrors to OCPPError subclasses by class-level
    # code; an empty one keeps this class out of that lookup.
    code = ""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(description=description)
        self.code = code


# The 1.6 JSON spec (section 4.2.3) spells two codes differently from 2.0.1
# (OCPP-J 2.0.1 section 4.3): FormationViolation and OccurenceConstraintViolation.
# 1.6 also has no RpcFrameworkError, so an unreadable frame is a FormationViolation there.
_CODES: dict[str, tuple[str, str]] = {
    "format": ("FormationViolation", "FormatViolation"),
    "occurrence": ("OccurenceConstraintViolation", "OccurrenceConstraintViolation"),
    "type": ("TypeConstraintViolation", "TypeConstraintViolation"),
    "property": ("PropertyConstraintViolation", "PropertyConstraintViolation"),
    "protocol": ("ProtocolError", "ProtocolError"),
    "rpc": ("FormationViolation", "RpcFrameworkError"),
    "message_type": ("ProtocolError", "MessageTypeNotSupported"),
    "security": ("SecurityError", "SecurityError"),
}


def error_code(kind: str, version: OcppVersion) -> str:
    """Return the CallError code for a kind of violation in this OCPP version."""
    v16, v201 = _CODES[kind]
    return v16 if version is OcppVersion.V16 else v201
