"""Payment pages: a driver's saved cards (Stripe.js Elements) and an owner's payouts (Connect)."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from app.accounts.auth import page, page_user
from app.core.errors import DomainError
from app.core.web import html_errors, safe_next
from app.payments import queries, services

blp = Blueprint("payments_web", __name__)
html_errors(blp)

DRIVER, OWNER = "driver", "owner"
STRIPE_JS = "https://js.stripe.com/v3/"
# localstripe accepts any publishable key that starts with pk_.
LOCAL_PUBLISHABLE_KEY = "pk_test_plugpool_local"


def stripe_js() -> tuple[str, str]:
    """Where Stripe.js comes from and the publishable key: Stripe's, or the local stand-in's."""
    config = current_app.config
    base = (config.get("STRIPE_API_BASE") or "").rstrip("/")
    url = config.get("STRIPE_JS_URL") or (f"{base}/js.stripe.com/v3/" if base else STRIPE_JS)
    key = config.get("STRIPE_PUBLISHABLE_KEY") or (LOCAL_PUBLISHABLE_KEY if base else "")
    return url, key


def _safe_next() -> str:
    """Where to go after saving a card: a path on this site only."""
    return safe_next(request.values.get("next") or "") or url_for(".cards")


@blp.get("/payment-cards")
@page(DRIVER)
def cards() -> ResponseReturnValue:
    """The driver's saved cards, removable, and a form to add one with Stripe.js Elements."""
    js_url, publishable_key = stripe_js()
    try:
        saved = services.saved_cards(page_user())
    except DomainError as error:
        flash(f"Your saved cards could not be read: {error.detail}", "error")
        saved = []
    return render_template(
        "payments/cards.html",
        cards=saved,
        stripe_js_url=js_url,
        publishable_key=publishable_key,
        next_url=_safe_next(),
    )


@blp.post("/payment-cards/setup")
@page(DRIVER)
def card_setup() -> ResponseReturnValue:
    """Start saving a card: the SetupIntent's client secret for Stripe.js (JSON)."""
    try:
        setup = services.start_card_setup(page_user())
    except DomainError as error:
        return jsonify({"error": error.detail}), error.status
    return jsonify({"client_secret": setup.client_secret})


@blp.post("/payment-cards")
@page(DRIVER)
def save_card() -> ResponseReturnValue:
    """Keep the card Stripe.js confirmed as the one bookings use."""
    payment_method = request.form.get("payment_method", "")
    if not payment_method.startswith("pm_"):
        flash("The card was not saved: enter the card details and try again.", "error")
        return redirect(url_for(".cards", next=_safe_next()))
    try:
        services.save_card(page_user(), payment_method)
    except DomainError as error:
        flash(f"The card was not saved: {error.detail}", "error")
        return redirect(url_for(".cards", next=_safe_next()))
    flash("Card saved. Bookings are paid with it.", "success")
    return redirect(_safe_next())


@blp.post("/payment-cards/<payment_method>/remove")
@page(DRIVER)
def remove_card(payment_method: str) -> ResponseReturnValue:
    """Remove a saved card."""
    services.remove_card(page_user(), payment_method)
    flash("Card removed.", "success")
    return redirect(url_for(".cards"))


@blp.get("/owner/payouts")
@page(OWNER)
def payouts() -> ResponseReturnValue:
    """The owner's payout account: status, onboarding, and what was paid out and is due."""
    owner = page_user()
    return render_template(
        "payments/payouts.html",
        account=queries.owner_account(owner.id),
        earnings=queries.owner_earnings(owner.id),
    )


@blp.post("/owner/payouts/onboard")
@page(OWNER)
def onboard() -> ResponseReturnValue:
    """Send the owner to Stripe's Connect Express onboarding."""
    try:
        link = services.onboard_owner(
            page_user(),
            country=current_app.config["OWN_COUNTRY_CODE"],
            refresh_url=url_for(".payouts", _external=True),
            return_url=url_for(".onboarded", _external=True),
        )
    except DomainError as error:
        flash(f"Payout set-up is not available right now: {error.detail}", "error")
        return redirect(url_for(".payouts"))
    return redirect(link.url)


@blp.get("/owner/payouts/return")
@page(OWNER)
def onboarded() -> ResponseReturnValue:
    """Back from onboarding: read the account's state from Stripe and say where it stands."""
    try:
        account = services.refresh_owner_account(page_user())
    except DomainError as error:
        flash(f"Could not read your payout account: {error.detail}", "error")
        return redirect(url_for(".payouts"))
    if account is not None and account.payable:
        flash("Payouts are set up: you can publish paid listings.", "success")
    else:
        flash("Stripe still needs some details before you can be paid.", "error")
    return redirect(url_for(".payouts"))
