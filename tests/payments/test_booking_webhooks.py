"""POST /webhooks/stripe: signature on the raw body, each event once, state changes applied."""

from __future__ import annotations

import json
import time

import pytest

from app.bookings import services
from app.payments import queries as payment_queries
from app.payments.models import StripeEvent
from app.payments.webhooks import sign_payload
from tests.bookings.conftest import WEBHOOK_SECRET


def event(event_type, obj, event_id=None):
    return json.dumps(
        {
            "id": event_id or f"evt_{time.monotonic_ns()}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": obj},
        }
    ).encode()


def post(client, body, signature=None):
    signature = signature if signature is not None else sign_payload(body, WEBHOOK_SECRET)
    return client.post(
        "/webhooks/stripe",
        data=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


def event_count():
    from sqlalchemy import func, select

    from app.extensions import db

    return db.session.scalar(select(func.count()).select_from(StripeEvent))


@pytest.fixture
def booked(db, driver, evse_id, tomorrow_at):
    booking = services.book_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(12))
    return booking, payment_queries.payment_of(booking.id)


def test_forged_signature_is_400_and_changes_nothing(client, booked):
    booking, payment = booked
    body = event(
        "payment_intent.canceled", {"id": payment.payment_intent_id, "object": "payment_intent"}
    )

    response = post(client, body, sign_payload(body, "whsec_someone_else"))

    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert payment_queries.payment_of(booking.id).state == "authorised"
    assert event_count() == 0


def test_tampered_body_is_400(client, booked):
    _, payment = booked
    body = event("payment_intent.canceled", {"id": payment.payment_intent_id})
    signature = sign_payload(body, WEBHOOK_SECRET)

    response = post(client, body.replace(b"canceled", b"succeeded"), signature)

    assert response.status_code == 400


def test_replayed_old_delivery_is_400_and_changes_nothing(client, booked):
    booking, payment = booked
    body = event("payment_intent.canceled", {"id": payment.payment_intent_id})
    old = sign_payload(body, WEBHOOK_SECRET, timestamp=int(time.time()) - 3600)

    response = post(client, body, old)

    assert response.status_code == 400
    assert payment_queries.payment_of(booking.id).state == "authorised"


def test_the_same_event_is_processed_once(client, booked):
    booking, payment = booked
    body = event("payment_intent.canceled", {"id": payment.payment_intent_id}, event_id="evt_once")

    first = post(client, body)
    second = post(client, body)

    assert (first.status_code, first.json["outcome"]) == (200, "processed")
    assert (second.status_code, second.json["outcome"]) == (200, "duplicate")
    kinds = [row.kind for row in payment_queries.ledger_of(booking.id)]
    assert kinds == ["authorised", "released"]
    # A lapsed hold on a booking still ahead is placed again by the authorise job.
    assert payment_queries.payment_of(booking.id).state == "scheduled"


def test_dispute_holds_the_payout(client, booked):
    booking, payment = booked
    body = event(
        "charge.dispute.created",
        {"id": "dp_1", "object": "dispute", "charge": payment.charge_id, "amount": 660},
    )

    response = post(client, body)

    assert response.status_code == 200
    assert payment.charge_id
    assert payment_queries.payment_of(booking.id).disputed is True


def test_external_refund_is_recorded_in_the_ledger(client, booked):
    booking, payment = booked
    body = event(
        "charge.refunded", {"id": payment.charge_id, "object": "charge", "amount_refunded": 200}
    )

    post(client, body)
    post(client, event("charge.refunded", {"id": payment.charge_id, "amount_refunded": 200}))

    rows = [(r.kind, r.amount_minor) for r in payment_queries.ledger_of(booking.id)]
    assert rows == [("authorised", 660), ("refunded", 200)]


def test_unknown_event_types_are_acknowledged(client):
    response = post(client, event("customer.created", {"id": "cus_1", "object": "customer"}))

    assert response.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"null",
        b'"evt_1"',
        b'{"id": {"nested": 1}, "type": "payment_intent.succeeded", "data": {"object": {}}}',
        b'{"id": "evt_x", "type": ["payment_intent.succeeded"], "data": {"object": {}}}',
        b'{"id": "evt_x", "type": "payment_intent.canceled", "data": {"object": {"id": {}}}}',
        b'{"id": "evt_x", "type": "payment_intent.canceled", "data": []}',
        b'{"id": "evt_x", "type": "payment_intent.canceled", "created": "soon", "data": {}}',
        b"[" * 5000 + b"]" * 5000,
    ],
)
def test_a_correctly_signed_body_of_the_wrong_shape_is_400_and_writes_nothing(client, booked, body):
    before = event_count()
    response = post(client, body)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert event_count() == before


@pytest.mark.parametrize("skew", [-3600, 3600])
def test_a_timestamp_outside_the_tolerance_either_way_is_400(client, booked, skew):
    _, payment = booked
    body = event(
        "payment_intent.canceled", {"id": payment.payment_intent_id, "object": "payment_intent"}
    )
    response = post(client, body, sign_payload(body, WEBHOOK_SECRET, int(time.time()) + skew))
    assert response.status_code == 400
    assert event_count() == 0
