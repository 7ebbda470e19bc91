"""An owner's earnings per week and per month, as bars of a chart drawn on the server (SVG)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from app.bookings.models import Booking

WIDTH, HEIGHT, BOTTOM = 640, 200, 24


@dataclass(frozen=True, slots=True)
class Bar:
    """One period's bar: label, amount (minor units) and its geometry in the SVG."""

    label: str
    amount_minor: int
    x: float
    y: float
    width: float
    height: float


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def buckets(
    shares: list[tuple[Booking, int, int, str]], today: date, *, by: str, count: int
) -> OrderedDict[date, int]:
    """Sum the owner's shares per week (Monday) or month (1st), the last `count` periods."""
    if by == "week":
        starts = [_week_start(today) - timedelta(weeks=n) for n in reversed(range(count))]
    else:
        first = today.replace(day=1)
        starts = []
        for _ in range(count):
            starts.insert(0, first)
            first = (first - timedelta(days=1)).replace(day=1)
    sums: OrderedDict[date, int] = OrderedDict((start, 0) for start in starts)
    for booking, share, _, _ in shares:
        local = booking.ends_at.astimezone(ZoneInfo(booking.location.time_zone)).date()
        key = _week_start(local) if by == "week" else local.replace(day=1)
        if key in sums:
            sums[key] += share
    return sums


def bars(sums: OrderedDict[date, int], *, by: str) -> list[Bar]:
    """Lay the sums out as SVG bars (the tallest fills the chart)."""
    top = max(sums.values(), default=0) or 1
    slot = WIDTH / max(len(sums), 1)
    result = []
    for index, (start, amount) in enumerate(sums.items()):
        height = (HEIGHT - BOTTOM - 16) * amount / top
        label = start.strftime("%d %b") if by == "week" else start.strftime("%b %Y")
        result.append(
            Bar(
                label,
                amount,
                index * slot + slot * 0.15,
                HEIGHT - BOTTOM - height,
                slot * 0.7,
                height,
            )
        )
    return result
