"""Sign-up, bearer tokens, roles and log-in rate limiting on the JSON API."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from app.accounts.models import ApiToken, LoginAttempt, User
from app.core.clock import utcnow
from app.core.security import digest_token, verify_secret
from app.extensions import db
from tests.factories import FACTORY_PASSWORD

PASSWORD = "a long enough secret"


def _sign_up(client, **overrides):
    body = {"email": "Ada@Example.TEST ", "password": PASSWORD, "name": "Ada", "role": "owner"}
    body.update(overrides)
    return client.post("/api/v1/users", json=body)


def _token(client, email, password=PASSWORD, **environ):
    return client.post(
        "/api/v1/auth/tokens",
        json={"email": email, "password": password},
        environ_base=environ,
    )


def test_sign_up_normalises_the_email_and_hashes_the_password(client):
    response = _sign_up(client)
    assert response.status_code == 201
    body = response.get_json()
    assert body["email"] == "ada@example.test"
    assert body["role"] == "owner"
    assert "password" not in body
    user = db.session.scalars(select(User).where(User.email == "ada@example.test")).one()
    assert user.password_hash.startswith("$argon2id$")
    assert verify_secret(user.password_hash, PASSWORD)


def test_duplicate_email_is_409_whatever_the_case(client):
    assert _sign_up(client).status_code == 201
    response = _sign_up(client, email="ADA@example.test")
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"


def test_short_password_is_422_and_nothing_is_written(client):
    before = db.session.scalar(select(func.count()).select_from(User))
    response = _sign_up(client, password="short")
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["password"]
    assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_nobody_signs_up_as_admin(client):
    response = _sign_up(client, role="admin")
    assert response.status_code == 422
    assert "role" in response.get_json()["errors"]


def test_token_is_shown_once_and_stored_as_a_digest(client):
    _sign_up(client)
    response = _token(client, "ADA@example.test")
    assert response.status_code == 201
    body = response.get_json()
    token = body["token"]
    assert body["token_type"] == "Bearer"
    assert body["user"]["email"] == "ada@example.test"
    record = db.session.scalars(
        select(ApiToken).where(ApiToken.digest == digest_token(token))
    ).one()
    assert record.expires_at > utcnow() + timedelta(days=29)
    assert not any(token in str(value) for value in vars(record).values())


def test_bearer_token_identifies_the_caller(client):
    _sign_up(client)
    token = _token(client, "ada@example.test").get_json()["token"]
    response = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json()["email"] == "ada@example.test"


def test_without_credentials_or_with_a_bad_token_is_401(client):
    assert client.get("/api/v1/users/me").status_code == 401
    response = client.get("/api/v1/users/me", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_log_out_revokes_the_token(client):
    _sign_up(client)
    token = _token(client, "ada@example.test").get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.delete("/api/v1/auth/tokens", headers=headers).status_code == 204
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_expired_token_is_refused(client, make_user, bearer):
    user = make_user()
    headers = bearer(user)
    token = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.flush()
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_inactive_user_token_is_refused(client, make_user, bearer):
    user = make_user()
    headers = bearer(user)
    user.active = False
    db.session.flush()
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_wrong_role_is_403(client, make_user, bearer):
    response = client.get("/api/v1/listings", headers=bearer(make_user(role="driver")))
    assert response.status_code == 403
    assert response.get_json()["status"] == 403


def test_wrong_password_is_401_and_recorded(client, make_user):
    user = make_user()
    response = _token(client, user.email, "not the password")
    assert response.status_code == 401
    attempts = db.session.scalars(
        select(LoginAttempt).where(LoginAttempt.email == user.email)
    ).all()
    assert len(attempts) == 1


def test_unknown_email_is_401_like_a_wrong_password(client):
    response = _token(client, "nobody@example.test", "whatever it is")
    assert response.status_code == 401
    assert response.get_json()["title"] == "Invalid e-mail or password"


def test_too_many_failures_for_one_email_is_429_with_retry_after(client, make_user, app):
    user = make_user()
    limit = app.config["LOGIN_MAX_ATTEMPTS"]
    for n in range(limit):
        assert _token(client, user.email, "wrong", REMOTE_ADDR=f"10.0.0.{n}").status_code == 401
    response = _token(client, user.email, FACTORY_PASSWORD, REMOTE_ADDR="10.0.1.1")
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= app.config["LOGIN_WINDOW_SECONDS"]


def test_too_many_failures_from_one_address_is_429_for_every_email(client, make_user, app):
    limit = app.config["LOGIN_MAX_ATTEMPTS"]
    for n in range(limit):
        _token(client, f"guess{n}@example.test", "wrong", REMOTE_ADDR="192.0.2.7")
    victim = make_user()
    response = _token(client, victim.email, FACTORY_PASSWORD, REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 429
    assert (
        _token(client, victim.email, FACTORY_PASSWORD, REMOTE_ADDR="192.0.2.8").status_code == 201
    )


def test_old_failures_fall_out_of_the_window(client, make_user, app):
    user = make_user()
    long_ago = utcnow() - timedelta(seconds=app.config["LOGIN_WINDOW_SECONDS"] + 1)
    for _ in range(app.config["LOGIN_MAX_ATTEMPTS"]):
        db.session.add(LoginAttempt(email=user.email, remote_addr="x", attempted_at=long_ago))
    db.session.flush()
    assert _token(client, user.email, FACTORY_PASSWORD).status_code == 201


def test_success_clears_the_failures_of_that_email(client, make_user, app):
    user = make_user()
    for _ in range(app.config["LOGIN_MAX_ATTEMPTS"] - 1):
        _token(client, user.email, "wrong")
    assert _token(client, user.email, FACTORY_PASSWORD).status_code == 201
    remaining = db.session.scalars(select(LoginAttempt).where(LoginAttempt.email == user.email))
    assert remaining.all() == []


def _fail_recently(email, count):
    now = utcnow()
    for n in range(count):
        db.session.add(LoginAttempt(email=email, remote_addr=f"203.0.113.{n}", attempted_at=now))
    db.session.flush()


def test_failures_for_an_email_slow_it_down_for_seconds_not_the_whole_window(
    client, make_user, app
):
    user = make_user()
    _fail_recently(user.email, 4 * app.config["LOGIN_MAX_ATTEMPTS"])
    response = _token(client, user.email, FACTORY_PASSWORD, REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert 0 < wait <= app.config["LOGIN_SLOWDOWN_MAX_SECONDS"]
    assert wait < app.config["LOGIN_WINDOW_SECONDS"]
    # Once that wait has passed, the right password gets in although the failures are still
    # inside the window.
    db.session.execute(
        update(LoginAttempt)
        .where(LoginAttempt.email == user.email)
        .values(attempted_at=utcnow() - timedelta(seconds=wait))
    )
    response = _token(client, user.email, FACTORY_PASSWORD, REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 201


def test_an_app_that_logged_in_before_is_not_slowed_by_someone_elses_failures(
    client, make_user, app
):
    user = make_user()
    assert _token(client, user.email, FACTORY_PASSWORD).status_code == 201
    _fail_recently(user.email, 4 * app.config["LOGIN_MAX_ATTEMPTS"])
    # A new client (no device cookie) is slowed down; the app that logged in before is not.
    assert _token(app.test_client(), user.email, FACTORY_PASSWORD).status_code == 429
    assert _token(client, user.email, FACTORY_PASSWORD).status_code == 201


def test_a_device_cookie_of_another_account_does_not_count(client, make_user, app):
    mine, theirs = make_user(), make_user()
    assert _token(client, mine.email, FACTORY_PASSWORD).status_code == 201
    _fail_recently(theirs.email, 4 * app.config["LOGIN_MAX_ATTEMPTS"])
    assert _token(client, theirs.email, FACTORY_PASSWORD).status_code == 429
