"""Booking pages: book a slot, the driver's bookings, and the owner's bookings and earnings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from app.accounts.auth import page, page_user
from app.bookings import queries, rules, services
from app.bookings.enums import BookingStatus
from app.charging import queries as charging_queries
from app.charging import services as charging
from app.charging.commands import command_sender
from app.charging.queries import EARLY_START
from app.core.clock import utcnow
from app.core.errors import DomainError
from app.core.web import html_errors
from app.payments import earnings
from app.payments import queries as payment_queries
from app.payments import services as payments
from app.search.forms import window_from_form

blp = Blueprint("bookings_web", __name__)
html_errors(blp)

DRIVER, OWNER = "driver", "owner"
UPCOMING = (BookingStatus.PENDING, BookingStatus.REQUESTED, BookingStatus.CONFIRMED)
REVIEW_MAX_CHARS = 2000


@blp.post("/chargers/<int:location_id>/evses/<int:evse_id>/book")
@page(DRIVER)
def hold(location_id: int, evse_id: int) -> ResponseReturnValue:
    """Hold a slot on a charger; it stays held for a few minutes until paid."""
    back = url_for("search_web.charger", location_id=location_id, **_window_args())
    try:
        window = window_from_form(request.form)
        if window is None:
            flash("Choose when you want to charge: from and until.", "error")
            return redirect(back)
        booking = services.hold_slot(page_user(), evse_id, window.start, window.end)
    except ValueError as error:
        flash(str(error), "error")
        return redirect(back)
    except DomainError as error:
        flash(_explain(error), "error")
        return redirect(back)
    flash("Slot held. Pay with your saved card to confirm it before the hold expires.", "success")
    return redirect(url_for(".my_bookings", _anchor=f"booking-{booking.id}"))


@blp.get("/bookings")
@page(DRIVER)
def my_bookings() -> ResponseReturnValue:
    """The driver's bookings, latest first, with what can be done with each."""
    driver = page_user()
    bookings = queries.bookings_of_driver(driver.id)
    now = utcnow()
    upcoming = [b for b in bookings if b.status in UPCOMING and b.ends_at > now]
    live = [b for b in bookings if b.status == BookingStatus.ACTIVE]
    past = [b for b in bookings if b not in upcoming and b not in live]
    reviewed = {
        review.booking_id
        for b in past
        for review in queries.reviews_of(b.id)
        if review.author_role == "driver"
    }
    return render_template(
        "bookings/my_bookings.html",
        upcoming=upcoming,
        live=live,
        past=past,
        now=now,
        early=EARLY_START,
        reviewed=reviewed,
        live_charge=services.live_charge,
        notices=charging_queries.notices_of(driver.id)[:5],
        access_visible=services.access_visible,
        card=_card_of(driver),
    )


@blp.get("/bookings/<int:booking_id>/live")
@page(DRIVER)
def live_panel(booking_id: int) -> ResponseReturnValue:
    """The live charging panel of a booking (the page refreshes it while charging)."""
    booking = queries.get_booking(booking_id)
    rules.require_driver(booking, page_user())
    return render_template("bookings/_live.html", b=booking, charge=services.live_charge(booking))


@blp.get("/bookings/<int:booking_id>/cancel")
@page(DRIVER)
def cancel_confirm(booking_id: int) -> ResponseReturnValue:
    """Ask before cancelling: what it costs now under the listing's policy."""
    booking, fee = services.cancellation_terms(page_user(), booking_id)
    return render_template("bookings/cancel.html", b=booking, fee=fee)


@blp.post("/bookings/<int:booking_id>/review")
@page(DRIVER)
def review(booking_id: int) -> ResponseReturnValue:
    """Rate a completed booking's charger (1 to 5 stars) with an optional comment."""
    text = request.form.get("text", "").strip()[:REVIEW_MAX_CHARS]
    try:
        rating = int(request.form.get("rating", "0"))
    except ValueError:
        rating = 0
    return _act(
        lambda user, bid: services.review_booking(user, bid, rating, text),
        booking_id,
        "Thank you: your review is on the charger's page.",
        ".my_bookings",
    )


def _card_of(driver: Any) -> Any:
    """The card bookings are paid with, or None (none saved, or payments unreachable)."""
    if not payment_queries.has_usable_card(driver.id):
        return None
    try:
        cards = payments.saved_cards(driver)
    except DomainError:
        return None
    return cards[0] if cards else None


@blp.post("/bookings/<int:booking_id>/confirm")
@page(DRIVER)
def confirm(booking_id: int) -> ResponseReturnValue:
    """Pay for a held slot with the saved card."""
    return _act(services.confirm_booking, booking_id, "Booking paid.", ".my_bookings")


@blp.post("/bookings/<int:booking_id>/cancel")
@page(DRIVER)
def cancel(booking_id: int) -> ResponseReturnValue:
    """Cancel as the driver (the listing's cancellation policy applies)."""
    return _act(services.cancel_booking, booking_id, "Booking cancelled.", ".my_bookings")


@blp.post("/bookings/<int:booking_id>/start")
@page(DRIVER)
def start_charging(booking_id: int) -> ResponseReturnValue:
    """Tell the charger of a booking to start charging now."""
    return _act(
        _remote(charging.remote_start_booking), booking_id, "Charger started.", ".my_bookings"
    )


@blp.post("/bookings/<int:booking_id>/stop")
@page(DRIVER)
def stop_charging(booking_id: int) -> ResponseReturnValue:
    """Tell the charger of a booking to stop charging."""
    return _act(
        _remote(charging.remote_stop_booking), booking_id, "Charger stopped.", ".my_bookings"
    )


@blp.get("/owner/bookings")
@page(OWNER)
def owner_bookings() -> ResponseReturnValue:
    """Bookings of the owner's listings, with requests to answer and what they earned."""
    owner = page_user()
    shares = payment_queries.owner_shares(owner.id)
    by = "month" if request.args.get("by") == "month" else "week"
    sums = earnings.buckets(shares, utcnow().date(), by=by, count=12 if by == "week" else 6)
    return render_template(
        "bookings/owner_bookings.html",
        bookings=queries.bookings_of_owner(owner.id),
        earnings=payment_queries.owner_earnings(owner.id),
        flagged=charging_queries.flagged_session_rows(owner.id),
        shares=shares,
        by=by,
        chart=earnings.bars(sums, by=by),
        chart_size=(earnings.WIDTH, earnings.HEIGHT),
        currency=shares[0][3] if shares else "EUR",
    )


@blp.post("/owner/bookings/<int:booking_id>/accept")
@page(OWNER)
def accept(booking_id: int) -> ResponseReturnValue:
    """Accept a booking request."""
    return _act(services.accept_booking, booking_id, "Request accepted.", ".owner_bookings")


@blp.post("/owner/bookings/<int:booking_id>/decline")
@page(OWNER)
def decline(booking_id: int) -> ResponseReturnValue:
    """Decline a booking request; the driver's card hold is released."""
    return _act(services.decline_booking, booking_id, "Request declined.", ".owner_bookings")


@blp.post("/owner/bookings/<int:booking_id>/cancel")
@page(OWNER)
def owner_cancel(booking_id: int) -> ResponseReturnValue:
    """Cancel a booking of the owner's listing; the driver pays nothing."""
    return _act(services.cancel_booking, booking_id, "Booking cancelled.", ".owner_bookings")


def _act(call: Callable[[Any, int], Any], booking_id: int, done: str, back: str) -> Response:
    """Run one booking action; its refusal becomes a message on the page it came from."""
    try:
        call(page_user(), booking_id)
    except DomainError as error:
        flash(_explain(error), "error")
    else:
        flash(done, "success")
    return redirect(url_for(back, _anchor=f"booking-{booking_id}"))


def _remote(call: Callable[[Any, int, Any], str]) -> Callable[[Any, int], str]:
    """A charging command through the gateway this process can reach."""
    return lambda user, booking_id: call(user, booking_id, command_sender())


def _explain(error: DomainError) -> str:
    fields = error.extra.get("errors") or {}
    details = " ".join(text for texts in fields.values() for text in texts)
    return f"{error.detail}: {details}" if details else error.detail


def _window_args() -> dict[str, str]:
    return {name: request.form[name] for name in ("from", "to", "tz") if request.form.get(name)}
