"""Location, EVSE, Connector and their parts, for OCPI 2.2.1 and 2.3.0."""

from __future__ import annotations

from marshmallow import fields, validate

from app.ocpi.schemas.common import (
    EVSE_STATUS,
    BusinessDetails,
    DisplayText,
    EnergyMix,
    Image,
    OcpiDateTime,
    OcpiSchema,
    boolean,
    cistring,
)

LATITUDE = validate.Regexp(r"^-?[0-9]{1,2}\.[0-9]{5,7}$")
LONGITUDE = validate.Regexp(r"^-?[0-9]{1,3}\.[0-9]{5,7}$")


class GeoLocation(OcpiSchema):
    latitude = fields.String(required=True, validate=LATITUDE)
    longitude = fields.String(required=True, validate=LONGITUDE)


class AdditionalGeoLocation(GeoLocation):
    name = fields.Nested(DisplayText)


class PublishTokenType(OcpiSchema):
    uid = cistring(36)
    type = fields.String()
    visual_number = cistring(64)
    issuer = cistring(64)
    group_id = cistring(36)


class RegularHours(OcpiSchema):
    weekday = fields.Integer(required=True, validate=validate.Range(1, 7))
    period_begin = fields.String(
        required=True, validate=validate.Regexp(r"^[0-2][0-9]:[0-5][0-9]$")
    )
    period_end = fields.String(required=True, validate=validate.Regexp(r"^[0-2][0-9]:[0-5][0-9]$"))


class ExceptionalPeriod(OcpiSchema):
    period_begin = OcpiDateTime(required=True)
    period_end = OcpiDateTime(required=True)


class Hours(OcpiSchema):
    twentyfourseven = boolean(required=True)
    regular_hours = fields.List(fields.Nested(RegularHours))
    exceptional_openings = fields.List(fields.Nested(ExceptionalPeriod))
    exceptional_closings = fields.List(fields.Nested(ExceptionalPeriod))


class StatusSchedule(OcpiSchema):
    period_begin = OcpiDateTime(required=True)
    period_end = OcpiDateTime()
    status = fields.String(required=True, validate=EVSE_STATUS)


class Connector221(OcpiSchema):
    id = cistring(36, required=True)
    standard = fields.String(required=True)
    format = fields.String(required=True, validate=validate.OneOf(("SOCKET", "CABLE")))
    power_type = fields.String(required=True)
    max_voltage = fields.Integer(required=True)
    max_amperage = fields.Integer(required=True)
    max_electric_power = fields.Integer()
    tariff_ids = fields.List(cistring(36))
    terms_and_conditions = fields.String()
    last_updated = OcpiDateTime(required=True)


class Connector230(Connector221):
    capabilities = fields.List(fields.String())


class Evse221(OcpiSchema):
    uid = cistring(36, required=True)
    evse_id = cistring(48)
    status = fields.String(required=True, validate=EVSE_STATUS)
    status_schedule = fields.List(fields.Nested(StatusSchedule))
    capabilities = fields.List(fields.String())
    connectors = fields.List(
        fields.Nested(Connector221), required=True, validate=validate.Length(min=1)
    )
    floor_level = cistring(4)
    coordinates = fields.Nested(GeoLocation)
    physical_reference = cistring(16)
    directions = fields.List(fields.Nested(DisplayText))
    parking_restrictions = fields.List(fields.String())
    images = fields.List(fields.Nested(Image))
    last_updated = OcpiDateTime(required=True)


class Evse230(Evse221):
    connectors = fields.List(
        fields.Nested(Connector230), required=True, validate=validate.Length(min=1)
    )
    # 2.3.0 EvseParking: the spec's table and its example disagree (objects vs ids): keep as is.
    parking = fields.List(fields.Raw())
    accepted_service_providers = fields.List(fields.String())


class Location221(OcpiSchema):
    country_code = cistring(2, required=True)
    party_id = cistring(3, required=True)
    id = cistring(36, required=True)
    publish = boolean(required=True)
    publish_allowed_to = fields.List(fields.Nested(PublishTokenType))
    name = cistring(255)
    address = cistring(45 * 4, required=True)
    city = cistring(45, required=True)
    postal_code = cistring(10)
    state = cistring(20)
    country = cistring(3, required=True)
    coordinates = fields.Nested(GeoLocation, required=True)
    related_locations = fields.List(fields.Nested(AdditionalGeoLocation))
    parking_type = fields.String()
    evses = fields.List(fields.Nested(Evse221))
    directions = fields.List(fields.Nested(DisplayText))
    operator = fields.Nested(BusinessDetails)
    suboperator = fields.Nested(BusinessDetails)
    owner = fields.Nested(BusinessDetails)
    facilities = fields.List(fields.String())
    time_zone = fields.String(required=True)
    opening_times = fields.Nested(Hours)
    charging_when_closed = boolean()
    images = fields.List(fields.Nested(Image))
    energy_mix = fields.Nested(EnergyMix)
    last_updated = OcpiDateTime(required=True)


class Location230(Location221):
    evses = fields.List(fields.Nested(Evse230))
    parking_places = fields.List(fields.Dict())
    help_phone = fields.String()


LOCATION = {"2.2.1": Location221, "2.3.0": Location230}
EVSE = {"2.2.1": Evse221, "2.3.0": Evse230}
CONNECTOR = {"2.2.1": Connector221, "2.3.0": Connector230}
