"""Immutable, typed shape of an OCPI Tariff (2.2.1 and 2.3.0) as the engine sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum


class TariffError(ValueError):
    """A Tariff object is malformed; the message names the offending field."""


class Dimension(StrEnum):
    """TariffDimensionType: what a price component prices."""

    ENERGY = "ENERGY"
    FLAT = "FLAT"
    PARKING_TIME = "PARKING_TIME"
    TIME = "TIME"


class DayOfWeek(StrEnum):
    """DayOfWeek, in ISO order so that list(DayOfWeek)[date.weekday()] is that day."""

    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


class ReservationRestriction(StrEnum):
    """ReservationRestrictionType: the element prices a (possibly expired) reservation."""

    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


class TariffType(StrEnum):
    """TariffType: which sessions (payment, charging preference) the tariff is for."""

    AD_HOC_PAYMENT = "AD_HOC_PAYMENT"
    PROFILE_CHEAP = "PROFILE_CHEAP"
    PROFILE_FAST = "PROFILE_FAST"
    PROFILE_GREEN = "PROFILE_GREEN"
    REGULAR = "REGULAR"


class TaxIncluded(StrEnum):
    """TaxIncluded (2.3.0): whether the prices already contain taxes."""

    YES = "YES"
    NO = "NO"
    NOT_APPLICABLE = "N/A"


@dataclass(frozen=True, slots=True)
class PriceComponent:
    """One dimension's price: per kWh (ENERGY), per hour (TIME, PARKING_TIME) or per session."""

    type: Dimension
    price: Decimal
    step_size: int
    vat: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Restrictions:
    """TariffRestrictions; every set field must hold (logical AND). Maxima are exclusive."""

    start_time: time | None = None
    end_time: time | None = None
    start_date: date | None = None
    end_date: date | None = None
    min_kwh: Decimal | None = None
    max_kwh: Decimal | None = None
    min_current: Decimal | None = None
    max_current: Decimal | None = None
    min_power: Decimal | None = None
    max_power: Decimal | None = None
    min_duration: int | None = None
    max_duration: int | None = None
    day_of_week: frozenset[DayOfWeek] = frozenset()
    reservation: ReservationRestriction | None = None


@dataclass(frozen=True, slots=True)
class TariffElement:
    """Price components that share one set of restrictions."""

    price_components: tuple[PriceComponent, ...]
    restrictions: Restrictions = field(default_factory=Restrictions)

    def component(self, dimension: Dimension) -> PriceComponent | None:
        """Return this element's component for dimension, if it has one."""
        for component in self.price_components:
            if component.type is dimension:
                return component
        return None


@dataclass(frozen=True, slots=True)
class PriceLimit:
    """min_price / max_price: 2.2.1 Price (excl_vat, incl_vat), 2.3.0 PriceLimit."""

    excl_tax: Decimal
    incl_tax: Decimal | None = None


@dataclass(frozen=True, slots=True)
class DisplayText:
    """A text in one language (tariff_alt_text)."""

    language: str
    text: str


@dataclass(frozen=True, slots=True)
class Tariff:
    """An OCPI Tariff; version says which OCPI version it was parsed from."""

    country_code: str
    party_id: str
    id: str
    currency: str
    elements: tuple[TariffElement, ...]
    # Optional here: pricing never needs it, and the spec's own PUT example omits it.
    # The OCPI endpoints, not the engine, insist on it.
    last_updated: datetime | None = None
    version: str = "2.2.1"
    type: TariffType | None = None
    tax_included: TaxIncluded = TaxIncluded.NO
    min_price: PriceLimit | None = None
    max_price: PriceLimit | None = None
    start_date_time: datetime | None = None
    end_date_time: datetime | None = None
    tariff_alt_url: str | None = None
    tariff_alt_text: tuple[DisplayText, ...] = ()

    def is_active_at(self, instant: datetime) -> bool:
        """Tell whether instant lies in [start_date_time, end_date_time] (valid until end)."""
        if self.start_date_time is not None and instant < self.start_date_time:
            return False
        return self.end_date_time is None or instant <= self.end_date_time
