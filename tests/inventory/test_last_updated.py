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


def test_removing_a_connector_moves_its_evse_and_location(make_location):
    location = make_location()
    evse = location.evses[0]
    chademo = {"standard": "CHADEMO", "format": "CABLE", "power_type": "DC"}
    evse.connectors.append(Connector(ocpi_id="2", max_voltage=400, max_amperage=125, **chademo))
    db.session.flush()
    past = _aged(location)
    evse.connectors.remove(evse.connectors[1])
    db.session.flush()
    db.session.refresh(location)
    db.session.refresh(evse)
    assert [connector.ocpi_id for connector in evse.connectors] == ["1"]
    assert evse.last_updated > past
    assert location.last_updated > past


def test_replacing_the_schedule_moves_the_location(make_location):
    from datetime import time

    from app.models import AvailabilityWindow

    location = make_location()
    past = _aged(location)
    location.availability = [AvailabilityWindow(weekday=1, start_time=time(8), end_time=time(9))]
    db.session.flush()
    db.session.refresh(location)
    assert location.last_updated > past


def test_patching_a_connector_through_the_api_moves_the_listing(
    client, create_listing, owner_headers, listing_body
):
    created = create_listing()
    location = db.session.get(Location, created["id"])
    past = _aged(location)
    evse = listing_body()["evses"][0]
    evse["connectors"][0]["max_amperage"] = 32
    response = client.patch(
        f"/api/v1/listings/{created['id']}", json={"evses": [evse]}, headers=owner_headers
    )
    body = response.get_json()
    assert body["evses"][0]["connectors"][0]["max_amperage"] == 32
    for stamp in (
        body["last_updated"],
        body["evses"][0]["last_updated"],
        body["evses"][0]["connectors"][0]["last_updated"],
    ):
        assert stamp > past.isoformat()
