"""Locations Sender interface (CPO): list with pagination, one Location, EVSE or Connector."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from app.core.db import reads_alone
from app.core.replica import stale_reads_ok
from app.ocpi import errors
from app.ocpi.locations import pages, queries
from app.ocpi.locations.serialise import connector_to_ocpi, evse_to_ocpi
from app.ocpi.pagination import page_request, page_response
from app.ocpi.transport import VERSION_RULE, envelope, ocpi_endpoint

blp = Blueprint("ocpi_locations", __name__, url_prefix=f"/ocpi/cpo/{VERSION_RULE}/locations")


@blp.get("")
@stale_reads_ok
@ocpi_endpoint("locations")
def list_locations(version: str) -> ResponseReturnValue:
    """List published locations, oldest change first."""
    page = page_request()
    found = pages.location_page(page, version)
    return page_response(found.items, found.rows, found.total, page, raw_items=found.raw)


@blp.get("/<location_id>")
@blp.get("/<location_id>/<evse_uid>")
@blp.get("/<location_id>/<evse_uid>/<connector_id>")
@reads_alone
@ocpi_endpoint("locations")
def get_location(
    version: str, location_id: str, evse_uid: str | None = None, connector_id: str | None = None
) -> ResponseReturnValue:
    """One Location, or one of its EVSEs or Connectors."""
    if evse_uid is None:
        document = pages.location_json(location_id, version)
        if document is None:
            raise errors.UnknownLocation(f"Unknown location {location_id}")
        return envelope(raw_data=document)
    location = queries.published_location(location_id)
    if location is None:
        raise errors.UnknownLocation(f"Unknown location {location_id}")
    evse = next((e for e in location.evses if e.uid == evse_uid), None)
    if evse is None:
        raise errors.UnknownObject(f"Unknown EVSE {evse_uid}")
    if connector_id is None:
        return envelope(evse_to_ocpi(evse, version))
    connector = next((c for c in evse.connectors if c.ocpi_id == connector_id), None)
    if connector is None:
        raise errors.UnknownObject(f"Unknown connector {connector_id}")
    return envelope(connector_to_ocpi(connector, version))
