"""JSON API /api/v1/bookings: quote, hold, pay, accept/decline, cancel, extend, review, report."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from app.bookings import queries, services
from app.bookings.auth import current_user, require_user
from app.bookings.models import Booking, ProblemReport, Review
from app.bookings.pricing import Quote
from app.bookings.schemas import (
    BookingSchema,
    ExtendSchema,
    ListQuerySchema,
    ProblemInSchema,
    ProblemSchema,
    QuoteSchema,
    ReviewInSchema,
    ReviewSchema,
    WindowSchema,
)
from app.core.errors import Forbidden

blp = Blueprint("bookings", __name__, description="Book a charger for a time window")


@blp.route("/quote")
class QuoteResource(MethodView):
    @require_user()
    @blp.arguments(WindowSchema)
    @blp.response(200, QuoteSchema)
    def post(self, window: dict[str, Any]) -> dict[str, Any]:
        """Price a window on a charger."""
        quote: Quote = services.quote_booking(current_user(), **window)
        return {**window, "amount_minor": quote.amount_minor, "currency": quote.currency}


@blp.route("")
class BookingsResource(MethodView):
    @require_user()
    @blp.response(200, BookingSchema(many=True))
    def get(self) -> list[Booking]:
        """List my bookings as a driver."""
        return queries.bookings_of_driver(current_user().id)

    @require_user()
    @blp.arguments(WindowSchema)
    @blp.response(201, BookingSchema)
    def post(self, window: dict[str, Any]) -> Booking:
        """Hold a slot (pending until paid or expired)."""
        return services.hold_slot(current_user(), **window)


@blp.route("/owner")
class OwnerBookingsResource(MethodView):
    @require_user("owner")
    @blp.arguments(ListQuerySchema, location="query")
    @blp.response(200, BookingSchema(many=True))
    def get(self, args: dict[str, Any]) -> list[Booking]:
        """List the bookings of my listings as an owner."""
        return queries.bookings_of_owner(current_user().id, args.get("location_id"))


@blp.route("/<int:booking_id>")
class BookingResource(MethodView):
    @require_user()
    @blp.response(200, BookingSchema)
    def get(self, booking_id: int) -> Booking:
        """Read one of my bookings (driver or owner)."""
        booking = queries.get_booking(booking_id)
        user = current_user()
        if user.id not in (booking.driver_id, booking.location.owner_id):
            raise Forbidden("not your booking")
        return booking


def _action(name: str, summary: str, call: Any, roles: tuple[str, ...] = ()) -> None:
    """Register POST /<id>/<name> that calls one service with (user, booking_id)."""

    @require_user(*roles)
    @blp.response(200, BookingSchema)
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
@require_user()
@blp.arguments(ExtendSchema)
@blp.response(200, BookingSchema)
def extend(args: dict[str, Any], booking_id: int) -> Booking:
    """Extend my booking while the next slot is free."""
    return services.extend_booking(current_user(), booking_id, args["ends_at"])


@blp.route("/<int:booking_id>/reviews", methods=["POST"])
@require_user()
@blp.arguments(ReviewInSchema)
@blp.response(201, ReviewSchema)
def review(args: dict[str, Any], booking_id: int) -> Review:
    """Review a completed booking (once per side)."""
    return services.review_booking(current_user(), booking_id, args["rating"], args["text"])


@blp.route("/<int:booking_id>/problems", methods=["POST"])
@require_user()
@blp.arguments(ProblemInSchema)
@blp.response(201, ProblemSchema)
def report(args: dict[str, Any], booking_id: int) -> ProblemReport:
    """Report a problem; the owner's payout waits until it is resolved."""
    return services.report_problem(current_user(), booking_id, args["description"])
