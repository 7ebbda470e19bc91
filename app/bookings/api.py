"""JSON API /api/v1/bookings: quote, hold, pay, accept/decline, cancel, extend, review, report."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from app.accounts.auth import api_auth, current_user
from app.bookings import queries, services
from app.bookings.models import Booking, ProblemReport, Review
from app.bookings.pricing import Quote
from app.bookings.schemas import (
    BookingExtendSchema,
    BookingQuoteSchema,
    BookingReviewInSchema,
    BookingReviewSchema,
    BookingSchema,
    BookingWindowSchema,
    OwnerBookingsQuerySchema,
    ProblemReportInSchema,
    ProblemReportSchema,
)
from app.core.errors import Forbidden

blp = Blueprint("bookings", __name__, description="Book a charger for a time window")


@blp.route("/quote")
class QuoteResource(MethodView):
    @blp.response(200, BookingQuoteSchema)
    @api_auth(blp)
    @blp.arguments(BookingWindowSchema)
    def post(self, window: dict[str, Any]) -> dict[str, Any]:
        """Price a window on a charger."""
        quote: Quote = services.quote_booking(current_user(), **window)
        return {**window, "amount_minor": quote.amount_minor, "currency": quote.currency}


@blp.route("")
class BookingsResource(MethodView):
    @blp.response(200, BookingSchema(many=True))
    @api_auth(blp)
    def get(self) -> list[Booking]:
        """List my bookings as a driver."""
        return queries.bookings_of_driver(current_user().id)

    @blp.response(201, BookingSchema)
    @api_auth(blp)
    @blp.arguments(BookingWindowSchema)
    def post(self, window: dict[str, Any]) -> Booking:
        """Hold a slot (pending until paid or expired)."""
        return services.hold_slot(current_user(), **window)


@blp.route("/owner")
class OwnerBookingsResource(MethodView):
    @blp.response(200, BookingSchema(many=True))
    @api_auth(blp, "owner")
    @blp.arguments(OwnerBookingsQuerySchema, location="query")
    def get(self, args: dict[str, Any]) -> list[Booking]:
        """List the bookings of my listings as an owner."""
        return queries.bookings_of_owner(current_user().id, args.get("location_id"))


@blp.route("/<int:booking_id>")
class BookingResource(MethodView):
    @blp.response(200, BookingSchema)
    @api_auth(blp)
    def get(self, booking_id: int) -> Booking:
        """Read one of my bookings (driver or owner)."""
        booking = queries.get_booking(booking_id)
        user = current_user()
        if user.id not in (booking.driver_id, booking.location.owner_id):
            raise Forbidden("not your booking")
        return booking


def _action(name: str, summary: str, call: Any, roles: tuple[str, ...] = ()) -> None:
    """Register POST /<id>/<name> that calls one service with (user, booking_id)."""

    @blp.response(200, BookingSchema)
    @api_auth(blp, *roles)
    def view(booking_id: int) -> Booking:
        return call(current_user(), booking_id)

    view.__doc__ = summary
    view.__name__ = f"booking_{name}"
    blp.route(f"/<int:booking_id>/{name}", methods=["POST"])(view)


_action("confirm", "Pay for a held slot with my saved card.", services.confirm_booking)
_action("accept", "Accept a booking request (owner).", services.accept_booking, ("owner",))
_action("decline", "Decline a booking request (owner).", services.decline_booking, ("owner",))
_action(
    "cancel", "Cancel a booking (driver: policy fee; owner: full refund).", services.cancel_booking
)


@blp.route("/<int:booking_id>/extend", methods=["POST"])
@blp.response(200, BookingSchema)
@api_auth(blp)
@blp.arguments(BookingExtendSchema)
def extend(args: dict[str, Any], booking_id: int) -> Booking:
    """Extend my booking while the next slot is free."""
    return services.extend_booking(current_user(), booking_id, args["ends_at"])


@blp.route("/<int:booking_id>/reviews", methods=["POST"])
@blp.response(201, BookingReviewSchema)
@api_auth(blp)
@blp.arguments(BookingReviewInSchema)
def review(args: dict[str, Any], booking_id: int) -> Review:
    """Review a completed booking (once per side)."""
    return services.review_booking(current_user(), booking_id, args["rating"], args["text"])


@blp.route("/<int:booking_id>/problems", methods=["POST"])
@blp.response(201, ProblemReportSchema)
@api_auth(blp)
@blp.arguments(ProblemReportInSchema)
def report(args: dict[str, Any], booking_id: int) -> ProblemReport:
    """Report a problem; the owner's payout waits until it is resolved."""
    return services.report_problem(current_user(), booking_id, args["description"])
