"""Locations Receiver interface (eMSP): partner CPOs push their Locations, EVSEs and Connectors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint
from flask.typing import ResponseReturnValue

from app.ocpi.locations import inbound
from app.ocpi.transport import VERSION_RULE, current_partner, envelope, json_body, ocpi_endpoint

blp = Blueprint("ocpi_emsp_locations", __name__, url_prefix=f"/ocpi/emsp/{VERSION_RULE}/locations")
View = Callable[..., Any]
ROUTES = (
    "/<country_code>/<party_id>/<location_id>",
    "/<country_code>/<party_id>/<location_id>/<evse_uid>",
    "/<country_code>/<party_id>/<location_id>/<evse_uid>/<connector_id>",
)


def _path(kwargs: dict[str, str]) -> inbound.Path:
    return (
        kwargs["country_code"],
        kwargs["party_id"],
        kwargs["location_id"],
        kwargs.get("evse_uid"),
        kwargs.get("connector_id"),
    )


def _routes(method: str) -> Callable[[View], View]:
    """Register a view on the Location, EVSE and Connector URLs (trailing slash allowed)."""

    def decorate(view: View) -> View:
        for rule in ROUTES:
            view = blp.route(rule, methods=[method], strict_slashes=False)(view)
        return view

    return decorate


@_routes("GET")
@ocpi_endpoint("locations")
def get_object(version: str, **path: str) -> ResponseReturnValue:
    """Our copy of a partner's Location, EVSE or Connector."""
    return envelope(inbound.get_object(current_partner(), version, _path(path)))


@_routes("PUT")
@ocpi_endpoint("locations")
def put_object(version: str, **path: str) -> ResponseReturnValue:
    """Store a whole Location, EVSE or Connector (an older one is ignored)."""
    inbound.put_object(current_partner(), version, _path(path), json_body())
    return envelope()


@_routes("PATCH")
@ocpi_endpoint("locations")
def patch_object(version: str, **path: str) -> ResponseReturnValue:
    """Update part of a Location, EVSE or Connector we hold (an older change is ignored)."""
    inbound.patch_object(current_partner(), version, _path(path), json_body())
    return envelope()
