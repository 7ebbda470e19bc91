"""An owner sees and changes only their own listings; drivers and strangers are refused."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Location


@pytest.fixture
def stranger_headers(make_user, bearer):
    return bearer(make_user(role="owner"))


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("patch", "", {"name": "Mine now"}),
        ("delete", "", None),
        ("post", "/publish", None),
        ("post", "/unpublish", None),
    ],
)
def test_another_owner_gets_403_and_changes_nothing(
    client, create_listing, stranger_headers, method, suffix, body
):
    created = create_listing()
    url = f"/api/v1/listings/{created['id']}{suffix}"
    response = getattr(client, method)(url, json=body, headers=stranger_headers)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    location = db.session.get(Location, created["id"])
    db.session.refresh(location)
    assert (location.name, location.publish, location.deleted_at) == (created["name"], False, None)


def test_admin_may_change_any_listing(client, create_listing, make_user, bearer):
    created = create_listing()
    admin = bearer(make_user(role="admin"))
    response = client.patch(
        f"/api/v1/listings/{created['id']}", json={"name": "Fixed by support"}, headers=admin
    )
    assert response.status_code == 200
    assert response.get_json()["name"] == "Fixed by support"


def test_driver_cannot_create_listings(client, make_user, bearer, listing_body, row_counts):
    before = row_counts()
    response = client.post(
        "/api/v1/listings", json=listing_body(), headers=bearer(make_user(role="driver"))
    )
    assert response.status_code == 403
    assert row_counts() == before


def test_no_credentials_is_401(client, listing_body):
    response = client.post("/api/v1/listings", json=listing_body())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.get_json()["status"] == 401


def test_auth_is_checked_before_the_body(client):
    response = client.post("/api/v1/listings", json={"latitude": 1000})
    assert response.status_code == 401
