"""Bookings fixtures: the app pointed at the session's localstripe, listings, drivers, a clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from app.accounts.models import ApiToken, Role, User
from app.core.security import digest_token, new_token
from app.extensions import db
from app.inventory.models import AvailabilityWindow, Location
from app.payments import services as payments
from tests.support.stripe_fixtures import (  # noqa: F401 (pytest finds fixtures by name)
    connect_gateway,
    connect_standin,
    localstripe,
    stripe_webhook_secret,
)

WEBHOOK_SECRET = "whsec_bookings_tests"


@pytest.fixture(scope="session", autouse=True)
def app_on_localstripe(app: Any, localstripe: Any) -> Iterator[None]:  # noqa: F811
    """Point the app's Stripe gateway at the session's localstripe (real SDK, real HTTP)."""
    saved = {key: app.config.get(key) for key in [*localstripe.config, "STRIPE_WEBHOOK_SECRET"]}
    app.config.update(localstripe.config, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    yield
    app.config.update(saved)


@pytest.fixture
def tomorrow_at() -> Callable[..., datetime]:
    """Return a helper: tomorrow (UTC) at hour:minute, as an aware datetime."""
    day = (datetime.now(UTC) + timedelta(days=1)).date()

    def at(hour: int, minute: int = 0, days: int = 0) -> datetime:
        return datetime.combine(day + timedelta(days=days), time(hour, minute), tzinfo=UTC)

    return at


@pytest.fixture
def make_listing(make_location: Callable[..., Location], make_tariff: Callable[..., Any]):
    """Return a factory: a published listing whose one EVSE is priced by a tariff (0.30/kWh)."""

    def make(**overrides: Any) -> Location:
        tariff = make_tariff()
        connector = {"tariff_ids": [tariff.ocpi_id], **overrides.pop("connector", {})}
        overrides.setdefault("access_instructions", "Gate code 4711, charger on the left")
        overrides.setdefault("time_zone", "UTC")
        return make_location(connector=connector, **overrides)

    return make


@pytest.fixture
def listing(make_listing: Callable[..., Location]) -> Location:
    return make_listing()


@pytest.fixture
def evse_id(listing: Location) -> int:
    return listing.evses[0].id


@pytest.fixture
def owner(listing: Location) -> User:
    return db.session.get(User, listing.owner_id)


@pytest.fixture
def make_driver_with_card(make_user: Callable[..., User]) -> Callable[..., User]:
    """Return a factory: a driver whose card is saved on localstripe."""

    def make(card: str = "pm_card_visa", **overrides: Any) -> User:
        driver = make_user(role=Role.DRIVER.value, **overrides)
        payments.save_card(driver, card)
        return driver

    return make


@pytest.fixture
def driver(make_driver_with_card: Callable[..., User]) -> User:
    return make_driver_with_card()


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(role=Role.ADMIN.value)


@pytest.fixture
def token_for() -> Callable[[User], dict[str, str]]:
    """Return a helper: an Authorization header with a fresh API token of the user."""

    def make(user: User) -> dict[str, str]:
        token = new_token()
        db.session.add(ApiToken(user_id=user.id, digest=digest_token(token)))
        db.session.flush()
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Return travel(to): the bookings and payments services see `to` as now."""

    def travel(to: datetime) -> None:
        monkeypatch.setattr("app.bookings.services.utcnow", lambda: to)

    return travel


def weekly(location: Location, weekday: int, start: time, end: time) -> None:
    """Add a weekly sharing window to a listing."""
    location.availability.append(
        AvailabilityWindow(weekday=weekday, start_time=start, end_time=end)
    )
    db.session.flush()
