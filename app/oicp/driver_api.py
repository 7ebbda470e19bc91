"""JSON API /api/v1/roaming/hubject: a driver starts and stops charging on a Hubject charger."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.accounts.auth import api_auth, current_user
from app.api.schemas import id_field
from app.oicp.models import OicpSession
from app.oicp.services import emp_sessions

blp = Blueprint("hubject", __name__, description="Charging on Hubject's chargers (OICP)")

CONFLICT = blp.alt_response(409, response="CONFLICT")


class StartSchema(Schema):
    evse_id = id_field(required=True, metadata={"description": "EVSE id from the search"})


class HubjectSessionSchema(Schema):
    id = fields.Integer()
    session_id = fields.String(allow_none=True, metadata={"description": "Hubject's SessionID"})
    evse_id = fields.String()
    status = fields.String()


@blp.route("/sessions", methods=["POST"])
@blp.arguments(StartSchema)
@blp.response(201, HubjectSessionSchema)
@CONFLICT
@api_auth(blp)
def start(data: dict[str, Any]) -> OicpSession:
    """Start charging at a Hubject charger (AuthorizeRemoteStart through Hubject)."""
    return emp_sessions.start_remote(current_user().id, data["evse_id"])


@blp.route("/sessions/<int:session_id>/stop", methods=["POST"])
@blp.response(200, HubjectSessionSchema)
@CONFLICT
@api_auth(blp)
def stop(session_id: int) -> OicpSession:
    """Stop my charging at a Hubject charger (AuthorizeRemoteStop)."""
    return emp_sessions.stop_remote(current_user().id, session_id)
