"""Token, AuthorizationInfo and LocationReferences."""

from __future__ import annotations

from marshmallow import fields, validate

from app.ocpi.schemas.common import DisplayText, OcpiDateTime, OcpiSchema, boolean, cistring

TOKEN_TYPES = ("AD_HOC_USER", "APP_USER", "OTHER", "RFID")
WHITELIST = ("ALWAYS", "ALLOWED", "ALLOWED_OFFLINE", "NEVER")
ALLOWED = ("ALLOWED", "BLOCKED", "EXPIRED", "NO_CREDIT", "NOT_ALLOWED")


class EnergyContract(OcpiSchema):
    supplier_name = cistring(64, required=True)
    contract_id = cistring(64)


class Token(OcpiSchema):
    country_code = cistring(2, required=True)
    party_id = cistring(3, required=True)
    uid = cistring(36, required=True)
    type = fields.String(required=True, validate=validate.OneOf(TOKEN_TYPES))
    contract_id = cistring(36, required=True)
    visual_number = cistring(64)
    issuer = cistring(64, required=True)
    group_id = cistring(36)
    valid = boolean(required=True)
    whitelist = fields.String(required=True, validate=validate.OneOf(WHITELIST))
    language = cistring(2)
    default_profile_type = fields.String()
    energy_contract = fields.Nested(EnergyContract)
    last_updated = OcpiDateTime(required=True)


def token_patch_schema() -> Token:
    """A PATCH carries only changed fields, but last_updated is always required."""
    return Token(partial=tuple(name for name in Token._declared_fields if name != "last_updated"))


class LocationReferences(OcpiSchema):
    location_id = cistring(36, required=True)
    evse_uids = fields.List(cistring(36))


class AuthorizationInfo(OcpiSchema):
    allowed = fields.String(required=True, validate=validate.OneOf(ALLOWED))
    token = fields.Nested(Token, required=True)
    location = fields.Nested(LocationReferences)
    authorization_reference = cistring(36)
    info = fields.Nested(DisplayText)
