"""Price quotes for search results, through the one tariff engine, once per distinct input."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from app.core.money import to_minor_units
from app.search import queries
from app.search.criteria import Window
from app.tariffs.engine import TariffError, parse_tariff
from app.tariffs.quotes import estimated_energy, price_window

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


@dataclass(frozen=True, slots=True)
class Quote:
    """The price of a window on one connector, in integer minor units."""

    amount_minor: int
    currency: str
    tariff_id: str
    start: datetime
    end: datetime
    energy_kwh: Decimal
    power_kw: Decimal


Version = tuple[int, str]  # (tariff row id, last_updated as the database prints it)


class QuoteBook:
    """Quotes for one search request, each distinct input priced once per process."""

    def __init__(self, versions: dict[TariffKey, Version]) -> None:
        self._tariffs = _load_parsed(versions)

    def quote(
        self,
        key: TariffKey,
        window: Window,
        time_zone: str,
        energy_kwh: Decimal | None,
        power_kw: Decimal,
    ) -> Quote | None:
        """Quote the window on a connector of power_kw with tariff key, or None if unpriced."""
        found = self._tariffs.get(key)
        if found is None:
            return None
        # The version moves with every edit, so a cached quote is never stale.
        cache_key = (found[0], window.start, window.end, time_zone, energy_kwh, power_kw)
        quote = _QUOTES.get(cache_key, _MISSING)
        if quote is _MISSING:
            if len(_QUOTES) >= _QUOTES_LIMIT:
                _QUOTES.clear()
            quote = _QUOTES[cache_key] = _compute(
                key, found, window, time_zone, energy_kwh, power_kw
            )
        return quote  # type: ignore[return-value]


def _compute(
    key: TariffKey,
    found: tuple[Version, Any],
    window: Window,
    time_zone: str,
    energy_kwh: Decimal | None,
    power_kw: Decimal,
) -> Quote | None:
    version, tariff = found
    if not tariff.is_active_at(window.start):
        return None
    # The one quote rule (app/tariffs/quotes.py): the booking holds the same amount.
    energy = estimated_energy(power_kw, window.start, window.end, energy_kwh)
    return Quote(
        amount_minor=_amount(version, tariff, window, time_zone, energy, power_kw),
        currency=tariff.currency,
        tariff_id=key[2],
        start=window.start,
        end=window.end,
        energy_kwh=energy,
        power_kw=power_kw,
    )


def versions_of(country_code: str, party_id: str, lines: str | None) -> dict[TariffKey, Version]:
    """Parse the tariff lines the search SQL returns ("row id|last_updated|OCPI id")."""
    versions: dict[TariffKey, Version] = {}
    for line in (lines or "").splitlines():
        pk, updated, ocpi_id = line.split("|", 2)
        versions[(country_code, party_id, ocpi_id)] = (int(pk), updated)
    return versions


def _amount(
    version: Version,
    tariff: Any,
    window: Window,
    time_zone: str,
    energy: Decimal,
    power_kw: Decimal,
) -> int:
    """The engine's price in minor units; shared between windows the engine cannot tell apart."""
    zone = _zone(time_zone)
    key = shared_key(version, tariff, window, zone, energy, power_kw)
    amount = _SHARED_QUOTES.get(key) if key is not None else None
    if amount is None:
        amount = price_window(tariff, window.start, window.end, zone, power_kw, energy).amount_minor
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
    also depends on the local wall clock, but only through which side of each restriction
    time the start lies and where in the window the restriction times fall: two windows
    that agree on those (and have no DST change inside) are priced alike on any day.
    """
    duration = window.end - window.start
    walls = _walls(version, tariff)
    if walls is None:
        return None
    if not walls:
        return (version, duration, energy, power_kw)
    start, end = window.start.astimezone(zone), window.end.astimezone(zone)
    if start.utcoffset() != end.utcoffset() or duration > _LONGEST_SHARED:
        return None  # a DST change inside: wall clock and elapsed time part ways
    local_start, local_end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    side = tuple(local_start.time() >= wall for wall in walls)
    crossings = []
    day = local_start.date()
    while day <= local_end.date():
        for wall in walls:
            at = datetime.combine(day, wall)
            if local_start < at < local_end:
                crossings.append((at - local_start, wall))
        day += timedelta(days=1)
    return (version, duration, energy, power_kw, side, tuple(sorted(crossings)))


_LONGEST_SHARED = timedelta(days=7)
_WALLS: dict[Any, tuple[time, ...] | None] = {}


def _walls(version: Any, tariff: Any) -> tuple[time, ...] | None:
    """The local times of day where the tariff's restrictions may flip (midnight included).

    None when some restriction looks at the weekday or the date: no sharing then.
    """
    found = _WALLS.get(version, _MISSING)
    if found is _MISSING:
        if len(_WALLS) >= _PARSED_LIMIT:
            _WALLS.clear()
        found = _WALLS[version] = _wall_times(tariff)
    return found  # type: ignore[return-value]


def _wall_times(tariff: Any) -> tuple[time, ...] | None:
    walls: set[time] = set()
    for element in tariff.elements:
        r = element.restrictions
        if r.day_of_week or r.start_date is not None or r.end_date is not None:
            return None
        times = {t for t in (r.start_time, r.end_time) if t is not None}
        if times:
            walls |= times | {time(0, 0)}
    return tuple(sorted(walls))


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
