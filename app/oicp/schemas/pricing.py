"""Dynamic pricing 1.0: pricing products and EVSE pricing (push as CPO, pull as EMP)."""

from __future__ import annotations

from marshmallow import fields, validate

from app.oicp.schemas.common import (
    CURRENCY,
    DAYS,
    EVSE_ID,
    HHMM,
    OPERATOR_ID,
    PROVIDER_ID,
    PROVIDER_ID_OR_ALL,
    OicpSchema,
    StatusCode,
    ident,
    one_of,
    optional,
    text,
)

UNITS = ("HOUR", "KILOWATT_HOUR", "MINUTE")
ADDITIONAL = ("START FEE", "FIXED FEE", "PARKING FEE", "MINIMUM FEE", "MAXIMUM FEE")


class ProductPeriod(OicpSchema):
    begin = ident(HHMM, "time", required=True)
    end = ident(HHMM, "time", required=True)


class ProductAvailabilityTimes(OicpSchema):
    Periods = fields.List(fields.Nested(ProductPeriod), required=True)
    on = one_of(*DAYS, required=True)


class AdditionalReference(OicpSchema):
    AdditionalReference = one_of(*ADDITIONAL, required=True)
    AdditionalReferenceUnit = one_of(*UNITS, required=True)
    PricePerAdditionalReferenceUnit = fields.Decimal(required=True, as_string=False)


class PricingProductDataRecord(OicpSchema):
    ProductID = text(50, 1, required=True)
    ReferenceUnit = one_of(*UNITS, required=True)
    ProductPriceCurrency = ident(CURRENCY, "currency", required=True)
    PricePerReferenceUnit = fields.Decimal(required=True, as_string=False)
    MaximumProductChargingPower = fields.Decimal(required=True, as_string=False)
    IsValid24hours = fields.Boolean(required=True)
    ProductAvailabilityTimes = fields.List(fields.Nested(ProductAvailabilityTimes), required=True)
    AdditionalReferences = optional(fields.List(fields.Nested(AdditionalReference)))


class PricingProductData(OicpSchema):
    OperatorID = ident(OPERATOR_ID, "OperatorID", required=True)
    OperatorName = optional(text(100))
    ProviderID = ident(PROVIDER_ID_OR_ALL, "ProviderID", required=True)
    PricingDefaultPrice = fields.Decimal(required=True, as_string=False)
    PricingDefaultPriceCurrency = ident(CURRENCY, "currency", required=True)
    PricingDefaultReferenceUnit = one_of(*UNITS, required=True)
    PricingProductDataRecords = fields.List(fields.Nested(PricingProductDataRecord), required=True)


class PushPricingProductData(OicpSchema):
    ActionType = one_of("fullLoad", "update", "insert", "delete", required=True)
    PricingProductData = fields.Nested(PricingProductData, required=True)


class EvseIdProduct(OicpSchema):
    ProductID = text(50, 1, required=True)


class EvsePricing(OicpSchema):
    EvseID = ident(EVSE_ID, "EvseID", required=True)
    ProviderID = ident(PROVIDER_ID_OR_ALL, "ProviderID", required=True)
    EvseIDProductList = fields.List(
        fields.Nested(EvseIdProduct), required=True, validate=validate.Length(min=1)
    )


class PushEvsePricing(OicpSchema):
    ActionType = one_of("fullLoad", "update", "insert", "delete", required=True)
    EVSEPricing = fields.List(
        fields.Nested(EvsePricing), required=True, validate=validate.Length(min=1)
    )


class PullEvsePricing(OicpSchema):
    ProviderID = ident(PROVIDER_ID, "ProviderID", required=True)
    LastCall = optional(fields.AwareDateTime())
    OperatorIDs = fields.List(ident(OPERATOR_ID, "OperatorID"), required=True)


class OperatorEvsePricing(OicpSchema):
    OperatorID = ident(OPERATOR_ID, "OperatorID", required=True)
    OperatorName = optional(text(100))
    EVSEPricing = fields.List(fields.Nested(EvsePricing), required=True)


class EvsePricingAnswer(OicpSchema):
    OperatorEVSEPricing = fields.List(fields.Nested(OperatorEvsePricing), required=True)
    StatusCode = optional(fields.Nested(StatusCode))


class PullPricingProductData(OicpSchema):
    LastCall = optional(fields.AwareDateTime())
    OperatorIDs = fields.List(ident(OPERATOR_ID, "OperatorID"), required=True)


class PricingProductAnswer(OicpSchema):
    PricingProductData = fields.List(fields.Nested(PricingProductData), required=True)
    StatusCode = optional(fields.Nested(StatusCode))
