"""Tokens Receiver interface (CPO): eMSPs GET, PUT and PATCH their drivers' tokens."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from app.ocpi.tokens import services
from app.ocpi.transport import VERSION_RULE, current_partner, envelope, json_body, ocpi_endpoint

blp = Blueprint("ocpi_tokens", __name__, url_prefix=f"/ocpi/cpo/{VERSION_RULE}/tokens")
TOKEN_URL = "/<country_code>/<party_id>/<token_uid>"  # noqa: S105 -- a URL rule


def _type() -> str:
    return request.args.get("type") or "RFID"


@blp.get(TOKEN_URL)
@ocpi_endpoint("tokens")
def get_token(
    version: str, country_code: str, party_id: str, token_uid: str
) -> ResponseReturnValue:
    """Return a token as we hold it."""
    token = services.get_token(current_partner(), country_code, party_id, token_uid, _type())
    return envelope(services.token_to_ocpi(token))


@blp.put(TOKEN_URL)
@ocpi_endpoint("tokens")
def put_token(
    version: str, country_code: str, party_id: str, token_uid: str
) -> ResponseReturnValue:
    """Create or replace a token (201 created, 200 updated)."""
    body = json_body()
    token_type = request.args.get("type")
    _, created = services.put_token(
        current_partner(), country_code, party_id, token_uid, token_type, body
    )
    return envelope(http_status=201 if created else 200)


@blp.patch(TOKEN_URL)
@ocpi_endpoint("tokens")
def patch_token(
    version: str, country_code: str, party_id: str, token_uid: str
) -> ResponseReturnValue:
    """Update some fields of a token."""
    body = json_body()
    services.patch_token(current_partner(), country_code, party_id, token_uid, _type(), body)
    return envelope()
