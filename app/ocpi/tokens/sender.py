"""Tokens Sender interface (eMSP): partner CPOs pull our drivers' tokens and ask to authorise them.

Only PlugPool's own drivers' tokens are served (own party, never a token a partner eMSP pushed
to us), and only to partners registered with a CPO role.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError
from sqlalchemy import ColumnElement, false, select

from app.charging.models import DriverToken
from app.charging.services import roaming
from app.extensions import db
from app.ocpi import errors
from app.ocpi.models import OcpiPartner, Token
from app.ocpi.pagination import page_query, page_request, page_response
from app.ocpi.schemas.tokens import TOKEN_TYPES, LocationReferences
from app.ocpi.tokens.services import token_to_ocpi
from app.ocpi.transport import VERSION_RULE, current_partner, envelope, ocpi_endpoint

blp = Blueprint("ocpi_emsp_tokens", __name__, url_prefix=f"/ocpi/emsp/{VERSION_RULE}/tokens")


def cpo_parties(partner: OcpiPartner) -> list[tuple[str, str]]:
    """The parties the partner registered as CPO."""
    return [(role.country_code, role.party_id) for role in partner.roles if role.role == "CPO"]


def own_token_filters(partner: OcpiPartner) -> list[ColumnElement[bool]]:
    """Our drivers' tokens, for a partner with a CPO role (nothing for anyone else)."""
    if not cpo_parties(partner):
        return [false()]
    config = current_app.config
    return [
        Token.country_code == config["OWN_COUNTRY_CODE"],
        Token.party_id == config["OWN_PARTY_ID"],
        Token.partner_id.is_(None),
        Token.uid.in_(select(DriverToken.uid)),
    ]


@blp.get("", strict_slashes=False)
@ocpi_endpoint("tokens")
def list_tokens(version: str) -> ResponseReturnValue:
    """List our drivers' tokens, oldest change first (offset, limit, date_from, date_to)."""
    page = page_request()
    keys, total = page_query(Token, own_token_filters(current_partner()), page)
    rows = list(db.session.scalars(select(Token).join(keys, Token.id == keys.c.id)))
    rows.sort(key=lambda token: (token.last_updated, token.id))
    return page_response([token_to_ocpi(token) for token in rows], rows, total, page)


@blp.post("/<token_uid>/authorize", strict_slashes=False)
@ocpi_endpoint("tokens")
def authorize(version: str, token_uid: str) -> ResponseReturnValue:
    """Real-time authorisation of one of our drivers' tokens, optionally at a location."""
    token_type = request.args.get("type") or "RFID"
    if token_type not in TOKEN_TYPES:
        raise errors.InvalidParameters(f"Unknown token type {token_type}")
    location = _location_references()
    decision = roaming.authorize_driver(
        token_uid,
        token_type,
        cpo_parties(current_partner()),
        location.get("location_id") if location else None,
        (location or {}).get("evse_uids") or (),
    )
    if decision is None or not cpo_parties(current_partner()):
        raise errors.UnknownToken(f"Unknown token {token_uid}")
    info: dict[str, Any] = {"allowed": decision.allowed, "token": token_to_ocpi(decision.token)}
    if decision.authorization_reference:
        info["authorization_reference"] = decision.authorization_reference
    if location:
        info["location"] = location
    return envelope(info)


def _location_references() -> dict[str, Any] | None:
    """The optional LocationReferences body (an empty body is none)."""
    if not request.get_data():
        return None
    body = request.get_json(silent=True)
    if body is None:
        raise errors.InvalidJson()
    if body == {}:
        return None
    try:
        return LocationReferences().load(body)
    except ValidationError as error:
        raise errors.InvalidParameters(f"Invalid LocationReferences: {error.messages}") from error
