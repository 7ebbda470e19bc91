"""Price a booking with the one quote rule (app/tariffs/quotes.py), as search does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.bookings import queries
from app.core.errors import ValidationFailed
from app.inventory.models import Evse
from app.tariffs import quotes
from app.tariffs.engine import parse_tariff
from app.tariffs.models import Tariff
from app.tariffs.quotes import Breakdown, WindowPrice


@dataclass(frozen=True)
class Quote:
    """A price in integer minor units of currency, with what it assumes and its parts."""

    amount_minor: int
    currency: str
    energy_kwh: Decimal | None = None
    power_kw: Decimal | None = None
    breakdown: Breakdown | None = None
    tariff_id: str | None = None


def hours_between(starts_at: datetime, ends_at: datetime) -> Decimal:
    """Return the length of a window in hours, as a Decimal."""
    return quotes.window_hours(starts_at, ends_at)


def _quote(price: WindowPrice, tariff_id: str | None) -> Quote:
    return Quote(
        amount_minor=price.amount_minor,
        currency=price.currency,
        energy_kwh=price.energy_kwh,
        power_kw=price.power_kw,
        breakdown=price.breakdown,
        tariff_id=tariff_id,
    )


def quote_evse(evse: Evse, starts_at: datetime, ends_at: datetime) -> Quote:
    """The window's quote on evse: the search's rule (cheapest connector, its first live tariff)."""
    zone = ZoneInfo(evse.location.time_zone)
    found: list[Quote] = []
    for connector in evse.connectors:
        for tariff in queries.tariffs_of(evse.location, connector):
            parsed = parse_tariff(tariff.to_ocpi())
            if not parsed.is_active_at(starts_at):
                continue
            price = quotes.price_window(parsed, starts_at, ends_at, zone, connector.power_kw)
            found.append(_quote(price, tariff.ocpi_id))
            break  # a connector's first live tariff is the one that applies
    if not found:
        raise ValidationFailed({"evse_id": ["this charger has no price yet"]})
    return min(found, key=lambda quote: quote.amount_minor)


def price_window(
    evse: Evse,
    tariff: Tariff | None,
    starts_at: datetime,
    ends_at: datetime,
    energy_kwh: Decimal | None = None,
) -> Quote:
    """Price charging on evse with tariff; energy defaults to full power for the window."""
    if tariff is None:
        raise ValidationFailed({"evse_id": ["this charger has no price yet"]})
    power_kw = max(connector.power_kw for connector in evse.connectors)
    zone = ZoneInfo(evse.location.time_zone)
    parsed = parse_tariff(tariff.to_ocpi())
    price = quotes.price_window(parsed, starts_at, ends_at, zone, power_kw, energy_kwh)
    return _quote(price, tariff.ocpi_id)
