"""Commands Sender (eMSP): send a command to a partner CPO, receive its CommandResult.

This module translates: it builds the OCPI request, reads the CommandResponse, and hands the
asynchronous CommandResult to app.charging (services.roaming_commands), which decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, g
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from app.ocpi import errors, registry
from app.ocpi.client import OcpiClient, endpoint_url
from app.ocpi.models import OcpiPartner
from app.ocpi.schemas.commands import CommandResponse, CommandResult
from app.ocpi.transport import VERSION_RULE, envelope, json_body, ocpi_endpoint

blp = Blueprint("ocpi_emsp_commands", __name__, url_prefix=f"/ocpi/emsp/{VERSION_RULE}/commands")


@dataclass(frozen=True)
class Sent:
    """The CPO's CommandResponse (response None: the call itself failed)."""

    response: str | None
    timeout: int | None = None
    message: str | None = None


def response_url(partner: OcpiPartner, command: str, uid: str) -> str:
    """Our URL for the CommandResult of one command."""
    version = partner.version or "2.2.1"
    return f"{registry.ocpi_base_url()}/emsp/{version}/commands/{command}/{uid}"


def send_command(
    partner: OcpiPartner, command: str, body: dict[str, Any], to_party: tuple[str, str]
) -> Sent:
    """POST the command to the partner's Commands Receiver; return its CommandResponse."""
    url = partner.endpoint("commands", "RECEIVER")
    if url is None or not partner.token_out:
        return Sent("NOT_SUPPORTED", message="The network takes no commands")
    client = OcpiClient(partner.token_out, raw_token=partner.raw_tokens, to_party=to_party)
    try:
        reply = client.post(endpoint_url(url, command), body)
        data = CommandResponse().load(reply.data or {})
    except errors.PartnerCallFailed as error:
        return Sent(None, message=str(error)[:255])
    except ValidationError as error:
        return Sent(None, message=f"invalid CommandResponse: {error.messages}"[:255])
    return Sent(data["result"], data["timeout"], _text(data.get("message")))


def _text(message: list[dict[str, Any]] | None) -> str | None:
    """The first DisplayText, English preferred."""
    if not message:
        return None
    english = next((m for m in message if m["language"].lower() == "en"), message[0])
    return english["text"][:255]


@blp.post("/<command>/<uid>", strict_slashes=False)
@ocpi_endpoint("commands")
def post_result(version: str, command: str, uid: str) -> ResponseReturnValue:
    """Receive the CommandResult of a command we sent."""
    from app.charging.services import roaming_commands

    try:
        data = CommandResult().load(json_body())
    except ValidationError as error:
        raise errors.InvalidParameters(f"Invalid CommandResult: {error.messages}") from error
    recorded = roaming_commands.record_command_result(
        g.ocpi_partner_id, command, uid, data["result"], _text(data.get("message"))
    )
    if not recorded:
        raise errors.UnknownObject(f"No {command} command {uid}")
    return envelope()
