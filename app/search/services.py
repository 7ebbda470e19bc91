"""Search use case: find usable, priced EVSEs near a point, nearest first."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache, partial
from typing import Any

from app.core.clock import utcnow
from app.core.errors import NotFound
from app.inventory.models import Location
from app.inventory.queries import listing_tariff
from app.search import queries
from app.search.availability import fits_weekly, hits_blackout, parse_blackouts
from app.search.criteria import MAX_LIMIT, REFERENCE_HOURS, SearchCriteria, Window
from app.search.pricing import Quote, QuoteBook, TariffKey, Version, minor_units, versions_of
from app.tariffs.simple_price import price_from_elements

# When Python-side filters (schedule, blackout, price) may drop rows, fetch a quarter more
# than a page: few candidates are closed or blacked out (bench.search: a second batch for
# under 4% of searches), and each extra location costs PostgreSQL its joins and subqueries
# and the app its rows. The loop doubles the batch while too few survive.
_FILTERED_BATCH_FACTOR = 1.25
# An EVSE id above any real one: "after every EVSE of this location".
_LAST = 2**63 - 1

Key = tuple[float, int, int]  # (distance, location id, evse id)
_MAX_NEAREST_LOCATIONS = 10_000


@dataclass(slots=True)
class SearchResult:
    """One EVSE found: its candidate row (location, EVSE, network, distance) and its price."""

    row: Any
    connectors: list[queries.ConnectorRow] | None = None  # None: not loaded yet
    quote: Quote | None = None
    priced: bool = False

    @property
    def key(self) -> Key:
        """The keyset position (distance, location id, evse id)."""
        return _key(self.row)


@dataclass(frozen=True, slots=True)
class SearchPage:
    """A page of results, the key to continue after, and the total when asked for."""

    results: list[SearchResult]
    next_key: Key | None
    count: int | None
    quote_window: Window


def search_chargers(criteria: SearchCriteria) -> SearchPage:
    """Find EVSEs matching the criteria, nearest first, each with a price quote."""
    window = criteria.window or _reference_window()
    if criteria.nearest is not None:
        results = _nearest(criteria, window)
        count = len(results) if criteria.with_count else None
        return SearchPage(results, None, count, window)
    results, more = _page(criteria, window)
    _price(criteria, window, results)
    next_key = results[-1].key if more and results else None
    return SearchPage(results, next_key, _count(criteria, window), window)


def _reference_window() -> Window:
    start = utcnow().replace(second=0, microsecond=0)
    return Window(start, start + timedelta(hours=REFERENCE_HOURS))


def _page(criteria: SearchCriteria, window: Window) -> tuple[list[SearchResult], bool]:
    """Walk the area in keyset batches of locations until a page (plus one) survives."""
    wanted = criteria.limit + 1
    batch = math.ceil(wanted * _FILTERED_BATCH_FACTOR) if criteria.filters_after_sql else wanted
    after, kept = criteria.after, []
    while True:
        rows = queries.evses_near(criteria, after, batch)
        found = _with_connectors(rows)
        if after is not None:
            found = [result for result in found if result.key > after]
        kept += _keep(criteria, window, found)
        reached = len({row.location_id for row in rows})
        if len(kept) >= wanted or reached < batch:
            return kept[: criteria.limit], len(kept) > criteria.limit
        # Past every EVSE of the last location ranked: the next batch starts after it.
        after, batch = (float(rows[-1].distance), rows[-1].location_id, _LAST), batch * 2


def _with_connectors(rows: Sequence[Any]) -> list[SearchResult]:
    """One result per EVSE from rows that repeat it once per connector."""
    results: list[SearchResult] = []
    last: int | None = None
    connectors: list[queries.ConnectorRow] = []
    for row in rows:
        evse_pk = row.evse_pk
        if evse_pk is None:
            continue
        if evse_pk != last:
            last, connectors = evse_pk, []
            results.append(SearchResult(row, connectors))
        if row.connector_ocpi_id is not None:
            connectors.append(
                _connector_row(
                    (
                        row.connector_ocpi_id,
                        row.standard,
                        row.format,
                        row.power_type,
                        row.power_w,
                        queries.tariff_ids(row.tariff_ids),
                        row.tariffs,
                    )
                )
            )
    return results


# Rows repeat an EVSE once per connector: tuple.__new__ (C) skips the named tuple's Python
# __new__ for each.
_connector_row = partial(tuple.__new__, queries.ConnectorRow)


def _key(row: Any) -> Key:
    return (float(row.distance), row.location_id, row.evse_pk)


def _nearest(criteria: SearchCriteria, window: Window) -> list[SearchResult]:
    """The N nearest matching EVSEs: KNN over locations, widened until N survive."""
    wanted = criteria.nearest or 0
    k = wanted
    while True:
        rows = queries.nearest_evses(criteria, k)
        kept = _keep(criteria, window, [SearchResult(row) for row in rows])
        if len(kept) >= wanted or len({row.location_id for row in rows}) < k:
            break
        if k >= _MAX_NEAREST_LOCATIONS:
            break
        k = min(k * 4, _MAX_NEAREST_LOCATIONS)
    kept.sort(key=lambda result: result.key)
    page = kept[:wanted]
    _price(criteria, window, page)
    return page


def _count(criteria: SearchCriteria, window: Window) -> int | None:
    if not criteria.with_count:
        return None
    if not criteria.filters_after_sql:
        return queries.count_candidates(criteria)
    found = [SearchResult(row) for row in queries.all_evses(criteria)]
    return len(_keep(criteria, window, found))


def _keep(
    criteria: SearchCriteria, window: Window, results: list[SearchResult]
) -> list[SearchResult]:
    """Apply the filters SQL cannot: owner schedule and blackouts, then the price cap."""
    if criteria.window is not None:
        results = _available(criteria.window, results)
    if criteria.max_price is not None:
        _price(criteria, window, results)
        results = [result for result in results if _affordable(criteria, result.quote)]
    return results


def _available(window: Window, results: list[SearchResult]) -> list[SearchResult]:
    """Keep results whose location's schedule covers the window and no blackout touches it."""
    verdicts: dict[tuple[Any, ...], bool] = {}
    kept = []
    for result in results:
        row = result.row
        # Many locations share a schedule: judge each (schedule, blackouts, zone) once.
        key = (row.slots, row.blackouts, row.time_zone)
        verdict = verdicts.get(key)
        if verdict is None:
            verdict = verdicts[key] = _open(window, *key)
        if verdict:
            kept.append(result)
    return kept


def _open(window: Window, slots: str | None, blackouts: str | None, time_zone: str) -> bool:
    # A location without any weekly slot (a public roaming site) is always open.
    if slots and not fits_weekly(slots, time_zone, window):
        return False
    return not (blackouts and hits_blackout(parse_blackouts(blackouts), time_zone, window))


def _affordable(criteria: SearchCriteria, quote: Quote | None) -> bool:
    if quote is None or criteria.max_price is None or quote.currency != criteria.currency:
        return False
    return quote.amount_minor <= minor_units(criteria.max_price, quote.currency)


def _price(criteria: SearchCriteria, window: Window, results: list[SearchResult]) -> None:
    """Quote results not yet priced; the tariff versions come with the connectors."""
    results = [result for result in results if not result.priced]
    if not results:
        return
    unloaded = [result for result in results if result.connectors is None]
    if unloaded:
        connectors = queries.connectors_of(result.row.evse_pk for result in unloaded)
        for result in unloaded:
            result.connectors = connectors.get(result.row.evse_pk, [])
    versions: dict[TariffKey, Version] = {}
    # A page's connectors name the same few tariff lines: each distinct one is added once.
    seen: set[tuple[str, str, str]] = set()
    for result in results:
        row = result.row
        for connector in result.connectors or ():
            lines = connector.tariffs
            if lines:
                named = (row.country_code, row.party_id, lines)
                if named not in seen:
                    seen.add(named)
                    versions.update(versions_of(*named))
    book = QuoteBook(versions, window, criteria.energy_kwh)
    matches = connector_filter(criteria)
    for result in results:
        result.quote = _cheapest(matches, result, book)
        result.priced = True


def _cheapest(
    matches: Callable[[Any], bool], result: SearchResult, book: QuoteBook
) -> Quote | None:
    row, cheapest = result.row, None
    for connector in result.connectors or ():
        if not matches(connector):
            continue
        for tariff_id in connector.tariff_ids or ():
            quote = book.quote(
                (row.country_code, row.party_id, tariff_id), row.time_zone, connector.power_w
            )
            if quote is not None:
                # The first of equally cheap connectors wins.
                if cheapest is None or quote.amount_minor < cheapest.amount_minor:
                    cheapest = quote
                break  # a connector's first live tariff is the one that applies
    return cheapest


@lru_cache(maxsize=64)
def _watts(power_kw: Decimal) -> Decimal:
    return power_kw * 1000


def connector_matches(criteria: SearchCriteria, connector: Any) -> bool:
    """Tell whether a connector row meets the connector filters (as the SQL does)."""
    if criteria.standards and connector.standard not in criteria.standards:
        return False
    if criteria.min_power_kw is not None and connector.power_w < _watts(criteria.min_power_kw):
        return False
    if criteria.current == "DC" and connector.power_type != "DC":
        return False
    return not (criteria.current == "AC" and not connector.power_type.startswith("AC"))


def connector_filter(criteria: SearchCriteria) -> Callable[[Any], bool]:
    """connector_matches for one search: which filters apply, and the watts, worked out once.

    A page tests every connector of its results; the criteria do not change meanwhile.
    """
    standards = frozenset(criteria.standards) if criteria.standards else None
    min_w = None if criteria.min_power_kw is None else _watts(criteria.min_power_kw)
    current = criteria.current
    if standards is None and min_w is None and current is None:
        return _any_connector
    if current is None:
        if min_w is None:
            return lambda connector: connector.standard in standards  # type: ignore[operator]
        if standards is None:
            return lambda connector: not connector.power_w < min_w
        return lambda connector: connector.standard in standards and not connector.power_w < min_w

    def matches(connector: Any) -> bool:
        if standards is not None and connector.standard not in standards:
            return False
        if min_w is not None and connector.power_w < min_w:
            return False
        if current == "DC":
            return connector.power_type == "DC"  # type: ignore[no-any-return]
        return connector.power_type.startswith("AC")  # type: ignore[no-any-return]

    return matches


def _any_connector(_connector: Any) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class ChargerDetail:
    """One published location for a driver: its rows, simple price and each EVSE's quote."""

    location: Location
    price: dict[str, Any] | None
    quotes: dict[int, Quote | None]  # by EVSE primary key; missing: not usable in the window
    window: Window


def charger_detail(location_id: int, window: Window | None = None) -> ChargerDetail:
    """Return a published location with quotes for the window, priced as the search does."""
    location = queries.public_location(location_id)
    if location is None:
        raise NotFound(f"No published charger {location_id}")
    # The search itself, on a one-metre circle: same filters, same schedule check, same quotes.
    criteria = SearchCriteria(
        lat=float(location.latitude),
        lon=float(location.longitude),
        radius_m=1.0,
        window=window,
        limit=MAX_LIMIT,
    )
    page = search_chargers(criteria)
    quotes = {r.row.evse_pk: r.quote for r in page.results if r.row.location_id == location.id}
    tariff = listing_tariff(location)
    price = price_from_elements(tariff.currency, tariff.elements) if tariff else None
    return ChargerDetail(location, price, quotes, page.quote_window)
