"""The stand-in's own EVSE world (PlugPool as EMP pulls it): deterministic, any size."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

OPERATORS = (
    ("DE*HBA", "Hubject Alpha Laden"),
    ("DE*HBB", "Beta Strom"),
    ("AT*HBC", "Gamma Mobility"),
    ("FR*HBD", "Delta Recharge"),
)
PRODUCT = "AC-STD"
PRODUCT_PRICE = "0.39"  # EUR per kWh, excl. VAT


def operator_of(index: int) -> tuple[str, str]:
    """The operator of EVSE number `index`."""
    return OPERATORS[index % len(OPERATORS)]


def evse_id(index: int) -> str:
    """The EvseID of EVSE number `index`."""
    return f"{operator_of(index)[0]}*E{index:08d}"


def record(index: int, delta: str | None = None, when: datetime | None = None) -> dict[str, Any]:
    """A full PullEvseDataRecord (two EVSEs per charging station, spread around Berlin)."""
    operator_id, name = operator_of(index)
    station = index // 2
    lat = 52.30 + (station % 400) * 0.0005
    lon = 13.20 + (station // 400 % 400) * 0.0007
    dc = index % 5 == 0
    data: dict[str, Any] = {
        "EvseID": evse_id(index),
        "ChargingStationID": f"ST{station:07d}",
        "ChargingStationNames": [{"lang": "en", "value": f"{name} station {station}"}],
        "Address": {
            "Country": "DEU",
            "City": "Berlin",
            "Street": "Torstrasse",
            "PostalCode": "10119",
            "HouseNum": str(station % 300 + 1),
            "TimeZone": "UTC+01:00",
        },
        "GeoCoordinates": {"DecimalDegree": {"Latitude": f"{lat:.6f}", "Longitude": f"{lon:.6f}"}},
        "Plugs": ["CCS Combo 2 Plug (Cable Attached)"] if dc else ["Type 2 Outlet"],
        "ChargingFacilities": [
            {"PowerType": "DC", "Power": 150, "Voltage": 400, "Amperage": 375}
            if dc
            else {"PowerType": "AC_3_PHASE", "Power": 22, "Voltage": 230, "Amperage": 32}
        ],
        "RenewableEnergy": index % 2 == 0,
        "CalibrationLawDataAvailability": "Local",
        "AuthenticationModes": ["NFC RFID Classic", "REMOTE"],
        "PaymentOptions": ["Contract"],
        "ValueAddedServices": ["None"],
        "Accessibility": "Free publicly accessible",
        "AccessibilityLocation": "OnStreet",
        "HotlinePhoneNumber": "+4930123456",
        "IsOpen24Hours": True,
        "IsHubjectCompatible": True,
        "DynamicInfoAvailable": "true",
        "OperatorID": operator_id,
        "OperatorName": name,
        "lastUpdate": (when or datetime(2026, 1, 1, tzinfo=UTC)).isoformat(),
    }
    if delta:
        data["deltaType"] = delta
    return data


def status(index: int) -> str:
    """The status of EVSE number `index` (most are available, some busy or broken)."""
    return ("Available", "Available", "Occupied", "Available", "OutOfService")[index % 5]


def pricing_products() -> list[dict[str, Any]]:
    """One offer-to-all product per operator."""
    return [
        {
            "OperatorID": operator_id,
            "OperatorName": name,
            "ProviderID": "*",
            "PricingDefaultPrice": 0.45,
            "PricingDefaultPriceCurrency": "EUR",
            "PricingDefaultReferenceUnit": "KILOWATT_HOUR",
            "PricingProductDataRecords": [
                {
                    "ProductID": PRODUCT,
                    "ReferenceUnit": "KILOWATT_HOUR",
                    "ProductPriceCurrency": "EUR",
                    "PricePerReferenceUnit": float(PRODUCT_PRICE),
                    "MaximumProductChargingPower": 22,
                    "IsValid24hours": True,
                    "ProductAvailabilityTimes": [
                        {"Periods": [{"begin": "00:00", "end": "23:59"}], "on": "Everyday"}
                    ],
                }
            ],
        }
        for operator_id, name in OPERATORS
    ]
