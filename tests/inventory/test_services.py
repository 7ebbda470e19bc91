"""Inventory changes write their outbox event in the same transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.errors import ValidationFailed
from app.core.outbox import OutboxEvent
from app.extensions import db
from app.inventory import services


def _events() -> list[tuple[str, dict]]:
    rows = db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))
    return [(e.topic, e.payload) for e in rows]


def test_evse_status_change_emits_one_event_and_moves_last_updated(db, make_location):
    location = make_location()
    evse = location.evses[0]
    before = location.last_updated
    services.set_evse_status(evse, "CHARGING")
    services.set_evse_status(evse, "CHARGING")  # unchanged: no news
    assert _events() == [
        (
            "ocpi.evse_status",
            {"location_id": location.id, "evse_uid": evse.uid, "status": "CHARGING"},
        )
    ]
    assert location.last_updated > before and evse.last_updated == location.last_updated


def test_unknown_status_or_field_is_refused_without_an_event(db, make_location):
    location = make_location()
    with pytest.raises(ValidationFailed):
        services.set_evse_status(location.evses[0], "SLEEPING")
    with pytest.raises(ValidationFailed):
        services.update_location(location, owner_id=None)
    assert _events() == []


def test_location_update_and_delete_emit_location_events(db, make_location):
    location = make_location()
    services.update_location(location, name="New name", publish=True)
    services.delete_location(location)
    assert [topic for topic, _ in _events()] == ["ocpi.location", "ocpi.location"]
    assert location.deleted_at is not None
    assert {e.status for e in location.evses} == {"REMOVED"}
