"""Commands Receiver interface (CPO): POST {commands_url}/{command}."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from app.ocpi.commands import services
from app.ocpi.transport import VERSION_RULE, current_partner, envelope, json_body, ocpi_endpoint

blp = Blueprint("ocpi_commands", __name__, url_prefix=f"/ocpi/cpo/{VERSION_RULE}/commands")


@blp.post("/<command>")
@ocpi_endpoint("commands")
def post_command(version: str, command: str) -> ResponseReturnValue:
    """Accept a command; its CommandResult is POSTed to response_url later."""
    body = json_body()
    return envelope(services.accept_command(current_partner(), command, body))
