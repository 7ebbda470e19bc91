"""available_from / available_to: owner's weekly schedule in local time, and blackouts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.search.availability import (
    fits_schedule,
    fits_weekly,
    hits_blackout,
    parse_blackouts,
    parse_slots,
)
from app.search.criteria import Window
from tests.search.conftest import add_blackout, add_slots, uid

MON, TUE, SUN = 1, 2, 7


def window(start: str, end: str) -> dict[str, str]:
    return {"available_from": start, "available_to": end}


def test_schedule_is_read_in_the_location_time_zone(place, found):
    # Monday 23 Nov 2026 09:00-11:00 Amsterdam (CET, UTC+1) is 08:00-10:00 UTC.
    morning = place(1)
    add_slots(morning, (MON, "09:00", "11:00"))
    in_utc_terms = place(2)
    add_slots(in_utc_terms, (MON, "08:00", "10:00"))
    assert found(**window("2026-11-23T08:00:00Z", "2026-11-23T10:00:00Z")) == [uid(morning)]


def test_window_must_be_covered_completely(place, found):
    location = place(1)
    add_slots(location, (MON, "09:00", "11:00"))
    assert found(**window("2026-11-23T08:00:00Z", "2026-11-23T09:00:00Z")) == [uid(location)]
    assert found(**window("2026-11-23T09:30:00Z", "2026-11-23T10:30:00Z")) == []
    assert found(**window("2026-11-24T08:00:00Z", "2026-11-24T09:00:00Z")) == []  # Tuesday


def test_slots_adjacent_across_midnight_join(place, found):
    # Monday 23:00 to Tuesday 01:00 local = 22:00-00:00 UTC.
    joined = place(1)
    add_slots(joined, (MON, "22:00", "00:00"), (TUE, "00:00", "06:00"))
    monday_only = place(2)
    add_slots(monday_only, (MON, "22:00", "00:00"))
    gap = place(3)
    add_slots(gap, (MON, "22:00", "23:30"), (MON, "23:45", "00:00"), (TUE, "00:00", "06:00"))
    assert found(**window("2026-11-23T22:00:00Z", "2026-11-24T00:00:00Z")) == [uid(joined)]


def test_schedule_on_the_spring_dst_day_uses_summer_time_after_the_change(place, found):
    # Sunday 29 March 2026: Amsterdam jumps from 02:00 CET to 03:00 CEST (01:00 UTC).
    # 02:00-03:00 UTC is 04:00-05:00 CEST; a fixed +1 offset would say 03:00-04:00.
    early_morning = place(1)
    add_slots(early_morning, (SUN, "04:00", "06:00"))
    wrong_offset = place(2)
    add_slots(wrong_offset, (SUN, "03:00", "04:00"))
    assert found(**window("2026-03-29T02:00:00Z", "2026-03-29T03:00:00Z")) == [uid(early_morning)]


def test_schedule_across_the_spring_gap_is_continuous(place, found):
    # 01:00-02:00 CET then 03:00-05:00 CEST are back to back in real time (00:00-03:00 UTC).
    location = place(1)
    add_slots(location, (SUN, "01:00", "02:00"), (SUN, "03:00", "05:00"))
    assert found(**window("2026-03-29T00:30:00Z", "2026-03-29T02:30:00Z")) == [uid(location)]


def test_blackout_on_a_local_date_drops_the_charger(place, found):
    # 23:30-00:30 UTC on Monday is 00:30-01:30 on Tuesday 24 Nov in Amsterdam.
    tuesday_off = place(1)
    add_blackout(tuesday_off, date(2026, 11, 24), date(2026, 11, 24))
    monday_off = place(2)
    add_blackout(monday_off, date(2026, 11, 20), date(2026, 11, 23))
    span = window("2026-11-23T23:30:00Z", "2026-11-24T00:30:00Z")
    assert found(**span) == [uid(monday_off)]
    assert found() == [uid(tuesday_off), uid(monday_off)]  # no window: no blackout check


def test_location_without_schedule_is_open_all_week(place, found):
    public = place(1)
    assert found(**window("2026-11-25T02:00:00Z", "2026-11-25T04:00:00Z")) == [uid(public)]


def test_fits_schedule_on_the_autumn_dst_day():
    # Sunday 25 Oct 2026: 03:00 CEST falls back to 02:00 CET at 01:00 UTC.
    slots = [(SUN, time(0, 0), time(3, 0))]
    # Local 00:00-03:00 lasts 4 real hours (22:00 UTC Sat to 02:00 UTC Sun).
    start = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    assert fits_schedule(slots, "Europe/Amsterdam", Window(start, start.replace(day=25, hour=2)))
    late = Window(start, start.replace(day=25, hour=2, minute=1))
    assert not fits_schedule(slots, "Europe/Amsterdam", late)


def test_hits_blackout_uses_the_local_end_date_exclusively():
    # 22:00-23:00 UTC on 23 Nov ends exactly at local midnight: 24 Nov is not touched.
    span = Window(datetime(2026, 11, 23, 22, tzinfo=UTC), datetime(2026, 11, 23, 23, tzinfo=UTC))
    assert not hits_blackout([(date(2026, 11, 24), date(2026, 11, 24))], "Europe/Amsterdam", span)
    assert hits_blackout([(date(2026, 11, 23), date(2026, 11, 23))], "Europe/Amsterdam", span)


SCHEDULES = [
    "1|07:00:00|22:00:00\n2|07:00:00|22:00:00\n6|09:00:00|18:00:00",
    "7|00:00:00|03:00:00\n6|22:00:00|00:00:00",
    "1|18:00:00|00:00:00\n2|00:00:00|06:00:00\n3|18:00:00|00:00:00",
]


@pytest.mark.parametrize("text", SCHEDULES)
@pytest.mark.parametrize("zone", ["Europe/Amsterdam", "Europe/London", "America/New_York"])
def test_a_schedule_laid_out_once_judges_as_a_fresh_one(text, zone):
    # Windows every 45 minutes over a week with both European DST changes nearby, asked
    # twice: the cached layout of the first ask must give what a fresh one gives.
    for day in (date(2026, 3, 27), date(2026, 10, 23), date(2026, 11, 23)):
        start = datetime.combine(day, time(0), tzinfo=UTC)
        for step in range(0, 7 * 24 * 60, 45):
            for hours in (1, 2, 9):
                at = start + timedelta(minutes=step)
                span = Window(at, at + timedelta(hours=hours))
                expected = fits_schedule(parse_slots(text), zone, span)
                assert fits_weekly(text, zone, span) is expected
                assert fits_weekly(text, zone, span) is expected


def test_blackouts_parse_from_the_search_text():
    assert parse_blackouts("2026-11-23|2026-11-24\n2026-12-01|2026-12-01") == (
        (date(2026, 11, 23), date(2026, 11, 24)),
        (date(2026, 12, 1), date(2026, 12, 1)),
    )
