"""Fixtures of the payments tests: the shared Stripe fixtures from tests/support."""

from tests.support.stripe_fixtures import (  # noqa: F401 (pytest finds fixtures by name)
    connect_gateway,
    connect_standin,
    localstripe,
    make_driver,
    stripe_gateway,
    stripe_webhook_secret,
    stripe_webhooks,
)
