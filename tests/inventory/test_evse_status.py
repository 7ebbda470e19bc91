"""An EVSE status change commits with its outbox event; the location's last_updated moves."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.errors import ValidationFailed
from app.core.outbox import OutboxEvent
from app.extensions import db as _db
from app.inventory import services
from app.inventory.events import EVSE_STATUS_CHANGED


def _events() -> list[tuple[str, dict]]:
    rows = _db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))
    return [(e.topic, e.payload) for e in rows]


def test_evse_status_change_emits_one_event_and_moves_last_updated(db, make_location):
    location = make_location()
    evse = location.evses[0]
    before = location.last_updated
    services.set_evse_status(evse, "CHARGING")
    services.set_evse_status(evse, "CHARGING")  # unchanged: no news
    [(topic, payload)] = _events()
    assert topic == EVSE_STATUS_CHANGED
    assert payload["pk"] == location.id and payload["location_id"] == location.ocpi_id
    assert (payload["evse_uid"], payload["status"]) == (evse.uid, "CHARGING")
    assert location.last_updated > before and evse.last_updated == location.last_updated


def test_unknown_status_is_refused_without_an_event(db, make_location):
    location = make_location()
    with pytest.raises(ValidationFailed):
        services.set_evse_status(location.evses[0], "SLEEPING")
    assert location.evses[0].status == "AVAILABLE"
    assert _events() == []
