"""Commands from partner eMSPs: answer at once (CommandResponse), execute later (CommandResult)."""

from __future__ import annotations

import logging
import zlib
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, g, has_request_context
from marshmallow import ValidationError
from sqlalchemy import select

from app.charging.commands import CommandSender
from app.core.clock import utcnow
from app.core.outbox import emit
from app.extensions import db
from app.gateway import commands as ocpp
from app.gateway.errors import (
    CommandTimeout,
    GatewayError,
    StationOffline,
    UnsupportedCommand,
)
from app.inventory.models import Evse, Location
from app.ocpi import errors
from app.ocpi.client import OcpiClient
from app.ocpi.locations.queries import published_location
from app.ocpi.models import OcpiCommand, OcpiPartner
from app.ocpi.schemas.commands import COMMANDS
from app.ocpi.sessions.queries import last_session_at, visible_session
from app.ocpi.tokens.services import check_party

log = logging.getLogger("plugpool.ocpi.commands")
COMMAND_QUEUED = "ocpi.command"
TOKEN_IDENTITY = ("country_code", "party_id", "uid", "type", "contract_id")
# A cable can stay locked after the session ends; its driver's eMSP may unlock it this long.
UNLOCK_AFTER_SESSION = timedelta(minutes=15)


class UnknownSession(Exception):
    """STOP_SESSION of a session the partner has no running session with."""


def accept_command(partner: OcpiPartner, name: str, body: Any) -> dict[str, Any]:
    """Validate a command, queue it for the gateway, and return the CommandResponse."""
    schema = COMMANDS.get(name)
    if schema is None:
        return {"result": "NOT_SUPPORTED", "timeout": 0}
    try:
        data = schema().load(body)
    except ValidationError as error:
        raise errors.InvalidParameters(f"Invalid {name}: {error.messages}") from error
    if "token" in data:
        check_party(partner, data["token"]["country_code"], data["token"]["party_id"])
    try:
        target = _target(partner, name, data)
    except UnknownSession:
        return {"result": "UNKNOWN_SESSION", "timeout": 0}
    if target is None:
        return {"result": "REJECTED", "timeout": 0}
    station_id, command = target
    record = OcpiCommand(
        partner_id=partner.id,
        command=name,
        response_url=data["response_url"],
        request={
            "station_id": station_id,
            "ocpp": ocpp.to_wire(command),
            **_ids(data),
            **_sender(partner),
        },
        response="ACCEPTED",
    )
    db.session.add(record)
    db.session.flush()
    emit(db.session, COMMAND_QUEUED, "ocpi_command", str(record.id), {"command_id": record.id})
    db.session.commit()
    return {"result": "ACCEPTED", "timeout": _timeout()}


def execute_command(record: OcpiCommand, sender: CommandSender) -> str:
    """Send a queued command through the gateway and POST the CommandResult to the eMSP."""
    command = ocpp.from_wire(record.request["ocpp"])
    result = _run(sender, record.request["station_id"], command, record.command)
    record.result = result
    _send_result(record)
    db.session.commit()
    return result


def _send_result(record: OcpiCommand) -> None:
    """POST the CommandResult to the commanding party; no commit.

    Through a hub, a party it reports SUSPENDED never gets it (not delivered, said in
    result_error); one reported OFFLINE has it held until the hub reports it CONNECTED again,
    for as long as the timeout we answered (after that the eMSP has given up on it anyway).
    """
    from app.ocpi.hubparty.services import unreachable

    partner = db.session.get(OcpiPartner, record.partner_id) if record.partner_id else None
    if partner is None or not partner.token_out:
        return
    sender_party = record.request.get("from_party")
    to_party = tuple(sender_party) if sender_party else partner.party("EMSP")
    reason = unreachable(partner, to_party)
    if reason is not None:
        party = "*".join(to_party or ())
        held = reason == "OFFLINE" and utcnow() < record.created_at + timedelta(seconds=_timeout())
        record.result_error = f"{'held' if held else 'not delivered'}: {party} {reason}"
        log.warning("CommandResult for command %s %s", record.id, record.result_error)
        return
    client = OcpiClient(partner.token_out, raw_token=partner.raw_tokens, to_party=to_party)
    try:
        client.post(record.response_url, {"result": record.result})
        record.result_sent_at, record.result_error = utcnow(), None
    except errors.PartnerCallFailed as error:
        record.result_error = f"not delivered: {error}"[:255]
        log.warning("CommandResult for command %s not delivered: %s", record.id, error)


def send_held_results() -> int:
    """Send the CommandResults held for parties that were OFFLINE behind a hub, once it
    reports them CONNECTED (or mark them not delivered past the timeout); return how many
    were sent."""
    query = (
        select(OcpiCommand)
        .where(
            OcpiCommand.result_sent_at.is_(None),
            OcpiCommand.result.is_not(None),
            OcpiCommand.result_error.like("held:%"),
        )
        .order_by(OcpiCommand.id)
        .with_for_update(skip_locked=True)
    )
    sent = 0
    for record in db.session.scalars(query).all():
        _send_result(record)
        sent += record.result_sent_at is not None
    db.session.commit()
    return sent


def _sender(partner: OcpiPartner) -> dict[str, Any]:
    """Through a hub, the commanding party (OCPI-from): its CommandResult is addressed to it."""
    sender = getattr(g, "ocpi_from", None) if has_request_context() else None
    if not partner.is_hub or not sender or not all(sender):
        return {}
    return {"from_party": [sender[0].upper(), sender[1].upper()]}


def _run(sender: CommandSender, station_id: str, command: Any, name: str) -> str:
    try:
        answer = sender.send_command(station_id, command, _timeout())
    except CommandTimeout:
        return "TIMEOUT"
    except UnsupportedCommand:
        return "NOT_SUPPORTED"
    except StationOffline:
        return "EVSE_INOPERATIVE"
    except GatewayError as error:
        log.warning("command %s to %s failed: %s", name, station_id, error)
        return "FAILED"
    return _result(name, answer.status)


def _result(name: str, status: str) -> str:
    """OCPP status words as OCPI CommandResultType."""
    if status in ("Accepted", "Unlocked"):
        return "CANCELED_RESERVATION" if name == "CANCEL_RESERVATION" else "ACCEPTED"
    mapping = {
        "Occupied": "EVSE_OCCUPIED",
        "Faulted": "EVSE_INOPERATIVE",
        "Unavailable": "EVSE_INOPERATIVE",
        "NotSupported": "NOT_SUPPORTED",
        "UnlockFailed": "FAILED",
        "OngoingAuthorizedTransaction": "EVSE_OCCUPIED",
        "UnknownConnector": "FAILED",
    }
    if name == "CANCEL_RESERVATION" and status == "Rejected":
        return "UNKNOWN_RESERVATION"
    return mapping.get(status, "REJECTED")


def _target(partner: OcpiPartner, name: str, data: dict[str, Any]) -> tuple[str, Any] | None:
    """The station and version-neutral OCPP command, or None when we cannot carry it out."""
    if name == "STOP_SESSION":
        return _stop(partner, data["session_id"])
    if name == "CANCEL_RESERVATION":
        return _cancel(partner, data["reservation_id"])
    evse = _evse(data["location_id"], data.get("evse_uid"))
    if evse is None or evse.station is None or evse.ocpp_evse_id is None:
        return None
    station = evse.station.station_id
    if name == "START_SESSION":
        return station, ocpp.RemoteStart(data["token"]["uid"], evse_id=evse.ocpp_evse_id)
    if name == "RESERVE_NOW":
        reservation = _reservation_number(partner, data["reservation_id"])
        expires: datetime = data["expiry_date"]
        return station, ocpp.ReserveNow(
            reservation, data["token"]["uid"], expires, evse.ocpp_evse_id
        )
    if not _unlock_allowed(partner, evse, data["connector_id"]):
        return None
    connector = int(data["connector_id"]) if data["connector_id"].isdigit() else 1
    return station, ocpp.UnlockConnector(evse.ocpp_evse_id, connector)


def _unlock_allowed(partner: OcpiPartner, evse: Evse, connector_id: str) -> bool:
    """Only the eMSP whose token holds the connector's session (running or just ended) unlocks.

    Another party's driver may be charging there: an unlock would pull their cable.
    """
    connector = next((c for c in evse.connectors if c.ocpi_id == connector_id), None)
    session = last_session_at(connector.id) if connector is not None else None
    if session is None or visible_session(partner, session.ocpi_id) is None:
        return False
    ended = session.end_date_time  # None while the session runs
    return ended is None or ended >= utcnow() - UNLOCK_AFTER_SESSION


def _stop(partner: OcpiPartner, session_id: str) -> tuple[str, Any] | None:
    """RemoteStop of a running session of the partner's tokens (else UNKNOWN_SESSION)."""
    session = visible_session(partner, session_id)
    if session is None or not session.is_open or session.transaction_id is None:
        raise UnknownSession(session_id)
    return session.station_id, ocpp.RemoteStop(session.transaction_id)


def _evse(location_id: str, evse_uid: str | None) -> Evse | None:
    location: Location | None = published_location(location_id)
    if location is None:
        raise errors.UnknownLocation(f"Unknown location {location_id}")
    if evse_uid is None:
        return location.evses[0] if len(location.evses) == 1 else None
    return next((e for e in location.evses if e.uid == evse_uid), None)


def _reservation_number(partner: OcpiPartner, reservation_id: str) -> int:
    """OCPP reservation ids are integers: ours is a stable number per partner reservation."""
    return zlib.crc32(f"{partner.id}:{reservation_id}".encode()) & 0x7FFFFFFF


def _cancel(partner: OcpiPartner, reservation_id: str) -> tuple[str, Any] | None:
    query = (
        select(OcpiCommand)
        .where(OcpiCommand.partner_id == partner.id, OcpiCommand.command == "RESERVE_NOW")
        .order_by(OcpiCommand.id.desc())
    )
    for reserved in db.session.scalars(query):
        if reserved.request.get("reservation_id") == reservation_id:
            number = _reservation_number(partner, reservation_id)
            return reserved.request["station_id"], ocpp.CancelReservation(number)
    return None


def _ids(data: dict[str, Any]) -> dict[str, Any]:
    """What the command names, kept to link what it starts (the token's identity included)."""
    keys = (
        "location_id",
        "evse_uid",
        "connector_id",
        "reservation_id",
        "session_id",
        "authorization_reference",
    )
    ids = {key: data[key] for key in keys if key in data}
    if "token" in data:
        ids["token"] = {key: data["token"][key] for key in TOKEN_IDENTITY}
    return ids


def _timeout() -> int:
    return int(current_app.config["OCPI_COMMAND_TIMEOUT"])
