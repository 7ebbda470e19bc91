"""The database-built Location documents equal the Python serialiser's, field for field."""

from __future__ import annotations

import json
from datetime import date, time

import pytest

from app.extensions import db as _db
from app.inventory.models import AvailabilityWindow, Blackout, Connector, Location
from app.ocpi.locations import documents, queries
from app.ocpi.locations.serialise import location_to_ocpi
from app.ocpi.pagination import PageRequest, page_select
from tests.ocpi.conftest import token_header


@pytest.fixture
def varied_locations(make_location):
    plain = make_location(name=None, postal_code=None)
    rich = make_location(
        evses=2,
        connector={"tariff_ids": ["T1", "T2"], "terms_and_conditions": "https://t.example/c"},
        facilities=["CAFE", "WIFI"],
        directions=[{"language": "en", "text": "Behind the house"}],
        images=[{"url": "https://i.example/1.jpg", "category": "OWNER", "type": "jpeg"}],
        parking_type="ON_DRIVEWAY",
        state="NH",
        charging_when_closed=False,
    )
    rich.evses[0].capabilities = ["RESERVABLE", "REMOTE_START_STOP_CAPABLE"]
    rich.evses[0].floor_level = "-1"
    rich.evses[0].physical_reference = "A"
    rich.evses[1].parking_restrictions = ["EV_ONLY"]
    rich.evses[1].connectors.append(
        Connector(
            ocpi_id="2",
            standard="IEC_62196_T2_COMBO",
            format="CABLE",
            power_type="DC",
            max_voltage=400,
            max_amperage=125,
            max_electric_power=None,
            terms_and_conditions="",
        )
    )
    rich.availability.append(AvailabilityWindow(weekday=1, start_time=time(8), end_time=time(0)))
    rich.availability.append(
        AvailabilityWindow(weekday=6, start_time=time(9, 30), end_time=time(17, 45))
    )
    rich.blackouts.append(Blackout(start_date=date(2026, 12, 24), end_date=date(2026, 12, 26)))
    windows_only = make_location()
    windows_only.availability.append(
        AvailabilityWindow(weekday=3, start_time=time(0), end_time=time(12))
    )
    stored_hours = make_location(
        opening_times={
            "twentyfourseven": True,
            "exceptional_closings": [
                {"period_begin": "2026-12-25T03:00:00Z", "period_end": "2026-12-25T05:00:00Z"}
            ],
        }
    )
    _db.session.flush()
    return [plain, rich, windows_only, stored_hours]


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
def test_database_documents_equal_the_python_serialiser(app, db, varied_locations, version):
    with app.test_request_context():
        page = PageRequest(offset=0, limit=100, date_from=None, date_to=None, after=None)
        columns = documents.document_columns()
        query, total = page_select(Location, queries.published_filters(), page, *columns)
        built = {row[0]: json.loads(row[2]) for row in documents.location_documents(query)}
    assert total == len(varied_locations)
    for location in varied_locations:
        _db.session.refresh(location)
        assert built[location.id] == location_to_ocpi(location, version), location.ocpi_id


def test_python_page_path_serves_the_same_list(client, make_partner, varied_locations, monkeypatch):
    _, token = make_partner()
    from_database = client.get("/ocpi/cpo/2.3.0/locations", headers=token_header(token))
    monkeypatch.setattr(documents, "available", lambda: False)
    from_python = client.get("/ocpi/cpo/2.3.0/locations", headers=token_header(token))
    assert from_database.get_json()["data"] == from_python.get_json()["data"]
    assert len(from_python.get_json()["data"]) == 4


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
def test_one_location_from_the_database_equals_the_python_path(
    client, make_partner, varied_locations, monkeypatch, version
):
    _, token = make_partner()
    paths = [f"/ocpi/cpo/{version}/locations/{loc.ocpi_id}" for loc in varied_locations]
    from_database = [client.get(path, headers=token_header(token)) for path in paths]
    unknown = client.get(f"/ocpi/cpo/{version}/locations/NOPE", headers=token_header(token))
    monkeypatch.setattr(documents, "available", lambda: False)
    from_python = [client.get(path, headers=token_header(token)) for path in paths]
    for built, served in zip(from_database, from_python, strict=True):
        assert built.status_code == served.status_code == 200
        assert built.get_json()["data"] == served.get_json()["data"]
        assert built.headers["OCPI-from-party-id"] == served.headers["OCPI-from-party-id"]
    assert from_database[1].get_json()["data"]["evses"][1]["connectors"][1]["id"] == "2"
    assert unknown.status_code == 404 and unknown.get_json()["status_code"] == 2003
    unknown_python = client.get(f"/ocpi/cpo/{version}/locations/NOPE", headers=token_header(token))
    assert unknown_python.get_json()["status_code"] == 2003


def test_one_location_is_only_the_own_partys(app, client, make_partner, make_location, monkeypatch):
    _, token = make_partner()
    location = make_location()
    _db.session.flush()
    path = f"/ocpi/cpo/2.2.1/locations/{location.ocpi_id}"
    assert client.get(path, headers=token_header(token)).status_code == 200
    # The own party is read at each execution, not frozen into the cached statement.
    monkeypatch.setitem(app.config, "OWN_PARTY_ID", "ZZZ")
    assert client.get(path, headers=token_header(token)).get_json()["status_code"] == 2003


def test_fractions_of_seconds_are_cut_to_milliseconds_alike(app, db, make_location):
    from datetime import UTC, datetime

    from sqlalchemy import update

    location = make_location()
    moment = datetime(2026, 5, 1, 12, 0, 0, 123999, tzinfo=UTC)
    _db.session.execute(
        update(Location).where(Location.id == location.id).values(last_updated=moment)
    )
    _db.session.expire(location)
    with app.test_request_context():
        page = PageRequest(offset=0, limit=10, date_from=None, date_to=None, after=None)
        columns = documents.document_columns()
        query, _ = page_select(Location, queries.published_filters(), page, *columns)
        (row,) = documents.location_documents(query)
    assert json.loads(row[2])["last_updated"] == "2026-05-01T12:00:00.123Z"
    assert location_to_ocpi(location, "2.2.1")["last_updated"] == "2026-05-01T12:00:00.123Z"
