"""Each page opens for its roles, sends anonymous visitors to log in, and refuses other roles."""

from __future__ import annotations

import pytest

from tests.web.conftest import CSRF

OWNER_PAGES = [
    "/owner/listings",
    "/owner/listings/new",
    "/owner/listings/{id}",
    "/owner/listings/{id}/edit",
    "/owner/listings/{id}/schedule",
    "/owner/listings/{id}/remove",
    "/owner/bookings",
]
DRIVER_PAGES = ["/bookings"]
PUBLIC_PAGES = ["/", "/chargers", "/chargers/{id}", "/login", "/signup"]


@pytest.fixture
def listing(make_location, owner):
    return make_location(owner=owner.id, name="Olga's driveway")


def _url(path, listing):
    return path.format(id=listing.id)


@pytest.mark.parametrize("path", OWNER_PAGES)
def test_owner_pages_open_for_their_owner(client, log_in, owner, listing, path):
    log_in(owner)
    response = client.get(_url(path, listing))
    assert response.status_code == 200
    assert "text/html" in response.content_type


@pytest.mark.parametrize("path", OWNER_PAGES)
def test_owner_pages_open_for_an_admin(client, log_in, admin, listing, path):
    log_in(admin)
    assert client.get(_url(path, listing)).status_code == 200


@pytest.mark.parametrize("path", OWNER_PAGES + DRIVER_PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, listing, path):
    response = client.get(_url(path, listing))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", OWNER_PAGES)
def test_drivers_are_refused_owner_pages(client, log_in, driver, listing, path):
    log_in(driver)
    response = client.get(_url(path, listing))
    assert response.status_code == 403
    assert "text/html" in response.content_type
    assert "for the role owner" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", DRIVER_PAGES)
def test_driver_pages_open_for_drivers_and_refuse_owners(client, log_in, driver, owner, path):
    log_in(driver)
    assert client.get(path).status_code == 200
    log_in(owner)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_open_for_everyone(client, listing, path):
    assert client.get(_url(path, listing)).status_code == 200


def test_another_owners_listing_is_refused(client, log_in, make_user, listing):
    log_in(make_user(role="owner"))
    for path in ("/owner/listings/{id}", "/owner/listings/{id}/edit"):
        response = client.get(_url(path, listing))
        assert response.status_code == 403
        assert "belongs to another owner" in response.get_data(as_text=True)
    response = client.post(f"/owner/listings/{listing.id}/unpublish", data={"csrf_token": CSRF})
    assert response.status_code == 403
    assert listing.publish is True


def test_unknown_listing_is_an_html_404(client, log_in, owner):
    log_in(owner)
    response = client.get("/owner/listings/999999")
    assert response.status_code == 404
    assert "<h1>Listing not found</h1>" in response.get_data(as_text=True)


def test_navigation_follows_the_role(client, log_in, owner, driver, admin):
    log_in(driver)
    page = client.get("/").get_data(as_text=True)
    assert "My bookings" in page and "My listings" not in page and "Log out" in page
    log_in(owner)
    page = client.get("/").get_data(as_text=True)
    assert "My listings" in page and "List a charger" in page and "My bookings" not in page
    log_in(admin)
    page = client.get("/").get_data(as_text=True)
    assert "All listings" in page and "My bookings" in page
    client.post("/logout", data={"csrf_token": CSRF})
    page = client.get("/").get_data(as_text=True)
    assert "Log in" in page and "Sign up" in page and "Log out" not in page


def test_real_log_in_reaches_the_owner_portal(client, owner, listing):
    from tests.factories import FACTORY_PASSWORD
    from tests.web.conftest import csrf_of

    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login?next=/owner/listings",
        data={"csrf_token": token, "email": owner.email, "password": FACTORY_PASSWORD},
    )
    assert response.headers["Location"] == "/owner/listings"
    assert "Olga&#39;s driveway" in client.get("/owner/listings").get_data(as_text=True)
