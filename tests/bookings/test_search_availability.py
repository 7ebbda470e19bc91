"""A booked slot disappears from search for overlapping windows, and only for those."""

from __future__ import annotations

from typing import Any

from app.bookings import services


def _search(client: Any, listing: Any, start: Any, end: Any) -> list[int]:
    query = {
        "lat": str(listing.latitude),
        "lon": str(listing.longitude),
        "radius_m": 1000,
        "available_from": start.isoformat(),
        "available_to": end.isoformat(),
    }
    response = client.get("/api/v1/chargers", query_string=query)
    assert response.status_code == 200, response.get_json()
    return [result["evse"]["id"] for result in response.get_json()["results"]]


def test_booked_evse_is_not_offered_for_an_overlapping_window(client, listing, driver, tomorrow_at):
    evse_id = listing.evses[0].id
    assert _search(client, listing, tomorrow_at(10), tomorrow_at(12)) == [evse_id]
    services.hold_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(12))
    assert _search(client, listing, tomorrow_at(11), tomorrow_at(13)) == []
    assert _search(client, listing, tomorrow_at(12), tomorrow_at(14)) == [evse_id]


def test_cancelled_booking_frees_the_slot_in_search(client, listing, driver, tomorrow_at):
    evse_id = listing.evses[0].id
    booking = services.hold_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(12))
    services.cancel_booking(driver, booking.id)
    assert _search(client, listing, tomorrow_at(10), tomorrow_at(12)) == [evse_id]
