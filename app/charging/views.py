"""Charging pages: a driver's RFID cards, and the admin's list of sessions held for review."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.accounts.auth import page, page_user
from app.charging import queries, tokens
from app.core.errors import DomainError
from app.core.web import html_errors

blp = Blueprint("charging_web", __name__)
html_errors(blp)

DRIVER, ADMIN = "driver", "admin"


@blp.get("/cards")
@page(DRIVER)
def my_cards() -> ResponseReturnValue:
    """The driver's RFID cards, and a form to register one."""
    cards = tokens.cards_of(page_user().id)
    return render_template(
        "charging/cards.html",
        cards=[(card, tokens.card_valid(card)) for card in cards],
        values={},
        errors={},
    )


@blp.post("/cards")
@page(DRIVER)
def add_card() -> ResponseReturnValue:
    """Register a card; a refusal is shown on the form with what was typed."""
    uid, label = request.form.get("uid", ""), request.form.get("label", "")
    try:
        card = tokens.add_card(page_user().id, uid, label)
    except DomainError as error:
        cards = tokens.cards_of(page_user().id)
        errors = error.extra.get("errors") or {"uid": [error.detail]}
        page_html = render_template(
            "charging/cards.html",
            cards=[(c, tokens.card_valid(c)) for c in cards],
            values={"uid": uid, "label": label},
            errors=errors,
        )
        return page_html, error.status
    flash(f"Card {card.uid} registered: chargers accept it now.", "success")
    return redirect(url_for(".my_cards"))


@blp.post("/cards/<uid>/block")
@page(DRIVER)
def block_card(uid: str) -> ResponseReturnValue:
    """Block a card until it is unblocked."""
    return _act(tokens.block_card, uid, "Card blocked.")


@blp.post("/cards/<uid>/unblock")
@page(DRIVER)
def unblock_card(uid: str) -> ResponseReturnValue:
    """Make a blocked card valid again."""
    return _act(tokens.unblock_card, uid, "Card valid again.")


@blp.post("/cards/<uid>/remove")
@page(DRIVER)
def remove_card(uid: str) -> ResponseReturnValue:
    """Remove a card."""
    return _act(tokens.remove_card, uid, "Card removed.")


def _act(action: object, uid: str, done: str) -> ResponseReturnValue:
    """Run one card action; its refusal becomes a message on the cards page."""
    try:
        action(page_user().id, uid)  # type: ignore[operator]
    except DomainError as error:
        flash(error.detail, "error")
    else:
        flash(done, "success")
    return redirect(url_for(".my_cards"))


@blp.get("/admin/sessions/flagged")
@page(ADMIN)
def flagged_sessions() -> ResponseReturnValue:
    """Sessions whose meter failed the plausibility check: not billed, held for review."""
    return render_template("charging/flagged.html", sessions=queries.flagged_session_rows())
