"""Inventory use cases partners hear about: each change commits with its outbox event."""

from __future__ import annotations

from typing import Any

from app.core.clock import utcnow
from app.core.errors import ValidationFailed
from app.core.outbox import emit
from app.extensions import db
from app.inventory.enums import EvseStatus
from app.inventory.models import Evse, Location

# Topics the OCPI push job delivers to partner eMSPs.
LOCATION_CHANGED = "ocpi.location"
EVSE_STATUS_CHANGED = "ocpi.evse_status"

EDITABLE_LOCATION_FIELDS = frozenset(
    {
        "name",
        "address",
        "city",
        "postal_code",
        "state",
        "publish",
        "parking_type",
        "facilities",
        "directions",
        "images",
        "opening_times",
        "charging_when_closed",
        "access_instructions",
        "description",
    }
)


def set_evse_status(evse: Evse, status: str) -> Evse:
    """Record an EVSE's new status; an unchanged status is not news."""
    if status not in EvseStatus.__members__:
        raise ValidationFailed({"status": [f"unknown EVSE status {status!r}"]})
    if evse.status == status:
        return evse
    now = utcnow()
    evse.status = status
    evse.last_updated = now
    # An OCPI Location's last_updated covers its EVSEs: pulls with date_from must see it.
    evse.location.last_updated = now
    emit(
        db.session,
        EVSE_STATUS_CHANGED,
        "evse",
        str(evse.id),
        {"location_id": evse.location_id, "evse_uid": evse.uid, "status": status},
    )
    db.session.commit()
    return evse


def update_location(location: Location, **changes: Any) -> Location:
    """Change a listing's details (and publication); partners get the whole Location again."""
    unknown = set(changes) - EDITABLE_LOCATION_FIELDS
    if unknown:
        raise ValidationFailed({name: ["not editable"] for name in sorted(unknown)})
    for name, value in changes.items():
        setattr(location, name, value)
    location.last_updated = utcnow()
    emit(db.session, LOCATION_CHANGED, "location", str(location.id), {"location_id": location.id})
    db.session.commit()
    return location


def delete_location(location: Location) -> Location:
    """Withdraw a listing; partners see its EVSEs REMOVED (OCPI has no DELETE for locations)."""
    now = utcnow()
    location.deleted_at = now
    location.last_updated = now
    for evse in location.evses:
        evse.status = EvseStatus.REMOVED.value
        evse.last_updated = now
    emit(db.session, LOCATION_CHANGED, "location", str(location.id), {"location_id": location.id})
    db.session.commit()
    return location
