"""Price a booking with the one tariff engine (app/tariffs/engine)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.core.errors import ValidationFailed
from app.inventory.models import Evse
from app.tariffs.engine import parse_tariff, quote_window
from app.tariffs.models import Tariff

SECONDS_PER_HOUR = Decimal(3600)


@dataclass(frozen=True)
class Quote:
    """A price in integer minor units of currency."""

    amount_minor: int
    currency: str


def hours_between(starts_at: datetime, ends_at: datetime) -> Decimal:
    """Return the length of a window in hours, as a Decimal."""
    return Decimal(int((ends_at - starts_at).total_seconds())) / SECONDS_PER_HOUR


def price_window(
    evse: Evse,
    tariff: Tariff | None,
    starts_at: datetime,
    ends_at: datetime,
    energy_kwh: Decimal | None = None,
) -> Quote:
    """Price charging on evse over the window; energy defaults to full power for all of it."""
    if tariff is None:
        raise ValidationFailed({"evse_id": ["this charger has no price yet"]})
    power_kw = max(connector.power_kw for connector in evse.connectors)
    if energy_kwh is None:
        energy_kwh = power_kw * hours_between(starts_at, ends_at)
    zone = ZoneInfo(evse.location.time_zone)
    result = quote_window(
        parse_tariff(tariff.to_ocpi()), starts_at, ends_at, zone, energy_kwh, power_kw
    )
    return Quote(amount_minor=result.minor_units(), currency=result.currency)
