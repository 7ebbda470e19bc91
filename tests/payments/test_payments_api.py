"""The payments JSON API: saving a card (localstripe) and owner onboarding (Connect stand-in)."""

from __future__ import annotations

from app.payments import queries as payment_queries
from app.payments.models import StripeCustomer


def test_driver_starts_a_card_setup_and_saves_a_card(client, make_user, token_for):
    driver = make_user()
    auth = token_for(driver)

    setup = client.post("/api/v1/payments/cards/setup", headers=auth)
    saved = client.post(
        "/api/v1/payments/cards", json={"payment_method_id": "pm_card_visa"}, headers=auth
    )

    assert setup.status_code == 201
    assert setup.json["setup_intent_id"].startswith("seti_")
    assert setup.json["client_secret"].startswith(setup.json["setup_intent_id"])
    assert saved.status_code == 200
    assert saved.json["payment_method_id"].startswith("pm_")
    from app.extensions import db

    customer = db.session.query(StripeCustomer).filter_by(user_id=driver.id).one()
    assert customer.payment_method_id == saved.json["payment_method_id"]


def test_owner_gets_an_onboarding_link_from_the_connect_standin(
    app, client, owner, token_for, connect_standin
):
    """Connect is not in localstripe: this call goes to the stand-in (request shape checked)."""
    saved = app.config["STRIPE_API_BASE"]
    app.config["STRIPE_API_BASE"] = connect_standin.url
    try:
        response = client.post(
            "/api/v1/payments/payouts/onboarding",
            json={"refresh_url": "https://app.test/refresh", "return_url": "https://app.test/done"},
            headers=token_for(owner),
        )
    finally:
        app.config["STRIPE_API_BASE"] = saved

    assert response.status_code == 201
    assert response.json["url"].startswith("http")
    account = payment_queries.owner_account(owner.id)
    assert account.account_id in connect_standin.accounts
    assert [r.path for r in connect_standin.posts] == ["/v1/accounts", "/v1/account_links"]


def test_drivers_cannot_onboard_for_payouts(client, make_user, token_for):
    response = client.post(
        "/api/v1/payments/payouts/onboarding",
        json={"refresh_url": "https://a.test/r", "return_url": "https://a.test/d"},
        headers=token_for(make_user()),
    )

    assert response.status_code == 403
