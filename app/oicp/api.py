"""What Hubject calls on PlugPool (/api/oicp): as CPO remote start/stop and reservations, as
EMP authorisation of our drivers' cards, CDRs and charging notifications.

Each route validates against PlugPool's OICP schemas, calls one service and answers HTTP 200
with an OICP body; a refused request carries its StatusCode and writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
from flask import Blueprint, Response, request
from marshmallow import Schema, ValidationError

from app.extensions import db
from app.oicp import mapping
from app.oicp.errors import Code, OicpError, status_code
from app.oicp.schemas import loading
from app.oicp.schemas.charging import (
    AuthorizeRemoteStart,
    AuthorizeRemoteStop,
    AuthorizeStart,
    AuthorizeStop,
    ChargeDetailRecord,
    ReservationStart,
    ReservationStop,
    notification_schema,
)
from app.oicp.schemas.common import OPERATOR_ID, PROVIDER_ID
from app.oicp.services import cpo_sessions, emp_sessions

log = logging.getLogger("plugpool.oicp.api")
blp = Blueprint("oicp", __name__, url_prefix="/api/oicp")


def _json(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), status=200, mimetype="application/json")


def acknowledgement(result: bool, code: Code, info: str | None = None, **ids: Any) -> Response:
    """An eRoamingAcknowledgement."""
    body: dict[str, Any] = {"Result": result, "StatusCode": status_code(code, info)}
    body.update({key: value for key, value in ids.items() if value})
    return _json(body)


def _load(schema: Schema | Callable[[Any], Schema]) -> dict[str, Any]:
    """Parse and validate the body (022 Data error when it is not a valid message)."""
    try:
        body = orjson.loads(request.get_data() or b"null")
    except orjson.JSONDecodeError as error:
        raise OicpError(Code.DATA_ERROR, "the body is not JSON") from error
    if not isinstance(body, dict):
        raise OicpError(Code.DATA_ERROR, "the body is not a JSON object")
    chosen = schema if isinstance(schema, Schema) else schema(body)
    try:
        return loading.load(type(chosen), body)
    except ValidationError as error:
        raise OicpError(Code.DATA_ERROR, orjson.dumps(error.messages).decode()[:1000]) from error


def _same(path_value: str, body_value: str, what: str) -> None:
    """The path's identifier must be the body's (separators and case aside)."""
    pattern = PROVIDER_ID if what == "ProviderID" else OPERATOR_ID
    if not pattern.fullmatch(path_value) or mapping.compact(path_value) != mapping.compact(
        body_value
    ):
        raise OicpError(Code.DATA_ERROR, f"{what} of the path and of the body differ")


def _acknowledged(work: Callable[[], Any]) -> Response:
    """Run a command and answer with an acknowledgement carrying the session ids."""
    try:
        record = work()
    except OicpError as error:
        db.session.rollback()
        return acknowledgement(False, error.code, error.info)
    except Exception:
        db.session.rollback()
        log.exception("OICP request failed")
        return acknowledgement(False, Code.SYSTEM_ERROR)
    return acknowledgement(
        True,
        Code.SUCCESS,
        SessionID=getattr(record, "session_id", None),
        CPOPartnerSessionID=getattr(record, "cpo_partner_session_id", None),
        EMPPartnerSessionID=getattr(record, "emp_partner_session_id", None),
    )


# PlugPool as CPO


@blp.post("/charging/v21/providers/<provider>/authorize-remote/start", strict_slashes=False)
def authorize_remote_start(provider: str) -> Response:
    """eRoamingAuthorizeRemoteStart 2.1: start charging at our EVSE for an EMP's customer."""

    def work() -> Any:
        data = _load(AuthorizeRemoteStart())
        _same(provider, data["ProviderID"], "ProviderID")
        return cpo_sessions.remote_start(data)

    return _acknowledged(work)


@blp.post("/charging/v21/providers/<provider>/authorize-remote/stop", strict_slashes=False)
def authorize_remote_stop(provider: str) -> Response:
    """eRoamingAuthorizeRemoteStop 2.1 (the EMP document names the path parameter externalID)."""

    def work() -> Any:
        data = _load(AuthorizeRemoteStop())
        _same(provider, data["ProviderID"], "ProviderID")
        return cpo_sessions.remote_stop(data)

    return _acknowledged(work)


@blp.post("/reservation/v11/providers/<provider>/reservation-start-request", strict_slashes=False)
def reservation_start(provider: str) -> Response:
    """eRoamingAuthorizeRemoteReservationStart 1.1."""

    def work() -> Any:
        data = _load(ReservationStart())
        _same(provider, data["ProviderID"], "ProviderID")
        return cpo_sessions.reserve(data)

    return _acknowledged(work)


@blp.post("/reservation/v11/providers/<provider>/reservation-stop-request", strict_slashes=False)
def reservation_stop(provider: str) -> Response:
    """eRoamingAuthorizeRemoteReservationStop 1.1."""

    def work() -> Any:
        data = _load(ReservationStop())
        _same(provider, data["ProviderID"], "ProviderID")
        return cpo_sessions.cancel_reservation(data)

    return _acknowledged(work)


# PlugPool as EMP


def _authorization(work: Callable[[], dict[str, Any]]) -> Response:
    """Answer an authorisation: NotAuthorized with the code when refused."""
    try:
        return _json(work())
    except OicpError as error:
        db.session.rollback()
        return _json(
            {
                "AuthorizationStatus": "NotAuthorized",
                "StatusCode": status_code(error.code, error.info),
            }
        )
    except Exception:
        db.session.rollback()
        log.exception("OICP authorisation failed")
        return _json(
            {"AuthorizationStatus": "NotAuthorized", "StatusCode": status_code(Code.SYSTEM_ERROR)}
        )


@blp.post("/charging/v21/operators/<operator>/authorize/start", strict_slashes=False)
def authorize_start(operator: str) -> Response:
    """eRoamingAuthorizeStart 2.1: may our driver's card charge at a Hubject CPO's EVSE?"""

    def work() -> dict[str, Any]:
        data = _load(AuthorizeStart())
        _same(operator, data["OperatorID"], "OperatorID")
        return emp_sessions.authorize_start(data)

    return _authorization(work)


@blp.post("/charging/v21/operators/<operator>/authorize/stop", strict_slashes=False)
def authorize_stop(operator: str) -> Response:
    """eRoamingAuthorizeStop 2.1."""

    def work() -> dict[str, Any]:
        data = _load(AuthorizeStop())
        _same(operator, data["OperatorID"], "OperatorID")
        return emp_sessions.authorize_stop(data)

    return _authorization(work)


@blp.post("/cdrmgmt/v22/operators/<operator>/charge-detail-record", strict_slashes=False)
def charge_detail_record(operator: str) -> Response:
    """eRoamingChargeDetailRecord 2.2 forwarded by Hubject: bill our driver."""

    def work() -> Any:
        data = _load(ChargeDetailRecord())
        if not mapping.evse_belongs(data["EvseID"], operator):
            raise OicpError(Code.INCONSISTENT_EVSE_ID, "the EvseID is not the operator's")
        return emp_sessions.receive_cdr(data)

    return _acknowledged(work)


@blp.post("/notificationmgmt/v11/charging-notifications", strict_slashes=False)
def charging_notification() -> Response:
    """eRoamingChargingNotifications 1.1 (Start, Progress, End, Error) of our driver's session."""

    def work() -> Any:
        return emp_sessions.receive_notification(_load(notification_schema))

    return _acknowledged(work)
