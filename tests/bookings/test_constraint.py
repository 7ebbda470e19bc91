"""The database itself refuses overlapping holding bookings on one EVSE."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from app.bookings.models import Booking
from app.bookings.rules import is_overlap_violation
from app.extensions import db as ext


def raw_booking(driver, listing, starts, ends, status="confirmed"):
    """Insert a booking row directly, skipping the service's friendly check."""
    values = {
        "driver_id": driver.id,
        "location_id": listing.id,
        "evse_id": listing.evses[0].id,
        "starts_at": starts,
        "ends_at": ends,
        "status": status,
        "instant_book": True,
        "amount_minor": 100,
        "currency": "EUR",
        "policy": {"name": "moderate", "cutoff_hours": 12, "fee_percent": 50},
    }
    with ext.session.begin_nested():
        ext.session.execute(insert(Booking).values(**values))


def test_overlapping_insert_is_refused_by_the_exclusion_constraint(
    db, make_user, listing, tomorrow_at
):
    driver = make_user()
    raw_booking(driver, listing, tomorrow_at(10), tomorrow_at(12))

    with pytest.raises(IntegrityError) as caught:
        raw_booking(driver, listing, tomorrow_at(11), tomorrow_at(13))

    assert caught.value.orig.sqlstate == "23P01"
    assert is_overlap_violation(caught.value)


def test_adjacent_cancelled_and_other_evse_bookings_are_accepted(
    db, make_user, make_listing, listing, tomorrow_at
):
    driver = make_user()
    raw_booking(driver, listing, tomorrow_at(10), tomorrow_at(12))
    raw_booking(driver, listing, tomorrow_at(12), tomorrow_at(13))  # half-open: touching is fine
    raw_booking(driver, listing, tomorrow_at(10), tomorrow_at(12), status="cancelled")
    raw_booking(driver, listing, tomorrow_at(9), tomorrow_at(14), status="expired")
    other = make_listing()
    raw_booking(driver, other, tomorrow_at(10), tomorrow_at(12))

    count = db.execute(text("SELECT count(*) FROM bookings")).scalar_one()
    assert count == 5


def test_moving_a_booking_onto_another_is_refused(db, make_user, listing, tomorrow_at):
    driver = make_user()
    raw_booking(driver, listing, tomorrow_at(10), tomorrow_at(12))
    raw_booking(driver, listing, tomorrow_at(12), tomorrow_at(13))

    with pytest.raises(IntegrityError), ext.session.begin_nested():
        ext.session.execute(
            text("UPDATE bookings SET ends_at = ends_at + :d WHERE starts_at = :s"),
            {"d": timedelta(minutes=30), "s": tomorrow_at(10)},
        )


def test_the_constraint_covers_exactly_the_holding_statuses(db):
    definition = db.execute(
        text(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conname = 'bookings_no_overlap'"
        )
    ).scalar_one()

    assert "EXCLUDE USING gist (evse_id WITH =, during WITH &&)" in definition
    for status in ("pending", "requested", "confirmed", "active"):
        assert f"'{status}'" in definition
    assert "'cancelled'" not in definition
