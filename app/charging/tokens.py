"""Who may charge: own drivers' and roaming tokens, decided through the one OCPI Token table.

PlugPool drivers' tokens are OCPI Tokens of PlugPool's own party (whitelist ALWAYS),
linked to the driver by a DriverToken row: an APP_USER token issued on first use, and the
RFID cards drivers register (`add_card`, `block_card`, `unblock_card`, `remove_card`: the
card rules, one transaction each, each writing a "token.changed" outbox event for the
OCPI Tokens push). Roaming tokens are those partner eMSPs pushed. Both are authorised by
the OCPI side's `authorize_token` (whitelist or real-time). During a booking the booking
driver's valid token is accepted at the booked station whatever else says (a blocked or
removed card is not); a start a partner eMSP ordered by START_SESSION is authorised by
that command (COMMAND).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.charging import queries
from app.charging.enums import AuthMethod
from app.charging.models import DriverToken
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.outbox import emit
from app.extensions import db
from app.gateway.ports import AuthorizationStatus
from app.inventory.models import ChargeStation, Evse, Party
from app.inventory.services import ensure_own_party
from app.ocpi.commands.queries import start_command
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
RFID_TYPE = "RFID"
TOKEN_CHANGED = "token.changed"  # noqa: S105 - outbox topic: an own-party token changed
# ISO 14443 card UIDs are 4, 7 or 10 bytes; written as hex, as chargers send them.
RFID_UID = re.compile(r"[0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20}")
UID_SEPARATORS = re.compile(r"[\s:\-]")
LABEL_MAX = 40


class CardAction(StrEnum):
    """What happened to a token, as the "token.changed" event says."""

    ADDED = "added"
    BLOCKED = "blocked"
    UNBLOCKED = "unblocked"
    REMOVED = "removed"


class CardTaken(Conflict):
    title = "Card already registered"


class CardNotFound(NotFound):
    title = "Card not found"


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
    command_id: int | None = None  # the START_SESSION that authorised the token

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
    commanded = _commanded(station, uid)
    if commanded is not None:
        return commanded
    token = find_token(uid, ocpp_type)
    if token is None:
        for authorizer in _hub_authorizers:
            decision = authorizer(station, evse, uid)
            if decision is not None:
                return decision
        return Decision(AuthorizationStatus.INVALID, uid, OCPI_TYPE.get(ocpp_type or "", "OTHER"))
    link = queries.driver_token(uid)
    # A blocked token (a lost card) gets no booking exemption: whoever holds it is not the driver.
    if link is not None and token.valid and _booked(station, evse, link.user_id, at):
        return _decision(token, AuthorizationStatus.ACCEPTED, AuthMethod.WHITELIST, None, link)
    result = authorize_token(uid, token.type, location_reference(station, evse))
    status = ALLOWED_TO_OCPP.get(result.allowed, AuthorizationStatus.INVALID)
    method = AuthMethod.AUTH_REQUEST if result.source == "realtime" else AuthMethod.WHITELIST
    return _decision(token, status, method, result.authorization_reference, link)


def _commanded(station: ChargeStation, uid: str) -> Decision | None:
    """A start an eMSP ordered by START_SESSION: its token is authorised by the command."""
    command = start_command(station.station_id, uid)
    if command is None:
        return None
    token = command.request["token"]
    return Decision(
        status=AuthorizationStatus.ACCEPTED,
        uid=uid,
        token_type=token["type"],
        country_code=token["country_code"].upper(),
        party_id=token["party_id"].upper(),
        contract_id=token["contract_id"],
        auth_method=AuthMethod.COMMAND,
        authorization_reference=command.request.get("authorization_reference"),
        command_id=command.id,
    )


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
    token = _own_token(own, uid, APP_TOKEN_TYPE, user_id)
    link = DriverToken(user_id=user_id, uid=uid, type=APP_TOKEN_TYPE)
    db.session.add_all([token, link])
    db.session.flush()
    emit_token_changed(token, CardAction.ADDED)
    return link


# RFID cards of PlugPool drivers


def normalise_uid(raw: str) -> str:
    """Return a card uid as chargers send it (upper-case hex), or raise 422 saying why."""
    uid = UID_SEPARATORS.sub("", raw or "").upper()
    if not RFID_UID.fullmatch(uid):
        raise ValidationFailed(
            {"uid": ["a card uid is 8, 14 or 20 hexadecimal digits (a 4, 7 or 10 byte UID)"]}
        )
    return uid


def cards_of(user_id: int) -> list[DriverToken]:
    """Return a driver's registered RFID cards (removed ones left out), oldest first."""
    return [
        link
        for link in queries.tokens_of_driver(user_id)
        if link.type == RFID_TYPE and link.removed_at is None
    ]


def card_token(link: DriverToken) -> Token:
    """Return the OCPI Token behind a driver's card."""
    own = ensure_own_party()
    token = db.session.scalars(
        select(Token).where(
            Token.country_code == own.country_code,
            Token.party_id == own.party_id,
            Token.uid == link.uid,
            Token.type == link.type,
        )
    ).first()
    if token is None:
        raise LookupError(f"the token of card {link.uid} has disappeared")
    return token


def add_card(user_id: int, uid: str, label: str | None = None) -> DriverToken:
    """Register a driver's RFID card (valid at once); a uid known anywhere is refused (409)."""
    uid = normalise_uid(uid)
    label = (label or "").strip()[:LABEL_MAX] or None
    link = queries.driver_token(uid)
    try:
        if link is not None and link.user_id == user_id and link.removed_at is not None:
            link.removed_at, link.label = None, label  # the driver's own card, back again
            token = card_token(link)
        else:
            if (
                link is not None
                or db.session.scalars(select(Token.id).where(Token.uid == uid)).first()
            ):
                raise CardTaken(f"Card {uid} is already registered")
            own = ensure_own_party()
            token = _own_token(own, uid, RFID_TYPE, user_id)
            link = DriverToken(user_id=user_id, uid=uid, type=RFID_TYPE, label=label)
            db.session.add_all([token, link])
        token.valid, token.last_updated = True, utcnow()
        db.session.flush()
        emit_token_changed(token, CardAction.ADDED)
        db.session.commit()
    except IntegrityError:  # the same card registered at the same moment elsewhere
        db.session.rollback()
        raise CardTaken(f"Card {uid} is already registered") from None
    except Exception:
        db.session.rollback()
        raise
    return link


def block_card(user_id: int, uid: str) -> DriverToken:
    """Block a card (lost, lent): chargers refuse it until unblocked."""
    return _set_valid(user_id, uid, False, CardAction.BLOCKED)


def unblock_card(user_id: int, uid: str) -> DriverToken:
    """Make a blocked card valid again."""
    return _set_valid(user_id, uid, True, CardAction.UNBLOCKED)


def remove_card(user_id: int, uid: str) -> None:
    """Remove a card: it stays on record (sessions refer to it) with valid false."""
    link = _card(user_id, uid)
    try:
        link.removed_at = utcnow()
        token = card_token(link)
        token.valid, token.last_updated = False, link.removed_at
        emit_token_changed(token, CardAction.REMOVED)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def _set_valid(user_id: int, uid: str, valid: bool, action: CardAction) -> DriverToken:
    """Set a card's validity in one transaction with its outbox event."""
    link = _card(user_id, uid)
    try:
        token = card_token(link)
        if token.valid != valid:
            token.valid, token.last_updated = valid, utcnow()
            emit_token_changed(token, action)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return link


def _card(user_id: int, uid: str) -> DriverToken:
    """Return the driver's (not removed) card, or 404."""
    clean = UID_SEPARATORS.sub("", uid or "").upper()
    link = queries.driver_token(clean)
    if link is None or link.user_id != user_id or link.type != RFID_TYPE or link.removed_at:
        db.session.rollback()
        raise CardNotFound(f"No card {clean} of yours")
    return link


def card_valid(link: DriverToken) -> bool:
    """Tell whether a card is valid (not blocked)."""
    return card_token(link).valid


def emit_token_changed(token: Token, action: CardAction) -> None:
    """Write the "token.changed" outbox event (the OCPI Tokens push to partners hooks here)."""
    emit(
        db.session,
        TOKEN_CHANGED,
        "token",
        f"{token.country_code}*{token.party_id}*{token.uid}",
        {
            "country_code": token.country_code,
            "party_id": token.party_id,
            "uid": token.uid,
            "type": token.type,
            "valid": token.valid,
            "action": action.value,
        },
    )


def _own_token(own: Party, uid: str, token_type: str, user_id: int) -> Token:
    """Return a new own-party OCPI Token of a driver (whitelist ALWAYS)."""
    return Token(
        partner_id=None,
        country_code=own.country_code,
        party_id=own.party_id,
        uid=uid,
        type=token_type,
        contract_id=f"{own.country_code}-{own.party_id}-C{user_id:08d}",
        issuer=own.name,
        valid=True,
        whitelist="ALWAYS",
        last_updated=utcnow(),
    )


def own_token(uid: str, token_type: str) -> Token | None:
    """Return an own driver's token by uid and type (never one a partner pushed)."""
    query = select(Token).where(
        Token.uid == uid,
        Token.type == token_type,
        Token.partner_id.is_(None),
        Token.uid.in_(select(DriverToken.uid)),
    )
    return db.session.scalars(query).first()


def set_token_valid(token: Token, valid: bool) -> None:
    """Block or unblock a driver's token and announce it (caller commits)."""
    if token.valid == valid:
        return
    token.valid = valid
    token.last_updated = utcnow()
    emit_token_changed(token, CardAction.UNBLOCKED if valid else CardAction.BLOCKED)
