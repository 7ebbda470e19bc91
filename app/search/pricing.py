"""Price quotes for search results, through the one tariff engine, once per distinct input."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from app.core.money import to_minor_units
from app.search import queries
from app.search.criteria import Window
from app.tariffs.engine import TariffError, parse_tariff, quote_window

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
# Prices of tariffs that ignore the clock, by (version, duration, energy, power).
_INVARIANT_QUOTES: dict[tuple[Any, ...], int] = {}
_INVARIANT_LIMIT = 100_000


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
        self, key: TariffKey, window: Window, time_zone: str, energy_kwh: Decimal, power_kw: Decimal
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
    energy_kwh: Decimal,
    power_kw: Decimal,
) -> Quote | None:
    version, tariff = found
    if not tariff.is_active_at(window.start):
        return None
    # A connector cannot deliver more than its power over the window.
    hours = Decimal((window.end - window.start).total_seconds()) / 3600
    energy = min(energy_kwh, power_kw * hours)
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
    """The engine's price in minor units; shared across requests when time cannot matter."""
    if not _time_invariant(tariff):
        zone = _zone(time_zone)
        return quote_window(tariff, window.start, window.end, zone, energy, power_kw).minor_units()
    # Without time-of-day, weekday or date restrictions the price depends only on how long,
    # how much and how fast: any window of the same length prices the same.
    key = (version, window.end - window.start, energy, power_kw)
    amount = _INVARIANT_QUOTES.get(key)
    if amount is None:
        if len(_INVARIANT_QUOTES) >= _INVARIANT_LIMIT:
            _INVARIANT_QUOTES.clear()
        zone = _zone(time_zone)
        price = quote_window(tariff, window.start, window.end, zone, energy, power_kw)
        amount = _INVARIANT_QUOTES[key] = price.minor_units()
    return amount


def _time_invariant(tariff: Any) -> bool:
    """Tell whether no element's restrictions look at the clock or the calendar."""
    return all(
        not (r.start_time or r.end_time or r.start_date or r.end_date or r.day_of_week)
        for r in (element.restrictions for element in tariff.elements)
    )


def _load_parsed(versions: dict[TariffKey, Version]) -> dict[TariffKey, tuple[Version, Any]]:
    """Parsed tariffs for the versions; one query, only for versions not parsed yet."""
    missing = {pk: version for pk, version in versions.values() if (pk, version) not in _PARSED}
    if missing:
        if len(_PARSED) + len(missing) > _PARSED_LIMIT:
            _PARSED.clear()
        for tariff in queries.tariffs_by_id(missing):
            try:
                # Stored under the version the search saw: a later edit has a newer one.
                _PARSED[(tariff.id, missing[tariff.id])] = parse_tariff(tariff.to_ocpi())
            except TariffError as error:
                # A stored tariff the engine rejects leaves its connectors unpriced, not the
                # whole search failing.
                log.warning("tariff %s not priceable: %s", tariff.id, error)
    parsed = _PARSED
    return {
        key: (version, parsed[version]) for key, version in versions.items() if version in parsed
    }


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def minor_units(amount: Decimal, currency: str) -> int:
    """A price cap in currency units as integer minor units."""
    return to_minor_units(amount, currency)
