"""Locations and tariffs Sender interfaces: pagination, filters, shapes, visibility."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import update

from app.extensions import db as _db
from app.inventory.models import Location
from app.ocpi.schemas.locations import LOCATION
from app.ocpi.schemas.tariffs import TARIFF
from tests.ocpi.conformance import assert_exact
from tests.ocpi.conftest import token_header

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def set_last_updated(location, moment):
    """Back-date a location: the inventory's flush hook stamps every ORM change with now."""
    _db.session.execute(
        update(Location).where(Location.id == location.id).values(last_updated=moment)
    )
    _db.session.expire(location)


@pytest.fixture
def five_locations(make_location):
    locations = [make_location() for _ in range(5)]
    for minutes, location in enumerate(locations):
        set_last_updated(location, T0 + timedelta(minutes=minutes))
    return locations


def _next_link(reply) -> str | None:
    link = reply.headers.get("Link")
    if not link:
        return None
    return link.split(";")[0].strip("<>")


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_pages_follow_link_with_total_count_and_the_page_limit(
    client, make_partner, five_locations
):
    _, token = make_partner()
    url = "/ocpi/cpo/2.2.1/locations?limit=2&date_from=2025-01-01T00:00:00Z"
    seen = []
    while url:
        reply = client.get(url, headers=token_header(token))
        assert reply.status_code == 200
        assert reply.headers["X-Total-Count"] == "5"
        assert reply.headers["X-Limit"] == "2"  # the limit applied, not the server's 1000
        seen += [item["id"] for item in reply.get_json()["data"]]
        link = _next_link(reply)
        if link:
            query = parse_qs(urlsplit(link).query)
            assert query["date_from"] == ["2025-01-01T00:00:00Z"]
            assert query["limit"] == ["2"]
            assert query["offset"] == [str(len(seen))]
        url = _path(link) if link else None
    assert seen == [location.ocpi_id for location in five_locations]


def test_limit_is_capped_and_x_limit_reports_the_cap(
    app, client, make_partner, five_locations, monkeypatch
):
    monkeypatch.setitem(app.config, "OCPI_PAGE_LIMIT", 3)
    _, token = make_partner()
    reply = client.get("/ocpi/cpo/2.2.1/locations?limit=50", headers=token_header(token))
    assert len(reply.get_json()["data"]) == 3
    assert reply.headers["X-Limit"] == "3"
    assert "offset=3" in reply.headers["Link"]


def test_plain_offset_without_cursor_still_pages(client, make_partner, five_locations):
    _, token = make_partner()
    reply = client.get("/ocpi/cpo/2.2.1/locations?offset=2&limit=2", headers=token_header(token))
    assert [i["id"] for i in reply.get_json()["data"]] == [
        loc.ocpi_id for loc in five_locations[2:4]
    ]
    last = client.get("/ocpi/cpo/2.2.1/locations?offset=4&limit=2", headers=token_header(token))
    assert [i["id"] for i in last.get_json()["data"]] == [five_locations[4].ocpi_id]
    assert "Link" not in last.headers


def test_date_from_is_inclusive_and_date_to_exclusive(client, make_partner, five_locations):
    _, token = make_partner()
    frm = (T0 + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    to = (T0 + timedelta(minutes=3)).isoformat().replace("+00:00", "Z")
    reply = client.get(
        f"/ocpi/cpo/2.2.1/locations?date_from={frm}&date_to={to}", headers=token_header(token)
    )
    assert [i["id"] for i in reply.get_json()["data"]] == [
        loc.ocpi_id for loc in five_locations[1:3]
    ]
    assert reply.headers["X-Total-Count"] == "2"


def test_bad_paging_parameters_are_2001(client, make_partner):
    _, token = make_partner()
    for query in ("offset=-1", "limit=0", "limit=x", "date_from=yesterday"):
        reply = client.get(f"/ocpi/cpo/2.2.1/locations?{query}", headers=token_header(token))
        assert reply.get_json()["status_code"] == 2001, query


def test_unpublished_deleted_and_foreign_locations_are_not_served(
    client, make_partner, make_location, make_party
):
    _, token = make_partner()
    shown = make_location()
    hidden = make_location(publish=False)
    gone = make_location(deleted_at=T0)
    make_party(country_code="DE", party_id="CPX")
    foreign = make_location(country_code="DE", party_id="CPX")
    data = client.get("/ocpi/cpo/2.2.1/locations", headers=token_header(token)).get_json()["data"]
    assert [i["id"] for i in data] == [shown.ocpi_id]
    for location in (hidden, gone, foreign):
        reply = client.get(
            f"/ocpi/cpo/2.2.1/locations/{location.ocpi_id}", headers=token_header(token)
        )
        assert reply.status_code == 404 and reply.get_json()["status_code"] == 2003


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
def test_served_locations_validate_against_the_versions_schema(
    client, make_partner, make_location, version
):
    _, token = make_partner()
    location = make_location(evses=2, connector={"tariff_ids": ["T1"]})
    reply = client.get(f"/ocpi/cpo/{version}/locations", headers=token_header(token))
    data = reply.get_json()["data"]
    assert_exact(LOCATION[version](), data[0])
    assert data[0]["coordinates"] == {"latitude": "52.370216", "longitude": "4.895168"}
    assert [e["uid"] for e in data[0]["evses"]] == [e.uid for e in location.evses]


def test_one_location_evse_and_connector(client, make_partner, make_location):
    _, token = make_partner()
    location = make_location()
    evse = location.evses[0]
    base = f"/ocpi/cpo/2.2.1/locations/{location.ocpi_id}"
    assert (
        client.get(base, headers=token_header(token)).get_json()["data"]["id"] == location.ocpi_id
    )
    got = client.get(f"{base}/{evse.uid}", headers=token_header(token)).get_json()["data"]
    assert got["uid"] == evse.uid and got["status"] == "AVAILABLE"
    connector = client.get(f"{base}/{evse.uid}/1", headers=token_header(token)).get_json()["data"]
    assert connector["standard"] == "IEC_62196_T2" and connector["max_electric_power"] == 11000
    missing = client.get(f"{base}/NOPE", headers=token_header(token))
    assert missing.status_code == 404


def test_sharing_windows_and_blackouts_become_opening_times(client, make_partner, make_location):
    from datetime import date, time

    from app.inventory.models import AvailabilityWindow, Blackout

    _, token = make_partner()
    location = make_location()
    location.availability.append(
        AvailabilityWindow(weekday=1, start_time=time(18), end_time=time(0))
    )
    location.blackouts.append(Blackout(start_date=date(2026, 7, 1), end_date=date(2026, 7, 2)))
    from app.extensions import db

    db.session.flush()
    data = client.get(
        f"/ocpi/cpo/2.2.1/locations/{location.ocpi_id}", headers=token_header(token)
    ).get_json()["data"]
    assert data["opening_times"] == {
        "twentyfourseven": False,
        "regular_hours": [{"weekday": 1, "period_begin": "18:00", "period_end": "24:00"}],
        "exceptional_closings": [
            {"period_begin": "2026-06-30T22:00:00Z", "period_end": "2026-07-02T22:00:00Z"}
        ],
    }


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
def test_tariffs_are_served_in_the_versions_shape(client, make_partner, make_tariff, version):
    from decimal import Decimal

    _, token = make_partner()
    make_tariff(
        min_price={"excl_vat": Decimal("1.00"), "incl_vat": Decimal("1.21")}, tax_included=True
    )
    reply = client.get(f"/ocpi/cpo/{version}/tariffs", headers=token_header(token))
    data = reply.get_json()["data"]
    assert reply.headers["X-Total-Count"] == "1"
    assert_exact(TARIFF[version](), data[0])
    if version == "2.3.0":
        assert data[0]["min_price"] == {"before_taxes": 1.0, "after_taxes": 1.21}
        assert data[0]["tax_included"] == "YES"
    else:
        assert data[0]["min_price"] == {"excl_vat": 1.0, "incl_vat": 1.21}
