"""OICP 2.3 common types, written from Hubject's specification (hubject/oicp, CC BY-SA 4.0).

Hubject's OpenAPI documents write string lengths as `maximum`/`minimum` (which a validator
ignores on strings) and leave some patterns unanchored or loose: here every length is a real
length and every pattern matches the whole value. Optional fields accept `null` (real peers
send it); unknown fields are ignored.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

OPERATOR_ID = re.compile(r"(?:[A-Za-z]{2}\*?[A-Za-z0-9]{3})|(?:\+?[0-9]{1,3}\*[0-9]{3})")
PROVIDER_ID = re.compile(r"[A-Za-z]{2}[*-]?[A-Za-z0-9]{3}")
PROVIDER_ID_OR_ALL = re.compile(rf"(?:{PROVIDER_ID.pattern})|\*")
EVSE_ID = re.compile(
    r"(?:[A-Z]{2}\*?[A-Z0-9]{3}\*?E[A-Z0-9*]{1,30})|(?:\+?[0-9]{1,3}\*[0-9]{3}\*[0-9*]{1,32})"
)
EVCO_ID = re.compile(
    r"(?:[A-Za-z]{2}-?[A-Za-z0-9]{3}-?C[A-Za-z0-9]{8}-?[0-9A-Za-z])"
    r"|(?:[A-Za-z]{2}[*-]?[A-Za-z0-9]{3}[*-]?[A-Za-z0-9]{6}[*-]?[0-9X])"
)
SESSION_ID = re.compile(r"[A-Za-z0-9]{8}(?:-[A-Za-z0-9]{4}){3}-[A-Za-z0-9]{12}")
UID = re.compile(r"[0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20}")
PHONE = re.compile(r"\+[0-9]{5,15}")
LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Z]{2,3}(?:-[a-zA-Z]{4})?)?(?:-x-[a-zA-Z0-9]{1,8})?")
POOL_ID = re.compile(r"[A-Za-z]{2}\*?[A-Za-z0-9]{3}\*?P[A-Za-z0-9*]{1,30}")
TIME_ZONE = re.compile(r"UTC[+-][0-9]{2}:[0-9]{2}")
HHMM = re.compile(r"[0-9]{2}:[0-9]{2}")
DECIMAL_DEGREE = re.compile(r"-?1?\d{1,2}\.\d{1,6}")
GOOGLE = re.compile(r"-?1?\d{1,2}\.\d{1,6}\s*,?\s*-?1?\d{1,2}\.\d{1,6}")
DMS = re.compile(r"-?1?\d{1,2}°[ ]?\d{1,2}'[ ]?\d{1,2}\.\d+''")
HASH_VALUE = re.compile(r"[0-9A-Za-z\\.+/=$]{10,100}")
COUNTRY3 = re.compile(r"[A-Z]{3}")
CURRENCY = re.compile(r"[A-Z]{3}")

DAYS = (
    "Everyday",
    "Workdays",
    "Weekend",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)


def full(pattern: re.Pattern[str], what: str) -> validate.Validator:
    """A validator that the whole value matches `pattern` (Hubject's patterns are not anchored)."""

    def check(value: str) -> None:
        if not pattern.fullmatch(value):
            raise ValidationError(f"not a valid {what}")

    return check


def text(max_len: int, min_len: int = 0, **kwargs: Any) -> fields.String:
    """A string with a real length limit."""
    return fields.String(validate=validate.Length(min=min_len, max=max_len), **kwargs)


def ident(pattern: re.Pattern[str], what: str, **kwargs: Any) -> fields.String:
    """An identifier string matched in full."""
    return fields.String(validate=full(pattern, what), **kwargs)


def optional(field: fields.Field) -> fields.Field:
    """Mark a field optional and null-tolerant."""
    field.required = False
    field.allow_none = True
    return field


def one_of(*values: str, **kwargs: Any) -> fields.String:
    """A string enumeration."""
    return fields.String(validate=validate.OneOf(values), **kwargs)


class OicpSchema(Schema):
    """Base: ignore unknown fields, keep the specification's property names."""

    class Meta:
        unknown = EXCLUDE


class StatusCode(OicpSchema):
    Code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{3}$"))
    Description = optional(text(200))
    AdditionalInfo = optional(text(1000))


class RFIDMifareFamily(OicpSchema):
    UID = ident(UID, "UID", required=True)


class RFIDIdentification(OicpSchema):
    UID = ident(UID, "UID", required=True)
    EvcoID = optional(ident(EVCO_ID, "EvcoID"))
    RFID = one_of("mifareCls", "mifareDes", "calypso", "nfc", "mifareFamily", required=True)
    PrintedNumber = optional(text(150))
    ExpiryDate = optional(fields.AwareDateTime())


class HashedPIN(OicpSchema):
    Value = ident(HASH_VALUE, "hash value", required=True)
    Function = one_of("Bcrypt", required=True)


class QRCodeIdentification(OicpSchema):
    EvcoID = ident(EVCO_ID, "EvcoID", required=True)
    HashedPIN = optional(fields.Nested(HashedPIN))
    PIN = optional(text(20))


class EvcoIdentification(OicpSchema):
    EvcoID = ident(EVCO_ID, "EvcoID", required=True)


IDENTIFICATION_OPTIONS = (
    "RFIDMifareFamilyIdentification",
    "RFIDIdentification",
    "QRCodeIdentification",
    "PlugAndChargeIdentification",
    "RemoteIdentification",
)


class Identification(OicpSchema):
    """Exactly one of the five options."""

    RFIDMifareFamilyIdentification = optional(fields.Nested(RFIDMifareFamily))
    RFIDIdentification = optional(fields.Nested(RFIDIdentification))
    QRCodeIdentification = optional(fields.Nested(QRCodeIdentification))
    PlugAndChargeIdentification = optional(fields.Nested(EvcoIdentification))
    RemoteIdentification = optional(fields.Nested(EvcoIdentification))

    @validates_schema
    def _exactly_one(self, data: dict[str, Any], **_: Any) -> None:
        given = [name for name in IDENTIFICATION_OPTIONS if data.get(name) is not None]
        if len(given) != 1:
            raise ValidationError("exactly one identification option is required")


class DecimalDegree(OicpSchema):
    Longitude = ident(DECIMAL_DEGREE, "decimal degree", required=True)
    Latitude = ident(DECIMAL_DEGREE, "decimal degree", required=True)


class DegreeMinuteSeconds(OicpSchema):
    Longitude = ident(DMS, "degree-minute-seconds", required=True)
    Latitude = ident(DMS, "degree-minute-seconds", required=True)


class Google(OicpSchema):
    Coordinates = ident(GOOGLE, "Google coordinates", required=True)


class GeoCoordinates(OicpSchema):
    """One of three formats."""

    Google = optional(fields.Nested(Google))
    DecimalDegree = optional(fields.Nested(DecimalDegree))
    DegreeMinuteSeconds = optional(fields.Nested(DegreeMinuteSeconds))

    @validates_schema
    def _exactly_one(self, data: dict[str, Any], **_: Any) -> None:
        given = [k for k in ("Google", "DecimalDegree", "DegreeMinuteSeconds") if data.get(k)]
        if len(given) != 1:
            raise ValidationError("exactly one coordinates format is required")


class Acknowledgement(OicpSchema):
    Result = fields.Boolean(required=True)
    StatusCode = fields.Nested(StatusCode, required=True)
    SessionID = optional(ident(SESSION_ID, "SessionID"))
    CPOPartnerSessionID = optional(text(250))
    EMPPartnerSessionID = optional(text(250))


class Period(OicpSchema):
    begin = ident(HHMM, "time", required=True)
    end = ident(HHMM, "time", required=True)


class OpeningTimes(OicpSchema):
    Period = fields.List(fields.Nested(Period), required=True)
    on = one_of(*DAYS, required=True)


class InfoText(OicpSchema):
    lang = ident(LANGUAGE, "language code", required=True)
    value = text(150, required=True)
