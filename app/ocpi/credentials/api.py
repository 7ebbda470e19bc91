"""OCPI credentials endpoint (symmetric): GET, POST register, PUT update, DELETE unregister."""

from __future__ import annotations

from flask import Blueprint, g
from flask.typing import ResponseReturnValue

from app.ocpi import registry
from app.ocpi.credentials import services
from app.ocpi.transport import VERSION_RULE, current_partner, envelope, json_body, ocpi_endpoint

blp = Blueprint("ocpi_credentials", __name__, url_prefix=f"/ocpi/{VERSION_RULE}/credentials")


@blp.get("")
@ocpi_endpoint("credentials", token_a=True, registered=False)
def get_credentials(version: str) -> ResponseReturnValue:
    """Return the credentials by which the caller reaches PlugPool."""
    return envelope(registry.own_credentials(g.ocpi_presented_token, version, current_partner()))


@blp.post("")
@ocpi_endpoint("credentials", token_a=True, registered=False)
def post_credentials(version: str) -> ResponseReturnValue:
    """Register the caller: we call back its versions and answer with TOKEN_C."""
    body = json_body()
    return envelope(services.register_partner(current_partner(), body, version))


@blp.put("")
@ocpi_endpoint("credentials", token_a=True, registered=False)
def put_credentials(version: str) -> ResponseReturnValue:
    """Update the caller's credentials (token rotation, version or endpoint change)."""
    body = json_body()
    return envelope(services.update_partner(current_partner(), body, version))


@blp.delete("")
@ocpi_endpoint("credentials", token_a=True, registered=False)
def delete_credentials(version: str) -> ResponseReturnValue:
    """Unregister the caller."""
    services.unregister_partner(current_partner())
    return envelope()
