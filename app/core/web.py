"""Small helpers shared by the HTML pages: a per-session CSRF token."""

from __future__ import annotations

import secrets

from flask import Flask, abort, request, session

from app.core.security import same_secret


def init_app(app: Flask) -> None:
    """Expose csrf_token() to templates."""
    app.jinja_env.globals["csrf_token"] = csrf_token


def csrf_token() -> str:
    """Return this session's CSRF token, creating it on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def check_csrf() -> None:
    """Refuse a form post whose CSRF token does not match the session's."""
    sent = request.form.get("csrf_token", "")
    if not sent or not same_secret(sent, str(session.get("csrf", ""))):
        abort(400, description="The form expired; reload the page and try again.")
