"""Fixtures of the payments tests: the shared Stripe fixtures from tests/support."""

from tests.bookings.conftest import (  # noqa: F401 (booking money-path fixtures)
    admin,
    app_on_localstripe,
    clock,
    driver,
    evse_id,
    listing,
    make_driver_with_card,
    make_listing,
    owner,
    token_for,
    tomorrow_at,
)
from tests.support.stripe_fixtures import (  # noqa: F401 (pytest finds fixtures by name)
    connect_gateway,
    connect_standin,
    localstripe,
    make_driver,
    stripe_gateway,
    stripe_webhook_secret,
    stripe_webhooks,
)
