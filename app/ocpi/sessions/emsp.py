"""Sessions and CDRs Receivers (eMSP): partner CPOs push our drivers' sessions and CDRs."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from app.ocpi import registry
from app.ocpi.sessions import receiver
from app.ocpi.sessions.serialise import cdr_to_ocpi
from app.ocpi.transport import VERSION_RULE, current_partner, envelope, json_body, ocpi_endpoint

sessions_blp = Blueprint(
    "ocpi_emsp_sessions", __name__, url_prefix=f"/ocpi/emsp/{VERSION_RULE}/sessions"
)
cdrs_blp = Blueprint("ocpi_emsp_cdrs", __name__, url_prefix=f"/ocpi/emsp/{VERSION_RULE}/cdrs")
SESSION_URL = "/<country_code>/<party_id>/<session_id>"


@sessions_blp.get(SESSION_URL, strict_slashes=False)
@ocpi_endpoint("sessions")
def get_session(
    version: str, country_code: str, party_id: str, session_id: str
) -> ResponseReturnValue:
    """Return a session as the CPO pushed it."""
    return envelope(receiver.get_session(current_partner(), (country_code, party_id, session_id)))


@sessions_blp.put(SESSION_URL, strict_slashes=False)
@ocpi_endpoint("sessions")
def put_session(
    version: str, country_code: str, party_id: str, session_id: str
) -> ResponseReturnValue:
    """Create or replace a session of one of our drivers."""
    key = (country_code, party_id, session_id)
    receiver.put_session(current_partner(), version, key, json_body())
    return envelope()


@sessions_blp.patch(SESSION_URL, strict_slashes=False)
@ocpi_endpoint("sessions")
def patch_session(
    version: str, country_code: str, party_id: str, session_id: str
) -> ResponseReturnValue:
    """Update some fields of a session we hold."""
    key = (country_code, party_id, session_id)
    receiver.patch_session(current_partner(), version, key, json_body())
    return envelope()


@cdrs_blp.post("", strict_slashes=False)
@ocpi_endpoint("cdrs")
def post_cdr(version: str) -> ResponseReturnValue:
    """Store a CDR; the Location header names where it can be read back."""
    cdr = receiver.post_cdr(current_partner(), version, json_body())
    location = f"{registry.ocpi_base_url()}/emsp/{version}/cdrs/{cdr.id}"
    return envelope(headers={"Location": location})


@cdrs_blp.get("/<int:cdr_pk>", strict_slashes=False)
@ocpi_endpoint("cdrs")
def get_cdr(version: str, cdr_pk: int) -> ResponseReturnValue:
    """Return a CDR this partner posted."""
    return envelope(cdr_to_ocpi(receiver.get_cdr(current_partner(), cdr_pk), version))
