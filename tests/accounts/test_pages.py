"""Sign-up, log-in and log-out pages with flask-login sessions; the owner's listings page."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import pytest

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


def _log_in(client, email, password=FACTORY_PASSWORD, path="/login", **environ):
    token = _csrf(client, "/login")
    return client.post(
        path,
        data={"csrf_token": token, "email": email, "password": password},
        environ_base=environ,
    )


@pytest.mark.parametrize(
    "next_",
    [
        "/%09/evil.test",
        "/\t/evil.test",
        "/\\evil.test",
        "\\\\evil.test",
        "//evil.test",
        "/%0a/evil.test",
        "https://evil.test/",
        "javascript:alert(1)",
        " //evil.test",
    ],
)
def test_log_in_never_redirects_off_site(client, make_user, next_):
    user = make_user()
    response = _log_in(client, user.email, path=f"/login?next={quote(next_, safe='%/:')}")
    assert response.status_code == 302
    location = response.headers["Location"]
    # A browser reads the Location the same way: after dropping tabs/newlines and reading "\"
    # as "/", it must still be a path of this site.
    as_browser = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")
    assert as_browser.startswith("/") and not as_browser.startswith("//")
    assert urlsplit(as_browser).netloc == ""


def test_log_in_goes_on_to_a_path_of_this_site(client, make_user):
    user = make_user()
    response = _log_in(client, user.email, path="/login?next=/bookings%3Fpage%3D2")
    assert response.headers["Location"] == "/bookings?page=2"


def test_a_session_cookie_kept_from_before_log_out_no_longer_opens_pages(app, committed_db):
    # Real commits: the per-test rollback would otherwise blur what log-out wrote.
    client, replay = app.test_client(), app.test_client()
    client.post(
        "/signup",
        data={
            "csrf_token": _csrf(client, "/signup"),
            "name": "Dee",
            "email": "dee@example.test",
            "password": "a long enough secret",
        },
    )
    assert client.get("/bookings").status_code == 200
    replay.set_cookie("session", client.get_cookie("session").value)
    assert replay.get("/bookings").status_code == 200  # the captured cookie works...
    client.post("/logout", data={"csrf_token": _csrf(client, "/bookings")})
    response = replay.get("/bookings")  # ...until its user logs out
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    # Logging in again opens a new session.
    assert _log_in(client, "dee@example.test", "a long enough secret").status_code == 302
    assert client.get("/bookings").status_code == 200


def test_an_attacker_failing_log_ins_does_not_lock_the_owner_out(client, app, make_user):
    owner = make_user(role="owner")
    assert _log_in(client, owner.email, REMOTE_ADDR="198.51.100.1").status_code == 302
    client.post("/logout", data={"csrf_token": _csrf(client, "/")})
    # Many failures for the owner's e-mail from many addresses (each under its own limit).
    attacker = app.test_client()
    for n in range(3 * app.config["LOGIN_MAX_ATTEMPTS"]):
        _log_in(attacker, owner.email, "guess", REMOTE_ADDR=f"203.0.113.{n}")
    # The owner's browser logged in before: it is not slowed down by the account's failures.
    assert _log_in(client, owner.email, REMOTE_ADDR="198.51.100.1").status_code == 302


def test_signup_says_the_password_limit_first_and_puts_errors_beside_the_fields(client):
    page = client.get("/signup").get_data(as_text=True)
    assert 'id="f-password-hint">At least 10 characters.' in page
    response = client.post(
        "/signup",
        data={
            "csrf_token": _csrf(client, "/signup"),
            "name": "Short",
            "email": "short@example.test",
            "password": "tiny",
            "role": "owner",
        },
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="f-password-error"' in text
    assert 'value="short@example.test"' in text and 'value="Short"' in text  # typed values kept
    assert "tiny" not in text  # never the password
    assert '<option value="owner" selected>' in text
