"""Account use cases: sign-up, log-in with rate limiting, API tokens."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from flask import current_app
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from app.accounts import queries
from app.accounts.errors import EmailTaken, InvalidCredentials, TooManyLoginAttempts
from app.accounts.models import ApiToken, LoginAttempt, Role, User
from app.core.clock import utcnow
from app.core.errors import ValidationFailed
from app.core.security import digest_token, hash_secret, needs_rehash, new_token, verify_secret
from app.extensions import db

SELF_SERVICE_ROLES = (Role.DRIVER, Role.OWNER)
# Verified against unknown e-mails so a miss costs as much time as a wrong password.
_DUMMY_HASH = hash_secret("plugpool-timing-equaliser")


@dataclass(frozen=True)
class IssuedToken:
    """A new API token: the plain value exists only here, once."""

    token: str
    record: ApiToken


def normalise_email(email: str) -> str:
    """E-mails are compared trimmed and lower-cased."""
    return email.strip().lower()


def sign_up(email: str, password: str, name: str, role: str = Role.DRIVER) -> User:
    """Register a driver or an owner; admins are made only by the operator's CLI."""
    if role not in {r.value for r in SELF_SERVICE_ROLES}:
        raise ValidationFailed({"role": ["Must be one of: driver, owner."]})
    return create_user(email, password, name, role)


def create_user(email: str, password: str, name: str, role: str = Role.DRIVER) -> User:
    """Create an account with any role after checking the password policy."""
    email = normalise_email(email)
    _check_password(password)
    if role not in {r.value for r in Role}:
        raise ValidationFailed({"role": ["Must be one of: driver, owner, admin."]})
    if queries.user_by_email(email) is not None:
        raise EmailTaken(f"{email} is already registered")
    user = User(email=email, password_hash=hash_secret(password), name=name.strip(), role=role)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError as error:  # a concurrent sign-up with the same e-mail won the race
        db.session.rollback()
        raise EmailTaken(f"{email} is already registered") from error
    return user


def log_in(email: str, password: str, remote_addr: str, known_device: bool = False) -> User:
    """Check credentials under the rate limit; a failure is recorded and raises.

    known_device: the client proved an earlier log-in to this e-mail (accounts.devices), so the
    account's failures do not slow it down; the per-address limit still applies.
    """
    user = _authenticate(email, password, remote_addr, known_device)
    db.session.commit()
    return user


def create_token(
    email: str, password: str, remote_addr: str, name: str = "api", known_device: bool = False
) -> IssuedToken:
    """Log in and issue a bearer token that expires after API_TOKEN_TTL_DAYS."""
    user = _authenticate(email, password, remote_addr, known_device)
    plain = new_token()
    ttl = timedelta(days=current_app.config["API_TOKEN_TTL_DAYS"])
    record = ApiToken(user=user, digest=digest_token(plain), name=name, expires_at=utcnow() + ttl)
    db.session.add(record)
    db.session.commit()
    return IssuedToken(token=plain, record=record)


def end_sessions(user: User) -> None:
    """Log out of every page session of the user: a cookie kept from before no longer loads."""
    user.session_generation = (user.session_generation or 0) + 1
    db.session.commit()


def revoke_token(token: ApiToken) -> None:
    """Revoke a bearer token; it is refused from now on."""
    token.revoked_at = utcnow()
    db.session.commit()


def _authenticate(email: str, password: str, remote_addr: str, known_device: bool) -> User:
    """Return the user for good credentials (changes left for the caller's commit), or raise."""
    email = normalise_email(email)
    now = utcnow()
    _check_address_limit(remote_addr, now)
    if not known_device:
        _check_account_slowdown(email, now)
    user = queries.user_by_email(email)
    if user is None or not _credentials_ok(user, password):
        _record_failure(email, remote_addr, now)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_secret(password)
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
    return user


def _check_password(password: str) -> None:
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise ValidationFailed({"password": [f"Must be at least {minimum} characters."]})


def _check_address_limit(remote_addr: str, now: datetime) -> None:
    """A client address gets LOGIN_MAX_ATTEMPTS failures per window, whatever the e-mails."""
    limit = current_app.config["LOGIN_MAX_ATTEMPTS"]
    window = timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    times = queries.failed_attempt_times(now - window, remote_addr=remote_addr)
    if len(times) >= limit:
        # The oldest attempt that keeps us at the limit decides when one more is allowed.
        _too_many((times[-limit] + window - now).total_seconds())


def account_delay(failures: int) -> float:
    """Seconds an account waits after its last failure, given its failures in the window.

    Up to LOGIN_MAX_ATTEMPTS nothing; then 2, 4, 8... seconds, never above
    LOGIN_SLOWDOWN_MAX_SECONDS: guessing is slowed down, the owner is never locked out.
    """
    excess = failures - current_app.config["LOGIN_MAX_ATTEMPTS"]
    if excess < 0:
        return 0.0
    return float(min(current_app.config["LOGIN_SLOWDOWN_MAX_SECONDS"], 2 ** min(excess + 1, 30)))


def _check_account_slowdown(email: str, now: datetime) -> None:
    window = timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    times = queries.failed_attempt_times(now - window, email=email)
    delay = account_delay(len(times))
    if delay:
        wait = (times[-1] + timedelta(seconds=delay) - now).total_seconds()
        if wait > 0:
            _too_many(wait)


def _too_many(wait_seconds: float) -> NoReturn:
    raise TooManyLoginAttempts(
        "Too many failed log-ins; try again later", retry_after=max(1, math.ceil(wait_seconds))
    )


def _credentials_ok(user: User | None, password: str) -> bool:
    if user is None or not user.active:
        verify_secret(_DUMMY_HASH, password)
        return False
    return verify_secret(user.password_hash, password)


def _record_failure(email: str, remote_addr: str, now: datetime) -> NoReturn:
    """Commit the failed attempt (it must count even though the request fails), then refuse."""
    db.session.add(LoginAttempt(email=email, remote_addr=remote_addr, attempted_at=now))
    db.session.commit()
    raise InvalidCredentials("Invalid e-mail or password")
