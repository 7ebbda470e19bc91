"""Device cookies: a browser or app that logged in to an account before is not slowed down.

An attacker who fails log-ins for someone's e-mail slows that account down for new clients
only; the owner's own browser (or app, which keeps cookies) carries proof of an earlier
success and is limited per address like everyone else, never by the account's failures.
"""

from __future__ import annotations

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "plugpool_device"
MAX_AGE_SECONDS = 365 * 24 * 3600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="plugpool-device")


def trusted_for(email: str) -> bool:
    """True when this request carries a device cookie from a log-in to this (normalised) e-mail."""
    value = request.cookies.get(COOKIE)
    if not value:
        return False
    try:
        remembered = _serializer().loads(value, max_age=MAX_AGE_SECONDS)
    except BadSignature:
        return False
    return isinstance(remembered, str) and remembered == email


def remember(response: Response, email: str) -> Response:
    """Set the device cookie for this (normalised) e-mail after a successful log-in."""
    config = current_app.config
    response.set_cookie(
        COOKIE,
        _serializer().dumps(email),
        max_age=MAX_AGE_SECONDS,
        httponly=True,
        secure=bool(config.get("SESSION_COOKIE_SECURE")),
        samesite="Lax",
    )
    return response
