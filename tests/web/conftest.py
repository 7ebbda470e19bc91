"""Web page fixtures: a logged-in browser session per role, and the listing form's fields."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import g
from flask.testing import FlaskClient

from app.accounts.models import Role, User
from tests.factories import with_payouts
from tests.inventory.conftest import row_counts  # noqa: F401 (a fixture, found by name)

CSRF = "csrf-token-of-this-test-session"

# The listing of tests/inventory/conftest.py LISTING, as the owner types it into the form.
LISTING_FORM: dict[str, Any] = {
    "name": "Driveway charger",
    "address": "Prinsengracht 263",
    "city": "Amsterdam",
    "postal_code": "1016GV",
    "country": "NLD",
    "latitude": "52.375218",
    "longitude": "4.883977",
    "time_zone": "Europe/Amsterdam",
    "parking_type": "ON_DRIVEWAY",
    "access_instructions": "Gate code is in the app after booking.",
    "evses.0.connectors.0.standard": "IEC_62196_T2",
    "evses.0.connectors.0.format": "SOCKET",
    "evses.0.connectors.0.power_type": "AC_3_PHASE",
    "evses.0.connectors.0.max_voltage": "230",
    "evses.0.connectors.0.max_amperage": "16",
    "evses.0.connectors.0.max_power_kw": "11",
    "evses.0.capabilities": ["REMOTE_START_STOP_CAPABLE", "RESERVABLE"],
    # The spare, empty charger row the page always shows.
    "evses.1.connectors.0.standard": "",
    "evses.1.connectors.0.format": "SOCKET",
    "evses.1.connectors.0.power_type": "",
    "evses.1.connectors.0.max_voltage": "",
    "price.currency": "EUR",
    "price.per_kwh": "0.30",
    "price.per_hour": "1.00",
    "price.per_session": "0.50",
    "price.vat": "",
    "week.1.0.start": "08:00",
    "week.1.0.end": "18:00",
    "week.1.1.start": "",
    "week.6.0.start": "20:00",
    "week.6.0.end": "00:00",
    "blackouts.0.start_date": "2026-12-24",
    "blackouts.0.end_date": "2026-12-26",
    "blackouts.0.reason": "Family",
    "blackouts.1.start_date": "",
}


def csrf_of(html: str) -> str:
    """The CSRF token a page put in its forms."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


@pytest.fixture
def log_in(client: FlaskClient) -> Callable[[User], str]:
    """Return log_in(user): a flask-login session for the user; returns its CSRF token."""

    def log_in(user: User) -> str:
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
            session["csrf"] = CSRF
        # The test's app context outlives requests, and flask-login caches the user on g.
        g.pop("_login_user", None)
        return CSRF

    return log_in


@pytest.fixture
def owner(make_user: Callable[..., User]) -> User:
    return with_payouts(make_user(role=Role.OWNER.value, name="Olga Owner"))


@pytest.fixture
def driver(make_user: Callable[..., User]) -> User:
    return make_user(role=Role.DRIVER.value, name="Dan Driver")


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(role=Role.ADMIN.value, name="Ada Admin")


@pytest.fixture
def listing_form() -> Callable[..., dict[str, Any]]:
    """A filled-in listing form; keyword overrides replace fields (None drops one)."""

    def make(**overrides: Any) -> dict[str, Any]:
        form = {**LISTING_FORM, "csrf_token": CSRF}
        for name, value in overrides.items():
            key = name.replace("__", ".")
            if value is None:
                form.pop(key, None)
            else:
                form[key] = value
        return form

    return make
