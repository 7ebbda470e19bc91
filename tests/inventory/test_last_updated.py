"""OCPI last_updated moves on every change, and an EVSE/Connector change moves its Location's."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from app.extensions import db
from app.models import Connector, Evse, Location


def _aged(location):
    """Set every timestamp to a fixed past moment (bypassing the ORM) so a change is visible."""
    past = datetime(2020, 1, 1, tzinfo=UTC)
    db.session.flush()
    for model in (Location, Evse, Connector):
        db.session.execute(update(model).values(last_updated=past))
    db.session.expire_all()
    assert location.last_updated == past
    return past


def test_evse_status_change_moves_the_location(make_location):
    location = make_location()
    past = _aged(location)
    evse = location.evses[0]
    evse.status = "CHARGING"
    db.session.flush()
    db.session.refresh(location)
    assert evse.last_updated > past
    assert location.last_updated > past


def test_connector_change_moves_its_evse_and_location(make_location):
    location = make_location()
    past = _aged(location)
    connector = location.evses[0].connectors[0]
    connector.max_electric_power = 7400
    db.session.flush()
    db.session.refresh(location)
    assert connector.last_updated > past
    assert location.evses[0].last_updated > past
    assert location.last_updated > past


def test_loading_without_changes_moves_nothing(make_location):
    location = make_location()
    past = _aged(location)
    evse = location.evses[0]
    evse.status = evse.status  # an attribute set with the same value is not a change
    db.session.flush()
    db.session.refresh(location)
    assert location.last_updated == past
