"""Credentials, CredentialsRole, versions and version details."""

from __future__ import annotations

from marshmallow import fields, validate

from app.ocpi.schemas.common import BusinessDetails, OcpiSchema, cistring

ROLES_221 = ("CPO", "EMSP", "HUB", "NAP", "NSP", "OTHER", "SCSP")
ROLES_230 = ("CPO", "EMSP", "NAP", "NSP", "OTHER", "SCSP", "PTP")


class CredentialsRole221(OcpiSchema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES_221))
    business_details = fields.Nested(BusinessDetails, required=True)
    party_id = cistring(3, required=True)
    country_code = cistring(2, required=True)


class CredentialsRole230(CredentialsRole221):
    role = fields.String(required=True, validate=validate.OneOf(ROLES_230))


class Credentials221(OcpiSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=64))
    url = fields.Url(required=True, require_tld=False)
    roles = fields.List(
        fields.Nested(CredentialsRole221), required=True, validate=validate.Length(min=1)
    )


class Credentials230(Credentials221):
    roles = fields.List(
        fields.Nested(CredentialsRole230), required=True, validate=validate.Length(min=1)
    )
    hub_party_id = cistring(5)


class Version(OcpiSchema):
    version = fields.String(required=True)
    url = fields.Url(required=True, require_tld=False)


class Endpoint(OcpiSchema):
    identifier = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(("SENDER", "RECEIVER")))
    url = fields.Url(required=True, require_tld=False)


class VersionDetails(OcpiSchema):
    version = fields.String(required=True)
    endpoints = fields.List(fields.Nested(Endpoint), required=True)


CREDENTIALS = {"2.2.1": Credentials221, "2.3.0": Credentials230}
