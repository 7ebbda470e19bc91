"""Read-only lookups of partner commands."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.ocpi.models import OcpiCommand

# OCPI: a token sent with START_SESSION needs no new check for 15 minutes; a session that
# starts at that station for that token within them is the command's.
START_WINDOW = timedelta(minutes=15)
FAILED = ("EVSE_INOPERATIVE", "EVSE_OCCUPIED", "FAILED", "NOT_SUPPORTED", "REJECTED", "TIMEOUT")


def start_command(station_id: str, uid: str) -> OcpiCommand | None:
    """The newest START_SESSION for this token at this station still waiting for its session."""
    query = (
        select(OcpiCommand)
        .where(
            OcpiCommand.command == "START_SESSION",
            OcpiCommand.created_at >= utcnow() - START_WINDOW,
        )
        .order_by(OcpiCommand.id.desc())
    )
    for command in db.session.scalars(query):
        request = command.request
        if request.get("station_id") == station_id and request.get("token", {}).get("uid") == uid:
            return None if command.result in FAILED else command
    return None
