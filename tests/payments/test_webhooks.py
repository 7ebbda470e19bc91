"""Webhook verification with the real SDK, on events signed by localstripe and by us."""

from __future__ import annotations

import json
import time

import pytest
import stripe

from app.payments.errors import InvalidWebhook
from app.payments.webhooks import sign_payload, verify_event

SECRET = "whsec_unit"


def event_body(event_id: str = "evt_1", event_type: str = "payment_intent.succeeded") -> bytes:
    """Return a minimal event body as Stripe would send it."""
    event = {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": 1_700_000_000,
        "data": {"object": {"id": "pi_1", "object": "payment_intent", "amount": 3000}},
    }
    return json.dumps(event).encode()


@pytest.fixture(scope="module")
def localstripe_objects(stripe_gateway, stripe_webhooks):
    """Create, once for the module, objects whose events localstripe sends about 1 s later."""
    # stripe_webhooks is requested first so the receiver is registered before any event.
    customer_id = stripe_gateway.create_customer("wh1", email="wh1@example.test")
    card = stripe_gateway.attach_payment_method("pm_card_visa", customer_id)
    payment = stripe_gateway.authorise(
        "wh2", customer_id=customer_id, payment_method_id=card.id, amount=1200, currency="eur"
    )
    stripe_gateway.capture("wh2", payment.id, 1200)
    return {"customer": customer_id, "payment": payment.id}


def webhook_about(receiver, object_id: str, event_type: str):
    """Wait for the webhook of event_type about object_id."""
    return receiver.wait_for(
        lambda w: object_id.encode() in w.body and f'"{event_type}"'.encode() in w.body
    )


def test_event_signed_by_localstripe_verifies(
    localstripe_objects, stripe_webhooks, stripe_webhook_secret
):
    customer_id = localstripe_objects["customer"]
    webhook = webhook_about(stripe_webhooks, customer_id, "customer.created")

    event = verify_event(webhook.body, webhook.signature, stripe_webhook_secret)

    assert event.type == "customer.created"
    assert event.id.startswith("evt_")
    assert (event.object_id, event.object_type) == (customer_id, "customer")
    assert event.data["email"] == "wh1@example.test"


def test_capture_event_from_localstripe_names_the_payment(
    localstripe_objects, stripe_webhooks, stripe_webhook_secret
):
    payment_id = localstripe_objects["payment"]
    webhook = webhook_about(stripe_webhooks, payment_id, "payment_intent.succeeded")

    event = verify_event(webhook.body, webhook.signature, stripe_webhook_secret)

    assert (event.type, event.object_id) == ("payment_intent.succeeded", payment_id)


def test_localstripe_event_replayed_after_the_tolerance_is_rejected(
    localstripe_objects, stripe_webhooks, stripe_webhook_secret, monkeypatch
):
    webhook = webhook_about(stripe_webhooks, localstripe_objects["customer"], "customer.created")
    later = time.time() + 301

    # Move only the SDK's clock: the captured request is replayed five minutes later.
    monkeypatch.setattr(stripe._webhook, "time", type("Clock", (), {"time": lambda: later}))

    with pytest.raises(InvalidWebhook):
        verify_event(webhook.body, webhook.signature, stripe_webhook_secret)


def test_our_signature_verifies_and_parses_the_event():
    body = event_body()

    event = verify_event(body, sign_payload(body, SECRET), SECRET)

    assert (event.id, event.type, event.object_id) == ("evt_1", "payment_intent.succeeded", "pi_1")
    assert event.data["amount"] == 3000
    assert event.account is None


def test_sign_payload_matches_the_sdk_scheme():
    body = event_body()

    ours = sign_payload(body, SECRET, timestamp=1_700_000_000)
    sdk = stripe.WebhookSignature.generate_signature_header(body.decode(), SECRET, 1_700_000_000)

    assert ours == sdk


def test_tampered_body_is_rejected():
    header = sign_payload(event_body(), SECRET)

    with pytest.raises(InvalidWebhook):
        verify_event(event_body(event_id="evt_forged"), header, SECRET)


def test_signature_made_with_another_secret_is_rejected():
    body = event_body()

    with pytest.raises(InvalidWebhook):
        verify_event(body, sign_payload(body, "whsec_attacker"), SECRET)


def test_stale_timestamp_is_rejected_even_with_a_valid_signature():
    body = event_body()
    header = sign_payload(body, SECRET, timestamp=int(time.time()) - 301)

    with pytest.raises(InvalidWebhook):
        verify_event(body, header, SECRET)


@pytest.mark.parametrize("header", [None, "", "garbage", "t=notanumber,v1=abc", "t=1700000000"])
def test_missing_or_malformed_signature_header_is_rejected(header):
    with pytest.raises(InvalidWebhook):
        verify_event(event_body(), header, SECRET)


def test_signed_body_that_is_not_an_event_is_rejected():
    for body in (b"not json", b'{"object": "event"}'):
        with pytest.raises(InvalidWebhook):
            verify_event(body, sign_payload(body, SECRET), SECRET)


def test_decoded_body_is_refused_because_only_raw_bytes_keep_the_signature():
    body = event_body()

    with pytest.raises(TypeError):
        verify_event(body.decode(), sign_payload(body, SECRET), SECRET)  # type: ignore[arg-type]


def test_zero_tolerance_is_refused_because_the_sdk_would_skip_the_timestamp_check():
    body = event_body()

    with pytest.raises(ValueError, match="tolerance"):
        verify_event(body, sign_payload(body, SECRET), SECRET, tolerance=0)


def test_connect_event_carries_its_account():
    event = json.loads(event_body(event_type="account.updated"))
    event["account"] = "acct_1"
    body = json.dumps(event).encode()

    assert verify_event(body, sign_payload(body, SECRET), SECRET).account == "acct_1"


def test_a_timestamp_in_the_future_beyond_the_tolerance_is_rejected():
    body = event_body()
    header = sign_payload(body, SECRET, timestamp=int(time.time()) + 3600)

    with pytest.raises(InvalidWebhook):
        verify_event(body, header, SECRET)


def test_a_timestamp_slightly_ahead_within_the_tolerance_is_accepted():
    body = event_body()
    header = sign_payload(body, SECRET, timestamp=int(time.time()) + 60)

    assert verify_event(body, header, SECRET).id == "evt_1"
