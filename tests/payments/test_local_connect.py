"""The local Stripe stand-in of `make run` does Connect: accounts, onboarding, transfers."""

from __future__ import annotations

import pytest
import requests

from app.payments.errors import PaymentError
from app.payments.stripe_gateway import StripeGateway
from tests.support.stripe_fixtures import localstripe  # noqa: F401 (a fixture, found by name)


def test_owner_onboards_on_the_local_page_and_is_then_paid_and_reversed(localstripe):  # noqa: F811
    gateway: StripeGateway = localstripe.gateway()
    account = gateway.create_owner_account(4711, email="owner@plugpool.test", country="NL")
    assert account.id.startswith("acct_") and account.can_receive_transfers is False

    link = gateway.create_onboarding_link(
        account.id, refresh_url="http://127.0.0.1:1/again", return_url="http://127.0.0.1:1/back"
    )
    assert link.url.startswith(localstripe.url + "/_config/connect/onboard/")
    page = requests.get(link.url, timeout=5)
    assert page.status_code == 200 and "owner@plugpool.test" in page.text
    finished = requests.post(link.url, allow_redirects=False, timeout=5)
    assert finished.status_code == 303
    assert finished.headers["Location"] == "http://127.0.0.1:1/back"
    assert requests.get(link.url, timeout=5).status_code == 410  # single use

    ready = gateway.retrieve_account(account.id)
    assert ready.can_receive_transfers and ready.payouts_enabled and ready.details_submitted

    transfer = gateway.transfer_to_owner(
        99, account_id=account.id, amount=850, currency="EUR", source_charge_id="ch_local"
    )
    assert transfer.id.startswith("tr_")
    reversal = gateway.reverse_transfer(99, transfer.id, reason_ref="re_1", amount=300)
    assert reversal.amount == 300
    again = gateway.reverse_transfer(99, transfer.id, reason_ref="re_2")
    assert again.amount == 550


def test_transfer_to_an_account_that_has_not_onboarded_is_refused(localstripe):  # noqa: F811
    gateway: StripeGateway = localstripe.gateway()
    account = gateway.create_owner_account(4712, email="late@plugpool.test", country="NL")
    with pytest.raises(PaymentError, match="cannot receive transfers"):
        gateway.transfer_to_owner(
            100, account_id=account.id, amount=100, currency="EUR", source_charge_id="ch_x"
        )
