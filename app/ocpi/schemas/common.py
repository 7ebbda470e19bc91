"""OCPI types shared by modules: DateTime, DisplayText, BusinessDetails, EnergyMix, Price."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate

from app.core.clock import iso_utc
from app.inventory.enums import EvseStatus

VERSIONS = ("2.2.1", "2.3.0")


class OcpiSchema(Schema):
    """Base of every OCPI object we read: what real partners send is accepted as the spec allows.

    An unknown field is ignored (OCPI 2.3.0 asks receivers to; 2.2.1 peers add custom fields
    too), and `null` on an optional field means absent: pydantic and Jackson peers write every
    unset field as null. A null required field is still an error (in a PATCH, where fields
    may be left out, a null one is left out too).
    """

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _nulls_are_absent(self, data: Any, *, partial: Any = None, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        required = {
            field.data_key or name
            for name, field in self.load_fields.items()
            if field.required and not (partial is True or (partial and name in partial))
        }
        return {key: value for key, value in data.items() if value is not None or key in required}


class OcpiDateTime(fields.Field):
    """RFC 3339 in UTC; a missing zone designator means UTC (OCPI types: DateTime)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 35:
            raise ValidationError("Not a valid OCPI DateTime.")
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as error:
            raise ValidationError("Not a valid OCPI DateTime.") from error
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return iso_utc(value)


def cistring(length: int, **kwargs: Any) -> fields.String:
    """A CiString(n) / string(n) field."""
    return fields.String(validate=validate.Length(max=length), **kwargs)


def boolean(**kwargs: Any) -> fields.Boolean:
    """A JSON true/false; strings such as "yes" are refused."""
    return fields.Boolean(truthy={True}, falsy={False}, **kwargs)


def number(**kwargs: Any) -> fields.Decimal:
    """An OCPI number, kept as Decimal and written as a JSON number."""
    return fields.Decimal(as_string=False, allow_nan=False, **kwargs)


class DisplayText(OcpiSchema):
    language = cistring(2, required=True)
    text = cistring(512, required=True)


class Image(OcpiSchema):
    url = fields.String(required=True)
    thumbnail = fields.String()
    category = fields.String(required=True)
    type = cistring(4, required=True)
    width = fields.Integer()
    height = fields.Integer()


class BusinessDetails(OcpiSchema):
    name = cistring(100, required=True)
    website = fields.String()
    logo = fields.Nested(Image)


class EnergySource(OcpiSchema):
    source = fields.String(required=True)
    percentage = number(required=True)


class EnvironmentalImpact(OcpiSchema):
    category = fields.String(required=True)
    amount = number(required=True)


class EnergyMix(OcpiSchema):
    is_green_energy = boolean(required=True)
    energy_sources = fields.List(fields.Nested(EnergySource))
    environ_impact = fields.List(fields.Nested(EnvironmentalImpact))
    supplier_name = cistring(64)
    energy_product_name = cistring(64)


class Price221(OcpiSchema):
    excl_vat = number(required=True)
    incl_vat = number()


class TaxAmount(OcpiSchema):
    name = fields.String(required=True)
    account_number = fields.String()
    percentage = number()
    amount = number(required=True)


class PriceLimit230(OcpiSchema):
    before_taxes = number(required=True)
    after_taxes = number()


class Price230(OcpiSchema):
    before_taxes = number(required=True)
    taxes = fields.List(fields.Nested(TaxAmount))


EVSE_STATUS = validate.OneOf([status.value for status in EvseStatus])
