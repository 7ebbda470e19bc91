"""ChargingProfile, SetChargingProfile and the responses of the chargingprofiles module."""

from __future__ import annotations

from marshmallow import fields, validate

from app.ocpi.schemas.common import OcpiDateTime, OcpiSchema, number


class ChargingProfilePeriod(OcpiSchema):
    start_period = fields.Integer(required=True, validate=validate.Range(min=0))
    limit = number(required=True, validate=validate.Range(min=0))


class ChargingProfile(OcpiSchema):
    start_date_time = OcpiDateTime()
    duration = fields.Integer(validate=validate.Range(min=1))
    charging_rate_unit = fields.String(required=True, validate=validate.OneOf(("W", "A")))
    min_charging_rate = number()
    charging_profile_period = fields.List(
        fields.Nested(ChargingProfilePeriod), required=True, validate=validate.Length(min=1)
    )


class SetChargingProfile(OcpiSchema):
    charging_profile = fields.Nested(ChargingProfile, required=True)
    response_url = fields.Url(required=True, require_tld=False)
