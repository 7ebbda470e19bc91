"""Tariffs Receiver interface (eMSP): partner CPOs push their Tariffs (PUT, DELETE)."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from app.ocpi.tariffs import inbound
from app.ocpi.transport import VERSION_RULE, current_partner, envelope, json_body, ocpi_endpoint

blp = Blueprint("ocpi_emsp_tariffs", __name__, url_prefix=f"/ocpi/emsp/{VERSION_RULE}/tariffs")
RULE = "/<country_code>/<party_id>/<tariff_id>"


@blp.get(RULE, strict_slashes=False)
@ocpi_endpoint("tariffs")
def get_tariff(
    version: str, country_code: str, party_id: str, tariff_id: str
) -> ResponseReturnValue:
    """Our copy of a partner's Tariff."""
    return envelope(
        inbound.get_tariff(current_partner(), version, country_code, party_id, tariff_id)
    )


@blp.put(RULE, strict_slashes=False)
@ocpi_endpoint("tariffs")
def put_tariff(
    version: str, country_code: str, party_id: str, tariff_id: str
) -> ResponseReturnValue:
    """Store a whole Tariff (an older one is ignored)."""
    inbound.put_tariff(current_partner(), version, country_code, party_id, tariff_id, json_body())
    return envelope()


@blp.delete(RULE, strict_slashes=False)
@ocpi_endpoint("tariffs")
def delete_tariff(
    version: str, country_code: str, party_id: str, tariff_id: str
) -> ResponseReturnValue:
    """Delete a partner's Tariff."""
    inbound.delete_tariff(current_partner(), country_code, party_id, tariff_id)
    return envelope()
