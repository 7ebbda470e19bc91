"""Sessions and CDRs Sender interfaces (CPO): paginated lists of the partner's own sessions."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from app.charging.models import Cdr, ChargingSession
from app.ocpi import errors
from app.ocpi.pagination import page_query, page_request, page_response
from app.ocpi.sessions import queries
from app.ocpi.sessions.serialise import cdr_to_ocpi, session_to_ocpi
from app.ocpi.transport import VERSION_RULE, current_partner, envelope, json_body, ocpi_endpoint

sessions_blp = Blueprint("ocpi_sessions", __name__, url_prefix=f"/ocpi/cpo/{VERSION_RULE}/sessions")
cdrs_blp = Blueprint("ocpi_cdrs", __name__, url_prefix=f"/ocpi/cpo/{VERSION_RULE}/cdrs")


@sessions_blp.get("")
@ocpi_endpoint("sessions")
def list_sessions(version: str) -> ResponseReturnValue:
    """List the sessions of the partner's tokens, oldest change first."""
    page = page_request()
    keys, total = page_query(ChargingSession, queries.session_filters(current_partner()), page)
    rows = queries.session_rows(keys)
    items = [session_to_ocpi(row[0], version, *row[1:]) for row in rows]
    return page_response(items, [row[0] for row in rows], total, page)


@sessions_blp.put("/<session_id>/charging_preferences")
@ocpi_endpoint("sessions")
def put_charging_preferences(version: str, session_id: str) -> ResponseReturnValue:
    """Answer a driver's charging preferences: our chargers cannot smart-charge on them yet."""
    json_body()
    if queries.visible_session(current_partner(), session_id) is None:
        raise errors.UnknownObject(f"Unknown session {session_id}")
    return envelope("NOT_POSSIBLE")


@cdrs_blp.get("")
@ocpi_endpoint("cdrs")
def list_cdrs(version: str) -> ResponseReturnValue:
    """List the CDRs of the partner's tokens, oldest first."""
    page = page_request()
    keys, total = page_query(Cdr, queries.cdr_filters(current_partner()), page)
    cdrs = queries.cdrs_in(keys)
    return page_response([cdr_to_ocpi(cdr, version) for cdr in cdrs], cdrs, total, page)
