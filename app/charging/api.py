"""JSON API /api/v1/charging: start and stop charging for a booking, notices, RFID cards."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from app.accounts.auth import api_auth, current_user
from app.charging import queries, services, tokens
from app.charging.commands import command_sender
from app.charging.models import DriverToken, Notice
from app.charging.schemas import CardInSchema, CardSchema, CommandAnswerSchema, NoticeSchema

blp = Blueprint("charging", __name__, description="Charging at a booked charger")

CONFLICT = blp.alt_response(409, response="CONFLICT")
NOT_FOUND = blp.alt_response(404, response="NOT_FOUND")
# A command the charger did not answer in time (it may still act), or one the gateway could
# not carry: problem JSON like every error, never a 200 with the failure inside.
NOT_ANSWERED = blp.alt_response(504, response="GATEWAY_TIMEOUT")
NOT_DELIVERED = blp.alt_response(502, response="BAD_GATEWAY")


@blp.route("/bookings/<int:booking_id>/start", methods=["POST"])
@blp.response(200, CommandAnswerSchema)
@CONFLICT
@NOT_FOUND
@NOT_ANSWERED
@NOT_DELIVERED
@api_auth(blp)
def start(booking_id: int) -> dict[str, str]:
    """Start charging for my booking now (the charger is told to start)."""
    status = services.remote_start_booking(current_user(), booking_id, command_sender())
    return {"status": status}


@blp.route("/bookings/<int:booking_id>/stop", methods=["POST"])
@blp.response(200, CommandAnswerSchema)
@CONFLICT
@NOT_FOUND
@NOT_ANSWERED
@NOT_DELIVERED
@api_auth(blp)
def stop(booking_id: int) -> dict[str, str]:
    """Stop charging for my booking."""
    status = services.remote_stop_booking(current_user(), booking_id, command_sender())
    return {"status": status}


@blp.route("/notices")
class Notices(MethodView):
    @blp.response(200, NoticeSchema(many=True))
    @api_auth(blp)
    def get(self) -> list[Notice]:
        """List my notices about bookings, newest first."""
        return queries.notices_of(current_user().id)


def card_view(link: DriverToken) -> dict[str, Any]:
    """Return a card as the API shows it (with its token's validity)."""
    return {
        "uid": link.uid,
        "label": link.label,
        "valid": tokens.card_valid(link),
        "created_at": link.created_at,
    }


@blp.route("/cards")
class Cards(MethodView):
    @blp.response(200, CardSchema(many=True))
    @api_auth(blp)
    def get(self) -> list[dict[str, Any]]:
        """List my RFID cards."""
        return [card_view(link) for link in tokens.cards_of(current_user().id)]

    @blp.response(201, CardSchema)
    @CONFLICT
    @api_auth(blp)
    @blp.arguments(CardInSchema)
    def post(self, card: dict[str, Any]) -> dict[str, Any]:
        """Register an RFID card: chargers accept it for me at once."""
        return card_view(tokens.add_card(current_user().id, card["uid"], card["label"]))


@blp.route("/cards/<uid>")
class Card(MethodView):
    @blp.response(204)
    @NOT_FOUND
    @api_auth(blp)
    def delete(self, uid: str) -> None:
        """Remove an RFID card (chargers refuse it from now on)."""
        tokens.remove_card(current_user().id, uid)


@blp.route("/cards/<uid>/block", methods=["POST"])
@blp.response(200, CardSchema)
@NOT_FOUND
@api_auth(blp)
def block(uid: str) -> dict[str, Any]:
    """Block an RFID card (lost or lent) until it is unblocked."""
    return card_view(tokens.block_card(current_user().id, uid))


@blp.route("/cards/<uid>/unblock", methods=["POST"])
@blp.response(200, CardSchema)
@NOT_FOUND
@api_auth(blp)
def unblock(uid: str) -> dict[str, Any]:
    """Make a blocked RFID card valid again."""
    return card_view(tokens.unblock_card(current_user().id, uid))
