"""Run localstripe for a test session, and receive the webhooks it sends."""

from __future__ import annotations

import queue
import subprocess
from collections.abc import Iterator
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
    """Collects webhook POSTs in a queue so a test can wait for the one it expects."""

    def __init__(self) -> None:
        self.received: queue.Queue[ReceivedWebhook] = queue.Queue()
        self.url = ""

    def wait_for(self, accept, timeout: float = 10.0) -> ReceivedWebhook:
        """Return the first received webhook for which accept(webhook) is true."""
        while True:
            webhook = self.received.get(timeout=timeout)
            if accept(webhook):
                return webhook


def _receiver_handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    """Return a handler class that stores raw webhook bodies and answers 200."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.received.put(ReceivedWebhook(body, self.headers.get("Stripe-Signature")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    return Handler


@contextmanager
def receiving_webhooks(localstripe: LocalStripe, secret: str) -> Iterator[WebhookReceiver]:
    """Register a loopback receiver with localstripe for the duration of the block."""
    receiver = WebhookReceiver()
    with serving(_receiver_handler(receiver)) as server:
        receiver.url = f"{base_url(server)}/webhooks/stripe"
        register_webhook(localstripe.url, "plugpool-tests", receiver.url, secret)
        yield receiver
