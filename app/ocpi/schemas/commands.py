"""Command requests a CPO receives, CommandResponse and CommandResult."""

from __future__ import annotations

from marshmallow import fields, validate

from app.ocpi.schemas.common import DisplayText, OcpiDateTime, OcpiSchema, cistring
from app.ocpi.schemas.tokens import Token


class StartSession(OcpiSchema):
    response_url = fields.Url(required=True, require_tld=False)
    token = fields.Nested(Token, required=True)
    location_id = cistring(36, required=True)
    evse_uid = cistring(36)
    connector_id = cistring(36)
    authorization_reference = cistring(36)


class StopSession(OcpiSchema):
    response_url = fields.Url(required=True, require_tld=False)
    session_id = cistring(36, required=True)


class ReserveNow(OcpiSchema):
    response_url = fields.Url(required=True, require_tld=False)
    token = fields.Nested(Token, required=True)
    expiry_date = OcpiDateTime(required=True)
    reservation_id = cistring(36, required=True)
    location_id = cistring(36, required=True)
    evse_uid = cistring(36)
    authorization_reference = cistring(36)


class CancelReservation(OcpiSchema):
    response_url = fields.Url(required=True, require_tld=False)
    reservation_id = cistring(36, required=True)


class UnlockConnector(OcpiSchema):
    response_url = fields.Url(required=True, require_tld=False)
    location_id = cistring(36, required=True)
    evse_uid = cistring(36, required=True)
    connector_id = cistring(36, required=True)


COMMANDS = {
    "START_SESSION": StartSession,
    "STOP_SESSION": StopSession,
    "RESERVE_NOW": ReserveNow,
    "CANCEL_RESERVATION": CancelReservation,
    "UNLOCK_CONNECTOR": UnlockConnector,
}

COMMAND_RESPONSES = ("NOT_SUPPORTED", "REJECTED", "ACCEPTED", "UNKNOWN_SESSION")
COMMAND_RESULTS = (
    "ACCEPTED",
    "CANCELED_RESERVATION",
    "EVSE_OCCUPIED",
    "EVSE_INOPERATIVE",
    "FAILED",
    "NOT_SUPPORTED",
    "REJECTED",
    "TIMEOUT",
    "UNKNOWN_RESERVATION",
)


class CommandResponse(OcpiSchema):
    """A CPO's synchronous answer to a command we sent (PlugPool as eMSP)."""

    result = fields.String(required=True, validate=validate.OneOf(COMMAND_RESPONSES))
    timeout = fields.Integer(required=True, validate=validate.Range(min=0))
    message = fields.List(fields.Nested(DisplayText))


class CommandResult(OcpiSchema):
    """A CPO's asynchronous result, POSTed to our response_url."""

    result = fields.String(required=True, validate=validate.OneOf(COMMAND_RESULTS))
    message = fields.List(fields.Nested(DisplayText))
