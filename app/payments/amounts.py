"""Checks on amounts and currencies, made before anything is sent to Stripe."""

from __future__ import annotations

import re

from app.payments.errors import InvalidAmount

# Stripe's largest amount for most currencies (eight digits of minor units).
MAX_AMOUNT = 99_999_999

_CURRENCY = re.compile(r"[a-z]{3}")


def require_amount(amount: object, name: str = "amount") -> int:
    """Return amount if it is a positive int of minor units, else raise InvalidAmount."""
    # bool is an int subclass; True must not become a one-cent charge.
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidAmount(f"{name} must be an int of minor units, not {type(amount).__name__}")
    if amount <= 0:
        raise InvalidAmount(f"{name} must be positive, got {amount}")
    if amount > MAX_AMOUNT:
        raise InvalidAmount(f"{name} {amount} exceeds Stripe's maximum of {MAX_AMOUNT}")
    return amount


def require_currency(currency: str) -> str:
    """Return the ISO 4217 code in Stripe's lower case, or raise InvalidAmount."""
    code = currency.lower() if isinstance(currency, str) else ""
    if not _CURRENCY.fullmatch(code):
        raise InvalidAmount(f"currency must be a three-letter ISO code, got {currency!r}")
    return code
