"""Command requests a CPO receives, CommandResponse and CommandResult."""

from __future__ import annotations

from marshmallow import fields

from app.ocpi.schemas.common import OcpiDateTime, OcpiSchema, cistring
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
