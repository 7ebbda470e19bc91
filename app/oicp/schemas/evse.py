"""EVSE data and status: PushEvseData 2.3 / PushEvseStatus 2.1 (CPO), their pulls (EMP)."""

from __future__ import annotations

from marshmallow import fields, validate

from app.oicp.schemas import common
from app.oicp.schemas.common import (
    COUNTRY3,
    EVSE_ID,
    OPERATOR_ID,
    PHONE,
    POOL_ID,
    PROVIDER_ID,
    TIME_ZONE,
    GeoCoordinates,
    InfoText,
    OicpSchema,
    OpeningTimes,
    StatusCode,
    ident,
    one_of,
    optional,
    text,
)

ACTIONS = ("fullLoad", "update", "insert", "delete")
PLUGS = (
    "Small Paddle Inductive",
    "Large Paddle Inductive",
    "AVCON Connector",
    "Tesla Connector",
    "NEMA 5-20",
    "Type E French Standard",
    "Type F Schuko",
    "Type G British Standard",
    "Type J Swiss Standard",
    "Type 1 Connector (Cable Attached)",
    "Type 2 Outlet",
    "Type 2 Connector (Cable Attached)",
    "Type 3 Outlet",
    "IEC 60309 Single Phase",
    "IEC 60309 Three Phase",
    "CCS Combo 2 Plug (Cable Attached)",
    "CCS Combo 1 Plug (Cable Attached)",
    "CHAdeMO",
)
AUTH_MODES = (
    "NFC RFID Classic",
    "NFC RFID DESFire",
    "PnC",
    "REMOTE",
    "Direct Payment",
    "No Authentication Required",
)
ACCESSIBILITY = (
    "Free publicly accessible",
    "Restricted access",
    "Paying publicly accessible",
    "Test Station",
)
EVSE_STATUSES = ("Available", "Reserved", "Occupied", "OutOfService", "EvseNotFound", "Unknown")
VALUE_ADDED = (
    "Reservation",
    "DynamicPricing",
    "ParkingSensors",
    "MaximumPowerCharging",
    "PredictiveChargePointUsage",
    "ChargingPlans",
    "RoofProvided",
    "None",
)
CHARGING_MODES = ("Mode_1", "Mode_2", "Mode_3", "Mode_4", "CHAdeMO")
ENERGY = (
    "Solar",
    "Wind",
    "HydroPower",
    "GeothermalEnergy",
    "Biomass",
    "Coal",
    "NuclearEnergy",
    "Petroleum",
    "NaturalGas",
)


class Address(OicpSchema):
    Country = ident(COUNTRY3, "alpha-3 country code", required=True)
    City = text(50, 1, required=True)
    Street = text(100, 2, required=True)
    PostalCode = text(10, required=True)
    HouseNum = text(10, required=True)
    Floor = optional(text(5))
    Region = optional(text(50))
    ParkingFacility = optional(fields.Boolean())
    ParkingSpot = optional(text(5))
    TimeZone = optional(ident(TIME_ZONE, "time zone"))


class ChargingFacility(OicpSchema):
    PowerType = one_of("AC_1_PHASE", "AC_3_PHASE", "DC", required=True)
    Voltage = optional(fields.Integer(validate=validate.Range(0, 999)))
    Amperage = optional(fields.Integer(validate=validate.Range(0, 999)))
    # The CPO document: an integer of three digits; the EMP document: any number. Accept both.
    Power = fields.Decimal(required=True, validate=validate.Range(0, 999), as_string=False)
    ChargingModes = optional(fields.List(one_of(*CHARGING_MODES)))


class EnergySource(OicpSchema):
    Energy = optional(one_of(*ENERGY))
    Percentage = optional(fields.Integer(validate=validate.Range(0, 100)))


class EnvironmentalImpact(OicpSchema):
    CO2Emission = optional(fields.Decimal())
    NuclearWaste = optional(fields.Decimal())


class EvseDataRecord(OicpSchema):
    deltaType = optional(one_of("update", "insert", "delete"))
    lastUpdate = optional(fields.AwareDateTime())
    EvseID = ident(EVSE_ID, "EvseID", required=True)
    ChargingPoolID = optional(ident(POOL_ID, "ChargingPoolID"))
    # The CPO document spells it ChargingStationId, the EMP one ChargingStationID.
    ChargingStationID = optional(text(50))
    ChargingStationId = optional(text(50))
    ChargingStationNames = fields.List(fields.Nested(InfoText), required=True)
    HardwareManufacturer = optional(text(50))
    ChargingStationImage = optional(text(200))
    SubOperatorName = optional(text(100))
    Address = fields.Nested(Address, required=True)
    GeoCoordinates = fields.Nested(GeoCoordinates, required=True)
    Plugs = fields.List(one_of(*PLUGS), required=True, validate=validate.Length(min=1))
    DynamicPowerLevel = optional(fields.Boolean())
    ChargingFacilities = fields.List(
        fields.Nested(ChargingFacility), required=True, validate=validate.Length(min=1)
    )
    RenewableEnergy = fields.Boolean(required=True)
    EnergySource = optional(fields.List(fields.Nested(EnergySource)))
    EnvironmentalImpact = optional(fields.Nested(EnvironmentalImpact))
    CalibrationLawDataAvailability = one_of("Local", "External", "Not Available", required=True)
    AuthenticationModes = fields.List(
        one_of(*AUTH_MODES), required=True, validate=validate.Length(min=1)
    )
    MaxCapacity = optional(fields.Integer())
    PaymentOptions = fields.List(
        one_of("No Payment", "Direct", "Contract"), required=True, validate=validate.Length(min=1)
    )
    ValueAddedServices = fields.List(one_of(*VALUE_ADDED), required=True)
    Accessibility = one_of(*ACCESSIBILITY, required=True)
    AccessibilityLocation = optional(
        one_of("OnStreet", "ParkingLot", "ParkingGarage", "UndergroundParkingGarage")
    )
    HotlinePhoneNumber = ident(PHONE, "phone number", required=True)
    AdditionalInfo = optional(fields.List(fields.Nested(InfoText)))
    ChargingStationLocationReference = optional(fields.List(fields.Nested(InfoText)))
    # The class, not the GeoCoordinates field above (which shadows it in this class body).
    GeoChargingPointEntrance = optional(fields.Nested(common.GeoCoordinates))
    IsOpen24Hours = fields.Boolean(required=True)
    OpeningTimes = optional(fields.List(fields.Nested(OpeningTimes)))
    HubOperatorID = optional(ident(OPERATOR_ID, "OperatorID"))
    ClearinghouseID = optional(text(20))
    IsHubjectCompatible = fields.Boolean(required=True)
    DynamicInfoAvailable = one_of("true", "false", "auto", required=True)


class PullEvseDataRecord(EvseDataRecord):
    """A pulled record names its operator."""

    OperatorID = ident(OPERATOR_ID, "OperatorID", required=True)
    OperatorName = text(100, required=True)


class OperatorEvseData(OicpSchema):
    OperatorID = ident(OPERATOR_ID, "OperatorID", required=True)
    OperatorName = text(100, required=True)
    EvseDataRecord = fields.List(fields.Nested(EvseDataRecord), required=True)


class PushEvseData(OicpSchema):
    ActionType = one_of(*ACTIONS, required=True)
    OperatorEvseData = fields.Nested(OperatorEvseData, required=True)


class EvseStatusRecord(OicpSchema):
    EvseID = ident(EVSE_ID, "EvseID", required=True)
    EvseStatus = one_of(*EVSE_STATUSES, required=True)


class OperatorEvseStatus(OicpSchema):
    OperatorID = ident(OPERATOR_ID, "OperatorID", required=True)
    OperatorName = optional(text(100))
    EvseStatusRecord = fields.List(fields.Nested(EvseStatusRecord), required=True)


class PushEvseStatus(OicpSchema):
    ActionType = one_of(*ACTIONS, required=True)
    OperatorEvseStatus = fields.Nested(OperatorEvseStatus, required=True)


class PullEvseData(OicpSchema):
    ProviderID = ident(PROVIDER_ID, "ProviderID", required=True)
    LastCall = optional(fields.AwareDateTime())
    GeoCoordinatesResponseFormat = one_of(
        "Google", "DegreeMinuteSeconds", "DecimalDegree", required=True
    )
    CountryCodes = optional(fields.List(ident(COUNTRY3, "country code")))
    OperatorIds = optional(fields.List(ident(OPERATOR_ID, "OperatorID")))


class EvseDataPage(OicpSchema):
    """A page of PullEvseData (Spring-style paging fields; no `pageable` here)."""

    content = fields.List(fields.Nested(PullEvseDataRecord), required=True)
    number = fields.Integer(required=True)
    size = fields.Integer(required=True)
    totalElements = fields.Integer(required=True)
    last = fields.Boolean(required=True)
    totalPages = fields.Integer(required=True)
    first = fields.Boolean(required=True)
    numberOfElements = fields.Integer(required=True)
    StatusCode = fields.Nested(StatusCode, required=True)


class PullEvseStatus(OicpSchema):
    """The generic variant (ByID and ByOperatorID share the path; told apart by their keys)."""

    ProviderID = ident(PROVIDER_ID, "ProviderID", required=True)
    EvseStatus = optional(one_of(*EVSE_STATUSES))
    EvseID = optional(fields.List(ident(EVSE_ID, "EvseID"), validate=validate.Length(max=100)))
    OperatorID = optional(fields.List(ident(OPERATOR_ID, "OperatorID")))


class EvseStatuses(OicpSchema):
    # The document's EVSEStatus answer: OperatorEvseStatus blocks.
    OperatorEvseStatus = fields.List(fields.Nested(OperatorEvseStatus), required=True)


class EvseStatusAnswer(OicpSchema):
    EvseStatuses = fields.Nested(EvseStatuses, required=True)
    StatusCode = optional(fields.Nested(StatusCode))
