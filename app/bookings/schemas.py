"""Marshmallow schemas of the bookings API."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.api.schemas import id_field
from app.bookings.models import Booking
from app.bookings.rules import access_visible


class BookingWindowSchema(Schema):
    evse_id = id_field(required=True)
    starts_at = fields.AwareDateTime(
        required=True,
        metadata={
            "description": "With a time zone or offset; at least BOOKING_MIN_LEAD_MINUTES ahead."
        },
    )
    ends_at = fields.AwareDateTime(
        required=True,
        metadata={
            "description": "After starts_at (422 otherwise); the booking lasts at least "
            "BOOKING_MIN_MINUTES and at most BOOKING_MAX_HOURS."
        },
    )

    @validates_schema
    def _ordered(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["ends_at"] <= data["starts_at"]:
            raise ValidationError("must be after starts_at", "ends_at")


class BookingQuoteSchema(Schema):
    evse_id = fields.Integer()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    amount_minor = fields.Integer()
    currency = fields.String()


class BookingExtendSchema(Schema):
    ends_at = fields.AwareDateTime(required=True)


class BookingReviewInSchema(Schema):
    rating = fields.Integer(required=True, validate=validate.Range(1, 5))
    text = fields.String(load_default="", validate=validate.Length(max=2000))


class BookingReviewSchema(Schema):
    id = fields.Integer()
    booking_id = fields.Integer()
    author_role = fields.String()
    rating = fields.Integer()
    text = fields.String()
    created_at = fields.AwareDateTime()


class ProblemReportInSchema(Schema):
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class ProblemReportSchema(Schema):
    id = fields.Integer()
    booking_id = fields.Integer()
    description = fields.String()
    created_at = fields.AwareDateTime()
    resolved_at = fields.AwareDateTime(allow_none=True)


class OwnerBookingsQuerySchema(Schema):
    location_id = id_field()


class BookingSchema(Schema):
    id = fields.Integer()
    driver_id = fields.Integer()
    location_id = fields.Integer()
    evse_id = fields.Integer()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    status = fields.String()
    expires_at = fields.AwareDateTime(allow_none=True)
    instant_book = fields.Boolean()
    amount_minor = fields.Integer()
    final_amount_minor = fields.Integer(allow_none=True)
    currency = fields.String()
    cancellation_policy = fields.Dict(attribute="policy")
    access = fields.Method("_access", allow_none=True)

    def _access(self, booking: Booking) -> dict[str, Any] | None:
        """Reveal how to get in only once the booking is confirmed."""
        if not access_visible(booking):
            return None
        return {
            "instructions": booking.location.access_instructions,
            "code": booking.access_code,
            "address": booking.location.address,
        }
