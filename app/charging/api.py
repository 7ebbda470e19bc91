"""JSON API /api/v1/charging: start and stop charging for a booking, notices."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.accounts.auth import api_auth, current_user
from app.charging import queries, services
from app.charging.commands import command_sender
from app.charging.models import Notice
from app.charging.schemas import CommandAnswerSchema, NoticeSchema

blp = Blueprint("charging", __name__, description="Charging at a booked charger")

CONFLICT = blp.alt_response(409, response="CONFLICT")
NOT_FOUND = blp.alt_response(404, response="NOT_FOUND")


@blp.route("/bookings/<int:booking_id>/start", methods=["POST"])
@blp.response(200, CommandAnswerSchema)
@CONFLICT
@NOT_FOUND
@api_auth(blp)
def start(booking_id: int) -> dict[str, str]:
    """Start charging for my booking now (the charger is told to start)."""
    status = services.remote_start_booking(current_user(), booking_id, command_sender())
    return {"status": status}


@blp.route("/bookings/<int:booking_id>/stop", methods=["POST"])
@blp.response(200, CommandAnswerSchema)
@CONFLICT
@NOT_FOUND
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
