"""Lookups of partner commands, and the note that a START_SESSION has its session."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.ocpi.models import OcpiCommand

# OCPI: a token sent with START_SESSION needs no new check for 15 minutes; a session that
# starts at that station for that token within them is the command's.
START_WINDOW = timedelta(minutes=15)
STARTED = "started_session_id"
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
            taken = command.result in FAILED or STARTED in request
            return None if taken else command
    return None


def mark_started(command_id: int, session_id: str) -> None:
    """Note the session a START_SESSION started, so a later one is not taken for it (no commit)."""
    command = db.session.get(OcpiCommand, command_id)
    if command is not None:
        command.request = {**command.request, STARTED: session_id}
