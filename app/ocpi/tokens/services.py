"""Tokens pushed by partner eMSPs, and the authorisation of a token at one of our chargers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import current_app
from marshmallow import ValidationError

from app.extensions import db
from app.ocpi import errors
from app.ocpi.client import OcpiClient, endpoint_url
from app.ocpi.credentials.queries import party_holder
from app.ocpi.models import OcpiPartner, PartnerStatus, Token
from app.ocpi.schemas.tokens import AuthorizationInfo, token_patch_schema
from app.ocpi.schemas.tokens import Token as TokenSchema
from app.ocpi.tokens.queries import find_token, tokens_by_uid

log = logging.getLogger("plugpool.ocpi")

EMSP_ROLES = frozenset({"EMSP"})
TOKEN_FIELDS = (
    "contract_id",
    "visual_number",
    "issuer",
    "group_id",
    "valid",
    "whitelist",
    "language",
    "default_profile_type",
    "energy_contract",
    "last_updated",
)
LocationReference = dict[str, Any]


def check_party(partner: OcpiPartner, country_code: str, party_id: str) -> None:
    """Refuse a party the partner did not register as an eMSP (404, nothing written)."""
    if not partner.holds(country_code, party_id, EMSP_ROLES):
        raise errors.ForeignParty(f"{country_code}*{party_id} is not yours")


def get_token(
    partner: OcpiPartner, country_code: str, party_id: str, uid: str, type_: str
) -> Token:
    """A token the partner pushed (2004 when unknown)."""
    check_party(partner, country_code, party_id)
    token = find_token(country_code, party_id, uid, type_)
    if token is None:
        raise errors.UnknownToken(f"Unknown token {uid}")
    return token


def put_token(
    partner: OcpiPartner, country_code: str, party_id: str, uid: str, type_: str | None, body: Any
) -> tuple[Token, bool]:
    """Create or replace a token; returns it and whether it was created."""
    check_party(partner, country_code, party_id)
    data = _load(TokenSchema(), body)
    _check_identity(data, country_code, party_id, uid, type_)
    token = find_token(country_code, party_id, uid, data["type"])
    created = token is None
    if token is None:
        token = Token(
            country_code=country_code.upper(), party_id=party_id.upper(), uid=uid, type=data["type"]
        )
        db.session.add(token)
    token.partner_id = partner.id
    for name in TOKEN_FIELDS:
        setattr(token, name, data.get(name))
    db.session.commit()
    return token, created


def patch_token(
    partner: OcpiPartner, country_code: str, party_id: str, uid: str, type_: str, body: Any
) -> Token:
    """Update some fields of a known token; last_updated is required (2001)."""
    check_party(partner, country_code, party_id)
    data = _load(token_patch_schema(), body)
    _check_identity(data, country_code, party_id, uid, type_)
    token = find_token(country_code, party_id, uid, type_)
    if token is None:
        raise errors.UnknownToken(f"Unknown token {uid}")
    for name in TOKEN_FIELDS:
        if name in data:
            setattr(token, name, data[name])
    db.session.commit()
    return token


def token_to_ocpi(token: Token) -> dict[str, Any]:
    """A stored token as an OCPI Token object."""
    data = {
        "country_code": token.country_code,
        "party_id": token.party_id,
        "uid": token.uid,
        "type": token.type,
        **{name: getattr(token, name) for name in TOKEN_FIELDS},
    }
    data = {key: value for key, value in data.items() if value is not None}
    return TokenSchema().dump(data)


def _load(schema: Any, body: Any) -> dict[str, Any]:
    try:
        return schema.load(body)
    except ValidationError as error:
        raise errors.InvalidParameters(f"Invalid token: {error.messages}") from error


def _check_identity(
    data: dict[str, Any], country_code: str, party_id: str, uid: str, type_: str | None
) -> None:
    """The object's identifiers must be those of the URL (2001)."""
    expected = {"country_code": country_code.upper(), "party_id": party_id.upper(), "uid": uid}
    if type_:
        expected["type"] = type_
    for name, value in expected.items():
        given = data.get(name)
        if given is not None and (given.upper() if name != "uid" else given) != value:
            raise errors.InvalidParameters(f"{name} in the body differs from the URL")


@dataclass(frozen=True)
class AuthorizationResult:
    """The outcome of authorising a token: an OCPI AllowedType, where it came from, and more."""

    allowed: str  # ALLOWED, BLOCKED, EXPIRED, NO_CREDIT, NOT_ALLOWED, or UNKNOWN (no such token)
    source: str  # whitelist, realtime, offline (eMSP unreachable, whitelist used)
    token: Token | None = None
    authorization_reference: str | None = None
    location: LocationReference | None = None

    @property
    def accepted(self) -> bool:
        """True when charging may start."""
        return self.allowed == "ALLOWED"


def authorize_token(
    uid: str,
    token_type: str = "RFID",  # noqa: S107 -- an OCPI TokenType, not a secret
    location: LocationReference | None = None,
) -> AuthorizationResult:
    """Authorise a token presented at our charger, by whitelist or real-time with its eMSP."""
    candidates = tokens_by_uid(uid, token_type)
    if not candidates:
        return AuthorizationResult("UNKNOWN", "whitelist")
    token = candidates[0]
    local = "ALLOWED" if token.valid else "BLOCKED"
    if token.whitelist in ("ALWAYS", "ALLOWED"):
        return AuthorizationResult(local, "whitelist", token, location=location)
    try:
        return _real_time(token, location)
    except errors.PartnerCallFailed as error:
        log.warning("real-time authorisation of a %s token failed: %s", token.type, error)
        if token.whitelist == "ALLOWED_OFFLINE":
            return AuthorizationResult(local, "offline", token, location=location)
        return AuthorizationResult("NOT_ALLOWED", "offline", token, location=location)


def _real_time(token: Token, location: LocationReference | None) -> AuthorizationResult:
    partner = _issuer(token)
    url = partner.endpoint("tokens", "SENDER") if partner else None
    if partner is None or url is None or not partner.token_out:
        raise errors.PartnerCallFailed("no tokens endpoint for the token's eMSP")
    client = OcpiClient(
        partner.token_out,
        raw_token=partner.raw_tokens,
        to_party=(token.country_code, token.party_id),
        timeout=_rta_timeout(),
    )
    try:
        reply = client.post(
            endpoint_url(url, token.uid, "authorize"), location, params={"type": token.type}
        )
    except errors.PartnerCallFailed as error:
        if error.ocpi_status == 2004 or error.http_status == 404:
            return AuthorizationResult("NOT_ALLOWED", "realtime", token, location=location)
        raise
    try:
        info = AuthorizationInfo().load(reply.data or {})
    except ValidationError as error:
        raise errors.PartnerCallFailed(f"invalid AuthorizationInfo: {error.messages}") from error
    return AuthorizationResult(
        info["allowed"],
        "realtime",
        token,
        info.get("authorization_reference"),
        info.get("location", location),
    )


def _issuer(token: Token) -> OcpiPartner | None:
    partner = db.session.get(OcpiPartner, token.partner_id) if token.partner_id else None
    if partner is None:
        partner = party_holder(token.country_code, token.party_id, "EMSP")
    if partner is None or partner.status != PartnerStatus.REGISTERED:
        return None
    return partner


def _rta_timeout() -> float:
    return float(current_app.config["OCPI_RTA_TIMEOUT"])
