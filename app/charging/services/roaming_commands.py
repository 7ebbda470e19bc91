"""A PlugPool driver starts, stops, reserves and unlocks at a partner CPO's charger.

Each command is a row (EmspCommand) written before the partner is called; the partner's
CommandResponse and later CommandResult land on it, and the driver reads it. A command the
partner accepted but never answered turns TIMEOUT at its deadline (`expire_commands`), so
nothing stays pending. START_SESSION goes out only once the estimate is held on the card.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.accounts.models import User
from app.charging import queries
from app.charging.errors import NotStartable
from app.charging.models import ChargingSession
from app.charging.services.stations import driver_token_uid
from app.charging.tokens import own_token
from app.core.clock import iso_utc, utcnow
from app.core.errors import NotFound
from app.extensions import db
from app.inventory.models import Evse, Location
from app.ocpi.commands import sender
from app.ocpi.credentials.queries import party_holder
from app.ocpi.models import EmspCommand, OcpiPartner, PartnerStatus
from app.ocpi.tokens.services import token_to_ocpi
from app.payments import roaming as money

START, STOP, RESERVE, CANCEL, UNLOCK = (
    "START_SESSION",
    "STOP_SESSION",
    "RESERVE_NOW",
    "CANCEL_RESERVATION",
    "UNLOCK_CONNECTOR",
)
PENDING = "PENDING"
FAILED = "FAILED"


def command_status(command: EmspCommand) -> str:
    """What the driver sees: the result, else a refusal, else PENDING."""
    if command.result:
        return command.result
    if command.response is None:
        return FAILED
    if command.response != "ACCEPTED":
        return command.response
    return PENDING


def roaming_place(evse_pk: int) -> tuple[Location, Evse, OcpiPartner]:
    """The partner EVSE a driver picked, and the partner CPO that runs it (404 otherwise)."""
    evse = db.session.get(Evse, evse_pk)
    location = evse.location if evse else None
    partner = party_holder(location.country_code, location.party_id, "CPO") if location else None
    if (
        evse is None
        or location is None
        or partner is None
        or partner.status != PartnerStatus.REGISTERED
        or not location.publish
        or not _reachable_cpo(partner, location)
    ):
        raise NotFound(f"No partner charger {evse_pk}")
    return location, evse, partner


def _reachable_cpo(partner: OcpiPartner, location: Location) -> bool:
    """Behind a hub: the location's CPO is CONNECTED there, not refused by our settings, and
    the hub is offered our eMSP role (a direct partner CPO: always)."""
    from app.ocpi.hubparty.services import offers, reachable

    if not partner.is_hub:
        return True
    party = (location.country_code, location.party_id)
    cpo = frozenset({"CPO"})
    return offers(partner, "EMSP") and partner.holds(*party, cpo) and reachable(partner, party)


def quote_terms(evse_pk: int) -> money.RoamingTerms:
    """The hold and roaming fee a driver is shown before starting at a partner charger."""
    location, evse, _ = roaming_place(evse_pk)
    connector = evse.connectors[0] if evse.connectors else None
    tariff = queries.tariff_for(connector, location.country_code, location.party_id)
    return money.roaming_terms(tariff.currency if tariff else "EUR")


def start_roaming_session(driver: User, evse_pk: int, connector_id: str | None) -> EmspCommand:
    """Hold the estimate on the card, then send START_SESSION; return the command."""
    location, evse, partner = roaming_place(evse_pk)
    connector = _connector(evse, connector_id)
    token = _driver_token(driver)
    charge = money.hold_for_start(driver, quote_terms(evse_pk))
    command = _new_command(driver, partner, START, charge.authorization_reference)
    body = {
        "response_url": sender.response_url(partner, START, command.uid),
        "token": token_to_ocpi(token),
        "location_id": location.ocpi_id,
        "evse_uid": evse.uid,
        "authorization_reference": charge.authorization_reference,
    }
    if connector:
        body["connector_id"] = connector
    return _send(command, partner, body, (location.country_code, location.party_id))


def stop_roaming_session(driver: User, session_pk: int) -> EmspCommand:
    """Send STOP_SESSION for the driver's running session at a partner charger."""
    session, partner = _own_session(driver, session_pk)
    if not session.is_open:
        raise NotStartable("This session has ended")
    command = _new_command(driver, partner, STOP, session.authorization_reference)
    body = {
        "response_url": sender.response_url(partner, STOP, command.uid),
        "session_id": session.ocpi_id,
    }
    command.session_pk = session.id
    return _send(command, partner, body, (session.country_code, session.party_id))


def unlock_roaming_connector(driver: User, session_pk: int) -> EmspCommand:
    """Send UNLOCK_CONNECTOR for the connector of the driver's own session only."""
    session, partner = _own_session(driver, session_pk)
    received = session.received or {}
    command = _new_command(driver, partner, UNLOCK, session.authorization_reference)
    command.session_pk = session.id
    body = {
        "response_url": sender.response_url(partner, UNLOCK, command.uid),
        "location_id": received.get("location_id"),
        "evse_uid": received.get("evse_uid"),
        "connector_id": received.get("connector_id"),
    }
    return _send(command, partner, body, (session.country_code, session.party_id))


def reserve_roaming(driver: User, evse_pk: int, expiry: datetime) -> EmspCommand:
    """Send RESERVE_NOW for a partner EVSE until `expiry` (its id is the command's uid)."""
    if expiry <= utcnow():
        raise NotStartable("The reservation must end in the future")
    location, evse, partner = roaming_place(evse_pk)
    token = _driver_token(driver)
    command = _new_command(driver, partner, RESERVE, None)
    body = {
        "response_url": sender.response_url(partner, RESERVE, command.uid),
        "token": token_to_ocpi(token),
        "expiry_date": iso_utc(expiry),
        "reservation_id": command.uid,
        "location_id": location.ocpi_id,
        "evse_uid": evse.uid,
    }
    return _send(command, partner, body, (location.country_code, location.party_id))


def cancel_roaming_reservation(driver: User, reservation_command_id: int) -> EmspCommand:
    """Send CANCEL_RESERVATION for one of the driver's reservations."""
    reservation = db.session.get(EmspCommand, reservation_command_id)
    if reservation is None or reservation.driver_id != driver.id or reservation.command != RESERVE:
        raise NotFound(f"No reservation {reservation_command_id}")
    partner = db.session.get(OcpiPartner, reservation.partner_id or 0)
    if partner is None:
        raise NotFound("The network of this reservation is gone")
    command = _new_command(driver, partner, CANCEL, None)
    body = {
        "response_url": sender.response_url(partner, CANCEL, command.uid),
        "reservation_id": reservation.uid,
    }
    party = (reservation.request.get("country_code"), reservation.request.get("party_id"))
    return _send(command, partner, body, party if all(party) else partner.party("CPO"))


def record_command_result(
    partner_id: int, name: str, uid: str, result: str, message: str | None
) -> bool:
    """Keep a partner's CommandResult; a START that did not start gives the hold back."""
    command = db.session.scalars(
        select(EmspCommand).where(EmspCommand.uid == uid, EmspCommand.command == name)
    ).first()
    if command is None or command.partner_id != partner_id:
        return False
    command.result, command.message = result, message or command.message
    command.deadline = None
    db.session.commit()
    if name == START and result != "ACCEPTED" and command.authorization_reference:
        money.release_hold(command.authorization_reference)
    return True


def expire_commands(now: datetime | None = None) -> list[int]:
    """Mark accepted commands without a result by their deadline TIMEOUT (job)."""
    query = select(EmspCommand).where(
        EmspCommand.result.is_(None),
        EmspCommand.deadline.is_not(None),
        EmspCommand.deadline <= (now or utcnow()),
    )
    expired = list(db.session.scalars(query))
    for command in expired:
        command.result, command.deadline = "TIMEOUT", None
    db.session.commit()
    for command in expired:
        if command.command == START and command.authorization_reference:
            money.release_hold(command.authorization_reference)
    return [command.id for command in expired]


def driver_command(driver: User, command_id: int) -> EmspCommand:
    """One of the driver's commands (404 for anyone else's)."""
    command = db.session.get(EmspCommand, command_id)
    if command is None or command.driver_id != driver.id:
        raise NotFound(f"No command {command_id}")
    return command


def _connector(evse: Evse, connector_id: str | None) -> str | None:
    if connector_id is None:
        return evse.connectors[0].ocpi_id if len(evse.connectors) == 1 else None
    if all(c.ocpi_id != connector_id for c in evse.connectors):
        raise NotFound(f"No connector {connector_id} at this charger")
    return connector_id


def _driver_token(driver: User) -> Any:
    uid = driver_token_uid(driver.id)
    token = own_token(uid, "APP_USER")
    if token is None or not token.valid:
        raise NotStartable("Your charging token is blocked")
    return token


def _own_session(driver: User, session_pk: int) -> tuple[ChargingSession, OcpiPartner]:
    session = db.session.get(ChargingSession, session_pk)
    partner = db.session.get(OcpiPartner, session.partner_id) if session else None
    if session is None or session.driver_id != driver.id or partner is None:
        raise NotFound(f"No session {session_pk}")
    return session, partner


def _new_command(
    driver: User, partner: OcpiPartner, name: str, reference: str | None
) -> EmspCommand:
    command = EmspCommand(
        uid=secrets.token_hex(12),
        driver_id=driver.id,
        partner_id=partner.id,
        command=name,
        authorization_reference=reference,
    )
    db.session.add(command)
    db.session.commit()
    return command


def _send(
    command: EmspCommand, partner: OcpiPartner, body: dict[str, Any], party: Any
) -> EmspCommand:
    """Call the partner (no transaction open), then record its answer and the deadline."""
    command.request = {**body, "country_code": party[0], "party_id": party[1]}
    db.session.commit()
    sent = sender.send_command(partner, command.command, body, party)
    command.response, command.message = sent.response, sent.message
    if sent.response == "ACCEPTED":
        wait = sent.timeout or int(current_app.config["EMSP_COMMAND_TIMEOUT"])
        command.deadline = utcnow() + timedelta(seconds=wait)
    elif sent.response is None:
        command.result = FAILED
    db.session.commit()
    if command.command == START and sent.response != "ACCEPTED":
        money.release_hold(command.authorization_reference or "")
    return command
