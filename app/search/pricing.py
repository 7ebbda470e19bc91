"""Price quotes for search results, through the one tariff engine, once per distinct input."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache, partial
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from app.core.money import to_minor_units
from app.search import queries
from app.search.criteria import Window
from app.tariffs.engine import TariffError, parse_tariff
from app.tariffs.engine.restrictions import time_of_day_ok
from app.tariffs.quotes import estimated_energy, window_amount

log = logging.getLogger("plugpool.search")

TariffKey = tuple[str, str, str]  # (country_code, party_id, OCPI tariff id)

# Parsed tariffs by (row id, last_updated): an edit moves last_updated, so stale entries
# are never read again; the bound only keeps memory flat.
_PARSED: dict[tuple[int, str], Any] = {}
_PARSED_LIMIT = 20_000
# Quotes by (version, window, zone, energy, power): searches over one area and window ask
# the same again and again (the reference window is the same for a whole minute).
_QUOTES: dict[tuple[Any, ...], Any] = {}
_QUOTES_LIMIT = 100_000
_MISSING = object()
# Prices by what the engine's result depends on (shared_key): version, duration, energy,
# power and, for time-of-day tariffs, where the window lies against the restriction times.
_SHARED_QUOTES: dict[tuple[Any, ...], int] = {}
_SHARED_LIMIT = 100_000


class Quote(NamedTuple):
    """The price of a window on one connector, in integer minor units.

    A named tuple: immutable (caches share it) and cheap to build (a search builds one
    per distinct tariff and power it prices).
    """

    amount_minor: int
    currency: str
    tariff_id: str
    start: datetime
    end: datetime
    energy_kwh: Decimal
    power_kw: Decimal


Version = tuple[int, str]  # (tariff row id, last_updated as the database prints it)


class QuoteBook:
    """Quotes of one search's window, each distinct input priced once per process."""

    def __init__(
        self, versions: Mapping[TariffKey, Version], window: Window, energy_kwh: Decimal | None
    ) -> None:
        self._tariffs = _load_parsed(versions)
        self._window = window
        self._energy_kwh = energy_kwh
        self._duration = window.end - window.start
        # By power in W, what the window alone decides: the power in kW and the energy a
        # connector of that power is quoted for (the one quote rule), once per search.
        self._powers: dict[int, tuple[Decimal, Decimal]] = {}

    def quote(self, key: TariffKey, time_zone: str, power_w: int) -> Quote | None:
        """Quote the window on a connector of power_w with tariff key, or None if unpriced."""
        found = self._tariffs.get(key)
        if found is None:
            return None
        power = self._powers.get(power_w)
        if power is None:
            power = self._powers[power_w] = self._power(power_w)
        power_kw, energy = power
        window = self._window
        # The version moves with every edit, so a cached quote is never stale.
        cache_key = (found[0], window.start, window.end, time_zone, self._energy_kwh, power_kw)
        quote = _QUOTES.get(cache_key, _MISSING)
        if quote is _MISSING:
            if len(_QUOTES) >= _QUOTES_LIMIT:
                _QUOTES.clear()
            quote = _QUOTES[cache_key] = self._compute(key, found, time_zone, energy, power_kw)
        return quote  # type: ignore[return-value]

    def _compute(
        self,
        key: TariffKey,
        found: tuple[Version, Any],
        time_zone: str,
        energy: Decimal,
        power_kw: Decimal,
    ) -> Quote | None:
        version, tariff = found
        window = self._window
        if not tariff.is_active_at(window.start):
            return None
        zone = _zone(time_zone)
        amount = _amount(version, tariff, window, self._duration, zone, energy, power_kw)
        return _new_quote(
            (amount, tariff.currency, key[2], window.start, window.end, energy, power_kw)
        )

    def _power(self, power_w: int) -> tuple[Decimal, Decimal]:
        power_kw = _kw(power_w)
        window = self._window
        return power_kw, estimated_energy(power_kw, window.start, window.end, self._energy_kwh)


# A search builds many quotes: tuple.__new__ (C) skips the named tuple's Python __new__.
_new_quote = partial(tuple.__new__, Quote)


@lru_cache(maxsize=1024)
def _kw(power_w: int) -> Decimal:
    return Decimal(power_w) / 1000


@lru_cache(maxsize=4096)
def versions_of(
    country_code: str, party_id: str, lines: str | None
) -> tuple[tuple[TariffKey, Version], ...]:
    """Parse the tariff lines the search SQL returns ("row id|last_updated|OCPI id").

    (key, version) pairs, cached (immutable): a page's connectors name a few tariffs, the
    same again and again, and dict.update takes pairs without the per-key lookups a mapping
    costs.
    """
    versions: dict[TariffKey, Version] = {}
    for line in (lines or "").splitlines():
        pk, updated, ocpi_id = line.split("|", 2)
        versions[(country_code, party_id, ocpi_id)] = (int(pk), updated)
    return tuple(versions.items())


def _amount(
    version: Version,
    tariff: Any,
    window: Window,
    duration: timedelta,
    zone: ZoneInfo,
    energy: Decimal,
    power_kw: Decimal,
) -> int:
    """The engine's price in minor units; shared between windows the engine cannot tell apart."""
    key = _shared_key(version, tariff, window, duration, zone, energy, power_kw)
    amount = _SHARED_QUOTES.get(key) if key is not None else None
    if amount is None:
        amount = window_amount(tariff, window.start, window.end, zone, power_kw, energy)
        if key is not None:
            if len(_SHARED_QUOTES) >= _SHARED_LIMIT:
                _SHARED_QUOTES.clear()
            _SHARED_QUOTES[key] = amount
    return amount


def shared_key(
    version: Any, tariff: Any, window: Window, zone: ZoneInfo, energy: Decimal, power_kw: Decimal
) -> tuple[Any, ...] | None:
    """What the engine's price of the window depends on, or None when that is the instant.

    The engine sees the clock only through restrictions. Without any, a price depends on
    how long, how much and how fast. With times of day only (no weekday, no date), it
    also depends on the local wall clock, but only through which elements' times hold at
    the start and where in the window a time that flips one of them falls: two windows
    that agree on those (and have no DST change inside) are priced alike on any day.
    """
    return _shared_key(version, tariff, window, window.end - window.start, zone, energy, power_kw)


def _shared_key(
    version: Any,
    tariff: Any,
    window: Window,
    duration: timedelta,
    zone: ZoneInfo,
    energy: Decimal,
    power_kw: Decimal,
) -> tuple[Any, ...] | None:
    clock = _clock(version, tariff)
    if clock is None:
        return None
    if not clock.walls:
        return (version, duration, energy, power_kw)
    position = clock.position(window, zone)
    if position is None:
        return None
    return (version, duration, energy, power_kw, position)


_LONGEST_SHARED = timedelta(days=7)
_CLOCKS: dict[Any, _Clock | None] = {}
_CLOCKS_BY_SPANS: dict[tuple[Any, ...], _Clock] = {}


class _Clock:
    """A time-of-day tariff's view of the wall clock: which element times hold, and where
    in a window they flip."""

    __slots__ = ("_last", "spans", "walls")

    def __init__(self, spans: tuple[tuple[time | None, time | None], ...]) -> None:
        self.spans = spans
        # Only the times where some element's verdict changes: midnight only when a span
        # ends there or runs to the end of the day.
        candidates = {t for span in spans for t in span if t is not None} | {time(0, 0)}
        self.walls = tuple(sorted(t for t in candidates if self._flips(t)))
        # The last window asked for and its position: a page asks for one window many times.
        # One tuple, replaced whole, so threads never read a half-written pair.
        self._last: tuple[Any, Any, Any] = (None, None, None)

    def holds(self, now: time) -> tuple[bool, ...]:
        """Which element times hold at the local time now (the engine's own rule)."""
        return tuple(time_of_day_ok(start, end, now) for start, end in self.spans)

    def _flips(self, wall: time) -> bool:
        before = (datetime.combine(date(2000, 1, 2), wall) - _TICK).time()
        return self.holds(before) != self.holds(wall)

    def position(self, window: Window, zone: ZoneInfo) -> tuple[Any, ...] | None:
        """The verdicts at the window's local start and the offsets of the flips inside it."""
        last_window, last_zone, last = self._last
        # A page asks with the very same window object: no dataclass comparison needed then.
        if (last_window is window or last_window == window) and last_zone is zone:
            return last  # type: ignore[no-any-return]
        found = self._position(window, zone)
        self._last = (window, zone, found)
        return found

    def _position(self, window: Window, zone: ZoneInfo) -> tuple[Any, ...] | None:
        start, end = window.start.astimezone(zone), window.end.astimezone(zone)
        duration = window.end - window.start
        if start.utcoffset() != end.utcoffset() or duration > _LONGEST_SHARED:
            return None  # a DST change inside: wall clock and elapsed time part ways
        local_start, local_end = start.replace(tzinfo=None), end.replace(tzinfo=None)
        crossings = []
        day = local_start.date()
        while day <= local_end.date():
            for wall in self.walls:
                at = datetime.combine(day, wall)
                if local_start < at < local_end:
                    crossings.append((at - local_start, wall))
            day += timedelta(days=1)
        return (self.holds(local_start.time()), tuple(sorted(crossings)))


_TICK = timedelta(microseconds=1)


def _clock(version: Any, tariff: Any) -> _Clock | None:
    """The tariff's clock (cached by version); None when some restriction looks at the
    weekday or the date: no sharing then."""
    found = _CLOCKS.get(version, _MISSING)
    if found is _MISSING:
        if len(_CLOCKS) >= _PARSED_LIMIT:
            _CLOCKS.clear()
        found = _CLOCKS[version] = _clock_of(tariff)
    return found  # type: ignore[return-value]


def _clock_of(tariff: Any) -> _Clock | None:
    spans = []
    for element in tariff.elements:
        r = element.restrictions
        if r.day_of_week or r.start_date is not None or r.end_date is not None:
            return None
        spans.append((r.start_time, r.end_time))
    # Tariffs with the same element times share one clock, so a page's many tariffs with
    # one off-peak rule work out the window's position once, not once per tariff.
    key = tuple(spans)
    clock = _CLOCKS_BY_SPANS.get(key)
    if clock is None:
        if len(_CLOCKS_BY_SPANS) >= _PARSED_LIMIT:
            _CLOCKS_BY_SPANS.clear()
        clock = _CLOCKS_BY_SPANS[key] = _Clock(key)
    return clock


def _load_parsed(versions: dict[TariffKey, Version]) -> dict[TariffKey, tuple[Version, Any]]:
    """Parsed tariffs for the versions; one query, only for versions not parsed yet.

    Worker threads share the cache: every entry is read once, with get, so a clear by
    another thread can only cost a re-parse, never a tariff left out.
    """
    found: dict[TariffKey, tuple[Version, Any]] = {}
    missing: dict[int, Version] = {}
    for key, version in versions.items():
        tariff = _PARSED.get(version)
        if tariff is None:
            missing[version[0]] = version
        else:
            found[key] = (version, tariff)
    if not missing:
        return found
    if len(_PARSED) + len(missing) > _PARSED_LIMIT:
        _PARSED.clear()
    fresh: dict[Version, Any] = {}
    for row in queries.tariffs_by_id(missing):
        version = missing[row.id]
        try:
            # Stored under the version the search saw: a later edit has a newer one.
            fresh[version] = _PARSED[version] = parse_tariff(row.to_ocpi())
        except TariffError as error:
            # A stored tariff the engine rejects leaves its connectors unpriced, not the
            # whole search failing.
            log.warning("tariff %s not priceable: %s", row.id, error)
    for key, version in versions.items():
        if version in fresh:
            found[key] = (version, fresh[version])
    return found


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def minor_units(amount: Decimal, currency: str) -> int:
    """A price cap in currency units as integer minor units."""
    return to_minor_units(amount, currency)
