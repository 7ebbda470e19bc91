"""Booking and payment outcomes appear on GET /metrics once their transaction commits."""

from tests.support.metrics import sample, scrape

BOOKINGS = "plugpool_booking_outcomes_total"
PAYMENTS = "plugpool_payment_outcomes_total"


def window(evse_id, start, end):
    return {"evse_id": evse_id, "starts_at": start.isoformat(), "ends_at": end.isoformat()}


def test_a_held_then_confirmed_booking_and_its_card_hold_are_counted(
    client, driver, evse_id, tomorrow_at, token_for
):
    auth = token_for(driver)
    before = scrape(client)

    held = client.post(
        "/api/v1/bookings", json=window(evse_id, tomorrow_at(10), tomorrow_at(12)), headers=auth
    )
    client.post(f"/api/v1/bookings/{held.json['id']}/confirm", headers=auth)
    after = scrape(client)

    assert held.status_code == 201
    assert sample(after, BOOKINGS, outcome="held") == sample(before, BOOKINGS, outcome="held") + 1
    assert (
        sample(after, BOOKINGS, outcome="confirmed")
        == sample(before, BOOKINGS, outcome="confirmed") + 1
    )
    assert (
        sample(after, PAYMENTS, outcome="authorised")
        == sample(before, PAYMENTS, outcome="authorised") + 1
    )


def test_a_refused_overlapping_hold_counts_as_slot_taken_not_held(
    client, driver, make_user, evse_id, tomorrow_at, token_for
):
    client.post(
        "/api/v1/bookings",
        json=window(evse_id, tomorrow_at(10), tomorrow_at(12)),
        headers=token_for(driver),
    )
    before = scrape(client)

    refused = client.post(
        "/api/v1/bookings",
        json=window(evse_id, tomorrow_at(11), tomorrow_at(13)),
        headers=token_for(make_user()),
    )
    after = scrape(client)

    assert refused.status_code == 409
    assert (
        sample(after, BOOKINGS, outcome="slot_taken")
        == sample(before, BOOKINGS, outcome="slot_taken") + 1
    )
    assert sample(after, BOOKINGS, outcome="held") == sample(before, BOOKINGS, outcome="held")
