"""On SQLite (the embedded default) a trigger refuses overlapping holding bookings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.bookings.models import Booking
from app.bookings.rules import is_overlap_violation


def at(hour):
    return datetime(2030, 1, 2, hour, tzinfo=UTC)


@pytest.fixture
def sqlite():
    engine = create_engine("sqlite://")
    # Only the bookings table: the trigger is attached to its after_create event.
    Booking.__table__.create(engine)
    yield engine
    engine.dispose()


def add(connection, starts, ends, status="confirmed", evse=1):
    connection.execute(
        insert(Booking).values(
            driver_id=1,
            location_id=1,
            evse_id=evse,
            starts_at=starts,
            ends_at=ends,
            status=status,
            instant_book=True,
            amount_minor=100,
            currency="EUR",
            policy={},
            created_at=at(0),
            last_updated=at(0),
        )
    )


def test_trigger_refuses_an_overlapping_insert(sqlite):
    with sqlite.begin() as connection:
        add(connection, at(10), at(12))
    with pytest.raises(IntegrityError) as caught, sqlite.begin() as connection:
        add(connection, at(11), at(13), status="pending")
    assert is_overlap_violation(caught.value)


def test_trigger_accepts_adjacent_cancelled_and_other_evse_rows(sqlite):
    with sqlite.begin() as connection:
        add(connection, at(10), at(12))
        add(connection, at(12), at(13))
        add(connection, at(10), at(12), status="cancelled")
        add(connection, at(10), at(12), evse=2)
    with sqlite.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Booking)).scalar() == 4


def test_trigger_refuses_reviving_a_cancelled_booking_onto_a_taken_slot(sqlite):
    with sqlite.begin() as connection:
        add(connection, at(10), at(12))
        add(connection, at(10), at(12), status="cancelled")
    with pytest.raises(IntegrityError), sqlite.begin() as connection:
        connection.execute(
            update(Booking).where(Booking.status == "cancelled").values(status="confirmed")
        )
