"""OCPI errors: each carries its OCPI status code and the HTTP status the spec asks for."""

from __future__ import annotations

from typing import Any


class OcpiError(Exception):
    """A failure answered with an OCPI envelope; the request reached the OCPI layer (HTTP 200)."""

    status_code = 2000
    http_status = 200
    message = "Generic client error"

    def __init__(self, message: str = "", data: Any = None) -> None:
        super().__init__(message or self.message)
        self.status_message = message or self.message
        self.data = data


class InvalidParameters(OcpiError):
    status_code = 2001
    message = "Invalid or missing parameters"


class InvalidJson(InvalidParameters):
    """The body is not JSON at all: the transport layer answers 400."""

    http_status = 400
    message = "Request body is not valid JSON"


class NotEnoughInformation(OcpiError):
    status_code = 2002
    message = "Not enough information"


class UnknownLocation(OcpiError):
    status_code = 2003
    http_status = 404
    message = "Unknown location"


class UnknownObject2003(OcpiError):
    """A PATCH (or command) names an object we do not hold: the sender should PUT it whole."""

    status_code = 2003
    http_status = 404
    message = "Unknown object"


class UnknownToken(OcpiError):
    status_code = 2004
    http_status = 404
    message = "Unknown token"


class UnknownObject(OcpiError):
    """GET of a resource that does not exist (or is not visible to this partner)."""

    http_status = 404
    message = "Unknown object"


class ForeignParty(OcpiError):
    """The URL or object names a party the caller's credentials do not hold; nothing is written."""

    http_status = 404
    message = "Party not held by these credentials"


class Unauthorized(OcpiError):
    http_status = 401
    message = "Missing or unknown credentials token"


class MethodNotAllowed(OcpiError):
    http_status = 405
    message = "Method not allowed"


class ServerError(OcpiError):
    status_code = 3000
    http_status = 500
    message = "Generic server error"


class ClientApiUnusable(OcpiError):
    status_code = 3001
    message = "Unable to use the client's API"


class UnsupportedVersion(OcpiError):
    status_code = 3002
    message = "Unsupported version"


class NoMatchingEndpoints(OcpiError):
    status_code = 3003
    message = "No matching endpoints or expected endpoints missing"


class HubError(OcpiError):
    """A routing failure of the hub (4xxx): the request was not delivered."""

    status_code = 4000
    message = "Hub: generic routing error"


class RoutingRefused(HubError):
    """A routing rule (allow/deny list, suspension) forbids this pair; nothing was forwarded."""

    message = "Hub: routing between these parties is not allowed"


class UnknownReceiver(HubError):
    status_code = 4001
    message = "Hub: unknown receiver (OCPI-to address)"


class ReceiverTimeout(HubError):
    status_code = 4002
    message = "Hub: timeout on forwarded request"


class ReceiverUnreachable(HubError):
    status_code = 4003
    message = "Hub: receiving party is not connected"


class ModuleNotOffered(HubError):
    status_code = 4004
    message = "Hub: the receiving party does not offer this module"


class PartnerCallFailed(Exception):
    """An outbound call to a partner failed (network, HTTP status or OCPI status)."""

    def __init__(
        self, message: str, http_status: int | None = None, ocpi_status: int | None = None
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.ocpi_status = ocpi_status


class UnsafeUrl(PartnerCallFailed):
    """A partner URL we refuse to call (plain HTTP or a private address) unless configured."""


class PartnerTimeout(PartnerCallFailed):
    """The partner accepted the connection but did not answer in time."""
