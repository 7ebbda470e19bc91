"""eMSP side of Locations: what partner CPOs push (PUT, PATCH) and what we pull, stored.

The Receiver's rules: the party in the URL must be one the partner holds as a CPO, ids in the
body must be the URL's, a PATCH needs last_updated and an object we hold (else 2003, so the
CPO sends it whole), and an object older than the stored one is ignored (still 1000).
"""

from __future__ import annotations

import logging
from typing import Any

from app.inventory import roaming
from app.inventory.models import Connector, Evse, Location
from app.ocpi import errors
from app.ocpi.locations import received
from app.ocpi.locations.serialise import connector_to_ocpi, evse_to_ocpi, location_to_ocpi
from app.ocpi.models import OcpiPartner

log = logging.getLogger("plugpool.ocpi.emsp")

Path = tuple[str, str, str, str | None, str | None]  # cc, party, location id, evse uid, connector


def get_object(partner: OcpiPartner, version: str, path: Path) -> dict[str, Any]:
    """Our copy of a partner's Location, EVSE or Connector."""
    location, evse, connector = _find(partner, path)
    if connector is not None:
        return connector_to_ocpi(connector, version)
    if evse is not None:
        return evse_to_ocpi(evse, version)
    return location_to_ocpi(location, version)


def put_object(partner: OcpiPartner, version: str, path: Path, body: Any) -> bool:
    """Store a whole Location, EVSE or Connector; False when older than ours (ignored)."""
    cc, party, location_id, evse_uid, connector_id = path
    cc, party = received.check_party(partner, cc, party)
    if evse_uid is None:
        data = received.load("location", version, body)
        received.same_id(cc, data["country_code"], "country_code")
        received.same_id(party, data["party_id"], "party_id")
        received.same_id(location_id, data["id"], "id")
        return roaming.put_locations([received.location_row(data)]) == 1
    location = _location(cc, party, location_id)
    if connector_id is None:
        data = received.load("evse", version, body)
        received.same_id(evse_uid, data["uid"], "uid")
        return roaming.put_evse(location, received.evse_row(data))
    evse = _evse(location, evse_uid)
    data = received.load("connector", version, body)
    received.same_id(connector_id, data["id"], "id")
    return roaming.put_connector(location, evse, received.connector_values(data, whole=True))


def patch_object(partner: OcpiPartner, version: str, path: Path, body: Any) -> bool:
    """Apply a partial Location, EVSE or Connector; False when older than ours (ignored)."""
    cc, party, location_id, evse_uid, connector_id = path
    cc, party = received.check_party(partner, cc, party)
    kind = "location" if evse_uid is None else "evse" if connector_id is None else "connector"
    data = received.load(kind, version, body, partial=True)
    if kind == "evse":
        received.same_id(evse_uid or "", data.get("uid"), "uid")
        connectors = data.get("connectors")
        whole = [received.connector_values(c, whole=True) for c in connectors or ()]
        applied = roaming.patch_evse(
            (cc, party, location_id),
            evse_uid or "",
            received.evse_values(data),
            whole if connectors is not None else None,
        )
        if applied is None:
            raise errors.UnknownLocation(f"Unknown EVSE {cc}*{party}*{location_id}*{evse_uid}")
        return applied
    location = _location(cc, party, location_id)
    if kind == "location":
        for name, value in (("country_code", cc), ("party_id", party), ("id", location_id)):
            received.same_id(value, data.get(name), name)
        applied = roaming.patch_object(location, received.location_values(data))
        # EVSEs listed in a Location PATCH are whole EVSEs: each stored as by PUT.
        for evse in data.get("evses", ()) if applied else ():
            roaming.put_evse(location, received.evse_row(evse))
        return applied
    evse = _evse(location, evse_uid or "")
    connector = _connector(evse, connector_id or "")
    received.same_id(connector.ocpi_id, data.get("id"), "id")
    return roaming.patch_object(connector, received.connector_values(data))


def put_pulled(partner: OcpiPartner, version: str, items: list[Any]) -> tuple[int, int]:
    """Store a pulled page of Locations; return (applied, refused: invalid or foreign party)."""
    rows, refused = [], 0
    for item in items:
        try:
            data = received.load("location", version, item)
            received.check_party(partner, data["country_code"], data["party_id"])
        except errors.InvalidParameters as error:
            refused += 1
            log.warning("partner %s: location refused: %s", partner.id, error.status_message)
            continue
        rows.append(received.location_row(data))
    return roaming.put_locations(rows), refused


def _find(partner: OcpiPartner, path: Path) -> tuple[Location, Evse | None, Connector | None]:
    cc, party, location_id, evse_uid, connector_id = path
    cc, party = received.check_party(partner, cc, party)
    location = _location(cc, party, location_id)
    evse = _evse(location, evse_uid) if evse_uid else None
    connector = _connector(evse, connector_id) if evse and connector_id else None
    return location, evse, connector


def _location(cc: str, party: str, location_id: str) -> Location:
    location = roaming.partner_location(cc, party, location_id)
    if location is None:
        raise errors.UnknownLocation(f"Unknown location {cc}*{party}*{location_id}")
    return location


def _evse(location: Location, uid: str) -> Evse:
    evse = next((evse for evse in location.evses if evse.uid == uid), None)
    if evse is None:
        raise errors.UnknownLocation(f"Unknown EVSE {uid}")
    return evse


def _connector(evse: Evse, connector_id: str) -> Connector:
    connector = next((c for c in evse.connectors if c.ocpi_id == connector_id), None)
    if connector is None:
        raise errors.UnknownLocation(f"Unknown connector {connector_id}")
    return connector
