"""Owner listing bodies: a Location with its EVSEs, connectors, price and schedule."""

from __future__ import annotations

from datetime import time
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    missing,
    validate,
    validates,
    validates_schema,
)

from app.core.money import is_iso4217
from app.inventory.enums import Capability, ConnectorFormat, ConnectorType, ParkingType, PowerType

MIDNIGHT = time(0, 0)
IMAGE_CATEGORIES = ("CHARGER", "ENTRANCE", "LOCATION", "NETWORK", "OPERATOR", "OTHER", "OWNER")


def _one_of(enum: Any) -> validate.OneOf:
    return validate.OneOf([member.value for member in enum])


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


class ListingConnectorInSchema(Schema):
    standard = fields.String(required=True, validate=_one_of(ConnectorType))
    format = fields.String(
        load_default=ConnectorFormat.SOCKET.value, validate=_one_of(ConnectorFormat)
    )
    power_type = fields.String(required=True, validate=_one_of(PowerType))
    max_voltage = fields.Integer(required=True, validate=validate.Range(min=1, max=2000))
    max_amperage = fields.Integer(required=True, validate=validate.Range(min=1, max=2000))
    max_electric_power = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=2_000_000),
        metadata={"description": "Maximum power in W"},
    )


class ListingEvseInSchema(Schema):
    connectors = fields.List(
        fields.Nested(ListingConnectorInSchema),
        required=True,
        validate=validate.Length(min=1, max=8),
    )
    capabilities = fields.List(fields.String(validate=_one_of(Capability)), load_default=list)
    physical_reference = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=16)
    )
    floor_level = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4))


class ListingPriceSchema(Schema):
    currency = fields.String(
        required=True,
        metadata={
            "description": "An active ISO 4217 code with minor units, upper case, e.g. EUR.",
            "pattern": "^[A-Z]{3}$",
        },
    )
    per_kwh = fields.Decimal(
        allow_none=True, as_string=True, validate=validate.Range(min=0, max=1000)
    )
    per_hour = fields.Decimal(
        allow_none=True, as_string=True, validate=validate.Range(min=0, max=1000)
    )
    per_session = fields.Decimal(
        allow_none=True, as_string=True, validate=validate.Range(min=0, max=1000)
    )
    vat = fields.Decimal(
        allow_none=True,
        as_string=True,
        validate=validate.Range(min=0, max=100),
        metadata={"description": "VAT percentage applied to the prices (OCPI: prices exclude VAT)"},
    )

    @validates("currency")
    def _currency(self, value: str, data_key: str) -> None:
        if not is_iso4217(value):
            raise ValidationError("Not an ISO 4217 currency code.")

    @validates_schema
    def _something_priced(self, data: dict[str, Any], **_: Any) -> None:
        if all(data.get(key) is None for key in ("per_kwh", "per_hour", "per_session")):
            raise ValidationError("Give per_kwh, per_hour or per_session.", "per_kwh")


class ListingPriceOutSchema(ListingPriceSchema):
    tariff_id = fields.String(dump_only=True, metadata={"description": "The OCPI tariff id"})


class ListingWindowSchema(Schema):
    weekday = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=7),
        metadata={"description": "ISO: 1 = Monday"},
    )
    start = fields.Time(required=True, format="%H:%M", metadata={"description": "local HH:MM"})
    end = fields.Time(
        required=True, format="%H:%M", metadata={"description": "local HH:MM; 00:00 = end of day"}
    )

    @validates_schema
    def _end_after_start(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None and end != MIDNIGHT and end <= start:
            raise ValidationError("Must be after start (00:00 means the end of the day).", "end")


class ListingBlackoutSchema(Schema):
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True, metadata={"description": "inclusive"})
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))

    @validates_schema
    def _end_not_before_start(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("start_date"), data.get("end_date")
        if start is not None and end is not None and end < start:
            raise ValidationError("Must not be before start_date.", "end_date")


class ListingImageSchema(Schema):
    url = fields.Url(required=True, validate=validate.Length(max=255))
    category = fields.String(load_default="CHARGER", validate=validate.OneOf(IMAGE_CATEGORIES))
    type = fields.String(load_default="jpeg", validate=validate.Length(min=1, max=4))


class ListingInSchema(Schema):
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))
    address = fields.String(required=True, validate=validate.Length(min=1, max=255))
    city = fields.String(required=True, validate=validate.Length(min=1, max=45))
    postal_code = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=10)
    )
    state = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    country = fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Z]{3}$", error="Must be an ISO 3166-1 alpha-3 code."),
    )
    latitude = fields.Decimal(
        required=True, as_string=True, places=6, validate=validate.Range(min=-90, max=90)
    )
    longitude = fields.Decimal(
        required=True, as_string=True, places=6, validate=validate.Range(min=-180, max=180)
    )
    time_zone = fields.String(
        required=True,
        metadata={
            "description": "A zone of the IANA time zone database, e.g. Europe/Amsterdam.",
            "pattern": "^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$",
        },
    )
    parking_type = fields.String(load_default=None, allow_none=True, validate=_one_of(ParkingType))
    access_instructions = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=2000)
    )
    description = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=2000)
    )
    images = fields.List(
        fields.Nested(ListingImageSchema), load_default=list, validate=validate.Length(max=20)
    )
    instant_book = fields.Boolean(
        load_default=True,
        metadata={
            "description": "true: paid bookings are confirmed at once; false: owner approves"
        },
    )
    cancellation_policy = fields.String(
        load_default="moderate",
        validate=validate.OneOf(["flexible", "moderate", "strict"]),
        metadata={
            "description": "flexible (free until 2 h, then 25 %), moderate (12 h, 50 %), "
            "strict (48 h, 100 %)"
        },
    )
    evses = fields.List(
        fields.Nested(ListingEvseInSchema), required=True, validate=validate.Length(min=1, max=20)
    )
    price = fields.Nested(ListingPriceSchema, required=True)
    availability = fields.List(
        fields.Nested(ListingWindowSchema), load_default=list, validate=validate.Length(max=100)
    )
    blackouts = fields.List(
        fields.Nested(ListingBlackoutSchema), load_default=list, validate=validate.Length(max=100)
    )
    publish = fields.Boolean(load_default=False)

    @validates("time_zone")
    def _time_zone(self, value: str, data_key: str) -> None:
        if value not in _time_zones():
            raise ValidationError("Not an IANA time zone.")


UPDATABLE = tuple(name for name in ListingInSchema._declared_fields if name != "publish")


class ListingUpdateSchema(ListingInSchema):
    """Every field optional; a list given (evses, availability, blackouts) replaces the old one."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(partial=UPDATABLE, exclude=("publish",), **kwargs)

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        # A partial load must not invent defaults for fields the client did not send.
        field_obj.load_default = missing


class ListingConnectorSchema(Schema):
    id = fields.String(attribute="ocpi_id")
    standard = fields.String()
    format = fields.String()
    power_type = fields.String()
    max_voltage = fields.Integer()
    max_amperage = fields.Integer()
    max_electric_power = fields.Integer(allow_none=True)
    tariff_ids = fields.List(fields.String())
    last_updated = fields.DateTime()


class ListingEvseSchema(Schema):
    uid = fields.String()
    evse_id = fields.String(allow_none=True)
    status = fields.String()
    ocpp_evse_id = fields.Integer(allow_none=True)
    capabilities = fields.List(fields.String())
    physical_reference = fields.String(allow_none=True)
    floor_level = fields.String(allow_none=True)
    connectors = fields.List(fields.Nested(ListingConnectorSchema))
    last_updated = fields.DateTime()


class ListingStationSchema(Schema):
    station_id = fields.String()
    ocpp_url = fields.String(metadata={"description": "WebSocket URL the charger connects to"})
    ocpp_password = fields.String(
        metadata={"description": "Only in the response that created the station; store it."}
    )
    protocol = fields.String(allow_none=True)
    connected = fields.Boolean()
    last_seen_at = fields.DateTime(allow_none=True)


class ListingWindowOutSchema(Schema):
    weekday = fields.Integer()
    start = fields.Time(format="%H:%M", attribute="start_time")
    end = fields.Time(format="%H:%M", attribute="end_time")


class ListingSchema(Schema):
    id = fields.Integer()
    ocpi_id = fields.String()
    country_code = fields.String()
    party_id = fields.String()
    published = fields.Boolean(attribute="publish")
    name = fields.String(allow_none=True)
    address = fields.String()
    city = fields.String()
    postal_code = fields.String(allow_none=True)
    state = fields.String(allow_none=True)
    country = fields.String()
    latitude = fields.Decimal(as_string=True)
    longitude = fields.Decimal(as_string=True)
    time_zone = fields.String()
    parking_type = fields.String(allow_none=True)
    access_instructions = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    images = fields.List(fields.Nested(ListingImageSchema))
    instant_book = fields.Boolean()
    cancellation_policy = fields.String()
    evses = fields.List(fields.Nested(ListingEvseSchema))
    price = fields.Nested(ListingPriceOutSchema, allow_none=True)
    availability = fields.List(fields.Nested(ListingWindowOutSchema))
    blackouts = fields.List(fields.Nested(ListingBlackoutSchema))
    stations = fields.List(fields.Nested(ListingStationSchema))
    created_at = fields.DateTime()
    last_updated = fields.DateTime()
