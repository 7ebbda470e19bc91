"""OCPI 2.3.0 Bookings: BookingLocation, Calendar, Timeslot, BookingRequest and Booking.

Field names follow the module's examples where its tables disagree with them (Timeslot
start_date_time/end_date_time, booking_option): partners build from the examples.
"""

from __future__ import annotations

from marshmallow import fields, validate

from app.ocpi.schemas.common import OcpiDateTime, OcpiSchema, boolean, cistring, number

RESERVATION_STATUS = (
    "PENDING",
    "RESERVED",
    "CANCELED",
    "FAILED",
    "NO_SHOW",
    "FULFILLED",
    "REJECTED",
    "UNKNOWN",
)
REQUEST_STATUS = ("PENDING", "ACCEPTED", "DECLINED", "FAILED")
LOCATION_ACCESS = ("OPEN", "TOKEN", "LICENSE_PLATE", "ACCESS_CODE", "INTERCOM", "PARKING_TICKET")
CANCELED_REASON = (
    "POWER_OUTAGE",
    "BROKEN_CHARGER",
    "FULL",
    "BLOCKED",
    "TRAFFIC",
    "BROKEN_VEHICLE",
    "NO_CANCELED",
    "UNKNOWN",
)


class Timeslot(OcpiSchema):
    start_date_time = OcpiDateTime(required=True)
    end_date_time = OcpiDateTime(required=True)
    min_power = number()
    max_power = number()
    green_energy_support = boolean()


class BookingToken(OcpiSchema):
    country_code = cistring(2, required=True)
    party_id = cistring(3, required=True)
    uid = cistring(36, required=True)
    type = fields.String(required=True)
    contract_id = cistring(36, required=True)


class BookableParkingOption(OcpiSchema):
    evse_uid = cistring(36)
    parking_id = cistring(36)
    evse_position = fields.String()
    vehicle_types = fields.List(fields.String())
    format = fields.String()
    formats = fields.List(fields.String())
    connector_types = fields.List(fields.String())
    power_types = fields.List(fields.String())
    max_vehicle_weight = number()
    max_vehicle_height = number()
    max_vehicle_length = number()
    max_vehicle_width = number()
    min_parking_space_length = number()
    parking_space_length = number()
    parking_space_width = number()
    dangerous_goods_allowed = boolean()
    drive_through = boolean()
    restricted_to_type = boolean()
    refrigeration_outlet = boolean()


class BookingTerms(OcpiSchema):
    rfid_auth_required = boolean()
    token_groups_supported = boolean()
    remote_auth_supported = boolean()
    supported_access_methods = fields.List(fields.String(validate=validate.OneOf(LOCATION_ACCESS)))
    change_until_minutes = number(required=True)
    cancel_until_minutes = number(required=True)
    change_not_allowed = boolean()
    early_start_allowed = boolean()
    early_start_time = number()
    noshow_timeout = number()
    noshow_fee = boolean()
    late_stop_allowed = boolean()
    late_stop_time = number()
    overlapping_bookings_allowed = boolean()
    booking_terms = fields.String()


class Calendar(OcpiSchema):
    id = cistring(36, required=True)
    begin_from = OcpiDateTime(required=True)
    end_before = OcpiDateTime(required=True)
    step_size = fields.Integer()
    timeslot_increment = fields.Integer()
    available_timeslots = fields.List(fields.Nested(Timeslot), required=True)
    last_updated = OcpiDateTime(required=True)


class Bookable(OcpiSchema):
    reservation_required = boolean(required=True)
    ad_hoc = number()


class BookingLocation(OcpiSchema):
    country_code = cistring(2, required=True)
    party_id = cistring(3, required=True)
    id = cistring(36, required=True)
    location_id = cistring(36, required=True)
    evse_uid = cistring(36)
    connector_id = cistring(36)
    booking_option = fields.Nested(BookableParkingOption)
    bookable_parking_options = fields.List(fields.Nested(BookableParkingOption))
    bookable = fields.Nested(Bookable)
    tariff_ids = fields.List(cistring(36))
    booking_terms = fields.Nested(BookingTerms)
    calendars = fields.List(fields.Nested(Calendar))
    last_updated = OcpiDateTime(required=True)


class Cancellation(OcpiSchema):
    cancellation_reason = fields.String(required=True, validate=validate.OneOf(CANCELED_REASON))
    who_canceled = fields.String(required=True)


class AccessMethod(OcpiSchema):
    location_access = fields.String(required=True, validate=validate.OneOf(LOCATION_ACCESS))
    value = fields.String()


class BookingRequest(OcpiSchema):
    country_code = cistring(2, required=True)
    party_id = cistring(3, required=True)
    request_id = cistring(36, required=True)
    location_id = cistring(36, required=True)
    booking_option = fields.Nested(BookableParkingOption)
    bookable_parking_option = fields.Nested(BookableParkingOption)
    evse_uid = cistring(36)
    connector_id = cistring(36)
    tokens = fields.List(fields.Nested(BookingToken))
    period = fields.Nested(Timeslot, required=True)
    authorization_reference = cistring(36, required=True)
    power_required = fields.Integer()
    canceled = fields.Nested(Cancellation)


class BookingRequestStatus(OcpiSchema):
    request_status = fields.String(required=True, validate=validate.OneOf(REQUEST_STATUS))
    booking_request = fields.Nested(BookingRequest, required=True)
    request_received = OcpiDateTime(required=True)


class Booking(OcpiSchema):
    id = cistring(36, required=True)
    country_code = cistring(2, required=True)
    party_id = cistring(3, required=True)
    request_id = cistring(36, required=True)
    location_id = cistring(36, required=True)
    booking_option = fields.Nested(BookableParkingOption)
    bookable_parking_option = fields.Nested(BookableParkingOption)
    parking_id = cistring(36)
    evse_uid = cistring(36)
    connector_id = cistring(36)
    booking_tokens = fields.List(fields.Nested(BookingToken))
    tariff_id = fields.List(cistring(36))
    period = fields.Nested(Timeslot, required=True)
    reservation_status = fields.String(required=True, validate=validate.OneOf(RESERVATION_STATUS))
    canceled = fields.Nested(Cancellation)
    access_methods = fields.List(fields.Nested(AccessMethod))
    authorization_reference = cistring(36, required=True)
    booking_terms = fields.Nested(BookingTerms, required=True)
    booking_requests = fields.List(
        fields.Nested(BookingRequestStatus), required=True, validate=validate.Length(min=1)
    )
    last_updated = OcpiDateTime(required=True)


class BookingRequestPatch(OcpiSchema):
    timeslot = fields.Nested(Timeslot)
    tokens = fields.List(fields.Nested(BookingToken))
    last_updated = OcpiDateTime(required=True)


def patch_of(schema: type[OcpiSchema]) -> OcpiSchema:
    """A PATCH body: any subset of the fields, nested ones too (last_updated checked apart)."""
    return schema(partial=True)
