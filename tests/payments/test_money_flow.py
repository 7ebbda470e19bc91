"""A booking's whole money path through the gateway, as services.py will drive it.

The driver side runs on localstripe; the Connect side (transfer, reversal) on the Connect
stand-in, because localstripe has no Connect. Production uses one API base for both; here
two gateways stand in for the one, fed the real charge id that localstripe returned.
"""

from __future__ import annotations

PRICE, FINAL, FEE_PERCENT = 3000, 2400, 15


def test_hold_capture_transfer_then_refund_and_reverse(
    stripe_gateway, connect_gateway, connect_standin, make_driver
):
    driver = make_driver()
    account = connect_gateway.create_owner_account("own1", email="own1@example.test", country="FR")
    connect_standin.complete_onboarding(account.id)
    hold = stripe_gateway.authorise(
        "flow1",
        customer_id=driver.customer_id,
        payment_method_id=driver.payment_method_id,
        amount=PRICE,
        currency="eur",
    )

    captured = stripe_gateway.capture("flow1", hold.id, FINAL)
    owner_share = FINAL - FINAL * FEE_PERCENT // 100
    transfer = connect_gateway.transfer_to_owner(
        "flow1",
        account_id=account.id,
        amount=owner_share,
        currency="eur",
        source_charge_id=captured.charge_id,
    )
    refund = stripe_gateway.refund("flow1", hold.id, reason_ref="problem-1", amount=600)
    reversal = connect_gateway.reverse_transfer(
        "flow1", transfer.id, reason_ref=refund.id, amount=600 * owner_share // FINAL
    )

    assert (transfer.amount, transfer.source_transaction) == (2040, captured.charge_id)
    assert transfer.transfer_group == "booking_flow1"
    assert (refund.amount, reversal.amount) == (600, 510)
    assert connect_standin.transfers[transfer.id]["amount_reversed"] == 510
