"""What a driver sees of roaming: live sessions, commands and receipts, as plain dicts.

Shared by the JSON API and the web pages so both show the same figures.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.charging import queries
from app.charging.models import Cdr, ChargingSession
from app.charging.services.roaming_commands import command_status
from app.core.clock import utcnow
from app.extensions import db
from app.inventory.models import Location, Party
from app.ocpi.models import EmspCommand
from app.payments.models import RoamingCharge


def command_view(command: EmspCommand) -> dict[str, Any]:
    """A command as the driver sees it."""
    return {
        "id": command.id,
        "command": command.command,
        "status": command_status(command),
        "message": command.message,
        "session_id": command.session_pk,
        "created_at": command.created_at,
    }


def session_view(session: ChargingSession) -> dict[str, Any]:
    """A session at a partner charger: kWh, duration, cost so far, status."""
    received = session.received or {}
    end = session.end_date_time or utcnow()
    location = db.session.get(Location, session.location_pk) if session.location_pk else None
    return {
        "id": session.id,
        "status": session.status,
        "kwh": str(session.kwh),
        "started_at": session.start_date_time,
        "ended_at": session.end_date_time,
        "duration_seconds": max(int((end - session.start_date_time).total_seconds()), 0),
        "cost_minor": session.total_cost_minor,
        "currency": session.currency,
        "network": _network(session.country_code, session.party_id),
        "location_name": (location.name if location else None) or received.get("location_id"),
        "evse_uid": received.get("evse_uid"),
        "connector_id": received.get("connector_id"),
    }


def _network(country_code: str, party_id: str) -> str:
    party = db.session.scalars(
        select(Party).where(Party.country_code == country_code, Party.party_id == party_id)
    ).first()
    return party.name if party else f"{country_code}*{party_id}"


def driver_sessions(driver_id: int) -> list[dict[str, Any]]:
    """The driver's sessions at partner chargers, newest first."""
    return [session_view(s) for s in queries.driver_sessions(driver_id)]


def receipt_view(charge: RoamingCharge) -> dict[str, Any]:
    """One receipt: the CDR's cost, PlugPool's fee, what was charged and released."""
    cdr = db.session.get(Cdr, charge.cdr_pk) if charge.cdr_pk else None
    return {
        "id": charge.id,
        "state": charge.state,
        "currency": charge.currency,
        "hold_minor": charge.authorised_minor,
        "cdr_cost_minor": charge.cdr_cost_minor,
        "fee_minor": charge.fee_minor,
        "total_minor": charge.due_minor,
        "captured_minor": charge.captured_minor,
        "cdr_id": cdr.ocpi_id if cdr else None,
        "energy_kwh": str(cdr.total_energy) if cdr else None,
        "started_at": cdr.start_date_time if cdr else None,
        "ended_at": cdr.end_date_time if cdr else None,
        "location": (cdr.cdr_location or {}).get("name") if cdr else None,
        "network": _network(cdr.country_code, cdr.party_id) if cdr else None,
    }


def driver_receipts(driver_id: int) -> list[dict[str, Any]]:
    """The driver's roaming charges that have a CDR, newest first."""
    query = (
        select(RoamingCharge)
        .where(RoamingCharge.driver_id == driver_id, RoamingCharge.cdr_pk.is_not(None))
        .order_by(RoamingCharge.id.desc())
    )
    return [receipt_view(charge) for charge in db.session.scalars(query)]


def driver_commands(driver_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """The driver's latest commands, newest first."""
    query = (
        select(EmspCommand)
        .where(EmspCommand.driver_id == driver_id)
        .order_by(EmspCommand.id.desc())
        .limit(limit)
    )
    return [command_view(command) for command in db.session.scalars(query)]
