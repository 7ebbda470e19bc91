"""Pytest fixtures for code that talks to Stripe: localstripe, webhooks, the Connect stand-in.

tests/payments/conftest.py imports them; another test package can do the same, or a root
conftest can list this module in `pytest_plugins`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from app.payments.localserver import LOCAL_SECRET_KEY
from app.payments.stripe_gateway import StripeGateway
from tests.support.connect_standin import ConnectStandIn, running_connect_standin
from tests.support.localstripe import (
    LocalStripe,
    WebhookReceiver,
    receiving_webhooks,
    running_localstripe,
)

WEBHOOK_SECRET = "whsec_plugpool_tests"


@dataclass(frozen=True)
class Driver:
    """A driver as Stripe knows them: a Customer with a saved card."""

    customer_id: str
    payment_method_id: str


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    """Run one localstripe for the whole session (started as a subprocess, stopped at the end)."""
    with running_localstripe() as server:
        yield server


@pytest.fixture(scope="session")
def stripe_gateway(localstripe: LocalStripe) -> StripeGateway:
    """Return a StripeGateway that talks to the session's localstripe."""
    return localstripe.gateway()


@pytest.fixture(scope="session")
def stripe_webhook_secret() -> str:
    """Return the signing secret localstripe uses for the webhooks it sends us."""
    return WEBHOOK_SECRET


@pytest.fixture(scope="session")
def stripe_webhooks(
    localstripe: LocalStripe, stripe_webhook_secret: str
) -> Iterator[WebhookReceiver]:
    """Receive the webhooks localstripe sends, signed with stripe_webhook_secret."""
    with receiving_webhooks(localstripe, stripe_webhook_secret) as receiver:
        yield receiver


@pytest.fixture
def make_driver(stripe_gateway: StripeGateway) -> Callable[..., Driver]:
    """Return a factory: make_driver(card=..., driver_id=...) -> Driver with a saved card."""

    def make(card: str = "pm_card_visa", driver_id: str | None = None) -> Driver:
        # Unique ids keep idempotency keys apart, as they would be on real Stripe.
        driver_id = driver_id or secrets.token_hex(6)
        customer_id = stripe_gateway.create_customer(
            driver_id, email=f"driver{driver_id}@example.test"
        )
        saved = stripe_gateway.attach_payment_method(card, customer_id)
        return Driver(customer_id=customer_id, payment_method_id=saved.id)

    return make


@pytest.fixture
def connect_standin() -> Iterator[ConnectStandIn]:
    """Run a fresh Connect stand-in (accounts, links, transfers) on a free loopback port."""
    with running_connect_standin() as standin:
        yield standin


@pytest.fixture
def connect_gateway(connect_standin: ConnectStandIn) -> StripeGateway:
    """Return a StripeGateway whose API base is the Connect stand-in."""
    return StripeGateway.from_config(
        {
            "STRIPE_SECRET_KEY": LOCAL_SECRET_KEY,
            "STRIPE_API_BASE": connect_standin.url,
            "STRIPE_MAX_NETWORK_RETRIES": 0,
        }
    )
