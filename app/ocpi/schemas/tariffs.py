"""Tariff, TariffElement, PriceComponent, TariffRestrictions for OCPI 2.2.1 and 2.3.0."""

from __future__ import annotations

from marshmallow import fields, validate

from app.ocpi.schemas.common import (
    DisplayText,
    EnergyMix,
    OcpiDateTime,
    OcpiSchema,
    Price221,
    PriceLimit230,
    cistring,
    number,
)

DIMENSIONS = ("ENERGY", "FLAT", "PARKING_TIME", "TIME")
TARIFF_TYPES = (
    "AD_HOC_PAYMENT",
    "PROFILE_CHEAP",
    "PROFILE_FAST",
    "PROFILE_GREEN",
    "REGULAR",
)
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


class PriceComponent(OcpiSchema):
    type = fields.String(required=True, validate=validate.OneOf(DIMENSIONS))
    price = number(required=True)
    vat = number()
    step_size = fields.Integer(required=True)


class TariffRestrictions(OcpiSchema):
    start_time = cistring(5)
    end_time = cistring(5)
    start_date = cistring(10)
    end_date = cistring(10)
    min_kwh = number()
    max_kwh = number()
    min_current = number()
    max_current = number()
    min_power = number()
    max_power = number()
    min_duration = fields.Integer()
    max_duration = fields.Integer()
    day_of_week = fields.List(fields.String(validate=validate.OneOf(DAYS)))
    reservation = fields.String(validate=validate.OneOf(("RESERVATION", "RESERVATION_EXPIRES")))


class TariffElement(OcpiSchema):
    price_components = fields.List(
        fields.Nested(PriceComponent), required=True, validate=validate.Length(min=1)
    )
    restrictions = fields.Nested(TariffRestrictions)


class Tariff221(OcpiSchema):
    country_code = cistring(2, required=True)
    party_id = cistring(3, required=True)
    id = cistring(36, required=True)
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    type = fields.String(validate=validate.OneOf(TARIFF_TYPES))
    tariff_alt_text = fields.List(fields.Nested(DisplayText))
    tariff_alt_url = fields.String()
    min_price = fields.Nested(Price221)
    max_price = fields.Nested(Price221)
    elements = fields.List(
        fields.Nested(TariffElement), required=True, validate=validate.Length(min=1)
    )
    energy_mix = fields.Nested(EnergyMix)
    start_date_time = OcpiDateTime()
    end_date_time = OcpiDateTime()
    last_updated = OcpiDateTime(required=True)


class Tariff230(Tariff221):
    min_price = fields.Nested(PriceLimit230)
    max_price = fields.Nested(PriceLimit230)
    tax_included = fields.String(required=True, validate=validate.OneOf(("YES", "NO", "N/A")))


TARIFF = {"2.2.1": Tariff221, "2.3.0": Tariff230}
