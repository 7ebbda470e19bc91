"""Rules the gateway applies before any request: idempotency keys, amounts, settings."""

from __future__ import annotations

import pytest

from app.payments.amounts import require_amount, require_currency
from app.payments.errors import InvalidAmount
from app.payments.idempotency import idempotency_key
from app.payments.stripe_client import StripeSettings
from app.payments.stripe_gateway import transfer_group


def test_idempotency_key_names_the_object_and_the_operation():
    assert idempotency_key("booking", 42, "capture") == "plugpool:booking:42:capture"


def test_idempotency_key_appends_qualifiers():
    key = idempotency_key("booking", "b-7", "refund", "owner_cancelled")

    assert key == "plugpool:booking:b-7:refund:owner_cancelled"


@pytest.mark.parametrize("part", ["", "a:b", "a b", "é", "42\n"])
def test_idempotency_key_refuses_parts_that_could_collide(part):
    with pytest.raises(ValueError):
        idempotency_key("booking", part, "capture")


def test_idempotency_key_refuses_more_than_stripe_keeps():
    with pytest.raises(ValueError, match="255"):
        idempotency_key("booking", "x" * 250, "capture")


@pytest.mark.parametrize("amount", [1, 3000, 99_999_999])
def test_positive_int_amounts_are_accepted(amount):
    assert require_amount(amount) == amount


@pytest.mark.parametrize("amount", [30.0, 30.5, "30", None, True, 0, -1, 100_000_000])
def test_other_amounts_are_refused(amount):
    with pytest.raises(InvalidAmount):
        require_amount(amount)


def test_invalid_amount_is_also_a_value_error():
    with pytest.raises(ValueError):
        require_amount(1.5)


def test_currency_is_lowered_and_checked():
    assert require_currency("EUR") == "eur"
    for bad in ("eu", "euro", "", "€€€", "eur\n"):
        with pytest.raises(InvalidAmount):
            require_currency(bad)


def test_transfer_group_names_the_booking():
    assert transfer_group(42) == "booking_42"


def test_settings_come_from_config_names():
    settings = StripeSettings.from_config(
        {
            "STRIPE_SECRET_KEY": "sk_test_abc",
            "STRIPE_API_BASE": "http://127.0.0.1:8420",
            "STRIPE_MAX_NETWORK_RETRIES": "3",
            "STRIPE_TIMEOUT": "5",
        }
    )

    assert settings.api_base == "http://127.0.0.1:8420"
    assert (settings.max_network_retries, settings.timeout_seconds) == (3, 5.0)
    assert "sk_test_abc" not in repr(settings)


def test_settings_default_to_the_real_api():
    settings = StripeSettings.from_config(
        {"STRIPE_SECRET_KEY": "sk_test_abc", "STRIPE_API_BASE": ""}
    )

    assert settings.api_base is None
    assert settings.max_network_retries == 2


def test_settings_without_a_key_are_refused():
    with pytest.raises(ValueError, match="STRIPE_SECRET_KEY"):
        StripeSettings.from_config({})
