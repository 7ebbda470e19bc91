"""hubclientinfo Receiver: a hub partner PUTs the ClientInfo of a party behind it."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from app.ocpi.hubparty import services
from app.ocpi.transport import VERSION_RULE, current_partner, envelope, json_body, ocpi_endpoint

blp = Blueprint("ocpi_hubparty", __name__, url_prefix=f"/ocpi/{VERSION_RULE}/hubclientinfo")


@blp.put("/<country_code>/<party_id>")
@ocpi_endpoint("hubclientinfo")
def put_client_info(version: str, country_code: str, party_id: str) -> ResponseReturnValue:
    services.put_client_info(current_partner(), (country_code, party_id), json_body())
    return envelope()
