"""Read-only account selects."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.accounts.models import ApiToken, LoginAttempt, User
from app.extensions import db


def user_by_id(user_id: int) -> User | None:
    """Return the user with this id, or None."""
    return db.session.get(User, user_id)


def user_by_email(email: str) -> User | None:
    """Return the user with this (already normalised) e-mail, or None."""
    return db.session.scalars(select(User).where(User.email == email)).one_or_none()


def live_token(digest: str, now: datetime) -> ApiToken | None:
    """Return the unrevoked, unexpired token with this digest whose user is active."""
    query = (
        select(ApiToken)
        .join(User)
        .where(ApiToken.digest == digest, ApiToken.revoked_at.is_(None), User.active.is_(True))
    )
    token = db.session.scalars(query).one_or_none()
    if token is None or (token.expires_at is not None and token.expires_at <= now):
        return None
    return token


def failed_attempt_times(
    since: datetime, email: str | None = None, remote_addr: str | None = None
) -> list[datetime]:
    """Times of failed log-ins since a moment, per e-mail or per client address, oldest first."""
    query = select(LoginAttempt.attempted_at).where(LoginAttempt.attempted_at > since)
    if email is not None:
        query = query.where(LoginAttempt.email == email)
    if remote_addr is not None:
        query = query.where(LoginAttempt.remote_addr == remote_addr)
    return list(db.session.scalars(query.order_by(LoginAttempt.attempted_at)))
