"""Currency codes and minor units (ISO 4217) for Decimal amounts.

Amounts are Decimal everywhere; integers in minor units (cents) appear only at the
edges (Stripe, storage). Rounding to minor units is ROUND_HALF_UP, as the OCPI
tariff examples do when they state a total.

The table is ISO 4217 list one (active codes) with each code's minor-unit exponent,
as published up to amendment 179 (2025): HRK, SLL, ZWL, CUC and ANG are withdrawn,
SLE, VED, ZWG and XCG are in. BGN stays until ISO withdraws it after Bulgaria's
2026 euro changeover. Codes without minor units (precious metals, XDR, XXX, ...)
are valid codes but cannot be converted to minor units.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

_EXPONENT_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_EXPONENT_3 = "BHD IQD JOD KWD LYD OMR TND"
_EXPONENT_4 = "CLF UYW"
_NO_MINOR_UNIT = "XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX"
_EXPONENT_2 = """
AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN
BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN
ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD
KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR
MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON
RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG
"""


def _exponents() -> dict[str, int | None]:
    """Build the code -> exponent table from the groups above."""
    table: dict[str, int | None] = dict.fromkeys(_NO_MINOR_UNIT.split())
    groups = ((0, _EXPONENT_0), (2, _EXPONENT_2), (3, _EXPONENT_3), (4, _EXPONENT_4))
    for exponent, codes in groups:
        table.update(dict.fromkeys(codes.split(), exponent))
    return table


ISO4217_EXPONENTS: dict[str, int | None] = _exponents()


def is_iso4217(code: str) -> bool:
    """Tell whether code is an active ISO 4217 alphabetic currency code (upper case)."""
    return isinstance(code, str) and code in ISO4217_EXPONENTS


def currency_exponent(currency: str) -> int:
    """Return the number of minor-unit digits of currency (2 for EUR, 0 for JPY)."""
    if not is_iso4217(currency):
        raise ValueError(f"currency not ISO 4217: {currency!r}")
    exponent = ISO4217_EXPONENTS[currency]
    if exponent is None:
        raise ValueError(f"currency {currency} has no minor unit")
    return exponent


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Round amount half-up to currency's minor unit and return it as an integer."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be Decimal, not {type(amount).__name__}")
    exponent = currency_exponent(currency)
    return int(amount.scaleb(exponent).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor_units(units: int, currency: str) -> Decimal:
    """Return the Decimal amount of units minor units of currency (1234 EUR -> 12.34)."""
    if isinstance(units, bool) or not isinstance(units, int):
        raise TypeError(f"units must be int, not {type(units).__name__}")
    return Decimal(units).scaleb(-currency_exponent(currency))


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money.amount must be Decimal")
        if not is_iso4217(self.currency):
            raise ValueError(f"currency not ISO 4217: {self.currency!r}")

    @classmethod
    def from_minor(cls, units: int, currency: str) -> Money:
        """Build Money from an integer number of minor units."""
        return cls(from_minor_units(units, currency), currency)

    @property
    def minor_units(self) -> int:
        """Return the amount rounded half-up to integer minor units."""
        return to_minor_units(self.amount, self.currency)

    def __add__(self, other: Money) -> Money:
        """Add two amounts of the same currency."""
        if not isinstance(other, Money):
            return NotImplemented
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)
