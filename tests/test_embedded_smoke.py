"""The core flow on the embedded default: SQLite + SpatiaLite, migrated by the real migrations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from app import create_app
from app.accounts.models import User
from app.core.spatial import spatial_sql
from app.extensions import db
from app.models import Location
from tests.factories import with_payouts
from tests.inventory.conftest import LISTING

PASSWORD = "embedded smoke pw"


@pytest.fixture
def embedded_app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app("testing", {"DATABASE_URL": f"sqlite:///{tmp_path / 'plugpool.sqlite'}"})
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _near(app: Flask, lat: float, lon: float, metres: float) -> list[str]:
    with app.app_context():
        dialect = db.engine.dialect.name
        query = (
            select(Location.name)
            .where(spatial_sql(dialect).within_radius(Location.geog, Location.id, lat, lon, metres))
            .order_by(spatial_sql(dialect).distance_m(Location.geog, lat, lon))
        )
        return list(db.session.scalars(query))


def test_core_flow_on_sqlite_and_spatialite(embedded_app: Flask) -> None:
    client = embedded_app.test_client()
    assert client.get("/healthz").get_json()["database"] == "sqlite"
    signed_up = client.post(
        "/api/v1/users",
        json={"email": "owner@example.test", "password": PASSWORD, "name": "O", "role": "owner"},
    )
    assert signed_up.status_code == 201
    token = client.post(
        "/api/v1/auth/tokens", json={"email": "owner@example.test", "password": PASSWORD}
    ).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    with embedded_app.app_context():
        # Payout onboarding finished (a paid listing is published only then).
        with_payouts(db.session.scalars(select(User).where(User.role == "owner")).one())
        db.session.commit()

    created = client.post("/api/v1/listings", json=LISTING, headers=headers)
    assert created.status_code == 201, created.get_json()
    listing_id = created.get_json()["id"]
    far = {**LISTING, "name": "Utrecht", "latitude": "52.090737", "longitude": "5.121420"}
    assert client.post("/api/v1/listings", json=far, headers=headers).status_code == 201
    published = client.post(f"/api/v1/listings/{listing_id}/publish", headers=headers)
    assert published.get_json()["published"] is True

    body = client.get(f"/api/v1/listings/{listing_id}", headers=headers).get_json()
    assert body["published"] is True
    assert body["price"]["per_kwh"] == "0.30"
    assert body["availability"][0] == {"weekday": 1, "start": "08:00", "end": "18:00"}
    assert body["last_updated"].endswith("+00:00")

    bad = client.post("/api/v1/listings", json={**LISTING, "latitude": "95"}, headers=headers)
    assert bad.status_code == 422

    assert _near(embedded_app, 52.37, 4.89, 5_000) == ["Driveway charger"]
    assert _near(embedded_app, 52.37, 4.89, 60_000) == ["Driveway charger", "Utrecht"]
    assert _near(embedded_app, 48.85, 2.35, 50_000) == []


def test_numbers_beyond_the_ids_are_404_or_422_on_sqlite_too(embedded_app: Flask) -> None:
    client = embedded_app.test_client()
    client.post(
        "/api/v1/users",
        json={"email": "o2@example.test", "password": PASSWORD, "name": "O", "role": "owner"},
    )
    token = client.post(
        "/api/v1/auth/tokens", json={"email": "o2@example.test", "password": PASSWORD}
    ).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    for number in (2**63, 2**64 + 1, 10**30):
        assert client.get(f"/api/v1/bookings/{number}", headers=headers).status_code == 404
        assert client.get(f"/api/v1/listings/{number}", headers=headers).status_code == 404
        owner = client.get(f"/api/v1/bookings/owner?location_id={number}", headers=headers)
        assert owner.status_code == 422
        body = {"evse_id": number, "starts_at": "2030-01-01T10:00:00Z"}
        body["ends_at"] = "2030-01-01T11:00:00Z"
        assert client.post("/api/v1/bookings", json=body, headers=headers).status_code == 422
