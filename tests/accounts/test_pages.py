"""Sign-up, log-in and log-out pages with flask-login sessions; the owner's listings page."""

from __future__ import annotations

import re

from tests.factories import FACTORY_PASSWORD


def _csrf(client, path):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_sign_up_page_creates_an_account_and_logs_in(client):
    token = _csrf(client, "/signup")
    response = client.post(
        "/signup",
        data={
            "csrf_token": token,
            "name": "Olga",
            "email": "olga@example.test",
            "password": "a long enough secret",
            "role": "owner",
        },
    )
    assert response.status_code == 302
    page = client.get("/owner/listings")
    assert page.status_code == 200
    assert "My listings" in page.get_data(as_text=True)


def test_log_in_and_log_out(client, make_user, make_location):
    owner = make_user(role="owner")
    make_location(owner=owner.id, name="Olga's driveway")
    token = _csrf(client, "/login")
    response = client.post(
        "/login", data={"csrf_token": token, "email": owner.email, "password": FACTORY_PASSWORD}
    )
    assert response.status_code == 302
    page = client.get("/owner/listings").get_data(as_text=True)
    assert "Olga&#39;s driveway" in page
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/owner/listings").status_code == 302  # back to the log-in page


def test_wrong_password_page_says_so(client, make_user):
    user = make_user()
    token = _csrf(client, "/login")
    response = client.post(
        "/login", data={"csrf_token": token, "email": user.email, "password": "wrong"}
    )
    assert response.status_code == 401
    assert "Invalid e-mail or password" in response.get_data(as_text=True)


def test_form_without_csrf_token_is_refused(client, make_user):
    user = make_user()
    client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": FACTORY_PASSWORD})
    assert response.status_code == 400


def test_drivers_do_not_get_the_owner_page(client, make_user):
    driver = make_user()
    token = _csrf(client, "/login")
    client.post(
        "/login", data={"csrf_token": token, "email": driver.email, "password": FACTORY_PASSWORD}
    )
    assert client.get("/owner/listings").status_code == 403


def test_log_in_page_is_rate_limited_too(client, make_user, app):
    user = make_user()
    token = _csrf(client, "/login")
    for _ in range(app.config["LOGIN_MAX_ATTEMPTS"]):
        client.post("/login", data={"csrf_token": token, "email": user.email, "password": "no"})
    response = client.post(
        "/login", data={"csrf_token": token, "email": user.email, "password": FACTORY_PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.get_data(as_text=True)
