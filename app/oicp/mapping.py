# ruff: noqa: E501 -- the mapping table below is a Markdown table; wrapping its rows breaks it
"""OICP 2.3 <-> OCPI (the one inventory's shape): every translation of the bridge, in one place.

| what | OCPI / PlugPool | OICP 2.3 |
| --- | --- | --- |
| CPO identity | party (country_code, party_id) NL/PLG | OperatorID `NL*PLG` (ISO; `NLPLG` accepted) |
| EMP identity | party NL/PLG | ProviderID `NL-PLG` (`NLPLG`, `NL*PLG` accepted) |
| Hubject CPO | Party (CC, last 3 of OperatorID), `oicp_operators` row, network "Hubject" | OperatorID, OperatorName |
| EVSE id | Evse.evse_id `NL*PLG*E...` (eMI3) | EvseID; must start with the OperatorID |
| location | Location (one per ChargingPoolID, else ChargingStationID, else EvseID) | none: every EvseDataRecord carries its address |
| address | address "Street 12", city, postal_code, country (alpha-3) | Street, HouseNum, City, PostalCode, Country (alpha-3) |
| coordinates | latitude / longitude decimals | DecimalDegree (sent); Google and DegreeMinuteSeconds read too |
| plug | standard + format (see PLUGS) | Plugs |
| power | power_type, max_voltage, max_amperage, max_electric_power (W) | ChargingFacilities PowerType, Voltage, Amperage, Power (kW) |
| AC_2_PHASE(_SPLIT) | power_type | AC_1_PHASE (OICP has no two-phase type) |
| opening times | AvailabilityWindow weekday 1-7, start/end (00:00 end = midnight) | OpeningTimes `on` Monday..Sunday, Period begin/end (`24:00` read as midnight) |
| blackout dates | Blackout | not expressible (OICP has no exceptional closings): PlugPool's own search only |
| capabilities | RFID_READER, REMOTE_START_STOP_CAPABLE, CREDIT_CARD_PAYABLE | AuthenticationModes NFC RFID Classic, REMOTE, Direct Payment |
| reservable | capability RESERVABLE | ValueAddedServices Reservation |
| parking | parking_type | Accessibility + AccessibilityLocation (see ACCESSIBILITY) |
| status | EvseStatus (see STATUS_OUT / STATUS_IN) | EvseStatus |
| token (card) | Token uid, type RFID | Identification.RFIDMifareFamilyIdentification.UID |
| token (contract) | Token contract_id `NL-PLG-C00000012` | EvcoID `NL-PLG-C00000012-<check>` (RemoteIdentification, QRCode, PnC) |
| authorisation | AllowedType ALLOWED / BLOCKED / EXPIRED / NO_CREDIT / NOT_ALLOWED / UNKNOWN | Authorized / NotAuthorized with StatusCode 000 / 200 / 210 / 210 / 106 / 102 |
| OCPP answer | Accepted / Invalid | Authorized / NotAuthorized |
| session id | ChargingSession.ocpi_id | CPOPartnerSessionID; Hubject's SessionID kept in oicp_sessions |
| CDR times | start/end_date_time | SessionStart/End and ChargingStart/End (PlugPool meters no separate charging time) |
| CDR energy | meter_start/stop_wh, total_energy (kWh) | MeterValueStart/End, ConsumedEnergy (kWh, 3 places) |
| signed meter data | SignedData signed_values (first Start, last End), public_key, encoding_method | SignedMeteringValues + MeteringStatus, CalibrationLawVerificationInfo |
| tariff | Tariff elements (see app.oicp.pricing for what OICP can carry) | PricingProductData + EVSEPricing |
"""

from __future__ import annotations

import re
import time as _time
from collections.abc import Iterable
from datetime import UTC, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.oicp.schemas.common import DMS, EVCO_ID, GOOGLE

# (OCPI standard, format) -> OICP plug; None format = either.
PLUGS: dict[tuple[str, str | None], str] = {
    ("IEC_62196_T2", "SOCKET"): "Type 2 Outlet",
    ("IEC_62196_T2", "CABLE"): "Type 2 Connector (Cable Attached)",
    ("IEC_62196_T1", None): "Type 1 Connector (Cable Attached)",
    ("IEC_62196_T2_COMBO", None): "CCS Combo 2 Plug (Cable Attached)",
    ("IEC_62196_T1_COMBO", None): "CCS Combo 1 Plug (Cable Attached)",
    ("CHADEMO", None): "CHAdeMO",
    ("IEC_62196_T3A", None): "Type 3 Outlet",
    ("IEC_62196_T3C", None): "Type 3 Outlet",
    ("DOMESTIC_E", None): "Type E French Standard",
    ("DOMESTIC_F", None): "Type F Schuko",
    ("DOMESTIC_G", None): "Type G British Standard",
    ("DOMESTIC_J", None): "Type J Swiss Standard",
    ("IEC_60309_2_single_16", None): "IEC 60309 Single Phase",
    ("IEC_60309_2_three_16", None): "IEC 60309 Three Phase",
    ("IEC_60309_2_three_32", None): "IEC 60309 Three Phase",
    ("IEC_60309_2_three_64", None): "IEC 60309 Three Phase",
    ("NEMA_5_20", None): "NEMA 5-20",
    ("TESLA_S", None): "Tesla Connector",
    ("TESLA_R", None): "Tesla Connector",
}
# OICP plug -> (OCPI standard, format); the paddles and AVCON have no OCPI standard.
PLUGS_IN: dict[str, tuple[str, str]] = {
    "Type 2 Outlet": ("IEC_62196_T2", "SOCKET"),
    "Type 2 Connector (Cable Attached)": ("IEC_62196_T2", "CABLE"),
    "Type 1 Connector (Cable Attached)": ("IEC_62196_T1", "CABLE"),
    "CCS Combo 2 Plug (Cable Attached)": ("IEC_62196_T2_COMBO", "CABLE"),
    "CCS Combo 1 Plug (Cable Attached)": ("IEC_62196_T1_COMBO", "CABLE"),
    "CHAdeMO": ("CHADEMO", "CABLE"),
    "Type 3 Outlet": ("IEC_62196_T3C", "SOCKET"),
    "Type E French Standard": ("DOMESTIC_E", "SOCKET"),
    "Type F Schuko": ("DOMESTIC_F", "SOCKET"),
    "Type G British Standard": ("DOMESTIC_G", "SOCKET"),
    "Type J Swiss Standard": ("DOMESTIC_J", "SOCKET"),
    "IEC 60309 Single Phase": ("IEC_60309_2_single_16", "SOCKET"),
    "IEC 60309 Three Phase": ("IEC_60309_2_three_32", "SOCKET"),
    "NEMA 5-20": ("NEMA_5_20", "SOCKET"),
    "Tesla Connector": ("TESLA_S", "CABLE"),
}
POWER_OUT = {
    "AC_1_PHASE": "AC_1_PHASE",
    "AC_2_PHASE": "AC_1_PHASE",
    "AC_2_PHASE_SPLIT": "AC_1_PHASE",
    "AC_3_PHASE": "AC_3_PHASE",
    "DC": "DC",
}
STATUS_OUT = {
    "AVAILABLE": "Available",
    "RESERVED": "Reserved",
    "CHARGING": "Occupied",
    "BLOCKED": "Occupied",
    "OUTOFORDER": "OutOfService",
    "INOPERATIVE": "OutOfService",
    "PLANNED": "Unknown",
    "UNKNOWN": "Unknown",
    "REMOVED": "Unknown",
}
STATUS_IN = {
    "Available": "AVAILABLE",
    "Reserved": "RESERVED",
    "Occupied": "CHARGING",
    "OutOfService": "OUTOFORDER",
    "EvseNotFound": "REMOVED",
    "Unknown": "UNKNOWN",
}
# OCPI parking_type -> (Accessibility, AccessibilityLocation); no parking type: a home driveway.
ACCESSIBILITY = {
    "ON_STREET": ("Free publicly accessible", "OnStreet"),
    "ALONG_MOTORWAY": ("Free publicly accessible", None),
    "PARKING_LOT": ("Free publicly accessible", "ParkingLot"),
    "PARKING_GARAGE": ("Paying publicly accessible", "ParkingGarage"),
    "UNDERGROUND_GARAGE": ("Paying publicly accessible", "UndergroundParkingGarage"),
    "ON_DRIVEWAY": ("Restricted access", None),
}
PARKING_IN = {
    "OnStreet": "ON_STREET",
    "ParkingLot": "PARKING_LOT",
    "ParkingGarage": "PARKING_GARAGE",
    "UndergroundParkingGarage": "UNDERGROUND_GARAGE",
}
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAY_GROUPS = {"Everyday": range(1, 8), "Workdays": range(1, 6), "Weekend": range(6, 8)}
# OCPI AllowedType -> OICP StatusCode of a NotAuthorized answer.
REFUSAL_CODES = {
    "BLOCKED": "200",
    "EXPIRED": "210",
    "NO_CREDIT": "210",
    "NOT_ALLOWED": "106",
    "UNKNOWN": "102",
}
_HOUSE_NUMBER = re.compile(r"^(?P<street>.*?)[\s,]+(?P<number>\d+[\w/-]*)$")


# Identifiers


def compact(identifier: str) -> str:
    """An identifier without separators, upper case (how Hubject compares them)."""
    return identifier.replace("*", "").replace("-", "").upper()


def operator_id(value: str) -> str:
    """The ISO OperatorID with its separator: `DEABC` and `de*abc` -> `DE*ABC`."""
    if value.startswith("+"):
        return value
    plain = compact(value)
    return f"{plain[:2]}*{plain[2:5]}"


def provider_id(value: str) -> str:
    """The ISO ProviderID with its separator: `DEABC`, `DE*ABC` -> `DE-ABC`."""
    plain = compact(value)
    return f"{plain[:2]}-{plain[2:5]}"


def party_of(identifier: str) -> tuple[str, str]:
    """OCPI (country_code, party_id) of an OperatorID or ProviderID.

    DIN OperatorIDs (`+49*536`) have a telephone prefix, not a country: they become party
    `XX` (the ISO 3166 user-assigned code) with the last three digits.
    """
    if identifier.startswith("+"):
        return "XX", identifier[-3:]
    plain = compact(identifier)
    return plain[:2], plain[2:5]


def evse_belongs(evse_id: str, operator: str) -> bool:
    """Tell whether an EvseID is one of the operator's (ISO: OperatorID then `E`)."""
    return compact(evse_id).startswith(compact(operator) + "E")


def own_evse_id(evse_id: str | None, uid: str, operator: str) -> str:
    """The EvseID we push: the inventory's eMI3 id when it is ours, else one made from the uid."""
    if evse_id and evse_belongs(evse_id, operator):
        return evse_id.upper()
    tail = re.sub(r"[^A-Z0-9]", "", uid.upper())[:30] or "0"
    return f"{operator_id(operator)}*E{tail}"


def evco_id(contract_id: str) -> str:
    """The EvcoID (ISO, with check character) of an own contract id `NL-PLG-C00000012`."""
    if EVCO_ID.fullmatch(contract_id):
        return contract_id.upper()
    plain = compact(contract_id)
    body = f"{plain[:2]}-{plain[2:5]}-{plain[5:14]}"
    check = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"[sum(map(ord, body)) % 33]
    return f"{body}-{check}"


def contract_of(evco: str) -> str:
    """The contract id an EvcoID stands for (without its check character)."""
    plain = compact(evco)
    return f"{plain[:2]}-{plain[2:5]}-{plain[5:14]}"


def identification_token(identification: dict[str, Any]) -> tuple[str, str]:
    """(token uid the charger sees, OCPI token type) of an OICP Identification."""
    for key in ("RFIDMifareFamilyIdentification", "RFIDIdentification"):
        if identification.get(key):
            return identification[key]["UID"].upper(), "RFID"
    for key in ("RemoteIdentification", "QRCodeIdentification", "PlugAndChargeIdentification"):
        if identification.get(key):
            return identification[key]["EvcoID"].upper(), "APP_USER"
    raise ValueError("no identification")


def card_identification(uid: str) -> dict[str, Any]:
    """An OICP Identification of an RFID card (Mifare family, as authorisation asks)."""
    return {"RFIDMifareFamilyIdentification": {"UID": uid.upper()}}


def remote_identification(evco: str) -> dict[str, Any]:
    """An OICP RemoteIdentification."""
    return {"RemoteIdentification": {"EvcoID": evco}}


def is_card_uid(uid: str) -> bool:
    """Tell whether a token uid can travel as an OICP UID (hex, 8/14/20 characters)."""
    return bool(re.fullmatch(r"[0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20}", uid.upper()))


# Statuses and authorisation


def authorization_answer(allowed: str) -> tuple[str, str]:
    """OICP (AuthorizationStatus, StatusCode) for an OCPI AllowedType."""
    if allowed == "ALLOWED":
        return "Authorized", "000"
    return "NotAuthorized", REFUSAL_CODES.get(allowed, "106")


def ocpp_status(authorization: str) -> str:
    """OCPP AuthorizationStatus for an OICP AuthorizationStatus."""
    return "Accepted" if authorization == "Authorized" else "Invalid"


# Inventory -> OICP EvseDataRecord


def split_address(address: str) -> tuple[str, str]:
    """(Street, HouseNum) of a one-line OCPI address ("Keizersgracht 12a")."""
    found = _HOUSE_NUMBER.match(address.strip())
    if not found:
        return address.strip(), ""
    return found["street"], found["number"][:10]


def utc_offset(zone: str, at: datetime | None = None) -> str | None:
    """The OICP TimeZone `UTC+01:00` of an IANA zone now (OICP has no zone names)."""
    if at is None:
        # A fullLoad maps 100,000s of EVSEs in a few zones: once per zone and minute.
        return _offset_this_minute(zone, int(_time.time() // 60))
    return _offset(zone, at)


@lru_cache(maxsize=512)
def _offset_this_minute(zone: str, _minute: int) -> str | None:
    return _offset(zone, datetime.now(UTC))


def _offset(zone: str, at: datetime) -> str | None:
    try:
        offset = at.astimezone(ZoneInfo(zone)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return None
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def opening_times(windows: Iterable[Any]) -> list[dict[str, Any]]:
    """OICP OpeningTimes of weekly windows (weekday 1-7, start/end; 00:00 end = midnight)."""
    days: dict[int, list[dict[str, str]]] = {}
    for window in sorted(windows, key=lambda w: (w.weekday, w.start_time)):
        end = "24:00" if window.end_time == time(0) else window.end_time.strftime("%H:%M")
        days.setdefault(window.weekday, []).append(
            {"begin": window.start_time.strftime("%H:%M"), "end": end}
        )
    return [{"Period": periods, "on": DAY_NAMES[day - 1]} for day, periods in days.items()]


def windows_of(opening: list[dict[str, Any]] | None) -> list[tuple[int, time, time]]:
    """Weekly windows (weekday, start, end) of OICP OpeningTimes."""
    found = []
    for block in opening or []:
        days = DAY_GROUPS.get(block["on"]) or [DAY_NAMES.index(block["on"]) + 1]
        for period in block["Period"]:
            begin, end = _clock(period["begin"]), _clock(period["end"])
            found += [(day, begin, end) for day in days]
    return found


def _clock(value: str) -> time:
    hours, minutes = (int(part) for part in value.split(":"))
    return time(0) if hours >= 24 else time(hours, minutes)


def _facility(connector: Any) -> dict[str, Any]:
    power = int((connector.power_kw).to_integral_value()) if connector.power_kw else 0
    return {
        "PowerType": POWER_OUT.get(connector.power_type, "AC_1_PHASE"),
        "Voltage": min(int(connector.max_voltage), 999),
        "Amperage": min(int(connector.max_amperage), 999),
        "Power": min(power, 999),
    }


def _plug(connector: Any) -> str | None:
    return PLUGS.get((connector.standard, connector.format)) or PLUGS.get(
        (connector.standard, None)
    )


def evse_record(location: Any, evse: Any, settings: dict[str, Any]) -> dict[str, Any] | None:
    """The OICP EvseDataRecord of an own EVSE; None when no plug of it exists in OICP."""
    plugs = sorted({p for p in map(_plug, evse.connectors) if p})
    if not plugs:
        return None
    street, number = split_address(location.address)
    access, access_location = ACCESSIBILITY.get(
        location.parking_type or "ON_DRIVEWAY", (None, None)
    )
    caps = set(evse.capabilities or [])
    modes = ["REMOTE"]  # every PlugPool charger starts from the app through the gateway
    if "RFID_READER" in caps:
        modes.insert(0, "NFC RFID Classic")
    if "CREDIT_CARD_PAYABLE" in caps:
        modes.append("Direct Payment")
    windows = list(location.availability)
    record: dict[str, Any] = {
        "EvseID": own_evse_id(evse.evse_id, evse.uid, settings["OICP_OPERATOR_ID"]),
        "ChargingStationID": (location.ocpi_id or "")[:50],
        "ChargingStationNames": [
            {"lang": "en", "value": (location.name or "PlugPool charger")[:150]}
        ],
        "Address": _address(location, street, number),
        "GeoCoordinates": {
            "DecimalDegree": {
                "Latitude": _degree(location.latitude),
                "Longitude": _degree(location.longitude),
            }
        },
        "Plugs": plugs,
        "ChargingFacilities": [_facility(c) for c in evse.connectors if _plug(c)],
        "RenewableEnergy": False,
        "CalibrationLawDataAvailability": "Not Available",
        "AuthenticationModes": modes,
        "PaymentOptions": ["Contract", "Direct"] if "CREDIT_CARD_PAYABLE" in caps else ["Contract"],
        "ValueAddedServices": ["Reservation"] if "RESERVABLE" in caps else ["None"],
        "Accessibility": access or "Restricted access",
        "HotlinePhoneNumber": settings["OICP_HOTLINE"],
        "IsOpen24Hours": not windows,
        "IsHubjectCompatible": True,
        "DynamicInfoAvailable": "true",
    }
    if access_location:
        record["AccessibilityLocation"] = access_location
    if windows:
        record["OpeningTimes"] = opening_times(windows)
    if location.description:
        record["AdditionalInfo"] = [{"lang": "en", "value": location.description[:150]}]
    return record


def _address(location: Any, street: str, number: str) -> dict[str, Any]:
    address = {
        "Country": location.country.upper(),
        "City": location.city[:50],
        "Street": street[:100].ljust(2, "_"),  # Hubject: at least 2 characters, pad with "_"
        "PostalCode": (location.postal_code or "")[:10],
        "HouseNum": number,
    }
    zone = utc_offset(location.time_zone)
    if zone:
        address["TimeZone"] = zone
    return address


def _degree(value: Decimal) -> str:
    return f"{Decimal(value):.6f}"


# OICP EvseDataRecord -> inventory


def coordinates(geo: dict[str, Any]) -> tuple[Decimal, Decimal]:
    """(latitude, longitude) of OICP GeoCoordinates in any of the three formats."""
    if geo.get("DecimalDegree"):
        point = geo["DecimalDegree"]
        return Decimal(point["Latitude"]), Decimal(point["Longitude"])
    if geo.get("Google"):
        text = geo["Google"]["Coordinates"]
        if not GOOGLE.fullmatch(text):
            raise ValueError("bad Google coordinates")
        lat, lon = re.split(r"\s*,\s*|\s+", text.strip())
        return Decimal(lat), Decimal(lon)
    point = geo["DegreeMinuteSeconds"]
    return _dms(point["Latitude"]), _dms(point["Longitude"])


def _dms(value: str) -> Decimal:
    if not DMS.fullmatch(value):
        raise ValueError("bad degree-minute-seconds")
    degrees, rest = value.split("°")
    minutes, seconds = rest.replace("''", "").split("'")
    sign = -1 if degrees.strip().startswith("-") else 1
    total = abs(Decimal(degrees)) + Decimal(minutes) / 60 + Decimal(seconds.strip()) / 3600
    return (sign * total).quantize(Decimal("0.000001"))


def location_key(record: dict[str, Any]) -> str:
    """The OCPI location id a pulled record belongs to (pool, else station, else EVSE)."""
    key = (
        record.get("ChargingPoolID")
        or record.get("ChargingStationID")
        or record.get("ChargingStationId")
        or record["EvseID"]
    )
    return re.sub(r"[^A-Za-z0-9*._-]", "", key)[:36] or compact(record["EvseID"])[:36]


def connectors_of(record: dict[str, Any]) -> list[dict[str, Any]]:
    """OCPI connector fields of a record: one per plug OCPI knows, with the best facility."""
    facilities = record.get("ChargingFacilities") or []
    best = max(facilities, key=lambda f: Decimal(str(f.get("Power") or 0)), default={})
    power_type = best.get("PowerType") or "AC_3_PHASE"
    voltage = int(best.get("Voltage") or (400 if power_type == "DC" else 230))
    amperage = int(best.get("Amperage") or 16)
    watts = int(Decimal(str(best.get("Power") or 0)) * 1000) or None
    found = []
    for n, plug in enumerate(record.get("Plugs") or [], start=1):
        if plug not in PLUGS_IN:
            continue
        standard, format_ = PLUGS_IN[plug]
        found.append(
            {
                "ocpi_id": str(n),
                "standard": standard,
                "format": format_,
                "power_type": power_type,
                "max_voltage": voltage,
                "max_amperage": amperage,
                "max_electric_power": watts,
            }
        )
    return found


def capabilities_of(record: dict[str, Any]) -> list[str]:
    """OCPI capabilities of a pulled record."""
    modes = set(record.get("AuthenticationModes") or [])
    caps = []
    if modes & {"NFC RFID Classic", "NFC RFID DESFire"}:
        caps.append("RFID_READER")
    if "REMOTE" in modes and record.get("IsHubjectCompatible", True):
        caps.append("REMOTE_START_STOP_CAPABLE")
    if "Direct Payment" in modes:
        caps.append("CREDIT_CARD_PAYABLE")
    if "Reservation" in (record.get("ValueAddedServices") or []):
        caps.append("RESERVABLE")
    return caps


def address_of(record: dict[str, Any]) -> dict[str, Any]:
    """OCPI location address fields of a record."""
    address = record["Address"]
    line = f"{address['Street']} {address.get('HouseNum') or ''}".strip()
    return {
        "address": line[:255],
        "city": address["City"][:45],
        "postal_code": (address.get("PostalCode") or None) and address["PostalCode"][:10],
        "country": address["Country"].upper(),
        "state": (address.get("Region") or None) and address["Region"][:20],
        "parking_type": PARKING_IN.get(record.get("AccessibilityLocation") or ""),
    }


def name_of(record: dict[str, Any]) -> str | None:
    """The English (else first) charging station name."""
    names = record.get("ChargingStationNames") or []
    chosen = next(
        (n for n in names if n.get("lang", "").startswith("en")), names[0] if names else None
    )
    return chosen["value"][:255] if chosen else None


# Charging sessions and CDRs (CPO side)


def signed_metering_values(signed: dict[str, Any] | None) -> list[dict[str, str]]:
    """OICP SignedMeteringValues (at most 10: Start, up to 8 Progress, End) of OCPI SignedData."""
    values = (signed or {}).get("signed_values") or []
    if not values:
        return []
    if len(values) > 10:
        values = [*values[:9], values[-1]]
    result = []
    for n, value in enumerate(values):
        status = "Start" if n == 0 else "End" if n == len(values) - 1 else "Progress"
        result.append(
            {"SignedMeteringValue": value["signed_data"][:3000], "MeteringStatus": status}
        )
    return result


def calibration_info(signed: dict[str, Any] | None) -> dict[str, str] | None:
    """CalibrationLawVerificationInfo of OCPI SignedData."""
    if not signed:
        return None
    info = {"MeteringSignatureEncodingFormat": str(signed.get("encoding_method", ""))[:50]}
    if signed.get("public_key"):
        info["PublicKey"] = str(signed["public_key"])[:1000]
    return info


def kwh(value: Decimal | None) -> float | None:
    """A kWh figure with three decimals, as OICP writes it."""
    if value is None:
        return None
    return float(Decimal(value).quantize(Decimal("0.001")))


def iso(value: datetime) -> str:
    """OICP Date/Time (ISO 8601 with offset, UTC)."""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
