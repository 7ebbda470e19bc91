"""The one UTC clock and its OCPI DateTime text."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.core.clock import as_utc, iso_utc


def test_iso_utc_writes_z_and_seconds_when_there_is_no_fraction():
    moment = datetime(2026, 11, 21, 11, 0, tzinfo=timezone(timedelta(hours=1)))
    assert iso_utc(moment) == "2026-11-21T10:00:00Z"


def test_iso_utc_keeps_milliseconds_when_there_is_a_fraction():
    moment = datetime(2026, 11, 21, 10, 0, 0, 123456, tzinfo=UTC)
    assert iso_utc(moment) == "2026-11-21T10:00:00.123Z"


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="naive"):
        as_utc(datetime(2026, 11, 21, 10, 0))  # noqa: DTZ001 -- the refusal is the point
