"""Run localstripe for a test session, and receive the webhooks it sends."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from app.payments.localserver import (
    LOCAL_SECRET_KEY,
    register_webhook,
    start_localstripe,
    wait_until_ready,
)
from app.payments.stripe_gateway import StripeGateway
from tests.support.http_server import base_url, free_port, serving


@dataclass(frozen=True)
class LocalStripe:
    """A running localstripe: where it listens and how to configure the app for it."""

    url: str
    process: subprocess.Popen

    @property
    def config(self) -> dict[str, Any]:
        """Return the app config keys that point the gateway at this server."""
        return {
            "STRIPE_SECRET_KEY": LOCAL_SECRET_KEY,
            "STRIPE_API_BASE": self.url,
            # Fail fast in tests: a retry would only hide a bug here.
            "STRIPE_MAX_NETWORK_RETRIES": 0,
            "STRIPE_TIMEOUT": 10,
        }

    def gateway(self) -> StripeGateway:
        """Return a gateway configured for this server."""
        return StripeGateway.from_config(self.config)


@contextmanager
def running_localstripe() -> Iterator[LocalStripe]:
    """Start localstripe on a free loopback port, wait until it answers, stop it after."""
    port = free_port()
    process = start_localstripe(port)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(process, url)
        yield LocalStripe(url=url, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class ReceivedWebhook:
    """One webhook POST, with its body exactly as sent."""

    body: bytes
    signature: str | None


class WebhookReceiver:
    """Keeps every webhook POST so each test can wait for the one it expects."""

    def __init__(self) -> None:
        self.received: list[ReceivedWebhook] = []
        self._arrived = threading.Condition()
        self.url = ""

    def add(self, webhook: ReceivedWebhook) -> None:
        """Store a webhook and wake the waiting tests."""
        with self._arrived:
            self.received.append(webhook)
            self._arrived.notify_all()

    def wait_for(
        self, accept: Callable[[ReceivedWebhook], bool], timeout: float = 10.0
    ) -> ReceivedWebhook:
        """Return the first webhook, received before or within timeout, that accept() takes."""
        # Nothing is consumed: events of other tests stay for them, whatever the order.
        with self._arrived:
            found = self._arrived.wait_for(
                lambda: next((w for w in self.received if accept(w)), None), timeout
            )
        if found is None:
            raise TimeoutError("no matching webhook arrived")
        return found


def _receiver_handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    """Return a handler class that stores raw webhook bodies and answers 200."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.add(ReceivedWebhook(body, self.headers.get("Stripe-Signature")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    return Handler


@contextmanager
def serving_receiver() -> Iterator[WebhookReceiver]:
    """Run a webhook receiver on a free loopback port; its URL is in .url."""
    receiver = WebhookReceiver()
    with serving(_receiver_handler(receiver)) as server:
        receiver.url = f"{base_url(server)}/webhooks/stripe"
        yield receiver


@contextmanager
def receiving_webhooks(localstripe: LocalStripe, secret: str) -> Iterator[WebhookReceiver]:
    """Register a loopback receiver with a running localstripe for the block."""
    with serving_receiver() as receiver:
        register_webhook(localstripe.url, "plugpool-tests", receiver.url, secret)
        yield receiver
