"""The JSON API /api/v1/bookings: thin edges over the services, problem JSON on errors."""

from __future__ import annotations

from app.accounts.models import User
from app.extensions import db as ext


def iso(value):
    return value.isoformat()


def window(evse_id, start, end):
    return {"evse_id": evse_id, "starts_at": iso(start), "ends_at": iso(end)}


def test_quote_hold_confirm_and_read_as_driver(client, driver, evse_id, tomorrow_at, token_for):
    auth = token_for(driver)

    quote = client.post(
        "/api/v1/bookings/quote",
        json=window(evse_id, tomorrow_at(10), tomorrow_at(12)),
        headers=auth,
    )
    held = client.post(
        "/api/v1/bookings", json=window(evse_id, tomorrow_at(10), tomorrow_at(12)), headers=auth
    )
    booking_id = held.json["id"]
    confirmed = client.post(f"/api/v1/bookings/{booking_id}/confirm", headers=auth)
    mine = client.get("/api/v1/bookings", headers=auth)

    assert quote.status_code == 200 and quote.json["amount_minor"] == 660
    assert held.status_code == 201 and held.json["status"] == "pending"
    assert held.json["access"] is None
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    assert confirmed.json["access"]["instructions"].startswith("Gate code")
    assert [b["id"] for b in mine.json] == [booking_id]


def test_taken_slot_is_409_problem_json_with_the_reason(
    client, driver, make_user, evse_id, tomorrow_at, token_for
):
    client.post(
        "/api/v1/bookings",
        json=window(evse_id, tomorrow_at(10), tomorrow_at(12)),
        headers=token_for(driver),
    )

    response = client.post(
        "/api/v1/bookings",
        json=window(evse_id, tomorrow_at(11), tomorrow_at(13)),
        headers=token_for(make_user()),
    )

    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.json["title"] == "Slot taken"
    assert response.json["reason"] == "overlap"


def test_invalid_window_is_422_with_field_errors(client, driver, evse_id, tomorrow_at, token_for):
    response = client.post(
        "/api/v1/bookings",
        json=window(evse_id, tomorrow_at(12), tomorrow_at(10)),
        headers=token_for(driver),
    )

    assert response.status_code == 422
    assert "ends_at" in response.json["errors"]


def test_bookings_need_a_bearer_token(client, evse_id, tomorrow_at):
    response = client.post(
        "/api/v1/bookings", json=window(evse_id, tomorrow_at(10), tomorrow_at(11))
    )

    assert response.status_code == 401


def test_owner_accepts_a_request_and_sees_it_in_their_listing(
    client, driver, make_listing, tomorrow_at, token_for
):
    location = make_listing(instant_book=False)
    owner = ext.session.get(User, location.owner_id)
    auth = token_for(driver)
    held = client.post(
        "/api/v1/bookings",
        json=window(location.evses[0].id, tomorrow_at(10), tomorrow_at(11)),
        headers=auth,
    ).json
    client.post(f"/api/v1/bookings/{held['id']}/confirm", headers=auth)

    by_driver = client.post(f"/api/v1/bookings/{held['id']}/accept", headers=auth)
    accepted = client.post(f"/api/v1/bookings/{held['id']}/accept", headers=token_for(owner))
    listing = client.get(
        f"/api/v1/bookings/owner?location_id={location.id}", headers=token_for(owner)
    )

    assert by_driver.status_code == 403
    assert accepted.status_code == 200 and accepted.json["status"] == "confirmed"
    assert [b["id"] for b in listing.json] == [held["id"]]


def test_another_driver_cannot_read_or_cancel_my_booking(
    client, driver, make_user, evse_id, tomorrow_at, token_for
):
    held = client.post(
        "/api/v1/bookings",
        json=window(evse_id, tomorrow_at(10), tomorrow_at(11)),
        headers=token_for(driver),
    ).json
    other = token_for(make_user())

    assert client.get(f"/api/v1/bookings/{held['id']}", headers=other).status_code == 403
    assert client.post(f"/api/v1/bookings/{held['id']}/cancel", headers=other).status_code == 403


def test_extend_cancel_review_and_report_routes(client, driver, evse_id, tomorrow_at, token_for):
    auth = token_for(driver)
    held = client.post(
        "/api/v1/bookings", json=window(evse_id, tomorrow_at(10), tomorrow_at(11)), headers=auth
    ).json
    client.post(f"/api/v1/bookings/{held['id']}/confirm", headers=auth)

    extended = client.post(
        f"/api/v1/bookings/{held['id']}/extend",
        json={"ends_at": iso(tomorrow_at(12))},
        headers=auth,
    )
    early_review = client.post(
        f"/api/v1/bookings/{held['id']}/reviews", json={"rating": 5}, headers=auth
    )
    problem = client.post(
        f"/api/v1/bookings/{held['id']}/problems", json={"description": "No cable"}, headers=auth
    )
    cancelled = client.post(f"/api/v1/bookings/{held['id']}/cancel", headers=auth)

    assert extended.status_code == 200 and extended.json["ends_at"] == iso(tomorrow_at(12))
    assert early_review.status_code == 409
    assert problem.status_code == 201
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
