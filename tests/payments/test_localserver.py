"""The localstripe launcher used by `make run` and by the test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.payments.errors import PaymentRejected
from app.payments.localserver import LOCAL_SECRET_KEY, start_localstripe, wait_until_ready
from app.payments.stripe_gateway import StripeGateway
from app.payments.webhooks import verify_event
from tests.support.http_server import free_port
from tests.support.localstripe import serving_receiver


def run_localstripe(state_file: Path):
    """Start localstripe with a state file on a free port; return (process, gateway)."""
    port = free_port()
    process = start_localstripe(port, state_file=state_file)
    url = f"http://127.0.0.1:{port}"
    wait_until_ready(process, url)
    gateway = StripeGateway.from_config(
        {"STRIPE_SECRET_KEY": LOCAL_SECRET_KEY, "STRIPE_API_BASE": url}
    )
    return process, gateway


def stop(process) -> None:
    """Stop a localstripe process and wait for it."""
    process.terminate()
    process.wait(timeout=5)


def test_state_survives_a_restart_in_the_chosen_file(tmp_path):
    state = tmp_path / "localstripe.pickle"
    process, gateway = run_localstripe(state)
    try:
        customer_id = gateway.create_customer("keep", email="keep@example.test")
        card = gateway.attach_payment_method("pm_card_visa", customer_id)
    finally:
        stop(process)

    process, gateway = run_localstripe(state)
    try:
        assert [c.id for c in gateway.list_cards(customer_id)] == [card.id]
    finally:
        stop(process)


def test_a_fresh_state_file_starts_empty(tmp_path):
    process, gateway = run_localstripe(tmp_path / "first.pickle")
    try:
        customer_id = gateway.create_customer("gone", email="gone@example.test")
    finally:
        stop(process)

    process, gateway = run_localstripe(tmp_path / "other.pickle")
    try:
        with pytest.raises(PaymentRejected):
            gateway.list_cards(customer_id)
    finally:
        stop(process)


def test_webhook_given_at_start_receives_signed_events(tmp_path):
    with serving_receiver() as receiver:
        port = free_port()
        process = start_localstripe(
            port, webhook_url=receiver.url, webhook_secret="whsec_demo", state_file=tmp_path / "s"
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_ready(process, url)
            gateway = StripeGateway.from_config(
                {"STRIPE_SECRET_KEY": LOCAL_SECRET_KEY, "STRIPE_API_BASE": url}
            )
            customer_id = gateway.create_customer("demo", email="demo@example.test")
            webhook = receiver.wait_for(lambda w: customer_id.encode() in w.body)
        finally:
            stop(process)

    assert verify_event(webhook.body, webhook.signature, "whsec_demo").object_id == customer_id


def test_a_server_that_exits_is_reported_at_once():
    port = free_port()
    process = start_localstripe(port, host="256.0.0.1")

    with pytest.raises(RuntimeError, match="exited"):
        wait_until_ready(process, f"http://127.0.0.1:{port}", timeout=10)
