"""Configure the one StripeClient PlugPool uses: key, base URL, retries, timeout, logs."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import stripe

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StripeSettings:
    """What the gateway needs from the app config."""

    secret_key: str = field(repr=False)
    api_base: str | None = None
    max_network_retries: int = 2
    timeout_seconds: float = 20.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StripeSettings:
        """Read STRIPE_SECRET_KEY, STRIPE_API_BASE, STRIPE_MAX_NETWORK_RETRIES, STRIPE_TIMEOUT."""
        secret_key = config.get("STRIPE_SECRET_KEY")
        if not secret_key:
            raise ValueError("STRIPE_SECRET_KEY is not set")
        return cls(
            secret_key=secret_key,
            api_base=config.get("STRIPE_API_BASE") or None,
            max_network_retries=int(config.get("STRIPE_MAX_NETWORK_RETRIES", 2)),
            timeout_seconds=float(config.get("STRIPE_TIMEOUT", 20.0)),
        )


class _NoBodiesFilter(logging.Filter):
    """Drop the SDK's debug records that carry request and response bodies."""

    # Bodies hold onboarding URLs and client secrets (bearer secrets) and drivers' emails.
    BODY_MESSAGES = ("message='API response body'", "message='Post details'")

    def filter(self, record: logging.LogRecord) -> bool:
        """Return False for a record that would print a body."""
        text = record.getMessage()
        return not any(marker in text for marker in self.BODY_MESSAGES)


def keep_bodies_out_of_logs() -> None:
    """Filter Stripe SDK logs so no body reaches a handler, even at DEBUG level."""
    sdk_logger = logging.getLogger("stripe")
    if not any(isinstance(f, _NoBodiesFilter) for f in sdk_logger.filters):
        sdk_logger.addFilter(_NoBodiesFilter())
    if "debug" in (stripe.log, os.environ.get("STRIPE_LOG")):
        # The SDK then prints bodies to stderr itself, past any logging filter.
        log.warning("STRIPE_LOG=debug prints Stripe bodies, secrets included, to stderr")


def make_client(settings: StripeSettings) -> stripe.StripeClient:
    """Build a StripeClient whose base URL comes from the settings, not from module globals."""
    keep_bodies_out_of_logs()
    base = settings.api_base
    return stripe.StripeClient(
        settings.secret_key,
        # Connect endpoints (/v1/accounts, /v1/transfers) live on the api base; the
        # connect base only serves OAuth, which PlugPool does not use.
        base_addresses={"api": base, "connect": base} if base else None,
        max_network_retries=settings.max_network_retries,
        http_client=stripe.RequestsClient(timeout=settings.timeout_seconds),
    )
