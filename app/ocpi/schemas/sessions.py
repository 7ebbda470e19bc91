"""Session, CDR and their parts for OCPI 2.2.1 and 2.3.0 (prices differ: Price vs taxes)."""

from __future__ import annotations

from marshmallow import fields, validate

from app.ocpi.schemas.common import (
    OcpiDateTime,
    OcpiSchema,
    Price221,
    Price230,
    boolean,
    cistring,
    number,
)
from app.ocpi.schemas.locations import GeoLocation
from app.ocpi.schemas.tariffs import Tariff221, Tariff230

AUTH_METHODS = ("AUTH_REQUEST", "COMMAND", "WHITELIST")
SESSION_STATUS = ("ACTIVE", "COMPLETED", "INVALID", "PENDING", "RESERVATION")


class CdrToken(OcpiSchema):
    country_code = cistring(2)  # required from 2.3.0 on; absent in 2.2.1's own examples
    party_id = cistring(3)
    uid = cistring(36, required=True)
    type = fields.String(required=True)
    contract_id = cistring(36, required=True)


class CdrDimension(OcpiSchema):
    type = fields.String(required=True)
    volume = number(required=True)


class ChargingPeriod(OcpiSchema):
    start_date_time = OcpiDateTime(required=True)
    dimensions = fields.List(
        fields.Nested(CdrDimension), required=True, validate=validate.Length(min=1)
    )
    tariff_id = cistring(36)


class Session221(OcpiSchema):
    country_code = cistring(2, required=True)
    party_id = cistring(3, required=True)
    id = cistring(36, required=True)
    start_date_time = OcpiDateTime(required=True)
    end_date_time = OcpiDateTime()
    kwh = number(required=True)
    cdr_token = fields.Nested(CdrToken, required=True)
    auth_method = fields.String(required=True, validate=validate.OneOf(AUTH_METHODS))
    authorization_reference = cistring(36)
    location_id = cistring(36, required=True)
    evse_uid = cistring(36, required=True)
    connector_id = cistring(36, required=True)
    meter_id = cistring(255)
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    charging_periods = fields.List(fields.Nested(ChargingPeriod))
    total_cost = fields.Nested(Price221)
    status = fields.String(required=True, validate=validate.OneOf(SESSION_STATUS))
    last_updated = OcpiDateTime(required=True)


class Session230(Session221):
    total_cost = fields.Nested(Price230)


class CdrLocation(OcpiSchema):
    id = cistring(36, required=True)
    name = cistring(255)
    address = cistring(45 * 4, required=True)
    city = cistring(45, required=True)
    postal_code = cistring(10)
    state = cistring(20)
    country = cistring(3, required=True)
    coordinates = fields.Nested(GeoLocation, required=True)
    evse_uid = cistring(36, required=True)
    evse_id = cistring(48, required=True)
    connector_id = cistring(36, required=True)
    connector_standard = fields.String(required=True)
    connector_format = fields.String(required=True)
    connector_power_type = fields.String(required=True)


class SignedValue(OcpiSchema):
    nature = cistring(32, required=True)
    plain_data = fields.String(required=True)
    signed_data = fields.String(required=True)


class SignedData(OcpiSchema):
    encoding_method = cistring(36, required=True)
    encoding_method_version = fields.Integer()
    public_key = fields.String()
    signed_values = fields.List(
        fields.Nested(SignedValue), required=True, validate=validate.Length(min=1)
    )
    url = fields.String()


class Cdr221(OcpiSchema):
    country_code = cistring(2, required=True)
    party_id = cistring(3, required=True)
    id = cistring(39, required=True)
    start_date_time = OcpiDateTime(required=True)
    end_date_time = OcpiDateTime(required=True)
    session_id = cistring(36)
    cdr_token = fields.Nested(CdrToken, required=True)
    auth_method = fields.String(required=True, validate=validate.OneOf(AUTH_METHODS))
    authorization_reference = cistring(36)
    cdr_location = fields.Nested(CdrLocation, required=True)
    meter_id = cistring(255)
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    tariffs = fields.List(fields.Nested(Tariff221))
    charging_periods = fields.List(
        fields.Nested(ChargingPeriod), required=True, validate=validate.Length(min=1)
    )
    signed_data = fields.Nested(SignedData)
    total_cost = fields.Nested(Price221, required=True)
    total_fixed_cost = fields.Nested(Price221)
    total_energy = number(required=True)
    total_energy_cost = fields.Nested(Price221)
    total_time = number(required=True)
    total_time_cost = fields.Nested(Price221)
    total_parking_time = number()
    total_parking_cost = fields.Nested(Price221)
    total_reservation_cost = fields.Nested(Price221)
    remark = cistring(255)
    invoice_reference_id = cistring(39)
    credit = boolean()
    credit_reference_id = cistring(39)
    home_charging_compensation = boolean()
    last_updated = OcpiDateTime(required=True)


class Cdr230(Cdr221):
    # The spec's own 2.3.0 CDR example carries a tariff without tax_included: accepted inside a
    # CDR (a snapshot), still required on the Tariffs module.
    tariffs = fields.List(fields.Nested(Tariff230(partial=("tax_included",))))
    total_cost = fields.Nested(Price230, required=True)
    total_fixed_cost = fields.Nested(Price230)
    total_energy_cost = fields.Nested(Price230)
    total_time_cost = fields.Nested(Price230)
    total_parking_cost = fields.Nested(Price230)
    total_reservation_cost = fields.Nested(Price230)


SESSION = {"2.2.1": Session221, "2.3.0": Session230}
CDR = {"2.2.1": Cdr221, "2.3.0": Cdr230}


def session_patch_schema(version: str) -> OcpiSchema:
    """A Session PATCH: any fields, last_updated always."""
    schema = SESSION[version]
    return schema(partial=tuple(n for n in schema._declared_fields if n != "last_updated"))
