"""Booking rules: schedule and blackouts in local time (DST), lead time, length, EVSE state."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.bookings import services
from app.bookings.errors import SlotTaken
from app.core.errors import ValidationFailed
from app.extensions import db as ext
from app.inventory.models import Blackout
from tests.bookings.conftest import weekly


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def amsterdam(make_listing):
    """A listing in Amsterdam shared 08:00-20:00 local time, every day."""
    location = make_listing(time_zone="Europe/Amsterdam")
    for weekday in range(1, 8):
        weekly(location, weekday, time(8), time(20))
    return location


@pytest.fixture
def far_clock(clock):
    """Put now well before the DST dates used below (the last Sunday of March 2030)."""
    clock(utc(2030, 3, 1, 12))


def test_quote_prices_the_window_with_the_tariff_engine(db, driver, evse_id, tomorrow_at):
    quote = services.quote_booking(driver, evse_id, tomorrow_at(10), tomorrow_at(12))

    # 11 kW for 2 h = 22 kWh at 0.30 EUR/kWh.
    assert (quote.amount_minor, quote.currency) == (660, "EUR")


def test_window_inside_local_sharing_hours_across_spring_forward_is_accepted(
    db, driver, amsterdam, far_clock
):
    evse = amsterdam.evses[0].id
    # 31 March 2030 is the DST day: 08:00 CEST is 06:00 UTC (the day before, 07:00 UTC).
    saturday = services.quote_booking(driver, evse, utc(2030, 3, 30, 7), utc(2030, 3, 30, 8))
    sunday = services.quote_booking(driver, evse, utc(2030, 3, 31, 6), utc(2030, 3, 31, 7))
    # Both hours open locally (08:00-09:00): each is priced, the same hour the same amount.
    assert saturday.amount_minor > 0
    assert (sunday.amount_minor, sunday.currency) == (saturday.amount_minor, saturday.currency)


def test_window_starting_before_local_opening_after_spring_forward_is_refused(
    db, driver, amsterdam, far_clock
):
    # 06:30 UTC is 07:30 local (CET) on Saturday but 08:30 (CEST) on Sunday; 05:30 UTC is
    # 07:30 CEST on Sunday: closed, although the same UTC time was open on Saturday.
    evse = amsterdam.evses[0].id
    services.quote_booking(driver, evse, utc(2030, 3, 31, 6, 30), utc(2030, 3, 31, 7))
    with pytest.raises(ValidationFailed) as caught:
        services.quote_booking(driver, evse, utc(2030, 3, 31, 5, 30), utc(2030, 3, 31, 7))
    assert "sharing hours" in caught.value.extra["errors"]["starts_at"][0]
    with pytest.raises(ValidationFailed):
        services.quote_booking(driver, evse, utc(2030, 3, 30, 6, 30), utc(2030, 3, 30, 8))


def test_window_crossing_local_closing_time_is_refused(db, driver, amsterdam, far_clock):
    evse = amsterdam.evses[0].id
    # 19:00 UTC in summer time is 21:00 local: after the 20:00 closing.
    with pytest.raises(ValidationFailed):
        services.quote_booking(driver, evse, utc(2030, 4, 2, 17), utc(2030, 4, 2, 19))


def test_overnight_window_ending_at_midnight_joins_the_next_morning(
    db, driver, make_listing, clock
):
    clock(utc(2030, 3, 1, 12))
    location = make_listing(time_zone="Europe/Amsterdam")
    weekly(location, 1, time(18), time(0))  # Monday 18:00 until midnight
    weekly(location, 2, time(0), time(8))  # Tuesday until 08:00
    evse = location.evses[0].id

    # Monday 4 March 2030 22:00 local (21:00 UTC) to Tuesday 02:00 local.
    services.quote_booking(driver, evse, utc(2030, 3, 4, 21), utc(2030, 3, 5, 1))
    with pytest.raises(ValidationFailed):
        services.quote_booking(driver, evse, utc(2030, 3, 5, 6), utc(2030, 3, 5, 8))


def test_blackout_date_in_local_time_is_refused(db, driver, amsterdam, far_clock):
    amsterdam.blackouts.append(
        Blackout(start_date=date(2030, 4, 3), end_date=date(2030, 4, 3), reason="holiday")
    )
    ext.session.flush()
    evse = amsterdam.evses[0].id

    with pytest.raises(ValidationFailed) as caught:
        services.quote_booking(driver, evse, utc(2030, 4, 3, 8), utc(2030, 4, 3, 9))
    assert "2030-04-03" in caught.value.extra["errors"]["starts_at"][0]
    # The day before and after are bookable.
    services.quote_booking(driver, evse, utc(2030, 4, 2, 8), utc(2030, 4, 2, 9))
    services.quote_booking(driver, evse, utc(2030, 4, 4, 8), utc(2030, 4, 4, 9))


def test_start_inside_the_minimum_lead_time_is_refused(db, driver, evse_id):
    soon = datetime.now(UTC) + timedelta(minutes=10)

    with pytest.raises(ValidationFailed) as caught:
        services.hold_slot(driver, evse_id, soon, soon + timedelta(hours=1))
    assert "starts_at" in caught.value.extra["errors"]


def test_booking_longer_than_the_maximum_is_refused(db, driver, evse_id, tomorrow_at):
    with pytest.raises(ValidationFailed) as caught:
        services.hold_slot(driver, evse_id, tomorrow_at(0), tomorrow_at(13))
    assert "at most 12 hours" in caught.value.extra["errors"]["ends_at"][0]


@pytest.mark.parametrize("status", ["INOPERATIVE", "OUTOFORDER", "REMOVED"])
def test_unusable_evse_cannot_be_booked(db, driver, listing, tomorrow_at, status):
    listing.evses[0].status = status
    ext.session.flush()

    with pytest.raises(ValidationFailed):
        services.hold_slot(driver, listing.evses[0].id, tomorrow_at(10), tomorrow_at(11))


def test_unpublished_listing_cannot_be_booked(db, driver, make_listing, tomorrow_at):
    location = make_listing(publish=False)

    with pytest.raises(ValidationFailed):
        services.hold_slot(driver, location.evses[0].id, tomorrow_at(10), tomorrow_at(11))


def test_overlap_is_reported_with_the_taken_window(db, driver, make_user, evse_id, tomorrow_at):
    services.hold_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(12))

    with pytest.raises(SlotTaken) as caught:
        services.hold_slot(make_user(), evse_id, tomorrow_at(11), tomorrow_at(13))
    assert caught.value.status == 409
    assert caught.value.extra["reason"] == "overlap"
    assert caught.value.extra["taken_from"] == tomorrow_at(10).isoformat()


def test_an_expired_hold_frees_its_slot(db, driver, make_user, evse_id, tomorrow_at, clock):
    first = services.hold_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(12))
    clock(first.expires_at + timedelta(seconds=1))

    second = services.hold_slot(make_user(), evse_id, tomorrow_at(10), tomorrow_at(12))

    assert second.status == "pending"
    assert first.status == "expired"


def test_fall_back_day_uses_winter_time_for_the_sharing_hours(db, driver, amsterdam, far_clock):
    # 27 October 2030 clocks go back: 08:00 local is 06:00 UTC the day before, 07:00 UTC after.
    evse = amsterdam.evses[0].id
    services.quote_booking(driver, evse, utc(2030, 10, 26, 6, 30), utc(2030, 10, 26, 7))
    services.quote_booking(driver, evse, utc(2030, 10, 27, 7), utc(2030, 10, 27, 8))
    with pytest.raises(ValidationFailed):
        services.quote_booking(driver, evse, utc(2030, 10, 27, 6, 30), utc(2030, 10, 27, 8))
