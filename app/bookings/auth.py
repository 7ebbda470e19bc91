"""Stand-in for app.accounts.auth (branch foundation): same require_user/current_user API.

Swap the imports in api.py to app.accounts.auth once foundation is merged, then delete this.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, request
from sqlalchemy import select

from app.accounts.models import ApiToken, Role, User
from app.core.clock import utcnow
from app.core.errors import Forbidden, Unauthorized
from app.core.security import digest_token
from app.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


def require_user(*roles: str) -> Callable[[F], F]:
    """Decorate an API route: a valid bearer token is required, and one of roles if given."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            _authenticate(*roles)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def current_user() -> User:
    """Return the user authenticated by require_user for this request."""
    return cast(User, g.current_user)


def _authenticate(*roles: str) -> User:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("A valid bearer token is required")
    token = db.session.scalars(
        select(ApiToken).where(ApiToken.digest == digest_token(value.strip()))
    ).one_or_none()
    now = utcnow()
    if token is None or token.revoked_at or (token.expires_at and token.expires_at <= now):
        raise Unauthorized("A valid bearer token is required")
    user = token.user
    if not user.active:
        raise Unauthorized("A valid bearer token is required")
    if roles and not user.has_role(*(Role(role) for role in roles)):
        raise Forbidden(f"This needs the role {' or '.join(roles)}")
    g.current_user = user
    return user
