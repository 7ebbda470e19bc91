"""Small helpers shared by the HTML pages: CSRF tokens, HTML error pages, money."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, Flask, abort, render_template, request, session
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from app.core.errors import DomainError
from app.core.money import from_minor_units
from app.core.security import same_secret
from app.inventory.names import plain_name


def init_app(app: Flask) -> None:
    """Expose csrf_token() and the money formatter to templates."""
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["local"] = format_local
    app.jinja_env.filters["connector_name"] = plain_name


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


def html_errors(blp: Blueprint) -> None:
    """Render errors raised by the blueprint's pages as HTML pages, not problem JSON."""
    blp.register_error_handler(DomainError, _domain_error_page)
    blp.register_error_handler(HTTPException, _http_error_page)


def _domain_error_page(error: DomainError) -> ResponseReturnValue:
    return render_template("error.html", title=error.title, detail=error.detail), error.status


def _http_error_page(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    return render_template("error.html", title=error.name, detail=error.description), status


def format_money(amount_minor: int | None, currency: str | None) -> str:
    """Show integer minor units as an amount with its currency, e.g. 1234 EUR -> 12.34 EUR."""
    if amount_minor is None or not currency:
        return "-"
    return f"{from_minor_units(amount_minor, currency)} {currency}"


def format_local(
    moment: datetime | None, zone_name: str | None, fmt: str = "%Y-%m-%d %H:%M"
) -> str:
    """Show a UTC moment on a page in the charger's local time zone (the API stays in UTC)."""
    if moment is None:
        return "-"
    try:
        zone = ZoneInfo(zone_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).strftime(fmt)


def local_datetime(text: str | None, zone_name: str | None) -> datetime | None:
    """Read an <input type="datetime-local"> value as a wall-clock time in the named zone.

    Raises ValueError for text that is not a date and time or a zone that does not exist.
    """
    if not text:
        return None
    try:
        zone = ZoneInfo(zone_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone_name!r}") from None
    return datetime.fromisoformat(text).replace(tzinfo=zone)


# Browsers drop tabs and newlines anywhere in a URL and read "\\" as "/" (WHATWG URL).
_IGNORED_BY_BROWSERS = re.compile(r"[\t\n\r]")


def safe_next(target: str) -> str | None:
    """A path of this site to go to after log-in, as a browser would read it, or None."""
    target = _IGNORED_BY_BROWSERS.sub("", target).strip().replace("\\", "/")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return None
    parts = urlsplit(target)
    # Only a path: no scheme, no host, and not "//host" (a scheme-relative URL).
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    if parts.path.startswith("//"):
        return None
    return urlunsplit(("", "", parts.path, parts.query, parts.fragment))
