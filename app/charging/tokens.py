"""Who may charge: own drivers' and roaming tokens, decided through the one OCPI Token table.

PlugPool drivers' tokens are OCPI Tokens of PlugPool's own party (whitelist ALWAYS),
linked to the driver by a DriverToken row; roaming tokens are those partner eMSPs pushed.
Both are authorised by the OCPI side's `authorize_token` (whitelist or real-time). During
a booking the booking driver's token is accepted at the booked station whatever else says.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.charging import queries
from app.charging.enums import AuthMethod
from app.charging.models import DriverToken
from app.core.clock import utcnow
from app.extensions import db
from app.gateway.ports import AuthorizationStatus
from app.inventory.models import ChargeStation, Evse, Party
from app.ocpi.models import Token
from app.ocpi.tokens.services import authorize_token

# OCPP IdToken types (2.0.1 IdTokenEnumType; 1.6 has none) to OCPI TokenType.
OCPI_TYPE = {
    "ISO14443": "RFID",
    "ISO15693": "RFID",
    "Central": "APP_USER",
    "eMAID": "APP_USER",
    "KeyCode": "OTHER",
    "Local": "OTHER",
    "MacAddress": "OTHER",
}
OCPI_TYPES = ("RFID", "APP_USER", "AD_HOC_USER", "OTHER")
ALLOWED_TO_OCPP = {
    "ALLOWED": AuthorizationStatus.ACCEPTED,
    "BLOCKED": AuthorizationStatus.BLOCKED,
    "EXPIRED": AuthorizationStatus.EXPIRED,
}
APP_TOKEN_TYPE = "APP_USER"  # noqa: S105 - an OCPI TokenType, not a secret


@dataclass(frozen=True)
class Decision:
    """An authorisation decision with what a session records about its token."""

    status: AuthorizationStatus
    uid: str
    token_type: str
    country_code: str | None = None
    party_id: str | None = None
    contract_id: str | None = None
    auth_method: AuthMethod = AuthMethod.WHITELIST
    authorization_reference: str | None = None
    driver_id: int | None = None

    @property
    def accepted(self) -> bool:
        """Tell whether charging may go on."""
        return self.status is AuthorizationStatus.ACCEPTED


def find_token(uid: str, ocpp_type: str | None) -> Token | None:
    """Return the Token a charger presents: the mapped OCPI type first, then any type."""
    preferred = OCPI_TYPE.get(ocpp_type or "")
    order = [preferred] if preferred else []
    order += [t for t in OCPI_TYPES if t != preferred]
    rows = list(db.session.scalars(select(Token).where(Token.uid == uid).order_by(Token.id)))
    for token_type in order:
        for token in rows:
            if token.type == token_type:
                return token
    return rows[0] if rows else None


# Roaming hubs asked about a token neither PlugPool nor its OCPI partners know (e.g. Hubject,
# registered by app.oicp); each returns a Decision, or None to pass.
HubAuthorizer = Callable[[ChargeStation, Evse | None, str], "Decision | None"]
_hub_authorizers: list[HubAuthorizer] = []


def register_hub_authorizer(authorizer: HubAuthorizer) -> None:
    """Ask `authorizer` about tokens unknown to PlugPool (once per function)."""
    if authorizer not in _hub_authorizers:
        _hub_authorizers.append(authorizer)


def authorize_at(
    station: ChargeStation, uid: str, ocpp_type: str | None, evse: Evse | None, at: datetime
) -> Decision:
    """Decide whether token `uid` may charge at the station (at one of its EVSEs if known)."""
    token = find_token(uid, ocpp_type)
    if token is None:
        for authorizer in _hub_authorizers:
            decision = authorizer(station, evse, uid)
            if decision is not None:
                return decision
        return Decision(AuthorizationStatus.INVALID, uid, OCPI_TYPE.get(ocpp_type or "", "OTHER"))
    link = queries.driver_token(uid)
    if link is not None and _booked(station, evse, link.user_id, at):
        return _decision(token, AuthorizationStatus.ACCEPTED, AuthMethod.WHITELIST, None, link)
    result = authorize_token(uid, token.type, location_reference(station, evse))
    status = ALLOWED_TO_OCPP.get(result.allowed, AuthorizationStatus.INVALID)
    method = AuthMethod.AUTH_REQUEST if result.source == "realtime" else AuthMethod.WHITELIST
    return _decision(token, status, method, result.authorization_reference, link)


def _booked(station: ChargeStation, evse: Evse | None, driver_id: int, at: datetime) -> bool:
    """Tell whether the driver holds a booking covering `at` here (the EVSE, else the station)."""
    if evse is not None:
        return queries.booking_in_window(evse.id, driver_id, at) is not None
    return queries.booked_driver_at_station(station.id, driver_id, at) is not None


def _decision(
    token: Token,
    status: AuthorizationStatus,
    method: AuthMethod,
    reference: str | None,
    link: DriverToken | None,
) -> Decision:
    """Build a decision carrying the token's OCPI identity."""
    return Decision(
        status=status,
        uid=token.uid,
        token_type=token.type,
        country_code=token.country_code,
        party_id=token.party_id,
        contract_id=token.contract_id,
        auth_method=method,
        authorization_reference=reference,
        driver_id=link.user_id if link else None,
    )


def location_reference(station: ChargeStation, evse: Evse | None) -> dict[str, Any] | None:
    """Return the OCPI LocationReferences for real-time authorisation at this station."""
    location = station.location
    if location is None:
        return None
    evses = [evse] if evse is not None else queries.evses_of_station(station.id)
    return {"location_id": location.ocpi_id, "evse_uids": [e.uid for e in evses]}


def new_driver_token(user_id: int, own: Party, uid: str | None = None) -> DriverToken:
    """Add an own-party OCPI Token for a driver and its link (caller commits)."""
    uid = uid or "PP" + secrets.token_hex(8).upper()
    token = Token(
        partner_id=None,
        country_code=own.country_code,
        party_id=own.party_id,
        uid=uid,
        type=APP_TOKEN_TYPE,
        contract_id=f"{own.country_code}-{own.party_id}-C{user_id:08d}",
        issuer=own.name,
        valid=True,
        whitelist="ALWAYS",
        last_updated=utcnow(),
    )
    link = DriverToken(user_id=user_id, uid=uid, type=APP_TOKEN_TYPE)
    db.session.add_all([token, link])
    return link
