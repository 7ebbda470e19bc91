"""Owners create, read, list, change, publish and remove their listings."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.core.security import verify_secret
from app.extensions import db
from app.models import ChargeStation, Evse, Location, OutboxEvent, Tariff


def test_create_listing_returns_the_listing_and_a_one_time_ocpp_password(create_listing, app):
    body = create_listing()
    assert body["name"] == "Driveway charger"
    assert body["published"] is False
    assert body["latitude"] == "52.375218"
    assert body["country_code"] == "NL" and body["party_id"] == "PLG"
    [evse] = body["evses"]
    assert evse["status"] == "AVAILABLE"
    assert evse["ocpp_evse_id"] == 1
    assert evse["capabilities"] == ["REMOTE_START_STOP_CAPABLE", "RESERVABLE"]
    [connector] = evse["connectors"]
    assert connector["standard"] == "IEC_62196_T2"
    assert connector["tariff_ids"] == [body["price"]["tariff_id"]]
    assert body["price"] == {
        "currency": "EUR",
        "per_kwh": "0.30",
        "per_hour": "1.00",
        "per_session": "0.50",
        "vat": None,
        "tariff_id": body["price"]["tariff_id"],
    }
    assert body["availability"] == [
        {"weekday": 1, "start": "08:00", "end": "18:00"},
        {"weekday": 6, "start": "20:00", "end": "00:00"},
    ]
    assert body["blackouts"] == [
        {"start_date": "2026-12-24", "end_date": "2026-12-26", "reason": "Family"}
    ]
    [station] = body["stations"]
    assert station["station_id"].startswith("PP-") and len(station["station_id"]) == 11
    assert station["ocpp_url"] == f"{app.config['GATEWAY_PUBLIC_URL']}/{station['station_id']}"
    assert 16 <= len(station["ocpp_password"]) <= 40


def test_station_password_is_stored_only_as_an_argon2_hash(create_listing):
    body = create_listing()
    station_body = body["stations"][0]
    station = db.session.scalars(
        select(ChargeStation).where(ChargeStation.station_id == station_body["station_id"])
    ).one()
    password = station_body["ocpp_password"]
    assert station.password_hash.startswith("$argon2id$")
    assert password not in station.password_hash
    assert verify_secret(station.password_hash, password)
    evse = db.session.scalars(select(Evse).where(Evse.uid == body["evses"][0]["uid"])).one()
    assert evse.station_id == station.id
    payloads = db.session.scalars(select(OutboxEvent.payload)).all()
    assert payloads and all(password not in str(payload) for payload in payloads)


def test_price_is_stored_as_an_ocpi_tariff(create_listing):
    body = create_listing()
    tariff = db.session.scalars(
        select(Tariff).where(Tariff.ocpi_id == body["price"]["tariff_id"])
    ).one()
    ocpi = tariff.to_ocpi()
    assert ocpi["currency"] == "EUR"
    components = ocpi["elements"][0]["price_components"]
    assert {(c["type"], c["price"], c["step_size"]) for c in components} == {
        ("ENERGY", Decimal("0.30"), 1),
        ("TIME", Decimal("1.00"), 60),
        ("FLAT", Decimal("0.50"), 1),
    }


def test_listing_price_quotes_as_the_owner_meant_with_the_pricing_engine(create_listing):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from app.tariffs.engine import parse_tariff, quote_window

    body = create_listing()
    tariff = db.session.scalars(
        select(Tariff).where(Tariff.ocpi_id == body["price"]["tariff_id"])
    ).one()
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    quote = quote_window(
        parse_tariff(tariff.to_ocpi()),
        start,
        start.replace(hour=10),
        ZoneInfo("Europe/Amsterdam"),
        energy_kwh=Decimal(10),
        power_kw=Decimal(10),
    )
    # 10 kWh x 0.30 + 1 h x 1.00 + 0.50 per session
    assert quote.minor_units() == 450


def test_read_listing_back(client, create_listing, owner_headers):
    created = create_listing()
    response = client.get(f"/api/v1/listings/{created['id']}", headers=owner_headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["ocpi_id"] == created["ocpi_id"]
    assert "ocpp_password" not in body["stations"][0]


def test_list_shows_only_my_live_listings(client, create_listing, owner_headers, make_user, bearer):
    mine = create_listing()
    other = make_user(role="owner")
    create_listing(headers=bearer(other))
    response = client.get("/api/v1/listings", headers=owner_headers)
    assert [item["id"] for item in response.get_json()] == [mine["id"]]


def test_admin_lists_every_owners_listings(client, create_listing, make_user, bearer):
    first = create_listing()
    second = create_listing(headers=bearer(make_user(role="owner")))
    admin = bearer(make_user(role="admin"))
    ids = {item["id"] for item in client.get("/api/v1/listings", headers=admin).get_json()}
    assert {first["id"], second["id"]} <= ids


def test_patch_changes_fields_price_and_schedule(client, create_listing, owner_headers):
    created = create_listing()
    response = client.patch(
        f"/api/v1/listings/{created['id']}",
        json={
            "name": "Garage charger",
            "latitude": "52.360000",
            "price": {"currency": "EUR", "per_hour": "2.00"},
            "availability": [{"weekday": 3, "start": "09:00", "end": "12:00"}],
        },
        headers=owner_headers,
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["name"] == "Garage charger"
    assert body["latitude"] == "52.360000"
    assert body["longitude"] == created["longitude"]
    assert body["price"]["per_hour"] == "2.00"
    assert body["price"]["per_kwh"] is None
    assert body["price"]["tariff_id"] == created["price"]["tariff_id"]
    assert body["availability"] == [{"weekday": 3, "start": "09:00", "end": "12:00"}]
    assert body["blackouts"] == created["blackouts"]
    assert body["last_updated"] > created["last_updated"]


def test_patch_keeps_the_point_in_step_with_the_coordinates(client, create_listing, owner_headers):
    from geoalchemy2.shape import to_shape

    created = create_listing()
    client.patch(
        f"/api/v1/listings/{created['id']}", json={"latitude": "52.1"}, headers=owner_headers
    )
    location = db.session.get(Location, created["id"])
    db.session.refresh(location)
    point = to_shape(location.geog)
    assert (round(point.y, 6), round(point.x, 6)) == (52.1, 4.883977)


def test_patch_evses_updates_connectors_and_adds_an_evse_to_the_station(
    client, create_listing, owner_headers, listing_body
):
    created = create_listing()
    evse = listing_body()["evses"][0]
    evse["connectors"][0]["max_electric_power"] = 7400
    response = client.patch(
        f"/api/v1/listings/{created['id']}", json={"evses": [evse, evse]}, headers=owner_headers
    )
    assert response.status_code == 200, response.get_json()
    first, second = response.get_json()["evses"]
    assert first["uid"] == created["evses"][0]["uid"]
    assert first["connectors"][0]["max_electric_power"] == 7400
    assert (first["ocpp_evse_id"], second["ocpp_evse_id"]) == (1, 2)
    assert second["connectors"][0]["tariff_ids"] == [created["price"]["tariff_id"]]


def test_patch_with_fewer_evses_marks_the_rest_removed(
    client, create_listing, owner_headers, listing_body
):
    evse = listing_body()["evses"][0]
    created = create_listing(evses=[evse, evse])
    response = client.patch(
        f"/api/v1/listings/{created['id']}", json={"evses": [evse]}, headers=owner_headers
    )
    statuses = [e["status"] for e in response.get_json()["evses"]]
    assert statuses == ["AVAILABLE", "REMOVED"]


def test_publish_and_unpublish(client, create_listing, owner_headers):
    created = create_listing()
    url = f"/api/v1/listings/{created['id']}"
    published = client.post(f"{url}/publish", headers=owner_headers)
    assert published.status_code == 200
    assert published.get_json()["published"] is True
    assert db.session.get(Location, created["id"]).publish is True
    unpublished = client.post(f"{url}/unpublish", headers=owner_headers)
    assert unpublished.get_json()["published"] is False
    assert db.session.get(Location, created["id"]).publish is False


def test_remove_is_a_soft_delete_that_keeps_history(client, create_listing, owner_headers):
    created = create_listing(publish=True)
    url = f"/api/v1/listings/{created['id']}"
    assert client.delete(url, headers=owner_headers).status_code == 204
    location = db.session.get(Location, created["id"])
    db.session.refresh(location)
    assert location.deleted_at is not None
    assert location.publish is False
    assert [evse.status for evse in location.evses] == ["REMOVED"]
    assert [station.approved for station in location.stations] == [False]
    assert client.get(url, headers=owner_headers).status_code == 404
    assert client.get("/api/v1/listings", headers=owner_headers).get_json() == []
    assert client.patch(url, json={"name": "x"}, headers=owner_headers).status_code == 404


def test_every_write_emits_a_location_event(client, create_listing, owner_headers):
    created = create_listing()
    url = f"/api/v1/listings/{created['id']}"
    client.patch(url, json={"name": "New"}, headers=owner_headers)
    client.post(f"{url}/publish", headers=owner_headers)
    client.delete(url, headers=owner_headers)
    events = db.session.scalars(
        select(OutboxEvent)
        .where(
            OutboxEvent.topic == "location.changed", OutboxEvent.aggregate_id == created["ocpi_id"]
        )
        .order_by(OutboxEvent.id)
    ).all()
    assert [event.payload["change"] for event in events] == [
        "created",
        "updated",
        "published",
        "removed",
    ]
    tariff_events = db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.topic == "tariff.changed").order_by(OutboxEvent.id)
    ).all()
    assert {event.aggregate_id for event in tariff_events} == {created["price"]["tariff_id"]}
    assert [event.payload["change"] for event in tariff_events] == ["created", "removed"]
    tariff = db.session.scalars(
        select(Tariff).where(Tariff.ocpi_id == created["price"]["tariff_id"])
    ).one()
    db.session.refresh(tariff)
    assert tariff.deleted_at is not None


def test_empty_patch_changes_nothing(client, create_listing, owner_headers):
    created = create_listing()
    response = client.patch(f"/api/v1/listings/{created['id']}", json={}, headers=owner_headers)
    assert response.status_code == 200
    assert response.get_json()["last_updated"] == created["last_updated"]


def test_unknown_listing_is_404(client, owner_headers, own_party):
    response = client.get("/api/v1/listings/999999", headers=owner_headers)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_price_change_rewrites_the_tariff_and_announces_it(client, create_listing, owner_headers):
    created = create_listing()
    tariff_id = created["price"]["tariff_id"]
    response = client.patch(
        f"/api/v1/listings/{created['id']}",
        json={"price": {"currency": "GBP", "per_kwh": "0.2950", "vat": "20"}},
        headers=owner_headers,
    )
    assert response.get_json()["price"] == {
        "currency": "GBP",
        "per_kwh": "0.295",
        "per_hour": None,
        "per_session": None,
        "vat": "20",
        "tariff_id": tariff_id,
    }
    tariff = db.session.scalars(select(Tariff).where(Tariff.ocpi_id == tariff_id)).one()
    db.session.refresh(tariff)
    assert tariff.currency == "GBP"
    assert tariff.elements == [
        {"price_components": [{"type": "ENERGY", "price": Decimal("0.295"), "step_size": 1,
                               "vat": Decimal("20")}]}
    ]  # fmt: skip
    events = db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.topic == "tariff.changed").order_by(OutboxEvent.id)
    ).all()
    assert [event.aggregate_id for event in events] == [tariff_id, tariff_id]


def test_publish_cannot_be_patched(client, create_listing, owner_headers):
    created = create_listing()
    response = client.patch(
        f"/api/v1/listings/{created['id']}", json={"publish": True}, headers=owner_headers
    )
    assert response.status_code == 422
    assert "publish" in response.get_json()["errors"]


def test_create_can_publish_at_once(create_listing):
    assert create_listing(publish=True)["published"] is True
