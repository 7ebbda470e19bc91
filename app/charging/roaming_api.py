"""JSON API /api/v1/roaming: start, watch, stop and pay for charging on partner networks."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.accounts.auth import api_auth, current_user
from app.charging import roaming_views
from app.charging.schemas import (
    RoamingBookingSchema,
    RoamingBookInSchema,
    RoamingCommandSchema,
    RoamingReceiptSchema,
    RoamingReserveSchema,
    RoamingSessionSchema,
    RoamingSlotSchema,
    RoamingStartSchema,
    RoamingTermsSchema,
)
from app.charging.services import roaming_bookings
from app.charging.services import roaming_commands as commands
from app.core.errors import NotFound
from app.payments.models import RoamingCharge

blp = Blueprint("roaming", __name__, description="Charging on partner networks")

CONFLICT = blp.alt_response(409, response="CONFLICT")
NOT_FOUND = blp.alt_response(404, response="NOT_FOUND")
PAYMENT = blp.alt_response(402, response="PAYMENT_REQUIRED")


@blp.route("/chargers/<int:evse_id>/terms")
@blp.response(200, RoamingTermsSchema)
@NOT_FOUND
@api_auth(blp)
def terms(evse_id: int) -> Any:
    """Show the card hold and PlugPool's roaming fee before starting at a partner charger."""
    return commands.quote_terms(evse_id)


@blp.route("/sessions", methods=["POST"])
@blp.arguments(RoamingStartSchema)
@blp.response(202, RoamingCommandSchema)
@NOT_FOUND
@PAYMENT
@CONFLICT
@api_auth(blp)
def start(data: dict[str, Any]) -> dict[str, Any]:
    """Start charging at a partner charger (the estimate is held on my card first)."""
    command = commands.start_roaming_session(current_user(), data["evse_id"], data["connector_id"])
    return roaming_views.command_view(command)


@blp.route("/sessions")
@blp.response(200, RoamingSessionSchema(many=True))
@api_auth(blp)
def sessions() -> list[dict[str, Any]]:
    """List my sessions on partner networks, newest first (live ones as the network reports)."""
    return roaming_views.driver_sessions(current_user().id)


@blp.route("/sessions/<int:session_id>/stop", methods=["POST"])
@blp.response(202, RoamingCommandSchema)
@NOT_FOUND
@CONFLICT
@api_auth(blp)
def stop(session_id: int) -> dict[str, Any]:
    """Stop my session at a partner charger."""
    command = commands.stop_roaming_session(current_user(), session_id)
    return roaming_views.command_view(command)


@blp.route("/sessions/<int:session_id>/unlock", methods=["POST"])
@blp.response(202, RoamingCommandSchema)
@NOT_FOUND
@api_auth(blp)
def unlock(session_id: int) -> dict[str, Any]:
    """Unlock the connector of my session at a partner charger."""
    command = commands.unlock_roaming_connector(current_user(), session_id)
    return roaming_views.command_view(command)


@blp.route("/reservations", methods=["POST"])
@blp.arguments(RoamingReserveSchema)
@blp.response(202, RoamingCommandSchema)
@NOT_FOUND
@CONFLICT
@api_auth(blp)
def reserve(data: dict[str, Any]) -> dict[str, Any]:
    """Reserve a partner EVSE until a moment."""
    command = commands.reserve_roaming(current_user(), data["evse_id"], data["expires_at"])
    return roaming_views.command_view(command)


@blp.route("/reservations/<int:command_id>/cancel", methods=["POST"])
@blp.response(202, RoamingCommandSchema)
@NOT_FOUND
@api_auth(blp)
def cancel(command_id: int) -> dict[str, Any]:
    """Cancel one of my reservations at a partner charger."""
    command = commands.cancel_roaming_reservation(current_user(), command_id)
    return roaming_views.command_view(command)


@blp.route("/commands/<int:command_id>")
@blp.response(200, RoamingCommandSchema)
@NOT_FOUND
@api_auth(blp)
def command(command_id: int) -> dict[str, Any]:
    """Show where a command I sent stands (the network's response, then its result)."""
    return roaming_views.command_view(commands.driver_command(current_user(), command_id))


@blp.route("/receipts")
@blp.response(200, RoamingReceiptSchema(many=True))
@api_auth(blp)
def receipts() -> list[dict[str, Any]]:
    """List my receipts of sessions on partner networks."""
    return roaming_views.driver_receipts(current_user().id)


@blp.route("/receipts/<int:receipt_id>")
@blp.response(200, RoamingReceiptSchema)
@NOT_FOUND
@api_auth(blp)
def receipt(receipt_id: int) -> dict[str, Any]:
    """Show one receipt."""
    from app.extensions import db

    charge = db.session.get(RoamingCharge, receipt_id)
    if charge is None or charge.driver_id != current_user().id or charge.cdr_pk is None:
        raise NotFound(f"No receipt {receipt_id}")
    return roaming_views.receipt_view(charge)


@blp.route("/chargers/<int:evse_id>/slots")
@blp.response(200, RoamingSlotSchema(many=True))
@NOT_FOUND
@CONFLICT
@api_auth(blp)
def slots(evse_id: int) -> Any:
    """List a partner charger's free timeslots (networks that offer OCPI 2.3.0 bookings)."""
    return roaming_bookings.free_slots(evse_id)


@blp.route("/bookings", methods=["POST"])
@blp.arguments(RoamingBookInSchema)
@blp.response(201, RoamingBookingSchema)
@NOT_FOUND
@CONFLICT
@api_auth(blp)
def book(data: dict[str, Any]) -> Any:
    """Book a partner charger through its network (the network's answer is returned)."""
    return roaming_bookings.book_roaming(
        current_user(), data["evse_id"], data["start"], data["end"]
    )


@blp.route("/bookings")
@blp.response(200, RoamingBookingSchema(many=True))
@api_auth(blp)
def bookings() -> Any:
    """List my bookings on partner networks with their latest status."""
    return roaming_bookings.driver_bookings(current_user())
