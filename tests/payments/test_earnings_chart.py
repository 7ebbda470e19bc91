"""The owner's earnings chart sums each booking's share into its local week or month."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

from app.payments import earnings


def _booking(ends_at: datetime, zone: str = "Europe/Amsterdam"):
    return SimpleNamespace(ends_at=ends_at, location=SimpleNamespace(time_zone=zone))


def test_shares_land_in_their_local_week_and_month():
    shares = [
        (
            _booking(datetime(2026, 11, 30, 23, 30, tzinfo=UTC)),
            850,
            0,
            "EUR",
        ),  # 00:30 on 1 Dec local
        (_booking(datetime(2026, 12, 2, 10, tzinfo=UTC)), 150, 150, "EUR"),
        (_booking(datetime(2026, 11, 20, 10, tzinfo=UTC)), 400, 400, "EUR"),
        (_booking(datetime(2025, 1, 1, 10, tzinfo=UTC)), 999, 0, "EUR"),  # too old: left out
    ]
    today = date(2026, 12, 7)
    weeks = earnings.buckets(shares, today, by="week", count=4)
    assert list(weeks) == [
        date(2026, 11, 16),
        date(2026, 11, 23),
        date(2026, 11, 30),
        date(2026, 12, 7),
    ]
    assert list(weeks.values()) == [400, 0, 1000, 0]
    months = earnings.buckets(shares, today, by="month", count=2)
    assert months == {date(2026, 11, 1): 400, date(2026, 12, 1): 1000}
    bars = earnings.bars(months, by="month")
    assert [bar.label for bar in bars] == ["Nov 2026", "Dec 2026"]
    assert bars[1].height > bars[0].height > 0 and bars[1].y < bars[0].y
