"""The one OCPI tariff pricing engine: pure functions, no database, Decimal only.

Search quotes, booking quotes, live sessions and CDRs all call this package::

    tariff = parse_tariff(data, version="2.3.0")
    result = price_session(tariff, periods, ZoneInfo(location.time_zone))
    quote = quote_window(tariff, start, end, tz, energy_kwh=Decimal(30), power_kw=Decimal(11))
    amount = result.minor_units()  # integer cents, half-up

Where the spec's worked examples in module Tariffs disagree, we decided (same rule
for 2.2.1 and 2.3.0, so one session has one price whatever the partner speaks):

1. step_size of TIME vs PARKING_TIME. Only the time dimension used last is rounded,
   with the step_size of its last component; a charging time followed by parking is
   billed as measured. This is 2.3.0 (tariff_14 examples fixed in 2.3.0 ed2, tariff_4)
   and also 2.2.1's own tariff_4 Saturday total and both step_size examples in
   mod_cdrs. 2.2.1's tariff_14 examples (0.383 and 0.78 EUR) instead round charging
   plus parking together; we price them 0.55 and 0.73 EUR, as 2.3.0 does.
2. 2.3.0 tariff_4 Saturday: 114 min at 1.25/h is 2.375, not 2.28; the total is
   12.375 / 13.975 EUR, as 2.2.1 states.
3. tariff_3: the 100 Wh step_size applies (text: 5.63 / 6.24 EUR), not the 2.3.0
   table that ignores it (5.61 / 6.22 EUR).
4. tariff_7 (2.2.1 only; 2.3.0 removed it as conflicting): min/max_duration count
   from the start of the charging session, as the restriction is defined, so the
   "first hour of parking free" only holds when charging takes no time.
5. Reservations (tariffs 15-18): elements without a `reservation` restriction price
   the charging session only, so an expired reservation costs only its reservation
   elements (no 0.50 start fee), which is what the stated totals imply. FLAT is
   charged once per phase: once for the reservation, once for the charging session.
6. Rounding: totals keep full precision; only minor_units() rounds, half-up.

Other decisions: the FLAT charged is the first FLAT component that applies in the
phase (periods in which nothing happened do not count); a restriction on a quantity
we were not told (e.g. current) does not match; tariff validity (start/end_date_time)
is the caller's concern (Tariff.is_active_at); min/max_duration count from the start
of their phase (reservation or session); min/max_price bound the whole total,
reservation included, and a clamped total keeps its tax ratio (see taxes.py); a
missing vat means no VAT (tariff_7's text says totals incl. VAT "cannot be computed").

Consequences worth knowing: by rule 1, a session whose charging time was rounded up
can become cheaper when parking follows it; and with restrictions, more energy can
cost less (a cheaper tier, or a later component with a smaller step_size). Without
restrictions, more energy or a longer last period never costs less (tested).
"""

from app.tariffs.engine.model import (
    DayOfWeek,
    Dimension,
    DisplayText,
    PriceComponent,
    PriceLimit,
    ReservationRestriction,
    Restrictions,
    Tariff,
    TariffElement,
    TariffError,
    TariffType,
    TaxIncluded,
)
from app.tariffs.engine.parse import SUPPORTED_VERSIONS, parse_tariff
from app.tariffs.engine.periods import PeriodError, PeriodState, SessionPeriod
from app.tariffs.engine.pricing import price_session
from app.tariffs.engine.quote import quote_amount, quote_window
from app.tariffs.engine.result import (
    Cost,
    PricedDimension,
    PricedPeriod,
    PriceResult,
    TaxAmount,
)

__all__ = [
    "SUPPORTED_VERSIONS",
    "Cost",
    "DayOfWeek",
    "Dimension",
    "DisplayText",
    "PeriodError",
    "PeriodState",
    "PriceComponent",
    "PriceLimit",
    "PriceResult",
    "PricedDimension",
    "PricedPeriod",
    "ReservationRestriction",
    "Restrictions",
    "SessionPeriod",
    "Tariff",
    "TariffElement",
    "TariffError",
    "TariffType",
    "TaxAmount",
    "TaxIncluded",
    "parse_tariff",
    "price_session",
    "quote_amount",
    "quote_window",
]
