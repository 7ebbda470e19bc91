"""OICP StatusCodes (CodeType of the specification) and the errors that carry them."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """The codes PlugPool sends or reads (the specification's CodeType list)."""

    SUCCESS = "000"
    HUBJECT_SYSTEM_ERROR = "001"
    HUBJECT_DATABASE_ERROR = "002"
    DATA_TRANSACTION_ERROR = "009"
    UNAUTHORIZED_ACCESS = "017"
    INCONSISTENT_EVSE_ID = "018"
    INCONSISTENT_EVCO_ID = "019"
    SYSTEM_ERROR = "021"
    DATA_ERROR = "022"
    QR_AUTHENTICATION_FAILED = "101"
    RFID_INVALID_UID = "102"
    RFID_NOT_READABLE = "103"
    PLC_INVALID_EVCO_ID = "105"
    NO_POSITIVE_RESPONSE = "106"
    EVCO_ID_LOCKED = "200"
    NO_VALID_CONTRACT = "210"
    PARTNER_NOT_FOUND = "300"
    PARTNER_DID_NOT_RESPOND = "310"
    SERVICE_NOT_AVAILABLE = "320"
    SESSION_INVALID = "400"
    EVSE_COMMUNICATION_FAILED = "501"
    NO_EV_CONNECTED = "510"
    EVSE_ALREADY_RESERVED = "601"
    EVSE_IN_USE = "602"
    UNKNOWN_EVSE_ID = "603"
    EVSE_NOT_HUBJECT_COMPATIBLE = "604"
    EVSE_OUT_OF_SERVICE = "700"


DESCRIPTIONS = {
    Code.SUCCESS: "Success.",
    Code.HUBJECT_SYSTEM_ERROR: "Hubject system error.",
    Code.HUBJECT_DATABASE_ERROR: "Hubject database error.",
    Code.DATA_TRANSACTION_ERROR: "Data transaction error.",
    Code.UNAUTHORIZED_ACCESS: "Unauthorized Access.",
    Code.INCONSISTENT_EVSE_ID: "Inconsistent EvseID.",
    Code.INCONSISTENT_EVCO_ID: "Inconsistent EvcoID.",
    Code.SYSTEM_ERROR: "System error.",
    Code.DATA_ERROR: "Data error.",
    Code.QR_AUTHENTICATION_FAILED: "QR Code Authentication failed - Invalid Credentials.",
    Code.RFID_INVALID_UID: "RFID Authentication failed - invalid UID.",
    Code.RFID_NOT_READABLE: "RFID Authentication failed - card not readable.",
    Code.PLC_INVALID_EVCO_ID: "PLC Authentication failed - invalid EvcoID.",
    Code.NO_POSITIVE_RESPONSE: "No positive authentication response.",
    Code.EVCO_ID_LOCKED: "EvcoID locked.",
    Code.NO_VALID_CONTRACT: "No valid contract.",
    Code.PARTNER_NOT_FOUND: "Partner not found.",
    Code.PARTNER_DID_NOT_RESPOND: "Partner did not respond.",
    Code.SERVICE_NOT_AVAILABLE: "Service not available.",
    Code.SESSION_INVALID: "Session is invalid.",
    Code.EVSE_COMMUNICATION_FAILED: "Communication to EVSE failed.",
    Code.NO_EV_CONNECTED: "No EV connected to EVSE.",
    Code.EVSE_ALREADY_RESERVED: "EVSE already reserved.",
    Code.EVSE_IN_USE: "EVSE already in use/ wrong token.",
    Code.UNKNOWN_EVSE_ID: "Unknown EVSE ID.",
    Code.EVSE_NOT_HUBJECT_COMPATIBLE: "EVSE ID is not Hubject compatible.",
    Code.EVSE_OUT_OF_SERVICE: "EVSE out of service.",
}


def status_code(code: Code, info: str | None = None) -> dict[str, str]:
    """An OICP StatusCode object with the specification's description."""
    body = {"Code": code.value, "Description": DESCRIPTIONS[code]}
    if info:
        body["AdditionalInfo"] = info[:1000]
    return body


class OicpError(Exception):
    """A request we refuse, answered with `code` (nothing written)."""

    def __init__(self, code: Code, info: str | None = None) -> None:
        super().__init__(info or DESCRIPTIONS[code])
        self.code = code
        self.info = info


class HubjectCallFailed(Exception):
    """A call to Hubject failed: network, TLS, HTTP status, bad answer or a non-000 code."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code
