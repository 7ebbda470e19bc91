"""Who is calling: bearer tokens for the JSON API, sessions for pages, and role checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, abort, g, request
from flask_login import current_user as session_user
from flask_smorest import Blueprint

from app.accounts import queries
from app.accounts.models import ApiToken, Role, User
from app.core.clock import utcnow
from app.core.errors import Forbidden, Unauthorized
from app.core.security import digest_token
from app.core.web import check_csrf
from app.extensions import api, login_manager

F = TypeVar("F", bound=Callable[..., Any])

# OpenAPI security requirement for routes behind require_user: `@blp.doc(security=BEARER)`.
BEARER = [{"bearerAuth": []}]


def init_app(app: Flask) -> None:
    """Teach flask-login to load users and document the bearer scheme in the OpenAPI spec."""
    login_manager.user_loader(_load_user)
    login_manager.login_view = "accounts_web.log_in"
    if "bearerAuth" not in api.spec.components.security_schemes:
        api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})


def api_auth(blp: Blueprint, *roles: str) -> Callable[[F], F]:
    """require_user plus its OpenAPI documentation: bearer security, 401 and (with roles) 403."""

    def decorate(view: F) -> F:
        view = require_user(*roles)(view)
        view = blp.alt_response(401, response="UNAUTHORIZED")(view)
        if roles:
            view = blp.alt_response(403, response="FORBIDDEN")(view)
        return cast(F, blp.doc(security=BEARER)(view))

    return decorate


def require_user(*roles: str) -> Callable[[F], F]:
    """Decorate an API route: a valid bearer token is required, and one of roles if given."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            authenticate(*roles)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def authenticate(*roles: str) -> User:
    """Return the caller of this request from its bearer token, or raise 401 / 403."""
    token = bearer_token()
    if token is None:
        raise Unauthorized("A valid bearer token is required")
    user = token.user
    if roles and not user.has_role(*(Role(role) for role in roles)):
        raise Forbidden(f"This needs the role {' or '.join(roles)}")
    g.current_user = user
    g.api_token = token
    return user


def current_user() -> User:
    """The user authenticated by require_user for this request."""
    return cast(User, g.current_user)


def current_token() -> ApiToken:
    """The bearer token the caller of this request presented."""
    return cast(ApiToken, g.api_token)


def bearer_token() -> ApiToken | None:
    """Return the live API token in the Authorization header, if any."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return queries.live_token(digest_token(value.strip()), utcnow())


def page(*roles: str) -> Callable[[F], F]:
    """Decorate a page: anonymous visitors go to log in, other roles get 403, posts need CSRF.

    Admins hold every role (User.has_role), so operators can open every page.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not session_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and not session_user.has_role(*(Role(role) for role in roles)):
                abort(403, description=f"This page is for the role {' or '.join(roles)}.")
            if request.method == "POST":
                check_csrf()
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def page_user() -> User:
    """The user logged in to this page's session (behind @page)."""
    return cast(User, session_user._get_current_object())


def _load_user(session_id: str) -> User | None:
    """The session's user while the session's generation is the user's current one."""
    # "<id>" alone is a session from before generations: generation 0.
    user_id, _, generation = session_id.partition(".")
    generation = generation or "0"
    if not (user_id.isdigit() and generation.isdigit()) or len(user_id) > 18:
        return None
    user = queries.user_by_id(int(user_id))
    if user is None or not user.active or int(generation) != user.session_generation:
        return None
    return user
