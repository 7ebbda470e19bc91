"""Authorisation 2.1, remote start/stop 2.1, reservation 1.1, notifications 1.1, CDR 2.2."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from app.oicp.schemas.common import (
    EVSE_ID,
    OPERATOR_ID,
    PROVIDER_ID,
    SESSION_ID,
    Identification,
    OicpSchema,
    StatusCode,
    ident,
    one_of,
    optional,
    text,
)

PRODUCT_ID = text(50)


def _session(required: bool) -> fields.String:
    field = ident(SESSION_ID, "SessionID", required=required)
    return field if required else optional(field)


class PartnerSessions(OicpSchema):
    """The partner session ids; EMPPartnerSessionId (reservation examples) is read as ID."""

    CPOPartnerSessionID = optional(text(250))
    EMPPartnerSessionID = optional(text(250))

    @pre_load
    def _spellings(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for right in ("CPOPartnerSessionID", "EMPPartnerSessionID", "HubProviderID"):
            wrong = right[:-2] + "Id"
            if wrong in data and right not in data:
                data[right] = data.pop(wrong)
        return data


class AuthorizeStart(PartnerSessions):
    SessionID = _session(False)
    OperatorID = ident(OPERATOR_ID, "OperatorID", required=True)
    EvseID = optional(ident(EVSE_ID, "EvseID"))
    Identification = fields.Nested(Identification, required=True)
    PartnerProductID = optional(PRODUCT_ID)


class AuthorizeStop(PartnerSessions):
    SessionID = _session(True)
    OperatorID = ident(OPERATOR_ID, "OperatorID", required=True)
    EvseID = optional(ident(EVSE_ID, "EvseID"))
    Identification = fields.Nested(Identification, required=True)


class Authorization(PartnerSessions):
    """AuthorizationStart / AuthorizationStop answers."""

    SessionID = _session(False)
    ProviderID = optional(ident(PROVIDER_ID, "ProviderID"))
    AuthorizationStatus = one_of("Authorized", "NotAuthorized", required=True)
    StatusCode = fields.Nested(StatusCode, required=True)
    AuthorizationStopIdentifications = optional(fields.List(fields.Nested(Identification)))


class AuthorizeRemoteStart(PartnerSessions):
    # Required by the EMP document, left out by EMPs per the prose (Hubject makes it): optional.
    SessionID = _session(False)
    ProviderID = ident(PROVIDER_ID, "ProviderID", required=True)
    EvseID = ident(EVSE_ID, "EvseID", required=True)
    Identification = fields.Nested(Identification, required=True)
    PartnerProductID = optional(PRODUCT_ID)

    @validates_schema
    def _remote(self, data: dict[str, Any], **_: Any) -> None:
        if "RemoteIdentification" not in data.get("Identification", {}):
            raise ValidationError("remote authorisation uses RemoteIdentification")


class AuthorizeRemoteStop(PartnerSessions):
    SessionID = _session(True)
    ProviderID = ident(PROVIDER_ID, "ProviderID", required=True)
    EvseID = ident(EVSE_ID, "EvseID", required=True)


class ReservationStart(AuthorizeRemoteStart):
    Duration = optional(fields.Integer(validate=validate.Range(1, 99)))


class ReservationStop(AuthorizeRemoteStop):
    pass


class SignedMeteringValue(OicpSchema):
    SignedMeteringValue = optional(text(3000))
    MeteringStatus = optional(one_of("Start", "Progress", "End"))


class CalibrationLawVerification(OicpSchema):
    CalibrationLawCertificateID = optional(text(100))
    PublicKey = optional(text(1000))
    MeteringSignatureUrl = optional(text(200))
    MeteringSignatureEncodingFormat = optional(text(50))
    SignedMeteringValuesVerificationInstruction = optional(text(400))


def _kwh(required: bool = False) -> fields.Decimal:
    field = fields.Decimal(places=3, required=required, as_string=False)
    return field if required else optional(field)


class ChargeDetailRecord(PartnerSessions):
    SessionID = _session(True)
    PartnerProductID = optional(PRODUCT_ID)
    EvseID = ident(EVSE_ID, "EvseID", required=True)
    Identification = fields.Nested(Identification, required=True)
    ChargingStart = fields.AwareDateTime(required=True)
    ChargingEnd = fields.AwareDateTime(required=True)
    SessionStart = fields.AwareDateTime(required=True)
    SessionEnd = fields.AwareDateTime(required=True)
    MeterValueStart = _kwh()
    MeterValueEnd = _kwh()
    MeterValueInBetween = optional(fields.Dict())
    ConsumedEnergy = _kwh(True)
    SignedMeteringValues = optional(
        fields.List(fields.Nested(SignedMeteringValue), validate=validate.Length(max=10))
    )
    CalibrationLawVerificationInfo = optional(fields.Nested(CalibrationLawVerification))
    HubOperatorID = optional(ident(OPERATOR_ID, "OperatorID"))
    HubProviderID = optional(ident(PROVIDER_ID, "ProviderID"))

    @validates_schema
    def _order(self, data: dict[str, Any], **_: Any) -> None:
        if data["ChargingEnd"] < data["ChargingStart"] or data["SessionEnd"] < data["SessionStart"]:
            raise ValidationError("an end lies before its start")


class GetChargeDetailRecords(OicpSchema):
    ProviderID = ident(PROVIDER_ID, "ProviderID", required=True)
    From = fields.AwareDateTime(required=True)
    To = fields.AwareDateTime(required=True)
    SessionID = optional(fields.List(ident(SESSION_ID, "SessionID")))
    OperatorID = optional(ident(OPERATOR_ID, "OperatorID"))
    CDRForwarded = optional(fields.Boolean())


class ChargeDetailRecords(OicpSchema):
    content = fields.List(fields.Nested(ChargeDetailRecord), required=True)
    number = fields.Integer(required=True)
    size = fields.Integer(required=True)
    totalElements = fields.Integer(required=True)
    last = fields.Boolean(required=True)
    totalPages = fields.Integer(required=True)
    first = fields.Boolean(required=True)
    numberOfElements = fields.Integer(required=True)
    StatusCode = fields.Nested(StatusCode, required=True)


class NotificationBase(PartnerSessions):
    Type = one_of("Start", "Progress", "End", "Error", required=True)
    SessionID = _session(True)
    Identification = optional(fields.Nested(Identification))
    EvseID = ident(EVSE_ID, "EvseID", required=True)
    OperatorID = ident(OPERATOR_ID, "OperatorID", required=True)


class StartNotification(NotificationBase):
    ChargingStart = fields.AwareDateTime(required=True)
    SessionStart = optional(fields.AwareDateTime())
    MeterValueStart = _kwh()
    PartnerProductID = optional(PRODUCT_ID)


class ProgressNotification(NotificationBase):
    ChargingStart = fields.AwareDateTime(required=True)
    EventOccurred = fields.AwareDateTime(required=True)
    ChargingDuration = optional(fields.Integer())
    SessionStart = optional(fields.AwareDateTime())
    ConsumedEnergyProgress = _kwh()
    MeterValueStart = _kwh()
    MeterValueInBetween = optional(fields.Dict())
    PartnerProductID = optional(PRODUCT_ID)

    @validates_schema
    def _progress(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("ChargingDuration") is None and data.get("ConsumedEnergyProgress") is None:
            raise ValidationError("ChargingDuration or ConsumedEnergyProgress is required")


class EndNotification(NotificationBase):
    ChargingStart = optional(fields.AwareDateTime())
    ChargingEnd = fields.AwareDateTime(required=True)
    SessionStart = optional(fields.AwareDateTime())
    SessionEnd = optional(fields.AwareDateTime())
    ConsumedEnergy = _kwh()
    MeterValueStart = _kwh()
    MeterValueEnd = _kwh()
    MeterValueInBetween = optional(fields.Dict())
    PartnerProductID = optional(PRODUCT_ID)
    PenaltyTimeStart = optional(fields.AwareDateTime())


class ErrorNotification(NotificationBase):
    ErrorType = one_of("Connector Error", "Critical Error", required=True)
    ErrorAdditionalInfo = optional(text(250))


# The documents' oneOf has no discriminator (a valid End also matches Start): choose by Type.
NOTIFICATIONS: dict[str, type[NotificationBase]] = {
    "Start": StartNotification,
    "Progress": ProgressNotification,
    "End": EndNotification,
    "Error": ErrorNotification,
}


def notification_schema(body: Any) -> NotificationBase:
    """The schema of a charging notification, chosen by its Type."""
    kind = body.get("Type") if isinstance(body, dict) else None
    schema = NOTIFICATIONS.get(kind) if isinstance(kind, str) else None
    if schema is None:
        raise ValidationError({"Type": ["one of Start, Progress, End, Error"]})
    return schema()


class AuthenticationDataRecord(OicpSchema):
    Identification = fields.Nested(Identification, required=True)


class ProviderAuthenticationData(OicpSchema):
    ProviderID = ident(PROVIDER_ID, "ProviderID", required=True)
    AuthenticationDataRecord = fields.List(fields.Nested(AuthenticationDataRecord), required=True)


class PushAuthenticationData(OicpSchema):
    ActionType = one_of("fullLoad", "update", "insert", "delete", required=True)
    ProviderAuthenticationData = fields.Nested(ProviderAuthenticationData, required=True)
