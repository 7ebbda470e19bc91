"""Windows that share a cached price are ones the engine prices alike (hypothesis)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from app.search.criteria import Window
from app.search.pricing import shared_key
from app.tariffs.engine import parse_tariff, quote_window

ZONES = [ZoneInfo(name) for name in ("Europe/Amsterdam", "Europe/London", "America/New_York")]
# Local days around both DST changes of 2026 in Europe and the US, and a few plain ones.
DAYS = [
    date(2026, month, day)
    for month, days in ((3, (6, 7, 8, 27, 28, 29)), (6, (10,)), (10, (24, 25, 26)), (11, (1, 2)))
    for day in days
]
times = st.sampled_from(["00:00", "06:00", "07:00", "08:30", "17:00", "22:00", "23:45"])
windows = st.tuples(
    st.sampled_from(DAYS),
    st.integers(0, 24 * 4 - 1).map(lambda quarter: timedelta(minutes=15 * quarter)),
    st.sampled_from([15, 60, 120, 135, 600, 1440, 1500, 3000]).map(
        lambda minutes: timedelta(minutes=minutes)
    ),
)


@st.composite
def tariffs(draw: st.DrawFn) -> Any:
    """A time-of-day element priced apart from the rest; sometimes a weekday or kWh bound."""
    restrictions: dict[str, Any] = {"start_time": draw(times)}
    if draw(st.booleans()):
        restrictions["end_time"] = draw(times)
    if draw(st.integers(0, 5)) == 0:
        restrictions["day_of_week"] = ["SATURDAY", "SUNDAY"]
    if draw(st.integers(0, 3)) == 0:
        restrictions["max_kwh"] = draw(st.integers(1, 30))
    kinds = st.lists(
        st.sampled_from(["ENERGY", "TIME", "PARKING_TIME", "FLAT"]), min_size=1, unique=True
    )
    steps = st.sampled_from([1, 60, 900])

    def element(price: Decimal, extra: dict[str, Any]) -> dict[str, Any]:
        step = draw(steps)
        parts = [{"type": kind, "price": price, "step_size": step} for kind in draw(kinds)]
        return {"price_components": parts, **extra}

    elements = [
        element(Decimal("0.37"), {"restrictions": restrictions}),
        element(Decimal("2.11"), {}),
    ]
    data = {
        "country_code": "NL",
        "party_id": "PLG",
        "id": "T",
        "currency": "EUR",
        "elements": elements,
        "last_updated": "2026-01-01T00:00:00Z",
    }
    return parse_tariff(data)


def _utc(day: date, clock: timedelta, zone: ZoneInfo) -> datetime:
    """The instant of a local wall time: day at midnight plus clock, in zone."""
    return (datetime.combine(day, time(0), tzinfo=zone) + clock).astimezone(UTC)


def _price(tariff: Any, window: Window, zone: ZoneInfo, energy: Decimal, power: Decimal) -> int:
    return quote_window(tariff, window.start, window.end, zone, energy, power).minor_units()


@settings(max_examples=600, deadline=None)
@given(
    tariff=tariffs(),
    first=windows,
    days=st.sampled_from([0, 1, 2, 7, 30, 200, -1, -7, -30]),
    minutes=st.integers(-48, 48).map(lambda quarters: 15 * quarters),
    zone=st.sampled_from(ZONES),
    energy=st.sampled_from([Decimal(5), Decimal(20), Decimal("37.5")]),
    power=st.sampled_from([Decimal("3.7"), Decimal(11), Decimal(50)]),
)
def test_windows_with_one_key_get_one_price(tariff, first, days, minutes, zone, energy, power):
    day, clock, duration = first
    # The same local clock time on another day, or a little off it: often the same key.
    moved = clock + timedelta(days=days, minutes=minutes)
    starts = [_utc(day, clock, zone), _utc(day, moved, zone)]
    a, b = (Window(start, start + duration) for start in starts)
    version = object()  # one tariff version: the walls cache is keyed by it
    key_a = shared_key(version, tariff, a, zone, energy, power)
    key_b = shared_key(version, tariff, b, zone, energy, power)
    if key_a is not None and key_a == key_b:
        assert _price(tariff, a, zone, energy, power) == _price(tariff, b, zone, energy, power)


def test_a_window_across_a_dst_change_is_never_shared():
    night = {"start_time": "22:00", "end_time": "07:00"}
    tariff = parse_tariff(
        {
            "country_code": "NL",
            "party_id": "PLG",
            "id": "T",
            "currency": "EUR",
            "elements": [
                {
                    "price_components": [{"type": "TIME", "price": 1, "step_size": 60}],
                    "restrictions": night,
                },
                {"price_components": [{"type": "TIME", "price": 3, "step_size": 60}]},
            ],
            "last_updated": "2026-01-01T00:00:00Z",
        }
    )
    across = Window(datetime(2026, 3, 29, 0, tzinfo=UTC), datetime(2026, 3, 29, 3, tzinfo=UTC))
    zone = ZoneInfo("Europe/Amsterdam")
    assert shared_key(object(), tariff, across, zone, Decimal(20), Decimal(11)) is None


def _evening_tariff(evening_price: float = 0.2) -> Any:
    """ENERGY at 0.20 (or evening_price) from 17:00 to midnight, 0.40 otherwise."""
    evening = {"start_time": "17:00"}
    return parse_tariff(
        {
            "country_code": "NL",
            "party_id": "PLG",
            "id": "T",
            "currency": "EUR",
            "elements": [
                {
                    "price_components": [
                        {"type": "ENERGY", "price": evening_price, "step_size": 1}
                    ],
                    "restrictions": evening,
                },
                {"price_components": [{"type": "ENERGY", "price": 0.4, "step_size": 1}]},
            ],
            "last_updated": "2026-01-01T00:00:00Z",
        }
    )


def _window(day: date, hour: float, minutes: int) -> Window:
    start = _utc(day, timedelta(hours=hour), ZONES[0])
    return Window(start, start + timedelta(minutes=minutes))


def test_the_same_local_time_on_another_day_shares_one_price():
    tariff, zone, energy, power = _evening_tariff(), ZONES[0], Decimal(20), Decimal(11)
    # Winter and summer time: the same wall clock, a different UTC hour.
    january, july = _window(date(2026, 1, 12), 16.5, 120), _window(date(2026, 7, 3), 16.5, 120)
    version = object()
    key = shared_key(version, tariff, january, zone, energy, power)
    assert key == shared_key(version, tariff, july, zone, energy, power)
    assert _price(tariff, january, zone, energy, power) == _price(tariff, july, zone, energy, power)


def test_which_side_of_a_restriction_time_and_where_it_falls_tell_windows_apart():
    tariff, zone, energy, power = _evening_tariff(), ZONES[0], Decimal(5), Decimal(11)
    day = date(2026, 1, 12)
    before, after = _window(day, 16, 15), _window(day, 17, 15)
    early, late = _window(day, 16.5, 60), _window(day, 16.75, 60)  # 17:00 at 30 vs 15 min
    version = object()
    for one, other in ((before, after), (early, late)):
        assert shared_key(version, tariff, one, zone, energy, power) != shared_key(
            version, tariff, other, zone, energy, power
        )
        assert _price(tariff, one, zone, energy, power) != _price(
            tariff, other, zone, energy, power
        )


def test_tariffs_with_the_same_times_share_positions_but_keep_their_own_prices():
    cheap, dear = _evening_tariff(0.2), _evening_tariff(0.3)
    zone, energy, power = ZONES[0], Decimal(20), Decimal(11)
    day = date(2026, 1, 12)
    early, late = _window(day, 16.5, 120), _window(day, 17.5, 120)
    # One clock serves both tariffs: asked in turns, each window keeps its own position.
    keys = [
        shared_key(version, tariff, window, zone, energy, power)
        for version, tariff, window in (
            ("cheap", cheap, early),
            ("dear", dear, late),
            ("cheap", cheap, late),
            ("dear", dear, early),
        )
    ]
    assert keys[0][1:] == keys[3][1:] and keys[1][1:] == keys[2][1:]
    assert keys[0][0] == "cheap" and keys[3][0] == "dear" and keys[0][-1] != keys[1][-1]
    assert _price(cheap, early, zone, energy, power) < _price(dear, early, zone, energy, power)
