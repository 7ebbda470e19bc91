"""ChargingProfiles Receiver interface (CPO): GET, PUT and DELETE {url}/{session_id}."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from app.ocpi.chargingprofiles import services
from app.ocpi.transport import VERSION_RULE, current_partner, envelope, json_body, ocpi_endpoint

blp = Blueprint(
    "ocpi_chargingprofiles", __name__, url_prefix=f"/ocpi/cpo/{VERSION_RULE}/chargingprofiles"
)


def _answer(session_id: str, action: str, body: object = None) -> ResponseReturnValue:
    args = request.args.to_dict()
    return envelope(
        services.accept_profile_request(current_partner(), session_id, action, body, args)
    )


@blp.get("/<session_id>")
@ocpi_endpoint("chargingprofiles")
def get_profile(version: str, session_id: str) -> ResponseReturnValue:
    """Ask for the session's active profile; the result goes to response_url."""
    return _answer(session_id, "GET")


@blp.put("/<session_id>")
@ocpi_endpoint("chargingprofiles")
def set_profile(version: str, session_id: str) -> ResponseReturnValue:
    """Set a charging profile on the session; the result goes to response_url."""
    return _answer(session_id, "PUT", json_body())


@blp.delete("/<session_id>")
@ocpi_endpoint("chargingprofiles")
def clear_profile(version: str, session_id: str) -> ResponseReturnValue:
    """Clear the session's profile; the result goes to response_url."""
    return _answer(session_id, "DELETE")
